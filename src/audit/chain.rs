//! The chainer: moves inbox rows into `audit_log`, each entry hashing its predecessor.

use std::time::{Duration, Instant};

use aws_lc_rs::digest;
use diesel::sql_types::Bool;
use diesel::RunQueryDsl as _;

use super::AuditError;
use crate::store::audit::LogRow;
use crate::store::{self, Db, DbConn};

/// The `prev_hash` of the first entry ever written.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Rows chained per transaction: large enough to keep up with thousands of events per second,
/// small enough that a batch commits in milliseconds.
const BATCH: i64 = 500;

/// PostgreSQL advisory lock key of the chainer ("mykeyaud" in ASCII).
const CHAIN_LOCK: i64 = 0x6d79_6b65_7961_7564;

/// How often a node's chainer looks at the inbox.
pub const INTERVAL: Duration = Duration::from_millis(500);

/// SHA-256 (hex) over the canonical encoding of an entry: the JSON array
/// `[seq, time, kind, actor, client_id, person_id, data, prev_hash]` with `data` as the stored
/// text, so the hash never depends on how a JSON library orders keys.
pub fn entry_hash(row: &LogRow) -> String {
    let canonical = serde_json::json!([
        row.seq,
        row.time,
        row.kind,
        row.actor,
        row.client_id,
        row.person_id,
        row.data,
        row.prev_hash,
    ])
    .to_string();
    hex::encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

/// The chain's head: the newest entry, or the pruning checkpoint when the log is empty.
fn head(conn: &mut DbConn) -> diesel::QueryResult<(i64, String)> {
    if let Some(row) = store::audit::head(conn)? {
        return Ok((row.seq, row.hash));
    }
    Ok(match store::audit::latest_checkpoint(conn)? {
        Some(cp) => (cp.through_seq, cp.last_hash),
        None => (0, GENESIS.to_owned()),
    })
}

/// Only one chainer may extend the chain at a time: on PostgreSQL a transaction-scoped
/// advisory lock (released at commit, never blocks: busy means someone else is chaining);
/// SQLite transactions already run one at a time.
fn try_lock(conn: &mut DbConn) -> diesel::QueryResult<bool> {
    match conn {
        DbConn::Postgres(c) => diesel::select(diesel::dsl::sql::<Bool>(&format!(
            "pg_try_advisory_xact_lock({CHAIN_LOCK})"
        )))
        .get_result(c),
        DbConn::Sqlite(_) => Ok(true),
    }
}

/// Chains one batch inside the caller's transaction. `None`: another chainer holds the lock.
pub fn chain_batch(conn: &mut DbConn) -> diesel::QueryResult<Option<usize>> {
    if !try_lock(conn)? {
        return Ok(None);
    }
    let pending = store::audit::inbox_batch(conn, BATCH)?;
    if pending.is_empty() {
        return Ok(Some(0));
    }
    let (mut seq, mut prev) = head(conn)?;
    let mut rows = Vec::with_capacity(pending.len());
    for p in &pending {
        seq += 1;
        let mut row = LogRow {
            seq,
            time: p.time,
            kind: p.kind.clone(),
            actor: p.actor.clone(),
            client_id: p.client_id.clone(),
            person_id: p.person_id.clone(),
            data: p.data.clone(),
            prev_hash: prev,
            hash: String::new(),
        };
        row.hash = entry_hash(&row);
        prev = row.hash.clone();
        rows.push(row);
    }
    store::audit::insert_log(conn, &rows)?;
    let ids: Vec<i64> = pending.iter().map(|p| p.id).collect();
    store::audit::delete_inbox(conn, &ids)?;
    Ok(Some(rows.len()))
}

/// Chains until the inbox is empty (polling while another node's chainer holds the lock, up
/// to `patience`). Returns how many entries this call chained.
pub fn drain_blocking(db: &Db, patience: Duration) -> Result<usize, AuditError> {
    let deadline = Instant::now() + patience;
    let mut total = 0;
    loop {
        match db.write_blocking(chain_batch)? {
            Some(0) if db.read_blocking(store::audit::inbox_len)? == 0 => return Ok(total),
            Some(0) => {}
            Some(n) => {
                total += n;
                continue;
            }
            None => {}
        }
        if Instant::now() >= deadline {
            return Err(AuditError::Busy);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// [`drain_blocking`] off the async threads.
pub async fn drain(db: &Db, patience: Duration) -> Result<usize, AuditError> {
    let db = db.clone();
    tokio::task::spawn_blocking(move || drain_blocking(&db, patience))
        .await
        .map_err(|e| AuditError::Store(crate::store::StoreError::Unavailable(e.to_string())))?
}

/// The chainer loop of a serving node. Every node runs one; the lock lets one work at a time.
pub fn spawn(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(INTERVAL);
        loop {
            tick.tick().await;
            let db = db.clone();
            // One batch per tick while events trickle in; more at once only while batches
            // come full (a backlog). Looping until the inbox is empty would, under steady
            // load, chain a few events per transaction without pause.
            let chained = tokio::task::spawn_blocking(move || {
                let mut n = 0;
                while let Some(k) = db.write_blocking(chain_batch)? {
                    n += k;
                    if (k as i64) < BATCH {
                        break;
                    }
                }
                Ok::<usize, crate::store::StoreError>(n)
            })
            .await;
            match chained {
                Ok(Ok(n)) if n > 0 => tracing::debug!(entries = n, "audit entries chained"),
                Ok(Err(e)) => tracing::warn!(error = %e, "audit chainer failed; will retry"),
                _ => {}
            }
        }
    });
}
