//! Integration tests: one binary, one module per area.
mod admin;
mod architecture;
mod browser;
mod helper;
mod identity;
mod jose;
mod provider;
mod revocation;
mod softcard;
mod store;
mod testkit;
mod verify;
