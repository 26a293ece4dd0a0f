//! Integration tests: one binary, one module per area.
mod browser;
mod helper;
mod jose;
mod provider;
mod softcard;
mod testkit;
