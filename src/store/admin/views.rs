//! Operator views of the provider's tables: live sessions, persons by client or serial, and
//! moving one person's records to another (merge).

use diesel::prelude::*;

use crate::domain::MyKeyId;
use crate::store::persons::BindingRow;
use crate::store::schema::{
    access_tokens, authorization_codes, bindings, browser_sessions, client_sessions, consents,
    refresh_tokens,
};
use crate::store::sessions::ClientSessionRow;
use crate::store::DbConn;

/// A live client session with its browser session's times.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveSession {
    pub session_id: String,
    pub client_session_id: String,
    pub client_id: String,
    pub person_id: String,
    pub auth_time: i64,
    pub expires_at: i64,
}

/// Live client sessions, newest first, optionally of one client.
pub fn live_sessions(
    conn: &mut DbConn,
    client_id: Option<&str>,
    now: i64,
    limit: i64,
) -> QueryResult<Vec<LiveSession>> {
    let mut q = client_sessions::table
        .inner_join(
            browser_sessions::table.on(browser_sessions::id.eq(client_sessions::session_id)),
        )
        .filter(client_sessions::ended_at.is_null())
        .filter(browser_sessions::ended_at.is_null())
        .filter(browser_sessions::expires_at.gt(now))
        .into_boxed();
    if let Some(id) = client_id {
        q = q.filter(client_sessions::client_id.eq(id.to_owned()));
    }
    let rows: Vec<(ClientSessionRow, i64, i64)> = q
        .order(client_sessions::created_at.desc())
        .limit(limit)
        .select((
            ClientSessionRow::as_select(),
            browser_sessions::auth_time,
            browser_sessions::expires_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(cs, auth_time, expires_at)| LiveSession {
            session_id: cs.session_id,
            client_session_id: cs.id,
            client_id: cs.client_id,
            person_id: cs.person_id.into_string(),
            auth_time,
            expires_at,
        })
        .collect())
}

/// Persons who ever had a session or a consent at a client (whose pairwise subs can match).
pub fn persons_of_client(conn: &mut DbConn, client_id: &str) -> QueryResult<Vec<String>> {
    let mut ids: Vec<String> = client_sessions::table
        .filter(client_sessions::client_id.eq(client_id))
        .select(client_sessions::person_id)
        .distinct()
        .load(conn)?;
    let consented: Vec<String> = consents::table
        .filter(consents::client_id.eq(client_id))
        .select(consents::person_id)
        .load(conn)?;
    ids.extend(consented);
    ids.sort();
    ids.dedup();
    Ok(ids)
}

pub fn bindings_by_serial(conn: &mut DbConn, serial: &str) -> QueryResult<Vec<BindingRow>> {
    bindings::table
        .filter(bindings::serial.eq(serial))
        .select(BindingRow::as_select())
        .load(conn)
}

pub fn live_session_count(conn: &mut DbConn, person_id: &MyKeyId, now: i64) -> QueryResult<i64> {
    browser_sessions::table
        .filter(browser_sessions::person_id.eq(person_id))
        .filter(browser_sessions::ended_at.is_null())
        .filter(browser_sessions::expires_at.gt(now))
        .count()
        .get_result(conn)
}

/// Moves bindings, consents, sessions, codes and tokens of `source` to `target` (run inside
/// the merge transaction). A consent both have keeps the target's.
pub fn move_person(conn: &mut DbConn, source: &MyKeyId, target: &MyKeyId) -> QueryResult<usize> {
    let mut n = diesel::update(bindings::table.filter(bindings::person_id.eq(source)))
        .set(bindings::person_id.eq(target))
        .execute(conn)?;
    let theirs: Vec<String> = consents::table
        .filter(consents::person_id.eq(target))
        .select(consents::client_id)
        .load(conn)?;
    diesel::delete(
        consents::table
            .filter(consents::person_id.eq(source))
            .filter(consents::client_id.eq_any(&theirs)),
    )
    .execute(conn)?;
    n += diesel::update(consents::table.filter(consents::person_id.eq(source)))
        .set(consents::person_id.eq(target))
        .execute(conn)?;
    n += diesel::update(browser_sessions::table.filter(browser_sessions::person_id.eq(source)))
        .set(browser_sessions::person_id.eq(target))
        .execute(conn)?;
    // Tokens are found through their client sessions, so they move before those do.
    let sessions_of_source = || crate::store::sessions::client_session_ids_of(source);
    n += diesel::update(
        access_tokens::table.filter(access_tokens::client_session_id.eq_any(sessions_of_source())),
    )
    .set(access_tokens::person_id.eq(target))
    .execute(conn)?;
    n += diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::client_session_id.eq_any(sessions_of_source())),
    )
    .set(refresh_tokens::person_id.eq(target))
    .execute(conn)?;
    n += diesel::update(client_sessions::table.filter(client_sessions::person_id.eq(source)))
        .set(client_sessions::person_id.eq(target))
        .execute(conn)?;
    n += diesel::update(
        authorization_codes::table.filter(authorization_codes::person_id.eq(source)),
    )
    .set(authorization_codes::person_id.eq(target))
    .execute(conn)?;
    Ok(n)
}
