//! The `pushed_requests` table: authorization requests pushed to `/par` (RFC 9126), found by
//! the hash of their `request_uri`, used at most once.

use diesel::prelude::*;

use super::schema::pushed_requests;
use super::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pushed_requests)]
#[diesel(treat_none_as_default_value = false)]
pub struct PushedRequestRow {
    /// base64url(SHA-256) of the random part of the `request_uri`.
    pub uri_hash: String,
    pub client_id: String,
    /// The pushed authorization parameters as a JSON list of `[name, value]` pairs.
    pub params: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub fn insert(conn: &mut DbConn, row: &PushedRequestRow) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(pushed_requests::table)
        .values(row)
        .execute(c)
        .map(drop))
}

pub fn get(conn: &mut DbConn, uri_hash: &str) -> QueryResult<Option<PushedRequestRow>> {
    native!(conn, c => pushed_requests::table
        .find(uri_hash)
        .select(PushedRequestRow::as_select())
        .get_result(c)
        .optional())
}

/// Marks the request used when it is unused, unexpired and `client_id`'s. Exactly one
/// concurrent caller gets `true` (RFC 9126 §4: a `request_uri` is for one use).
pub fn take(conn: &mut DbConn, uri_hash: &str, client_id: &str, now: i64) -> QueryResult<bool> {
    native!(conn, c => diesel::update(
        pushed_requests::table
            .find(uri_hash)
            .filter(pushed_requests::client_id.eq(client_id))
            .filter(pushed_requests::used_at.is_null())
            .filter(pushed_requests::expires_at.gt(now)),
    )
    .set(pushed_requests::used_at.eq(now))
    .execute(c)
    .map(|n| n == 1))
}
