//! The CA's persistent record (`state.json`): issued certificates, revocations, CRL numbers.

use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::error::TestkitError;
use crate::card::jpki::{Purpose, RevocationReason};

pub const STATE_FORMAT: &str = "mykey-testkit-ca/1";
pub(crate) const STATE_FILE: &str = "state.json";

/// One certificate the CA issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCertificate {
    /// `card::jpki::serial_hex` of the serial.
    pub serial: String,
    pub purpose: Purpose,
    /// Stable id of the holder, kept across renewals.
    pub holder_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// One revoked certificate, as its CRL entry will read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub serial: String,
    pub purpose: Purpose,
    pub reason: RevocationReason,
    #[serde(with = "time::serde::rfc3339")]
    pub revoked_at: OffsetDateTime,
}

/// The last cRLNumber issued per purpose; 0 before the first CRL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrlNumbers {
    pub auth: u64,
    pub sign: u64,
}

impl CrlNumbers {
    pub(crate) fn get_mut(&mut self, purpose: Purpose) -> &mut u64 {
        match purpose {
            Purpose::Auth => &mut self.auth,
            Purpose::Sign => &mut self.sign,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CaState {
    pub format: String,
    pub issued: Vec<IssuedCertificate>,
    pub revoked: Vec<Revocation>,
    pub crl_numbers: CrlNumbers,
}

impl CaState {
    pub(crate) fn new() -> CaState {
        CaState {
            format: STATE_FORMAT.to_owned(),
            issued: Vec::new(),
            revoked: Vec::new(),
            crl_numbers: CrlNumbers::default(),
        }
    }

    pub(crate) fn load(dir: &Path) -> Result<CaState, TestkitError> {
        let path = dir.join(STATE_FILE);
        let bytes = std::fs::read(&path).map_err(|e| TestkitError::io(&path, e))?;
        let state: CaState =
            serde_json::from_slice(&bytes).map_err(|e| TestkitError::CaFolder {
                path: dir.display().to_string(),
                reason: format!("{STATE_FILE}: {e}"),
            })?;
        if state.format != STATE_FORMAT {
            return Err(TestkitError::CaFolder {
                path: dir.display().to_string(),
                reason: format!("{STATE_FILE} has unsupported format {:?}", state.format),
            });
        }
        Ok(state)
    }

    pub(crate) fn save(&self, dir: &Path) -> Result<(), TestkitError> {
        // A struct of strings, numbers and enums always serialises.
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        write_atomic(&dir.join(STATE_FILE), &json, false)
    }

    pub(crate) fn find_issued(&self, serial: &str) -> Option<&IssuedCertificate> {
        self.issued.iter().find(|c| c.serial == serial)
    }

    pub(crate) fn is_revoked(&self, serial: &str) -> bool {
        self.revoked.iter().any(|r| r.serial == serial)
    }
}

/// Writes through a temporary file in the same folder and renames it into place, so a crash
/// never leaves a half-written file. `private` files get mode 0600 from the start.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), TestkitError> {
    let io = |e| TestkitError::io(path, e);
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    // A stale temporary file would keep its old mode: start from nothing.
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
