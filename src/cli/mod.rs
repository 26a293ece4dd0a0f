//! Provider commands behind `mykey-connect`: each takes parsed arguments and settings.

pub mod admin;
pub mod audit;
pub mod clients;
pub mod keys;
pub mod logging;
pub mod revocation;
pub mod service;
