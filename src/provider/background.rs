//! Periodic work of a running node: key refresh and purging expired rows.

use std::sync::Arc;
use std::time::Duration;

use super::Provider;
use crate::store;

/// How often a node re-reads the signing keys (rotation lead times must exceed this).
pub const KEY_REFRESH: Duration = Duration::from_secs(30);
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// Starts the background loops on the current tokio runtime.
pub fn spawn(p: Arc<Provider>) {
    let keys = p.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(KEY_REFRESH);
        tick.tick().await;
        loop {
            tick.tick().await;
            let p = keys.clone();
            let result =
                tokio::task::spawn_blocking(move || p.keys.refresh(&p.db, &p.kek, p.clock.unix()))
                    .await;
            if let Ok(Err(e)) = result {
                tracing::warn!(error = %e, "signing key refresh failed; keeping the current keys");
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        loop {
            tick.tick().await;
            // Keep a day of history past expiry (replay detection needs the redeemed codes).
            let before = p.clock.unix() - 86_400;
            let purged =
                p.db.write(move |c| {
                    Ok(store::requests::purge(c, before)? + store::grants::purge(c, before)?)
                })
                .await;
            match purged {
                Ok(n) if n > 0 => {
                    tracing::info!(rows = n, "purged expired transactions and tokens")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge failed"),
            }
        }
    });
}
