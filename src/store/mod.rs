//! Persistence through diesel: one schema for SQLite and PostgreSQL, queries per table.

pub mod admin;
pub mod audit;
pub mod clients;
pub mod db;
pub mod grants;
pub mod identity;
pub mod keys;
pub mod outbox;
pub mod persons;
pub mod requests;
pub mod revocation;
pub mod schema;
pub mod sessions;

pub use db::{Backend, Db, DbConn, StoreError};
