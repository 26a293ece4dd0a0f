//! Integration tests: one binary, one module per area.
mod admin;
mod backup;
mod browser;
mod helper;
mod identity;
mod jose;
mod packaging;
mod provider;
mod revocation;
mod softcard;
mod store;
mod testkit;
mod upgrade;
mod verify;
