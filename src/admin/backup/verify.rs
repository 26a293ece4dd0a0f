//! What a backup or a restored database must show before anyone relies on it: an intact audit
//! chain, and signing keys and secrets that open with the key-encryption key.

use diesel::Connection as _;

use super::BackupError;
use crate::audit::{chain, verify};
use crate::jose::{Alg, Kek, SigningKey};
use crate::provider::secrets::code_key_label;
use crate::store::{self, DbConn};

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Audit entries verified, the chain's head, and the checkpoint it starts after (0: none).
    pub audit_entries: i64,
    pub audit_head: i64,
    pub audit_checkpoint: i64,
    /// Signing keys, code-key generations and provider secrets opened with the KEK.
    pub signing_keys: usize,
    pub code_keys: usize,
    pub secrets: usize,
}

impl std::fmt::Display for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "audit chain OK ({} entries, head {}{}); {} signing key(s), {} code key generation(s) \
             and {} secret(s) open with the key-encryption key",
            self.audit_entries,
            self.audit_head,
            if self.audit_checkpoint > 0 {
                format!(", after a signed checkpoint at {}", self.audit_checkpoint)
            } else {
                String::new()
            },
            self.signing_keys,
            self.code_keys,
            self.secrets
        )
    }
}

/// Verifies the whole chain and opens every sealed key. `chain_inbox`: first chain the events
/// still waiting in the inbox (a restored database; a backup is left as it was copied).
pub fn check(conn: &mut DbConn, kek: &Kek, chain_inbox: bool) -> Result<Checked, BackupError> {
    while chain_inbox && conn.transaction(chain::chain_batch)? != Some(0) {}
    let keys = verify::published_keys(conn)?;
    let report = verify::verify(conn, &keys)?;
    if let Some(b) = report.broken {
        return Err(BackupError::AuditBroken(format!(
            "audit chain BROKEN at entry {}: {}",
            b.seq, b.reason
        )));
    }
    let signing = store::keys::all(conn)?;
    for row in &signing {
        let Ok(alg) = row.alg.parse::<Alg>() else {
            continue;
        };
        let opened = kek
            .open(&row.kid, &row.sealed_private_key)
            .map_err(|_| BackupError::KeysDoNotOpen(format!("signing key {}", row.kid)))?;
        SigningKey::from_pkcs8(alg, opened.as_bytes())
            .map_err(|e| BackupError::KeysDoNotOpen(format!("signing key {}: {e}", row.kid)))?;
    }
    let code_keys = store::keys::code_keys(conn)?;
    for row in &code_keys {
        kek.open(&code_key_label(row.generation), &row.sealed_key)
            .map_err(|_| {
                BackupError::KeysDoNotOpen(format!("code key generation {}", row.generation))
            })?;
    }
    let secrets = store::keys::all_secrets(conn)?;
    for (name, sealed) in &secrets {
        kek.open(name, sealed)
            .map_err(|_| BackupError::KeysDoNotOpen(format!("the stored {name}")))?;
    }
    Ok(Checked {
        audit_entries: report.entries,
        audit_head: report.head_seq,
        audit_checkpoint: report.checkpoint_seq,
        signing_keys: signing.len(),
        code_keys: code_keys.len(),
        secrets: secrets.len(),
    })
}
