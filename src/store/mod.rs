//! Persistence through diesel: one schema for SQLite and PostgreSQL, queries per table.
//!
//! Rows inserted on the hot paths (codes, tokens, sessions, authorization requests,
//! challenges, audit inbox) carry `treat_none_as_default_value = false`: `None` is bound as
//! `NULL`, which is what a nullable column holds anyway (none has a default), so the INSERT is
//! one fixed statement that stays prepared; with `DEFAULT` for `None` diesel would build its
//! SQL on every execution to find the statement.

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
