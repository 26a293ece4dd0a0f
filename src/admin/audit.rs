//! The audit trail for operators: search, verification and export — each after chaining what
//! is waiting, so the newest events are included — and pruning behind a signed checkpoint.

use std::time::Duration;

use super::{AdminError, Principal};
use crate::audit::{chain, export, prune as pruning, verify};
use crate::provider::Provider;
use crate::store;

pub use crate::audit::verify::Report;
pub use crate::store::audit::{Filter, LogRow};

/// How long a console or API request waits for another node's chainer.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// The newest `limit` entries matching `filter`, newest first.
pub async fn search(
    p: &Provider,
    filter: Filter,
    limit: i64,
    patience: Duration,
) -> Result<Vec<LogRow>, AdminError> {
    chain::drain(&p.db, patience).await?;
    Ok(p.db
        .read_offloaded(move |c| store::audit::search(c, &filter, limit))
        .await?)
}

/// Checks the whole chain (and the checkpoint of a pruned prefix).
pub async fn verify(p: &Provider, patience: Duration) -> Result<Report, AdminError> {
    chain::drain(&p.db, patience).await?;
    Ok(p.db
        .read_offloaded(|c| {
            let keys = verify::published_keys(c)?;
            verify::verify(c, &keys)
        })
        .await?)
}

/// The entries matching `filter` as JSON Lines, oldest first, with their chain fields (an
/// export verifies on its own).
pub async fn export(
    p: &Provider,
    filter: Filter,
    patience: Duration,
) -> Result<Vec<u8>, AdminError> {
    let mut rows = search(p, filter, i64::MAX, patience).await?;
    rows.reverse();
    let mut out = Vec::new();
    export::write_jsonl(&mut out, &rows).map_err(crate::audit::AuditError::from)?;
    Ok(out)
}

/// Deletes the entries older than `keep_days` days behind a checkpoint signed with the current
/// key; returns the seq pruned through, if anything was that old. Audited as `audit.pruned`.
pub async fn prune(
    p: &std::sync::Arc<Provider>,
    who: &Principal,
    keep_days: u32,
    patience: Duration,
) -> Result<Option<i64>, AdminError> {
    chain::drain(&p.db, patience).await?;
    let (q, actor, now) = (p.clone(), who.actor.clone(), p.clock.unix());
    let before = now - i64::from(keep_days) * 86_400;
    Ok(tokio::task::spawn_blocking(move || {
        pruning::prune(
            &q.db,
            &*q.keys.snapshot(),
            q.settings.issuer_str(),
            before,
            now,
            actor,
        )
    })
    .await
    .map_err(|e| AdminError::Invalid(e.to_string()))??)
}
