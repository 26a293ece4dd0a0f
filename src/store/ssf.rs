//! Shared Signals streams (one per client) and their queued Security Event Tokens in the
//! outbox: polled ones stay until acknowledged, held ones until the stream is enabled again.

use diesel::prelude::*;

use super::outbox::{OutboxRow, HELD, PENDING, POLL, SSF_EVENT};
use super::schema::{outbox, ssf_streams};
use super::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ssf_streams)]
#[diesel(treat_none_as_null = true)]
pub struct StreamRow {
    pub id: String,
    pub client_id: String,
    /// `push` or `poll`.
    pub delivery_method: String,
    /// The receiver's push endpoint; `None` for poll (the transmitter's endpoint is derived).
    pub endpoint_url: Option<String>,
    /// Sent as `Authorization` with each push: the receiver's credential, sealed under the
    /// key-encryption key with the stream id as associated data; never logged.
    pub authorization_header: Option<String>,
    /// JSON arrays of event-type URIs.
    pub events_requested: String,
    pub events_delivered: String,
    pub description: Option<String>,
    /// `enabled`, `paused` or `disabled` (SSF §8.1.2).
    pub status: String,
    pub status_reason: Option<String>,
    /// When the receiver last asked for a verification event (SSF §8.1.4.2 rate limit).
    pub verification_requested_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl StreamRow {
    pub fn delivered(&self) -> Vec<String> {
        serde_json::from_str(&self.events_delivered).unwrap_or_default()
    }
}

pub fn insert(conn: &mut DbConn, row: &StreamRow) -> QueryResult<()> {
    diesel::insert_into(ssf_streams::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn get(conn: &mut DbConn, id: &str) -> QueryResult<Option<StreamRow>> {
    ssf_streams::table
        .find(id)
        .select(StreamRow::as_select())
        .first(conn)
        .optional()
}

pub fn of_client(conn: &mut DbConn, client_id: &str) -> QueryResult<Option<StreamRow>> {
    ssf_streams::table
        .filter(ssf_streams::client_id.eq(client_id))
        .select(StreamRow::as_select())
        .first(conn)
        .optional()
}

pub fn update(conn: &mut DbConn, row: &StreamRow) -> QueryResult<usize> {
    diesel::update(ssf_streams::table.find(&row.id))
        .set(row)
        .execute(conn)
}

/// Deletes a stream and every event still waiting on it.
pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::delete(
        outbox::table
            .filter(outbox::stream_id.eq(id))
            .filter(outbox::status.eq_any([PENDING, POLL, HELD])),
    )
    .execute(conn)?;
    diesel::delete(ssf_streams::table.find(id)).execute(conn)
}

/// Puts the waiting events of a stream where its status and delivery method say (SSF §8.1.2):
/// held while paused; pushed from `now` or waiting for a poll while enabled; gone when
/// disabled. Rows being pushed right now (claimed) finish their attempt.
pub fn settle(conn: &mut DbConn, stream: &StreamRow, now: i64) -> QueryResult<usize> {
    let waiting = [PENDING, POLL, HELD];
    let of_stream = || {
        outbox::table
            .filter(outbox::stream_id.eq(&stream.id))
            .filter(outbox::kind.eq(SSF_EVENT))
    };
    match stream.status.as_str() {
        "disabled" => {
            diesel::delete(of_stream().filter(outbox::status.eq_any(waiting))).execute(conn)
        }
        "paused" => diesel::update(of_stream().filter(outbox::status.eq_any([PENDING, POLL])))
            .set(outbox::status.eq(HELD))
            .execute(conn),
        _ if stream.delivery_method == "poll" => {
            diesel::update(of_stream().filter(outbox::status.eq_any([PENDING, HELD])))
                .set(outbox::status.eq(POLL))
                .execute(conn)
        }
        _ => diesel::update(of_stream().filter(outbox::status.eq_any([POLL, HELD])))
            .set((
                outbox::status.eq(PENDING),
                outbox::next_attempt_at.eq(now),
                outbox::target_uri.eq(stream.endpoint_url.clone().unwrap_or_default()),
            ))
            .execute(conn),
    }
}

/// Up to `limit` events waiting for a poll, oldest first.
pub fn waiting(conn: &mut DbConn, stream_id: &str, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::stream_id.eq(stream_id))
        .filter(outbox::kind.eq(SSF_EVENT))
        .filter(outbox::status.eq(POLL))
        .order((outbox::created_at.asc(), outbox::id.asc()))
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)
}

/// Whether more events than `limit` wait for a poll.
pub fn waiting_count(conn: &mut DbConn, stream_id: &str) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::stream_id.eq(stream_id))
        .filter(outbox::status.eq(POLL))
        .count()
        .get_result(conn)
}

/// Acknowledged events (RFC 8936 §2.4) are gone; returns how many of `jtis` were waiting.
pub fn acknowledge(conn: &mut DbConn, stream_id: &str, jtis: &[String]) -> QueryResult<usize> {
    let mut gone = 0;
    for chunk in jtis.chunks(500) {
        gone += diesel::delete(
            outbox::table
                .filter(outbox::stream_id.eq(stream_id))
                .filter(outbox::status.eq(POLL))
                .filter(outbox::jti.eq_any(chunk)),
        )
        .execute(conn)?;
    }
    Ok(gone)
}

/// Records a poll-delivery error the receiver reported (RFC 8936 §2.4 `setErrs`): the event
/// leaves the queue as a dead letter with the receiver's reason.
pub fn reject(conn: &mut DbConn, stream_id: &str, jti: &str, reason: &str) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::stream_id.eq(stream_id))
            .filter(outbox::status.eq(POLL))
            .filter(outbox::jti.eq(jti)),
    )
    .set((
        outbox::status.eq(super::outbox::DEAD),
        outbox::last_error.eq(reason),
    ))
    .execute(conn)
}
