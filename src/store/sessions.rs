//! Browser (single sign-on) sessions and the per-client sessions inside them (`sid`).

use diesel::prelude::*;
use diesel_async::AsyncPgConnection;

use crate::domain::MyKeyId;

use super::pg_async::optional_row;
use super::schema::{browser_sessions, client_sessions, consents};
use super::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = browser_sessions, treat_none_as_default_value = false)]
pub struct BrowserSessionRow {
    pub id: String,
    pub cookie_hash: String,
    pub person_id: MyKeyId,
    pub auth_time: i64,
    pub amr: String,
    pub acr: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
    pub end_reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = client_sessions, treat_none_as_default_value = false)]
pub struct ClientSessionRow {
    pub id: String,
    pub session_id: String,
    pub client_id: String,
    pub person_id: MyKeyId,
    pub created_at: i64,
    pub ended_at: Option<i64>,
}

pub fn insert(conn: &mut DbConn, row: &BrowserSessionRow) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(browser_sessions::table)
        .values(row)
        .execute(c)
        .map(drop))
}

/// The live sessions a cookie names (at most one), before the columns are chosen; built
/// once for either driver.
macro_rules! live_by_cookie {
    ($cookie_hash:expr, $now:expr) => {
        browser_sessions::table
            .filter(browser_sessions::cookie_hash.eq($cookie_hash))
            .filter(browser_sessions::ended_at.is_null())
            .filter(browser_sessions::expires_at.gt($now))
    };
}

/// The live session a browser cookie names, if any.
pub fn active_by_cookie(
    conn: &mut DbConn,
    cookie_hash: &str,
    now: i64,
) -> QueryResult<Option<BrowserSessionRow>> {
    native!(conn, c => live_by_cookie!(cookie_hash, now)
        .select(BrowserSessionRow::as_select())
        .get_result(c)
        .optional())
}

/// What single sign-on at one client needs to know about a browser's session, read in one
/// statement: the live session the cookie names, what its person allowed `client_id`
/// (the consented scope), and the client session (`sid`) the browser session already has
/// there. On PostgreSQL one round trip instead of three.
#[derive(Debug, Clone)]
pub struct SsoView {
    pub session: BrowserSessionRow,
    pub consented_scope: Option<String>,
    pub client_session_id: Option<String>,
}

/// The query of [`sso_view`], built once for either driver.
macro_rules! sso_query {
    ($cookie_hash:expr, $client_id:expr, $now:expr) => {
        live_by_cookie!($cookie_hash, $now).select((
            BrowserSessionRow::as_select(),
            consents::table
                .filter(consents::person_id.eq(browser_sessions::person_id))
                .filter(consents::client_id.eq($client_id))
                .select(consents::scope)
                .single_value(),
            client_sessions::table
                .filter(client_sessions::session_id.eq(browser_sessions::id))
                .filter(client_sessions::client_id.eq($client_id))
                .select(client_sessions::id)
                .single_value(),
        ))
    };
}

type SsoRow = (BrowserSessionRow, Option<String>, Option<String>);

impl SsoView {
    fn from_row((session, consented_scope, client_session_id): SsoRow) -> SsoView {
        SsoView {
            session,
            consented_scope,
            client_session_id,
        }
    }
}

pub fn sso_view(
    conn: &mut DbConn,
    cookie_hash: &str,
    client_id: &str,
    now: i64,
) -> QueryResult<Option<SsoView>> {
    let row: Option<SsoRow> = native!(conn, c => sso_query!(cookie_hash, client_id, now)
        .get_result(c)
        .optional())?;
    Ok(row.map(SsoView::from_row))
}

/// [`sso_view`] on the asynchronous PostgreSQL connection.
pub async fn sso_view_async(
    conn: &mut AsyncPgConnection,
    cookie_hash: &str,
    client_id: &str,
    now: i64,
) -> QueryResult<Option<SsoView>> {
    let row: Option<SsoRow> = optional_row(conn, sso_query!(cookie_hash, client_id, now)).await?;
    Ok(row.map(SsoView::from_row))
}

pub fn get(conn: &mut DbConn, id: &str) -> QueryResult<Option<BrowserSessionRow>> {
    native!(conn, c => browser_sessions::table
        .find(id)
        .select(BrowserSessionRow::as_select())
        .get_result(c)
        .optional())
}

/// The client session (`sid`) of `client_id` inside a browser session, if there is one.
pub fn find_client_session(
    conn: &mut DbConn,
    session_id: &str,
    client_id: &str,
) -> QueryResult<Option<ClientSessionRow>> {
    native!(conn, c => client_sessions::table
        .filter(client_sessions::session_id.eq(session_id))
        .filter(client_sessions::client_id.eq(client_id))
        .select(ClientSessionRow::as_select())
        .get_result(c)
        .optional())
}

/// The client session (`sid`) of `client_id` inside a browser session, created on first use.
pub fn client_session(
    conn: &mut DbConn,
    session: &BrowserSessionRow,
    client_id: &str,
    new_id: &str,
    now: i64,
) -> QueryResult<ClientSessionRow> {
    if let Some(row) = find_client_session(conn, &session.id, client_id)? {
        return Ok(row);
    }
    let row = ClientSessionRow {
        id: new_id.to_owned(),
        session_id: session.id.clone(),
        client_id: client_id.to_owned(),
        person_id: session.person_id.clone(),
        created_at: now,
        ended_at: None,
    };
    native!(conn, c => diesel::insert_into(client_sessions::table)
        .values(&row)
        .execute(c))?;
    Ok(row)
}

