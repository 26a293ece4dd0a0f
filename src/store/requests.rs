//! Authorization transactions (`auth_requests`) and their card challenges.

use diesel::prelude::*;

use crate::domain::MyKeyId;

use super::schema::{auth_requests, challenges};
use super::states::ChallengeProgress;
use super::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = auth_requests, treat_none_as_default_value = false)]
pub struct AuthRequestRow {
    pub id: String,
    /// Hash of the transaction cookie that binds this request to one browser.
    pub cookie_hash: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Option<String>,
    pub max_age: Option<i64>,
    pub ui_locales: Option<String>,
    pub acr_values: Option<String>,
    pub claims: Option<String>,
    pub session_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub completed_at: Option<i64>,
    /// Facts read from the signature certificate for this request (purpose=verify).
    pub verification_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = challenges, treat_none_as_default_value = false)]
pub struct ChallengeRow {
    pub id: String,
    pub auth_request_id: String,
    pub nonce: String,
    pub purpose: String,
    pub match_code: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub state: ChallengeProgress,
    pub error: Option<String>,
    pub person_id: Option<MyKeyId>,
    pub answered_at: Option<i64>,
    pub consumed_at: Option<i64>,
    pub verification_id: Option<String>,
}

pub fn insert_request(conn: &mut DbConn, row: &AuthRequestRow) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(auth_requests::table)
        .values(row)
        .execute(c)
        .map(drop))
}

pub fn get_request(conn: &mut DbConn, id: &str) -> QueryResult<Option<AuthRequestRow>> {
    native!(conn, c => auth_requests::table
        .find(id)
        .select(AuthRequestRow::as_select())
        .get_result(c)
        .optional())
}

pub fn attach_session(conn: &mut DbConn, id: &str, session_id: &str) -> QueryResult<usize> {
    native!(conn, c => diesel::update(auth_requests::table.find(id))
        .set(auth_requests::session_id.eq(session_id))
        .execute(c))
}

/// Marks a request finished; only the first caller wins (a back button cannot replay it).
pub fn complete_request(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<bool> {
    native!(conn, c => diesel::update(
        auth_requests::table
            .find(id)
            .filter(auth_requests::completed_at.is_null()),
    )
    .set(auth_requests::completed_at.eq(now))
    .execute(c)
    .map(|n| n == 1))
}

pub fn insert_challenge(conn: &mut DbConn, row: &ChallengeRow) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(challenges::table)
        .values(row)
        .execute(c)
        .map(drop))
}

pub fn get_challenge(conn: &mut DbConn, id: &str) -> QueryResult<Option<ChallengeRow>> {
    native!(conn, c => challenges::table
        .find(id)
        .select(ChallengeRow::as_select())
        .get_result(c)
        .optional())
}

/// A challenge with what the helper's and the browser's views of it need from its
/// transaction, read in one statement: the client and the hash of the browser binding
/// (`None` once the transaction is gone). On PostgreSQL one round trip instead of two.
#[derive(Debug, Clone)]
pub struct ChallengeView {
    pub challenge: ChallengeRow,
    pub client_id: Option<String>,
    pub cookie_hash: Option<String>,
}

pub fn challenge_view(conn: &mut DbConn, id: &str) -> QueryResult<Option<ChallengeView>> {
    type Row = (ChallengeRow, Option<String>, Option<String>);
    let of_request =
        || auth_requests::table.filter(auth_requests::id.eq(challenges::auth_request_id));
    let row: Option<Row> = native!(conn, c => challenges::table
        .find(id)
        .select((
            ChallengeRow::as_select(),
            of_request().select(auth_requests::client_id).single_value(),
            of_request().select(auth_requests::cookie_hash).single_value(),
        ))
        .get_result(c)
        .optional())?;
    Ok(
        row.map(|(challenge, client_id, cookie_hash)| ChallengeView {
            challenge,
            client_id,
            cookie_hash,
        }),
    )
}

/// Takes a pending, unexpired challenge for answering. Exactly one concurrent caller gets
/// `true` (docs/card-login.md §4 step 1): the update is conditional on the state.
pub fn claim_challenge(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<bool> {
    native!(conn, c => diesel::update(
        challenges::table
            .find(id)
            .filter(challenges::state.eq(ChallengeProgress::Pending))
            .filter(challenges::expires_at.gt(now)),
    )
    .set((
        challenges::state.eq(ChallengeProgress::Answering),
        challenges::answered_at.eq(now),
    ))
    .execute(c)
    .map(|n| n == 1))
}

pub fn finish_challenge(
    conn: &mut DbConn,
    id: &str,
    person_id: Option<&MyKeyId>,
    verification_id: Option<&str>,
    error: Option<&str>,
) -> QueryResult<usize> {
    let state = if error.is_some() {
        ChallengeProgress::Failed
    } else {
        ChallengeProgress::Completed
    };
    native!(conn, c => diesel::update(challenges::table.find(id))
        .set((
            challenges::state.eq(state),
            challenges::person_id.eq(person_id),
            challenges::verification_id.eq(verification_id),
            challenges::error.eq(error),
        ))
        .execute(c))
}

/// Remembers the facts read for a transaction (its consent page lists them).
pub fn attach_verification(
    conn: &mut DbConn,
    id: &str,
    verification_id: Option<&str>,
) -> QueryResult<usize> {
    native!(conn, c => diesel::update(auth_requests::table.find(id))
        .set(auth_requests::verification_id.eq(verification_id))
        .execute(c))
}

/// The browser takes the completed challenge once to build its session.
pub fn consume_challenge(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<bool> {
    native!(conn, c => diesel::update(
        challenges::table
            .find(id)
            .filter(challenges::state.eq(ChallengeProgress::Completed))
            .filter(challenges::consumed_at.is_null()),
    )
    .set(challenges::consumed_at.eq(now))
    .execute(c)
    .map(|n| n == 1))
}
