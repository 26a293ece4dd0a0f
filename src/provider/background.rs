//! Periodic work of a running node. Every node: key refresh, revocation data refresh, outbox
//! delivery, the audit chainer (one at a time, through a lock), purging. One node at a time (a
//! lease in the database): session expiry, scheduled key rotation, the watched CRL folder and
//! polled CRL URLs.

use std::sync::Arc;
use std::time::Duration;

use super::sessions::{end_in, EndReason};
use super::{outbox, revocation, rotation, Provider, ProviderError};
use crate::domain::secret::random_b64;
use crate::store;

/// How often a node re-reads the signing keys (rotation lead times must exceed this).
pub const KEY_REFRESH: Duration = Duration::from_secs(30);
const CRL_REFRESH: Duration = Duration::from_secs(10);
const PURGE_EVERY: Duration = Duration::from_secs(600);
const LEADER_TICK: Duration = Duration::from_secs(5);
/// How often the leader applies `audit_retention` (provider clock, seconds).
const AUDIT_PRUNE_EVERY: i64 = 3_600;
const LEASE_SECS: i64 = 30;

/// Starts every background loop on the current tokio runtime.
pub fn spawn(p: Arc<Provider>) {
    outbox::spawn(p.clone());
    crate::audit::chain::spawn(p.db.clone());
    every(p.clone(), KEY_REFRESH, "key refresh", |p| async move {
        let q = p.clone();
        tokio::task::spawn_blocking(move || rotation::refresh(&q, q.clock.unix()))
            .await
            .map_err(joined)?
            .map_err(|e| ProviderError::Crypto(e.to_string()))
    });
    every(
        p.clone(),
        CRL_REFRESH,
        "revocation data refresh",
        |p| async move {
            let q = p.clone();
            tokio::task::spawn_blocking(move || revocation::load_stored_crls(&q))
                .await
                .map_err(joined)?
                .map(drop)
                .map_err(ProviderError::from)
        },
    );
    every(p.clone(), PURGE_EVERY, "purge", |p| async move {
        let (db, now) = (p.db.clone(), p.clock.unix());
        let purged =
            tokio::task::spawn_blocking(move || store::purge::run(&db, now, store::purge::PAUSE))
                .await
                .map_err(joined)??;
        tracing::debug!(
            rows = purged.rows,
            transactions = purged.transactions,
            longest_ms = purged.longest.as_millis() as u64,
            "purged expired rows"
        );
        Ok(())
    });
    let holder = random_b64(12);
    tokio::spawn(async move {
        let mut last_poll: Option<std::time::Instant> = None;
        let mut last_prune: Option<i64> = None;
        loop {
            tokio::time::sleep(LEADER_TICK).await;
            let (h, now) = (holder.clone(), p.clock.unix());
            let leader = p
                .db
                .write(move |c| store::revocation::try_lease(c, "background", &h, now, LEASE_SECS))
                .await
                .unwrap_or(false);
            if !leader {
                continue;
            }
            if let Err(e) = sweep_expired(&p).await {
                tracing::warn!(error = %e, "session expiry sweep failed");
            }
            if let Err(e) = rotation::run_due(&p).await {
                tracing::warn!(error = %e, "scheduled key rotation failed; will retry");
            }
            if let Some(dir) = &p.settings.crl_dir {
                watch_folder(&p, dir).await;
            }
            let due = last_poll.is_none_or(|t| t.elapsed() >= p.settings.crl_poll_interval);
            if due && !p.settings.crl_urls.is_empty() {
                last_poll = Some(std::time::Instant::now());
                for url in p.settings.crl_urls.clone() {
                    poll_url(&p, &url).await;
                }
            }
            if let Some(retention) = p.settings.audit_retention {
                let now = p.clock.unix();
                if last_prune.is_none_or(|t| now - t >= AUDIT_PRUNE_EVERY) {
                    last_prune = Some(now);
                    if let Err(e) = apply_audit_retention(&p, retention, now).await {
                        tracing::warn!(error = %e, "audit retention not applied");
                    }
                }
            }
        }
    });
}

fn every<F, Fut>(p: Arc<Provider>, period: Duration, what: &'static str, task: F)
where
    F: Fn(Arc<Provider>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), ProviderError>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = task(p.clone()).await {
                tracing::warn!(error = %e, "{what} failed");
            }
        }
    });
}