/// The ids of a person's client sessions, as a subquery: tokens are found through them.
#[diesel::dsl::auto_type]
pub fn client_session_ids_of<'a>(person_id: &'a MyKeyId) -> _ {
    client_sessions::table
        .filter(client_sessions::person_id.eq(person_id))
        .select(client_sessions::id)
}

/// The live client sessions of one client (it is about to be removed).
pub fn live_of_client(conn: &mut DbConn, client_id: &str) -> QueryResult<Vec<ClientSessionRow>> {
    native!(conn, c => client_sessions::table
        .filter(client_sessions::client_id.eq(client_id))
        .filter(client_sessions::ended_at.is_null())
        .select(ClientSessionRow::as_select())
        .load(c))
}

/// Whether a client session exists and has not ended: tokens are issued only in a live one.
pub fn client_session_live(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    Ok(get_client_session(conn, id)?.is_some_and(|s| s.ended_at.is_none()))
}

pub fn get_client_session(conn: &mut DbConn, id: &str) -> QueryResult<Option<ClientSessionRow>> {
    native!(conn, c => client_sessions::table
        .find(id)
        .select(ClientSessionRow::as_select())
        .get_result(c)
        .optional())
}

/// Ends a browser session and its client sessions; returns the client sessions that were
/// still live (each one is owed a back-channel logout). Ending twice returns nothing.
pub fn end(
    conn: &mut DbConn,
    session_id: &str,
    reason: &str,
    now: i64,
) -> QueryResult<Vec<ClientSessionRow>> {
    let (_, live) = end_live(conn, Whose::Session(session_id), reason, now)?;
    Ok(live)
}

/// Ends every live session of a person at once (their certificate was revoked); returns the
/// ended sessions' ids and the client sessions that were live in them.
pub fn end_all_of_person(
    conn: &mut DbConn,
    person_id: &MyKeyId,
    reason: &str,
    now: i64,
) -> QueryResult<(Vec<String>, Vec<ClientSessionRow>)> {
    end_live(conn, Whose::Person(person_id.as_str()), reason, now)
}

/// Which live sessions to end: one browser session, or all of a person's.
#[derive(Clone, Copy)]
enum Whose<'a> {
    Session(&'a str),
    Person(&'a str),
}

type Backend = <DbConn as diesel::Connection>::Backend;
type Condition<'a, T> =
    Box<dyn BoxableExpression<T, Backend, SqlType = diesel::sql_types::Bool> + 'a>;

impl<'a> Whose<'a> {
    fn browser_sessions(self) -> Condition<'a, browser_sessions::table> {
        let live = browser_sessions::ended_at.is_null();
        match self {
            Whose::Session(id) => Box::new(browser_sessions::id.eq(id).and(live)),
            Whose::Person(id) => Box::new(browser_sessions::person_id.eq(id).and(live)),
        }
    }

    fn client_sessions(self) -> Condition<'a, client_sessions::table> {
        let live = client_sessions::ended_at.is_null();
        match self {
            Whose::Session(id) => Box::new(client_sessions::session_id.eq(id).and(live)),
            Whose::Person(id) => Box::new(client_sessions::person_id.eq(id).and(live)),
        }
    }
}

fn end_live(
    conn: &mut DbConn,
    whose: Whose,
    reason: &str,
    now: i64,
) -> QueryResult<(Vec<String>, Vec<ClientSessionRow>)> {
    let sessions: Vec<String> = browser_sessions::table
        .filter(whose.browser_sessions())
        .select(browser_sessions::id)
        .load(conn)?;
    diesel::update(browser_sessions::table.filter(whose.browser_sessions()))
        .set((
            browser_sessions::ended_at.eq(now),
            browser_sessions::end_reason.eq(reason),
        ))
        .execute(conn)?;
    let live = client_sessions::table
        .filter(whose.client_sessions())
        .select(ClientSessionRow::as_select())
        .load(conn)?;
    diesel::update(client_sessions::table.filter(whose.client_sessions()))
        .set(client_sessions::ended_at.eq(now))
        .execute(conn)?;
    Ok((sessions, live))
}

/// Live browser sessions of a person.
pub fn active_of_person(
    conn: &mut DbConn,
    person_id: &MyKeyId,
) -> QueryResult<Vec<BrowserSessionRow>> {
    native!(conn, c => browser_sessions::table
        .filter(browser_sessions::person_id.eq(person_id))
        .filter(browser_sessions::ended_at.is_null())
        .select(BrowserSessionRow::as_select())
        .load(c))
}

/// A fresh card login by the same person refreshes the session's authentication time.
pub fn reauthenticate(
    conn: &mut DbConn,
    id: &str,
    auth_time: i64,
    expires_at: i64,
) -> QueryResult<usize> {
    native!(conn, c => diesel::update(browser_sessions::table.find(id))
        .set((
            browser_sessions::auth_time.eq(auth_time),
            browser_sessions::expires_at.eq(expires_at),
        ))
        .execute(c))
}

/// Sessions past their lifetime that nobody ended yet (the sweeper ends them, so their RPs
/// hear about it like any other logout).
pub fn expired(conn: &mut DbConn, now: i64, limit: i64) -> QueryResult<Vec<String>> {
    browser_sessions::table
        .filter(browser_sessions::ended_at.is_null())
        .filter(browser_sessions::expires_at.le(now))
        .select(browser_sessions::id)
        .limit(limit)
        .load(conn)
}
