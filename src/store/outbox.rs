//! The durable outbox of deliveries to relying parties, claimed with `SKIP LOCKED` on
//! PostgreSQL so several nodes deliver in parallel without doubling up.

use diesel::prelude::*;

use crate::domain::MyKeyId;

use super::schema::outbox;
use super::DbConn;

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const DEAD: &str = "dead";
/// A Security Event Token waiting for its receiver to poll and acknowledge it (RFC 8936).
pub const POLL: &str = "poll";
/// A Security Event Token of a paused stream, released when the stream is enabled again.
pub const HELD: &str = "held";

/// Kinds of deliveries.
pub const BACKCHANNEL_LOGOUT: &str = "backchannel_logout";
pub const SECURITY_EVENT: &str = "security_event";
/// A Security Event Token of a Shared Signals stream (`stream_id` set).
pub const SSF_EVENT: &str = "ssf_event";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub client_id: String,
    pub target_uri: String,
    /// The `sid` of a back-channel logout.
    pub client_session_id: Option<String>,
    pub person_id: MyKeyId,
    /// Kept across retries so the relying party can drop duplicates.
    pub jti: String,
    /// JSON describing the event; the token is signed at each attempt (fresh `iat`/`exp`).
    pub event: String,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub locked_until: Option<i64>,
    pub attempts: i32,
    pub status: String,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    /// The Shared Signals stream of a Security Event Token (kind `ssf_event`).
    pub stream_id: Option<String>,
}

impl OutboxRow {
    /// A delivery due now, not yet attempted, with a fresh id and `jti`.
    pub fn due_now(
        kind: &str,
        client_id: String,
        target_uri: String,
        client_session_id: Option<String>,
        person_id: MyKeyId,
        event: String,
        now: i64,
    ) -> OutboxRow {
        let random = |n| crate::domain::secret::random_b64(n);
        OutboxRow {
            id: random(16),
            kind: kind.to_owned(),
            client_id,
            target_uri,
            client_session_id,
            person_id,
            jti: random(16),
            event,
            created_at: now,
            next_attempt_at: now,
            locked_until: None,
            attempts: 0,
            status: PENDING.to_owned(),
            last_error: None,
            delivered_at: None,
            stream_id: None,
        }
    }
}

pub fn enqueue(conn: &mut DbConn, row: &OutboxRow) -> QueryResult<()> {
    diesel::insert_into(outbox::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Queues many rows with multi-row inserts (a fan-out can be ten thousand rows).
pub fn enqueue_all(conn: &mut DbConn, rows: &[OutboxRow]) -> QueryResult<()> {
    // 16 columns per row keeps a chunk under SQLite's 32,766 bound parameters.
    for chunk in rows.chunks(1000) {
        // Multi-row INSERT is backend-specific SQL in diesel (not in the common subset).
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(outbox::table)
                .values(chunk)
                .execute(c)?,
            DbConn::Postgres(c) => diesel::insert_into(outbox::table)
                .values(chunk)
                .execute(c)?,
        };
    }
    Ok(())
}

/// Whether any delivery is due and unclaimed: the delivery loop's cheap idle check (a read of
/// the `outbox_due` index), so that only a due row costs a write transaction.
pub fn any_due(conn: &mut DbConn, now: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(outbox::table.filter(due(now)))).get_result(conn)
}

/// Pending, due by `now`, and not held under another claim's lease.
#[diesel::dsl::auto_type]
fn due(now: i64) -> _ {
    let status: &'static str = PENDING;
    outbox::status
        .eq(status)
        .and(outbox::next_attempt_at.le(now))
        .and(
            outbox::locked_until
                .is_null()
                .or(outbox::locked_until.lt(now)),
        )
}

/// Takes up to `limit` due deliveries for `lease` seconds. A node that dies while holding
/// them leaves them to be taken again when the lease runs out: nothing is lost.
pub fn claim_due(
    conn: &mut DbConn,
    now: i64,
    lease: i64,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let oldest_due = outbox::table
        .filter(due(now))
        .order(outbox::next_attempt_at.asc())
        .limit(limit)
        .select(outbox::all_columns);
    let rows: Vec<OutboxRow> = match conn {
        // Rows another node is claiming right now are skipped, not waited for.
        DbConn::Postgres(pg) => oldest_due.for_update().skip_locked().load(pg)?,
        // One writer at a time in SQLite: the plain read is already exclusive.
        DbConn::Sqlite(sqlite) => oldest_due.load(sqlite)?,
    };
    if rows.is_empty() {
        return Ok(rows);
    }
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
        .set(outbox::locked_until.eq(now + lease))
        .execute(conn)?;
    Ok(rows)
}

/// Records deliveries that succeeded at attempt `attempts`, a few hundred per statement.
pub fn mark_delivered(
    conn: &mut DbConn,
    ids: &[String],
    attempts: i32,
    now: i64,
) -> QueryResult<usize> {
    let mut marked = 0;
    for chunk in ids.chunks(500) {
        marked += diesel::update(outbox::table.filter(outbox::id.eq_any(chunk)))
            .set((
                outbox::status.eq(DELIVERED),
                outbox::attempts.eq(attempts),
                outbox::delivered_at.eq(now),
                outbox::locked_until.eq(None::<i64>),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)?;
    }
    Ok(marked)
}

/// Records a failed attempt: retried at `next_attempt_at`, or dead-lettered when `None`.
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    attempts: i32,
    error: &str,
    next_attempt_at: Option<i64>,
) -> QueryResult<usize> {
    let status = if next_attempt_at.is_some() {
        PENDING
    } else {
        DEAD
    };
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(status),
            outbox::attempts.eq(attempts),
            outbox::last_error.eq(error),
            outbox::next_attempt_at.eq(next_attempt_at.unwrap_or(0)),
            outbox::locked_until.eq(None::<i64>),
        ))
        .execute(conn)
}

/// Puts dead-lettered deliveries of a client (or one delivery) back in the queue.
pub fn retry_dead(
    conn: &mut DbConn,
    client_id: &str,
    id: Option<&str>,
    now: i64,
) -> QueryResult<usize> {
    let mut q = diesel::update(outbox::table)
        .filter(outbox::status.eq(DEAD))
        .filter(outbox::client_id.eq(client_id))
        .into_boxed();
    if let Some(id) = id {
        q = q.filter(outbox::id.eq(id));
    }
    let retried = q
        .set((
            outbox::status.eq(PENDING),
            outbox::next_attempt_at.eq(now),
            outbox::created_at.eq(now),
            outbox::attempts.eq(0),
        ))
        .execute(conn)?;
    // Security Event Tokens of a stream go back where the stream says: polled, held or pushed.
    if let Some(stream) = super::ssf::of_client(conn, client_id)? {
        super::ssf::settle(conn, &stream, now)?;
    }
    Ok(retried)
}

/// (client_id, status, count) over the whole outbox.
pub fn counts(conn: &mut DbConn) -> QueryResult<Vec<(String, String, i64)>> {
    outbox::table
        .group_by((outbox::client_id, outbox::status))
        .select((outbox::client_id, outbox::status, diesel::dsl::count_star()))
        .load(conn)
}

pub fn of_client(conn: &mut DbConn, client_id: &str, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::client_id.eq(client_id))
        .order(outbox::created_at.desc())
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)
}
