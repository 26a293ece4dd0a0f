//! Backup and restore: a SQLite backup taken while serving restores (on the same machine or a
//! new one) with its audit chain, keys and sessions; a PostgreSQL database goes through
//! pg_dump and pg_restore into a fresh database the same way.

mod postgres;
mod sqlite;
pub mod support;
