//! The one error type of the test kit.

use super::card_file::CardFileError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestkitError {
    /// A card option (holder facts, PIN, password, validity) breaks the JPKI rules.
    #[error("invalid card options: {0}")]
    InvalidOptions(String),
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The CA folder exists but its files do not make a usable CA.
    #[error("the CA folder {path} is not usable: {reason}")]
    CaFolder { path: String, reason: String },
    #[error(transparent)]
    CardFile(#[from] CardFileError),
    #[error("no certificate with serial {0} was issued by this CA")]
    UnknownSerial(String),
    #[error("the certificate with serial {0} is already revoked")]
    AlreadyRevoked(String),
    /// A certificate handed in (a card's, or a CA file) does not parse as X.509.
    #[error("a certificate does not parse: {0}")]
    Certificate(String),
    #[error("a cryptographic operation failed: {0}")]
    Crypto(&'static str),
    #[error(transparent)]
    Linkage(#[from] crate::card::linkage::LinkageFormatError),
    /// A time the certificate and CRL encodings cannot express (before 1950 or after 9999).
    #[error("the time {0} cannot be encoded in a certificate or CRL")]
    Time(String),
}

impl TestkitError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> TestkitError {
        TestkitError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
