//! Provider commands behind `mykey-connect`: each takes parsed arguments and an opened
//! provider, and goes through the same `admin::` operations (and audit entries) as the console
//! and the admin API, as the operator `cli`.

pub mod admin;
pub mod audit;
pub mod clients;
pub mod keys;
pub mod logging;
pub mod revocation;

use std::sync::Arc;

use crate::admin::AdminError;
use crate::clock::Clock;
use crate::config::Settings;
use crate::provider::{Provider, StartError};

/// Why a command did not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error("start-up failed: {0}")]
    Start(#[from] StartError),
    /// Arguments that do not make a valid request.
    #[error("{0}")]
    Usage(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The command ran and found a problem; the text is its report.
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    pub fn read(path: &std::path::Path, source: std::io::Error) -> CliError {
        CliError::Read {
            path: path.display().to_string(),
            source,
        }
    }
}

/// The provider a command works on: the deployment's database, keys and roots, without
/// loading revocation data (the commands that show it load it).
pub fn open(settings: Settings, clock: Clock) -> Result<Arc<Provider>, CliError> {
    Ok(Arc::new(Provider::open_for_command(settings, clock)?))
}
