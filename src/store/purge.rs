//! Removing what has expired from every table that grows with use.

use std::time::{Duration, Instant};

use super::{dpop, grants, identity, outbox, pushed, requests, Db, StoreError};

/// How long a row is kept past its expiry: replay detection needs redeemed codes and used
/// refresh tokens for a while, and an operator reading yesterday's trouble needs its rows.
pub const KEPT_PAST_EXPIRY: i64 = 86_400;

/// What one purge did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub rows: usize,
    /// The write transactions it took.
    pub transactions: usize,
    /// The longest of them: how long another writer of this node waited at most for it
    /// (SQLite has one writer at a time).
    pub longest: Duration,
}

/// Deletes the rows that expired more than [`KEPT_PAST_EXPIRY`] before `now` (pushed
/// requests, DPoP proof ids and unreleased verified facts as soon as they expire). Runs on
/// the calling thread.
pub fn run(db: &Db, now: i64) -> Result<Purged, StoreError> {
    let before = now - KEPT_PAST_EXPIRY;
    let started = Instant::now();
    let rows = db.write_blocking(|c| {
        // A pushed request past its expiry is refused whether its row is there or not.
        Ok(pushed::purge(c, now)?
            + requests::purge(c, before)?
            + grants::purge(c, before)?
            + outbox::purge_delivered(c, before)?
            + identity::purge_expired(c, now)?
            + dpop::purge(c, now)?)
    })?;
    Ok(Purged {
        rows,
        transactions: 1,
        longest: started.elapsed(),
    })
}
