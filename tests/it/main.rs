//! Integration tests: one binary, one module per area.
mod admin;
mod helper;
mod jose;
mod provider;
mod revocation;
mod softcard;
mod store;
mod testkit;
