//! Removing what has expired from every table that grows with use, a batch per transaction.
//!
//! SQLite has one writer: a purge that deleted each table's expired rows in one statement held
//! it for as long as finding them took, and without an index on the expiry that was a read of
//! the whole table (0.3–0.4 s for two million tokens, every ten minutes, with every login's
//! write waiting). Each batch here is found through an index on the expiry (migration
//! `purge_by_expiry`) and deleted in its own short transaction.

use std::time::{Duration, Instant};

use diesel::prelude::*;

use super::outbox::DELIVERED;
use super::schema::{
    access_tokens, auth_requests, authorization_codes, challenges, dpop_proofs, outbox,
    pushed_requests, refresh_tokens, spent_codes, verifications,
};
use super::{Db, DbConn, StoreError};

/// How long a row is kept past its expiry: replay detection needs redeemed codes and used
/// refresh tokens for a while, and an operator reading yesterday's trouble needs its rows.
pub const KEPT_PAST_EXPIRY: i64 = 86_400;

/// Rows deleted per transaction. Each deleted token dirties about two pages found at random
/// (its key's and its client session's index entries), so a batch of this size writes about
/// 1.6 MB of WAL: tens of milliseconds of the writer on a slow disk (BENCHMARKS.md,
/// "Purging expired rows").
pub const BATCH: i64 = 200;

/// The background purge's rest between full batches (see [`run`]). On the benchmark's disk,
/// deleting 22,500 tokens without it made a concurrent write wait 330 ms once (a WAL restart);
/// with it, 64 ms at most, and the purge took 6 s instead of 1.
pub const PAUSE: Duration = Duration::from_millis(50);

/// What one purge did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub rows: usize,
    /// The write transactions it took.
    pub transactions: usize,
    /// The longest of them, its own wait for the writer included: about how long another
    /// writer of this node waited at most for it (SQLite has one writer at a time).
    pub longest: Duration,
}

/// Deletes one batch of a table's expired rows, expired before the second argument: at least
/// [`BATCH`] rows while more are left, fewer only when that was all of them.
type Step = fn(&mut DbConn, i64) -> QueryResult<usize>;

/// Deletes the rows that expired more than [`KEPT_PAST_EXPIRY`] before `now` (pushed
/// requests, DPoP proof ids and unreleased verified facts as soon as they expire). Runs on
/// the calling thread; other writers get their turn between its transactions, and after each
/// full batch it rests for `pause`, so that the WAL it writes grows no faster than SQLite's
/// checkpointer copies it back (a checkpoint that falls behind holds every writer while it
/// restarts the WAL).
pub fn run(db: &Db, now: i64, pause: Duration) -> Result<Purged, StoreError> {
    let before = now - KEPT_PAST_EXPIRY;
    // A pushed request past its expiry is refused whether its row is there or not.
    let steps: [(Step, i64); 9] = [
        (pushed, now),
        (requests, before),
        (codes, before),
        (spent_codes, before),
        (access_tokens, before),
        (refresh_tokens, before),
        (delivered, before),
        (verifications, now),
        (dpop_proofs, now),
    ];
    let mut purged = Purged::default();
    for (step, before) in steps {
        loop {
            let started = Instant::now();
            let rows = db.write_blocking(|c| step(c, before))?;
            purged.rows += rows;
            purged.transactions += 1;
            purged.longest = purged.longest.max(started.elapsed());
            if rows < BATCH as usize {
                break;
            }
            std::thread::sleep(pause);
        }
    }
    Ok(purged)
}

/// The expiry below which [`BATCH`] rows of `$table` have expired before `$before`: one past
/// the [`BATCH`]-th oldest (rows sharing its expiry go in the same batch), or `$before` when
/// fewer are left. Reads [`BATCH`] entries of the expiry's index.
macro_rules! batch_end {
    ($conn:expr, $table:ident, $before:expr) => {
        $table::table
            .select($table::expires_at)
            .filter($table::expires_at.lt($before))
            .order($table::expires_at)
            .offset(BATCH - 1)
            .first::<i64>($conn)
            .optional()?
            .map_or($before, |last| (last + 1).min($before))
    };
}

/// Deletes one batch of `$table`'s rows expired before `$before` (see [`Step`]).
macro_rules! delete_batch {
    ($conn:expr, $table:ident, $before:expr) => {{
        let end = batch_end!($conn, $table, $before);
        diesel::delete($table::table.filter($table::expires_at.lt(end))).execute($conn)
    }};
}

/// Pushed requests, used or not: neither can be used again.
fn pushed(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    delete_batch!(c, pushed_requests, before)
}

/// Authorization requests with their challenges.
fn requests(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    let end = batch_end!(c, auth_requests, before);
    let old = auth_requests::table
        .filter(auth_requests::expires_at.lt(end))
        .select(auth_requests::id);
    diesel::delete(challenges::table.filter(challenges::auth_request_id.eq_any(old))).execute(c)?;
    diesel::delete(auth_requests::table.filter(auth_requests::expires_at.lt(end))).execute(c)
}

/// Stored authorization codes (only when sealing was unavailable).
fn codes(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    delete_batch!(c, authorization_codes, before)
}

fn spent_codes(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    delete_batch!(c, spent_codes, before)
}

fn access_tokens(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    delete_batch!(c, access_tokens, before)
}

fn refresh_tokens(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    delete_batch!(c, refresh_tokens, before)
}

/// Delivered back-channel logouts and security events, by when they were delivered (dead
/// letters stay until retried).
fn delivered(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    let delivered = || {
        outbox::table
            .filter(outbox::status.eq(DELIVERED))
            .filter(outbox::delivered_at.lt(before))
    };
    let end = delivered()
        .select(outbox::delivered_at)
        .order(outbox::delivered_at)
        .offset(BATCH - 1)
        .first::<Option<i64>>(c)
        .optional()?
        .flatten()
        .map_or(before, |last| (last + 1).min(before));
    diesel::delete(delivered().filter(outbox::delivered_at.lt(end))).execute(c)
}

/// Sealed verified facts, once no grant needs them (storage minimisation).
fn verifications(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    delete_batch!(c, verifications, before)
}

/// Ids of DPoP proofs that would now be refused for their age anyway.
fn dpop_proofs(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    delete_batch!(c, dpop_proofs, before)
}