/// Prunes the audit entries older than `retention`, as `audit prune` does.
async fn apply_audit_retention(
    p: &Arc<Provider>,
    retention: Duration,
    now: i64,
) -> Result<(), ProviderError> {
    let q = p.clone();
    tokio::task::spawn_blocking(move || {
        let before = now - retention.as_secs() as i64;
        crate::audit::prune::prune(
            &q.db,
            &*q.keys.snapshot(),
            q.settings.issuer_str(),
            before,
            now,
            crate::audit::Actor::System,
        )
        .map(drop)
        .map_err(|e| ProviderError::Internal(format!("audit pruning: {e}")))
    })
    .await
    .map_err(joined)?
}

/// A blocking task that did not finish (it panicked, or the runtime is shutting down).
fn joined(e: tokio::task::JoinError) -> ProviderError {
    ProviderError::Internal(e.to_string())
}

/// Ends sessions past their lifetime; their client sessions get back-channel logouts.
pub async fn sweep_expired(p: &Provider) -> Result<usize, store::StoreError> {
    let now = p.clock.unix();
    let ended =
        p.db.write_offloaded(move |c| {
            let ids = store::sessions::expired(c, now, 500)?;
            for id in &ids {
                end_in(c, id, EndReason::Expired, now)?;
            }
            Ok(ids.len())
        })
        .await?;
    if ended > 0 {
        p.metrics
            .sessions_ended
            .with_label_values(&[EndReason::Expired.as_str()])
            .inc_by(ended as u64);
        p.deliveries.notify_one();
    }
    Ok(ended)
}

/// Imports CRL files dropped into the folder. Each file's content is imported once (or
/// refused once, with a log line); files are never modified or removed.
pub async fn watch_folder(p: &Provider, dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "CRL folder cannot be read");
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "crl" | "der" | "pem"))
        })
        .collect();
    files.sort();
    for path in files {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let source = format!("folder:{}", path.display());
        let _ = revocation::import_crl(p, bytes, &source).await;
    }
}

/// Fetches a CRL URL with a conditional GET and imports what changed.
pub async fn poll_url(p: &Provider, url: &str) {
    let owned = url.to_owned();
    let state =
        p.db.read(move |c| store::revocation::fetch_state(c, &owned))
            .await
            .ok()
            .flatten();
    let mut req = p.http.get(url);
    if let Some((etag, modified)) = &state {
        if let Some(e) = etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, e);
        }
        if let Some(m) = modified {
            req = req.header(reqwest::header::IF_MODIFIED_SINCE, m);
        }
    }
    let (status, etag, modified) = match req.send().await {
        Ok(resp) if resp.status() == reqwest::StatusCode::NOT_MODIFIED => {
            ("not_modified".to_owned(), None, None)
        }
        Ok(resp) if resp.status().is_success() => {
            let header = |h| {
                resp.headers()
                    .get(h)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let (etag, modified) = (
                header(reqwest::header::ETAG),
                header(reqwest::header::LAST_MODIFIED),
            );
            match resp.bytes().await {
                Ok(body) => {
                    // The body is handed over, not copied: a national CRL is tens of megabytes.
                    let outcome = match revocation::import_crl(p, body, &format!("url:{url}")).await
                    {
                        Ok(_) => "imported".to_owned(),
                        Err(e) => e.outcome().to_owned(),
                    };
                    (outcome, etag, modified)
                }
                Err(e) => (format!("read error: {e}"), None, None),
            }
        }
        Ok(resp) => (format!("HTTP {}", resp.status().as_u16()), None, None),
        Err(e) => {
            tracing::warn!(%url, error = %e, "CRL URL unreachable");
            (format!("error: {e}"), None, None)
        }
    };
    let (owned, now) = (url.to_owned(), p.clock.unix());
    let keep = status == "not_modified";
    let (etag, modified) = if keep {
        state.unwrap_or((None, None))
    } else {
        (etag, modified)
    };
    let _ =
        p.db.write(move |c| {
            store::revocation::save_fetch_state(
                c,
                &owned,
                etag.as_deref(),
                modified.as_deref(),
                &status,
                now,
            )
        })
        .await;
}
