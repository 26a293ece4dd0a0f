//! Persistence through diesel: one schema for SQLite and PostgreSQL, queries per table.
//!
//! Rows inserted on the hot paths (codes, tokens, sessions, authorization requests,
//! challenges, audit inbox and log) carry `treat_none_as_default_value = false`: `None` is
//! bound as `NULL`, which is what a nullable column holds anyway (none has a default), so the
//! INSERT is one fixed statement that stays prepared; with `DEFAULT` for `None` diesel would
//! build its SQL on every execution to find the statement.

/// Runs a query on the backend's own connection inside a [`DbConn`]: `native!(conn, c =>
/// query.execute(c))`. The body is compiled once per backend, so it must be diesel DSL generic
/// over the backend, which every query here is. Hot-path queries go this way because the
/// derived multi-backend connection turns a query into SQL text in every pass it makes over it
/// (finding the prepared statement, checking it may be cached, collecting binds): three or
/// four SQL builds per execution even when the statement stays prepared.
macro_rules! native {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::store::DbConn::Sqlite($c) => $body,
            $crate::store::DbConn::Postgres($c) => $body,
        }
    };
}

pub mod admin;
pub mod audit;
pub mod backup;
pub mod clients;
pub mod db;
pub mod dpop;
pub mod exchange;
pub mod grants;
mod group;
pub mod identity;
pub mod ids;
pub mod keys;
pub mod outbox;
pub mod persons;
pub mod pg_async;
pub mod purge;
pub mod pushed;
pub mod requests;
pub mod revocation;
pub mod schema;
pub mod sessions;
pub mod ssf;
pub mod states;

pub use db::{Backend, Db, DbConn, StoreError};
pub use pg_async::TokenCommits;
