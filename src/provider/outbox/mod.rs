//! Deliveries to relying parties from the durable outbox: back-channel logout tokens
//! (OIDC Back-Channel Logout 1.0), retried with exponential backoff and jitter, dead-lettered
//! after the configured period. A delivery may repeat (RPs drop duplicates by `jti`); it is
//! never lost: rows are written in the transaction that ends the session, and a node that dies
//! mid-delivery leaves its claimed rows to be taken again.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;

use super::{Provider, ProviderError};
use crate::domain::secret::random_bytes;
use crate::domain::IdTokenAlg;
use crate::store::outbox::{OutboxRow, BACKCHANNEL_LOGOUT, SECURITY_EVENT, SSF_EVENT};
use crate::store::sessions::ClientSessionRow;
use crate::store::{self, DbConn};

mod push;
mod token;

pub use token::{logout_token, removed_client_event, BACKCHANNEL_LOGOUT_EVENT};
use token::{signed_logout_token, RemovedClient};

const BATCH: i64 = 256;
/// Deliveries under way per batch, and batches under way at once.
const IN_FLIGHT: usize = 64;
const BATCHES_IN_FLIGHT: usize = 4;

/// How long a claimed row stays with its node: long enough for a whole batch to time out
/// attempt by attempt, after which a node that died mid-delivery loses it to the others.
fn lease_secs(p: &Provider) -> i64 {
    let rounds = (BATCH as usize).div_ceil(IN_FLIGHT) as i64;
    rounds * p.settings.backchannel_timeout.as_secs() as i64 + 10
}

/// Queues one back-channel logout per ended client session whose client registered an endpoint.
pub fn enqueue_logouts(
    conn: &mut DbConn,
    ended: &[ClientSessionRow],
    now: i64,
) -> diesel::QueryResult<usize> {
    let mut endpoints: HashMap<String, Option<String>> = HashMap::new();
    let mut rows = Vec::with_capacity(ended.len());
    for cs in ended {
        if !endpoints.contains_key(&cs.client_id) {
            let uri = store::clients::get(conn, &cs.client_id)?
                .filter(|c| c.enabled)
                .and_then(|c| c.backchannel_logout_uri);
            endpoints.insert(cs.client_id.clone(), uri);
        }
        if let Some(Some(uri)) = endpoints.get(&cs.client_id) {
            rows.push(OutboxRow::due_now(
                BACKCHANNEL_LOGOUT,
                cs.client_id.clone(),
                uri.clone(),
                Some(cs.id.clone()),
                cs.person_id.clone(),
                "{}".to_owned(),
                now,
            ));
        }
    }
    store::outbox::enqueue_all(conn, &rows)?;
    Ok(rows.len())
}

/// Runs the delivery loop on the current runtime.
pub fn spawn(p: Arc<Provider>) {
    tokio::spawn(async move {
        // Batches overlap, so a fan-out never waits for the slowest delivery of a batch.
        let mut running = tokio::task::JoinSet::new();
        // Woken by this node, or a full batch was just claimed: claim without looking first.
        let mut claim = true;
        loop {
            while running.len() >= BATCHES_IN_FLIGHT {
                let _ = running.join_next().await;
            }
            let (now, lease) = (p.clock.unix(), lease_secs(&p));
            if !claim {
                match p.db.read(move |c| store::outbox::any_due(c, now)).await {
                    Ok(true) => {}
                    Ok(false) => {
                        claim = wait_for_work(&p).await;
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox: cannot look for deliveries; retrying");
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        continue;
                    }
                }
            }
            let claimed =
                p.db.write_offloaded(move |c| store::outbox::claim_due(c, now, lease, BATCH))
                    .await;
            let batch = match claimed {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox: cannot claim deliveries; retrying");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    continue;
                }
            };
            let full = batch.len() as i64 == BATCH;
            if !batch.is_empty() {
                let p = p.clone();
                running.spawn(async move { deliver_batch(&p, batch).await });
            }
            claim = full || wait_for_work(&p).await;
        }
    });
}

/// How often an idle delivery loop looks for rows it was not told about: written by another
/// node or by a `mykey-connect` command, or retries coming due. The look is a read.
const POLL: Duration = Duration::from_millis(200);

/// Waits until this node queues deliveries (true) or the next poll (false).
async fn wait_for_work(p: &Provider) -> bool {
    tokio::time::timeout(POLL, p.deliveries.notified())
        .await
        .is_ok()
}

/// Why one delivery did not reach its site; the text is kept as the row's `last_error`.
#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    #[error("the client is no longer registered")]
    ClientGone,
    #[error("the stream was deleted")]
    StreamGone,
    /// RFC 8935 §2.3: the receiver refused the SET for good (`err`: description).
    #[error("refused: {0}")]
    Rejected(String),
    #[error("timed out")]
    TimedOut,
    #[error("connection refused or unreachable")]
    Unreachable,
    #[error("{0}")]
    Request(reqwest::Error),
    #[error("HTTP {0}")]
    Status(u16),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

