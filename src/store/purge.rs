//! Removing what has expired from every table that grows with use, a batch per transaction.
//!
//! SQLite has one writer: a purge that deleted each table's expired rows in one statement held
//! it for as long as finding them took, and without an index on the expiry that was a read of
//! the whole table (0.3–0.4 s for two million tokens, every ten minutes, with every login's
//! write waiting). Now every batch of [`BATCH`] rows is deleted in its own short transaction.
//! The tables written on every login or token exchange (tokens and authorization requests)
//! are read beforehand a chunk at a time in storage order ([`SCAN`] rows on SQLite,
//! [`SCAN_PAGES`] pages on PostgreSQL), holding no writer, and their expired rows deleted by
//! key: an index on their expiry would cost one more page in the WAL of every such write
//! (with them S5E's p99 was higher in every round, up to double, BENCHMARKS.md "Purging
//! expired rows"). The other tables are small or indexed by their expiry, and each batch is
//! found in its delete's transaction.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

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

/// Rows one read of a hot table's scan looks at on SQLite: about a millisecond, short enough
/// that the read's snapshot never keeps the WAL from starting over for long.
pub const SCAN: i64 = 5_000;

/// Pages (8 KiB) one read of a hot table's scan looks at on PostgreSQL: about 8,000 tokens.
pub const SCAN_PAGES: i64 = 256;

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
    let steps: [(Step, i64); 6] = [
        (pushed, now),
        (codes, before),
        (spent_codes, before),
        (delivered, before),
        (verifications, now),
        (dpop_proofs, now),
    ];
    let mut purged = Purged::default();
    for (step, before) in steps {
        loop {
            let rows = purged.write(db, |c| step(c, before))?;
            if rows < BATCH as usize {
                break;
            }
            std::thread::sleep(pause);
        }
    }
    for table in &HOT {
        table.purge(db, before, pause, &mut purged)?;
    }
    Ok(purged)
}

impl Purged {
    /// One batch's write transaction, counted.
    fn write(
        &mut self,
        db: &Db,
        batch: impl FnOnce(&mut DbConn) -> QueryResult<usize>,
    ) -> Result<usize, StoreError> {
        let started = Instant::now();
        let rows = db.write_blocking(batch)?;
        self.rows += rows;
        self.transactions += 1;
        self.longest = self.longest.max(started.elapsed());
        Ok(rows)
    }
}

/// A table written on every login or token exchange, whose expired rows are found by reading
/// it rather than through an index on the expiry.
struct Hot {
    table: &'static str,
    key: &'static str,
    /// Deletes the rows with these keys that expired before the second argument.
    delete: fn(&mut DbConn, &[String], i64) -> QueryResult<usize>,
}

const HOT: [Hot; 3] = [
    Hot {
        table: "auth_requests",
        key: "id",
        delete: requests,
    },
    Hot {
        table: "access_tokens",
        key: "token_hash",
        delete: access_tokens,
    },
    Hot {
        table: "refresh_tokens",
        key: "token_hash",
        delete: refresh_tokens,
    },
];

#[derive(QueryableByName)]
struct Scanned {
    #[diesel(sql_type = BigInt)]
    position: i64,
    #[diesel(sql_type = Nullable<Text>)]
    expired: Option<String>,
}

#[derive(QueryableByName)]
struct Expired {
    #[diesel(sql_type = Text)]
    found: String,
}

#[derive(QueryableByName)]
struct Pages {
    #[diesel(sql_type = BigInt)]
    pages: i64,
}

impl Hot {
    /// Reads the table through once, in the order its rows are stored (rows are appended, so
    /// the oldest and the first to expire come first), deleting what it finds a batch per
    /// transaction.
    fn purge(
        &self,
        db: &Db,
        before: i64,
        pause: Duration,
        purged: &mut Purged,
    ) -> Result<(), StoreError> {
        let end = db.read_blocking(|c| self.end(c))?;
        let mut from = 0;
        let mut expired: Vec<String> = Vec::new();
        loop {
            let (found, next) = db.read_blocking(|c| self.expired_from(c, from, end, before))?;
            expired.extend(found);
            while expired.len() >= BATCH as usize || (next.is_none() && !expired.is_empty()) {
                let batch: Vec<String> =
                    expired.drain(..expired.len().min(BATCH as usize)).collect();
                purged.write(db, |c| (self.delete)(c, &batch, before))?;
                if batch.len() == BATCH as usize {
                    std::thread::sleep(pause);
                }
            }
            match next {
                Some(next) => from = next,
                None => return Ok(()),
            }
        }
    }

    /// Where a pass ends: on PostgreSQL the table's pages when it starts (rows written later
    /// are new); on SQLite the last chunk says so itself.
    fn end(&self, c: &mut DbConn) -> QueryResult<i64> {
        match c {
            DbConn::Sqlite(_) => Ok(i64::MAX),
            DbConn::Postgres(c) => diesel::sql_query(format!(
                "SELECT pg_relation_size('{}') / current_setting('block_size')::bigint AS pages",
                self.table
            ))
            .get_result::<Pages>(c)
            .map(|size| size.pages),
        }
    }

