//! The audit tables: the inbox request transactions write to, the chained log, checkpoints.

use diesel::prelude::*;

use super::schema::{audit_checkpoints, audit_inbox, audit_log};
use super::DbConn;

/// An event waiting for the chainer (no chain fields yet).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_inbox, treat_none_as_default_value = false)]
pub struct NewInboxRow<'a> {
    pub time: i64,
    pub kind: &'a str,
    pub actor: &'a str,
    pub client_id: Option<&'a str>,
    pub person_id: Option<&'a str>,
    pub data: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_inbox)]
pub struct InboxRow {
    pub id: i64,
    pub time: i64,
    pub kind: String,
    pub actor: String,
    pub client_id: Option<String>,
    pub person_id: Option<String>,
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
pub struct LogRow {
    pub seq: i64,
    pub time: i64,
    pub kind: String,
    pub actor: String,
    pub client_id: Option<String>,
    pub person_id: Option<String>,
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_checkpoints)]
pub struct CheckpointRow {
    pub through_seq: i64,
    pub last_hash: String,
    pub created_at: i64,
    pub jws: String,
}

pub fn insert_inbox(conn: &mut DbConn, row: &NewInboxRow<'_>) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(audit_inbox::table)
        .values(row)
        .execute(c))
    .map(drop)
}

/// The oldest waiting events, in arrival order.
pub fn inbox_batch(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<InboxRow>> {
    native!(conn, c => audit_inbox::table
        .order(audit_inbox::id.asc())
        .limit(limit)
        .select(InboxRow::as_select())
        .load(c))
}

pub fn delete_inbox(conn: &mut DbConn, ids: &[i64]) -> QueryResult<usize> {
    native!(conn, c => diesel::delete(audit_inbox::table.filter(audit_inbox::id.eq_any(ids))).execute(c))
}

pub fn inbox_len(conn: &mut DbConn) -> QueryResult<i64> {
    audit_inbox::table.count().get_result(conn)
}

/// The newest chained entry (the chain's head).
pub fn head(conn: &mut DbConn) -> QueryResult<Option<LogRow>> {
    native!(conn, c => audit_log::table
        .order(audit_log::seq.desc())
        .select(LogRow::as_select())
        .first(c)
        .optional())
}

/// Rows per `INSERT` when chaining: nine parameters each stay under the 999 bound parameters
/// that SQLite builds before 3.32 allow.
const LOG_ROWS_PER_INSERT: usize = 100;

pub fn insert_log(conn: &mut DbConn, rows: &[LogRow]) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in rows.chunks(LOG_ROWS_PER_INSERT) {
        n += native!(conn, c => diesel::insert_into(audit_log::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(n)
}

/// Entries with `seq > after`, in order (verification walks the log in pages).
pub fn page_after(conn: &mut DbConn, after: i64, limit: i64) -> QueryResult<Vec<LogRow>> {
    audit_log::table
        .filter(audit_log::seq.gt(after))
        .order(audit_log::seq.asc())
        .limit(limit)
        .select(LogRow::as_select())
        .load(conn)
}

/// What the console and API filter on; `None` means any.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Filter {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub actor: Option<String>,
    pub kind: Option<String>,
    pub client_id: Option<String>,
    pub person_id: Option<String>,
    /// Entries with a smaller `seq` than this (paging backwards from the newest).
    pub before_seq: Option<i64>,
}

/// Matching entries, newest first.
pub fn search(conn: &mut DbConn, f: &Filter, limit: i64) -> QueryResult<Vec<LogRow>> {
    let mut q = audit_log::table.into_boxed();
    if let Some(v) = f.from {
        q = q.filter(audit_log::time.ge(v));
    }
    if let Some(v) = f.to {
        q = q.filter(audit_log::time.le(v));
    }
    if let Some(v) = &f.actor {
        q = q.filter(audit_log::actor.eq(v.clone()));
    }
    if let Some(v) = &f.kind {
        q = q.filter(audit_log::kind.eq(v.clone()));
    }
    if let Some(v) = &f.client_id {
        q = q.filter(audit_log::client_id.eq(v.clone()));
    }
    if let Some(v) = &f.person_id {
        q = q.filter(audit_log::person_id.eq(v.clone()));
    }
    if let Some(v) = f.before_seq {
        q = q.filter(audit_log::seq.lt(v));
    }
    q.order(audit_log::seq.desc())
        .limit(limit)
        .select(LogRow::as_select())
        .load(conn)
}

pub fn first(conn: &mut DbConn) -> QueryResult<Option<LogRow>> {
    page_after(conn, i64::MIN, 1).map(|mut v| v.pop())
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    audit_log::table.count().get_result(conn)
}

/// The last entry at or before `time` (the end of a prunable prefix).
pub fn last_before(conn: &mut DbConn, time: i64) -> QueryResult<Option<LogRow>> {
    audit_log::table
        .filter(audit_log::time.lt(time))
        .order(audit_log::seq.desc())
        .select(LogRow::as_select())
        .first(conn)
        .optional()
}

/// Deletes a prefix; only pruning does this, after writing its checkpoint.
pub fn delete_through(conn: &mut DbConn, seq: i64) -> QueryResult<usize> {
    diesel::delete(audit_log::table.filter(audit_log::seq.le(seq))).execute(conn)
}

pub fn latest_checkpoint(conn: &mut DbConn) -> QueryResult<Option<CheckpointRow>> {
    audit_checkpoints::table
        .order(audit_checkpoints::through_seq.desc())
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_checkpoint(conn: &mut DbConn, row: &CheckpointRow) -> QueryResult<()> {
    diesel::insert_into(audit_checkpoints::table)
        .values(row)
        .execute(conn)
        .map(drop)
}