async fn deliver_batch(p: &Arc<Provider>, batch: Vec<OutboxRow>) {
    let outcomes: Vec<(OutboxRow, Result<(), DeliveryError>)> = futures_util::stream::iter(batch)
        .map(|row| {
            let p = p.clone();
            async move {
                let result = deliver_one(&p, &row).await;
                (row, result)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let now = p.clock.unix();
    let retry_period = p.settings.backchannel_retry_period.as_secs() as i64;
    // Outcomes are written together: one statement per attempt count for the deliveries, one
    // per failure, and one audit entry per client, kind, outcome and attempt count.
    let mut delivered: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    let mut failed = Vec::new();
    let mut audited: BTreeMap<(String, String, &'static str, i32), usize> = BTreeMap::new();
    for (row, result) in outcomes {
        let attempts = row.attempts + 1;
        // When a failed delivery would be tried again; past the retry period it is dead.
        let retry_at = result
            .as_ref()
            .is_err_and(|e| !matches!(e, DeliveryError::Rejected(_) | DeliveryError::StreamGone))
            .then(|| now + backoff(attempts))
            .filter(|next| next - row.created_at <= retry_period);
        let outcome = match (&result, retry_at) {
            (Ok(()), _) => "delivered",
            (Err(_), Some(_)) => "retry",
            (Err(_), None) => "dead",
        };
        p.metrics
            .deliveries
            .with_label_values(&[row.kind.as_str(), row.client_id.as_str(), outcome])
            .inc();
        *audited
            .entry((row.client_id.clone(), row.kind.clone(), outcome, attempts))
            .or_default() += 1;
        match result {
            Ok(()) => delivered.entry(attempts).or_default().push(row.id),
            Err(e) => {
                tracing::warn!(client_id = %row.client_id, kind = %row.kind, attempts, error = %e, outcome, "delivery failed");
                failed.push((row.id, attempts, e.to_string(), retry_at));
            }
        }
    }
    let write =
        p.db.write_offloaded(move |c| {
            for (attempts, ids) in &delivered {
                store::outbox::mark_delivered(c, ids, *attempts, now)?;
            }
            for (id, attempts, error, retry_at) in &failed {
                store::outbox::mark_failed(c, id, *attempts, error, *retry_at)?;
            }
            for ((client, kind, outcome, attempts), count) in &audited {
                crate::audit::hooks::delivery(c, client, kind, outcome, *attempts, *count, now)?;
            }
            Ok(())
        })
        .await;
    if let Err(e) = write {
        // The leases run out and the rows are delivered again: a repeat, never a loss.
        tracing::warn!(error = %e, "outbox: cannot record outcomes");
    }
}

/// Seconds before attempt `attempts + 1`: 1, 2, 4, … up to 10 minutes, ±25 % jitter.
pub fn backoff(attempts: i32) -> i64 {
    let base = 1i64 << attempts.clamp(1, 10).saturating_sub(1);
    let capped = base.min(600) as f64;
    let r = f64::from(random_bytes(1)[0]) / 255.0;
    ((capped * (0.75 + 0.5 * r)).round() as i64).max(1)
}

async fn deliver_one(p: &Arc<Provider>, row: &OutboxRow) -> Result<(), DeliveryError> {
    let client = p
        .clients
        .get(&row.client_id)
        .await
        .map_err(ProviderError::from)?;
    if row.kind == SSF_EVENT {
        return push::push_ssf(p, row, client).await;
    }
    let security_event = row.kind == SECURITY_EVENT;
    // A logout owed by a client removed since carries what its token needs.
    let removed = match &client {
        None if !security_event => serde_json::from_str::<RemovedClient>(&row.event).ok(),
        _ => None,
    };
    let token = {
        let (p, row) = (p.clone(), row.clone());
        tokio::task::spawn_blocking(move || match (client, removed) {
            (Some(client), _) if security_event => {
                super::identity::security_event_token(&p, &row, &client).map_err(Into::into)
            }
            (Some(client), _) => logout_token(&p, &row, &client).map_err(Into::into),
            (None, Some(removed)) => {
                let alg = IdTokenAlg::parse(&removed.alg).ok_or_else(|| {
                    ProviderError::Internal(format!("unknown algorithm {}", removed.alg))
                })?;
                signed_logout_token(&p, &row, &row.client_id, &removed.sub, alg).map_err(Into::into)
            }
            (None, None) => Err(DeliveryError::ClientGone),
        })
        .await
        .map_err(|e| ProviderError::Internal(e.to_string()))??
    };
    let request = p
        .http
        .post(&row.target_uri)
        .timeout(p.settings.backchannel_timeout);
    // RFC 8935 §2: the SET is the body; a logout token is a form field (BCL §2.5).
    let request = if security_event {
        request
            .header(reqwest::header::CONTENT_TYPE, "application/secevent+jwt")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(token)
    } else {
        request.form(&[("logout_token", token.as_str())])
    };
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            DeliveryError::TimedOut
        } else if e.is_connect() {
            DeliveryError::Unreachable
        } else {
            DeliveryError::Request(e)
        }
    })?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(DeliveryError::Status(response.status().as_u16()))
    }
}