    /// The keys of the expired rows in one chunk of the table starting at `from`, and where the
    /// next chunk starts (`None` after the last): on SQLite [`SCAN`] rows past rowid `from`, on
    /// PostgreSQL [`SCAN_PAGES`] pages from page `from` (a TID range scan) up to page `end`. A
    /// row that an update moves during the pass may be seen twice (the delete is by key) or
    /// missed until the next pass.
    fn expired_from(
        &self,
        c: &mut DbConn,
        from: i64,
        end: i64,
        before: i64,
    ) -> QueryResult<(Vec<String>, Option<i64>)> {
        let (table, key) = (self.table, self.key);
        match c {
            DbConn::Sqlite(c) => {
                let rows: Vec<Scanned> = diesel::sql_query(format!(
                    "SELECT rowid AS position, CASE WHEN expires_at < ? THEN {key} END AS expired \
                     FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT {SCAN}"
                ))
                .bind::<BigInt, _>(before)
                .bind::<BigInt, _>(from)
                .load(c)?;
                let full = rows.len() == SCAN as usize;
                let next = rows.last().filter(|_| full).map(|last| last.position);
                Ok((rows.into_iter().filter_map(|r| r.expired).collect(), next))
            }
            DbConn::Postgres(c) => {
                let to = from + SCAN_PAGES;
                let rows: Vec<Expired> = diesel::sql_query(format!(
                    "SELECT {key} AS found FROM {table} \
                     WHERE ctid >= $1::tid AND ctid < $2::tid AND expires_at < $3"
                ))
                .bind::<Text, _>(format!("({from},0)"))
                .bind::<Text, _>(format!("({to},0)"))
                .bind::<BigInt, _>(before)
                .load(c)?;
                let next = (to < end).then_some(to);
                Ok((rows.into_iter().map(|r| r.found).collect(), next))
            }
        }
    }
}

/// The expiry below which [`BATCH`] of `$rows` have expired before `$before`, `$expiry` being
/// their expiry column: one past the [`BATCH`]-th oldest (rows sharing its expiry go in the
/// same batch), or `$before` when fewer are left. Reads [`BATCH`] entries of the expiry's index
/// where there is one, the table where not (the small ones).
macro_rules! batch_end {
    ($conn:expr, $rows:expr, $expiry:expr, $before:expr) => {
        $rows
            .select($expiry)
            .filter($expiry.lt($before))
            .order($expiry)
            .offset(BATCH - 1)
            .first::<i64>($conn)
            .optional()?
            .map_or($before, |last| (last + 1).min($before))
    };
}

/// Deletes one batch of `$table`'s rows expired before `$before` (see [`Step`]).
macro_rules! delete_batch {
    ($conn:expr, $table:ident, $before:expr) => {{
        let end = batch_end!($conn, $table::table, $table::expires_at, $before);
        diesel::delete($table::table.filter($table::expires_at.lt(end))).execute($conn)
    }};
}

/// `$table`'s rows with these `$key`s that expired before `$before` (a hot table's batch).
macro_rules! expired_by_key {
    ($table:ident, $key:ident, $keys:expr, $before:expr) => {
        $table::table
            .filter($table::$key.eq_any($keys))
            .filter($table::expires_at.lt($before))
    };
}

/// Pushed requests, used or not: neither can be used again.
fn pushed(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    delete_batch!(c, pushed_requests, before)
}

/// Authorization requests with their challenges.
fn requests(c: &mut DbConn, keys: &[String], before: i64) -> QueryResult<usize> {
    let old = || expired_by_key!(auth_requests, id, keys, before);
    diesel::delete(
        challenges::table
            .filter(challenges::auth_request_id.eq_any(old().select(auth_requests::id))),
    )
    .execute(c)?;
    diesel::delete(old()).execute(c)
}

/// Stored authorization codes (only when sealing was unavailable).
fn codes(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    delete_batch!(c, authorization_codes, before)
}

fn spent_codes(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    delete_batch!(c, spent_codes, before)
}

fn access_tokens(c: &mut DbConn, keys: &[String], before: i64) -> QueryResult<usize> {
    diesel::delete(expired_by_key!(access_tokens, token_hash, keys, before)).execute(c)
}

fn refresh_tokens(c: &mut DbConn, keys: &[String], before: i64) -> QueryResult<usize> {
    diesel::delete(expired_by_key!(refresh_tokens, token_hash, keys, before)).execute(c)
}

/// Delivered back-channel logouts and security events, by when they were delivered (dead
/// letters stay until retried).
fn delivered(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    let delivered = || outbox::table.filter(outbox::status.eq(DELIVERED));
    // Delivered rows always have their time (`outbox::mark_delivered`).
    let at = outbox::delivered_at.assume_not_null();
    let end = batch_end!(c, delivered(), at, before);
    diesel::delete(delivered().filter(at.lt(end))).execute(c)
}

/// Sealed verified facts, once no grant needs them (storage minimisation).
fn verifications(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    delete_batch!(c, verifications, before)
}

/// Ids of DPoP proofs that would now be refused for their age anyway.
fn dpop_proofs(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    delete_batch!(c, dpop_proofs, before)
}
