//! Verifying the whole chain: sequence, links, entry hashes, and the signed checkpoint of a
//! pruned prefix.

use serde::{Deserialize, Serialize};

use super::chain::{entry_hash, GENESIS};
use crate::jose::{Alg, Jwks, VerifyingKey};
use crate::store::{self, DbConn};

/// Entries read per query while walking the log.
const PAGE: i64 = 1000;

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Entries checked.
    pub entries: i64,
    /// The seq the remaining log starts after (a checkpoint), 0 without pruning.
    pub checkpoint_seq: i64,
    /// The newest entry's seq and hash.
    pub head_seq: i64,
    pub head_hash: String,
    /// The first entry that does not verify, and why.
    pub broken: Option<Broken>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Broken {
    pub seq: i64,
    pub reason: String,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.broken.is_none()
    }
}

/// What a checkpoint JWS asserts about the pruned prefix.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointClaims {
    pub iss: String,
    pub through_seq: i64,
    pub last_hash: String,
    pub iat: i64,
}

/// The JWS `typ` of checkpoints (RFC 8725 §3.11: explicit typing).
pub const CHECKPOINT_TYP: &str = "audit-checkpoint+jwt";

/// The provider's published verification keys, read from the key table (no private key or
/// key-encryption key needed, so anyone with database read access can verify).
pub fn published_keys(conn: &mut DbConn) -> diesel::QueryResult<Vec<VerifyingKey>> {
    let rows = store::keys::all(conn)?;
    let doc = format!(
        "{{\"keys\":[{}]}}",
        rows.iter()
            .map(|r| r.public_jwk.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    Ok(Jwks::parse_public(&doc)
        .and_then(|j| j.verifying_keys())
        .unwrap_or_default())
}

/// Walks the log from the checkpoint (or genesis) to the head. The inbox is not looked at:
/// drain it first ([`super::chain::drain`]).
pub fn verify(conn: &mut DbConn, keys: &[VerifyingKey]) -> diesel::QueryResult<Report> {
    let mut report = Report {
        entries: 0,
        checkpoint_seq: 0,
        head_seq: 0,
        head_hash: GENESIS.to_owned(),
        broken: None,
    };
    if let Some(cp) = store::audit::latest_checkpoint(conn)? {
        report.checkpoint_seq = cp.through_seq;
        report.head_seq = cp.through_seq;
        report.head_hash = cp.last_hash.clone();
        if let Err(e) = check_checkpoint(&cp, keys) {
            report.broken = Some(Broken {
                seq: cp.through_seq,
                reason: e.to_string(),
            });
            return Ok(report);
        }
    }
    let mut after = i64::MIN;
    loop {
        let page = store::audit::page_after(conn, after, PAGE)?;
        let Some(last) = page.last() else {
            return Ok(report);
        };
        after = last.seq;
        for row in page {
            let expected = report.head_seq + 1;
            let reason = if row.seq != expected {
                Some(format!("expected entry {expected} here, found {}", row.seq))
            } else if row.prev_hash != report.head_hash {
                Some("prev_hash does not match the previous entry's hash".to_owned())
            } else if entry_hash(&row) != row.hash {
                Some("the entry's contents do not match its hash".to_owned())
            } else {
                None
            };
            if let Some(reason) = reason {
                report.broken = Some(Broken {
                    seq: row.seq.min(expected),
                    reason,
                });
                return Ok(report);
            }
            report.entries += 1;
            report.head_seq = row.seq;
            report.head_hash = row.hash;
        }
    }
}

/// Why a stored checkpoint does not vouch for the pruned prefix.
#[derive(Debug, thiserror::Error)]
enum CheckpointError {
    #[error("the checkpoint signature does not verify: {0}")]
    Signature(crate::jose::JoseError),
    #[error("the checkpoint is not an audit checkpoint")]
    NotACheckpoint,
    #[error("the checkpoint does not parse: {0}")]
    Claims(crate::jose::JoseError),
    #[error("the checkpoint row differs from what was signed")]
    Differs,
}

fn check_checkpoint(
    cp: &store::audit::CheckpointRow,
    keys: &[VerifyingKey],
) -> Result<(), CheckpointError> {
    let jws = crate::jose::verify(&cp.jws, keys, &[Alg::RS256, Alg::PS256, Alg::ES256])
        .map_err(CheckpointError::Signature)?;
    if jws.header.typ.as_deref() != Some(CHECKPOINT_TYP) {
        return Err(CheckpointError::NotACheckpoint);
    }
    let claims: CheckpointClaims = jws.claims().map_err(CheckpointError::Claims)?;
    if claims.through_seq != cp.through_seq || claims.last_hash != cp.last_hash {
        return Err(CheckpointError::Differs);
    }
    Ok(())
}
