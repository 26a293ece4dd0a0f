//! Retention: deleting an old prefix of the log behind a signed checkpoint, so what remains
//! still verifies from its first entry.

use super::verify::{CheckpointClaims, CHECKPOINT_TYP};
use super::{record, Actor, AuditError, Event, Kind};
use crate::jose::SigningKey;
use crate::store::audit::CheckpointRow;
use crate::store::{self, Db};

/// Where a checkpoint's signing key comes from: the provider's key ring, which lives above
/// the audit trail and implements this.
pub trait CheckpointSigner {
    /// The RS256 key that signs at `now`, if there is one.
    fn checkpoint_key(&self, now: i64) -> Option<&SigningKey>;
}

/// Deletes the entries older than `before` (Unix seconds) and records a checkpoint over the
/// last deleted entry, signed with the current RS256 key of `keys`, and who pruned (`actor`: the command line, or the
/// provider applying `audit_retention`). Returns the seq pruned through, if anything was old
/// enough. Entries still in the inbox are not touched (they are newer than any chained one).
pub fn prune(
    db: &Db,
    keys: &dyn CheckpointSigner,
    issuer: &str,
    before: i64,
    now: i64,
    actor: Actor,
) -> Result<Option<i64>, AuditError> {
    let Some(last) = db.read_blocking(|c| store::audit::last_before(c, before))? else {
        return Ok(None);
    };
    let key = keys
        .checkpoint_key(now)
        .ok_or_else(|| AuditError::Sign("no current signing key".to_owned()))?;
    let claims = CheckpointClaims {
        iss: issuer.to_owned(),
        through_seq: last.seq,
        last_hash: last.hash.clone(),
        iat: now,
    };
    let jws = crate::jose::sign(key, Some(CHECKPOINT_TYP), &claims)
        .map_err(|e| AuditError::Sign(e.to_string()))?;
    let row = CheckpointRow {
        through_seq: last.seq,
        last_hash: last.hash,
        created_at: now,
        jws,
    };
    let deleted = db.write_blocking(move |c| {
        store::audit::insert_checkpoint(c, &row)?;
        let n = store::audit::delete_through(c, row.through_seq)?;
        record(
            c,
            &Event::new(Kind::AuditPruned, actor).data(serde_json::json!({
                "through_seq": row.through_seq,
                "entries": n,
                "before": before,
            })),
            now,
        )?;
        Ok(n)
    })?;
    tracing::info!(through = last.seq, deleted, "audit log pruned");
    Ok(Some(last.seq))
}
