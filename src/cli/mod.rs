//! Provider commands behind `mykey-connect`: each takes parsed arguments and settings.

pub mod clients;
pub mod keys;
pub mod logging;
