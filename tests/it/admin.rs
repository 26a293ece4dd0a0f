//! Operators: the admin console and API (accounts, TOTP, sessions, CSRF, roles), the OpenAPI
//! document checked against real answers, and the hash-chained audit trail on both backends.

mod api;
mod audit;
mod browser;
mod chrome;
mod console;
mod removal;
mod revocation;
mod schema;
mod security;
pub mod support;
mod trail;
