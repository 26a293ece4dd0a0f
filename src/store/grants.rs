//! Consents, authorization codes, access and refresh tokens (all secrets stored hashed).

use diesel::backend::Backend;
use diesel::prelude::*;
use diesel_async::AsyncPgConnection;

use crate::domain::MyKeyId;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text};

use super::pg_async::optional_row;
use super::schema::{access_tokens, authorization_codes, consents, refresh_tokens, spent_codes};
use super::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes, treat_none_as_default_value = false)]
pub struct CodeRow {
    pub code_hash: String,
    pub grant_id: String,
    pub client_id: String,
    pub client_session_id: String,
    pub person_id: MyKeyId,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub auth_time: i64,
    pub amr: String,
    pub acr: String,
    pub claims: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub redeemed_at: Option<i64>,
    pub verification_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = access_tokens, treat_none_as_default_value = false)]
pub struct AccessTokenRow {
    pub token_hash: String,
    pub grant_id: String,
    pub client_id: String,
    pub client_session_id: String,
    pub person_id: MyKeyId,
    pub scope: String,
    pub claims: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub verification_id: Option<String>,
    /// RFC 7638 thumbprint of the DPoP key the token is bound to (RFC 9449 §6).
    pub dpop_jkt: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens, treat_none_as_default_value = false)]
pub struct RefreshTokenRow {
    pub token_hash: String,
    pub grant_id: String,
    pub client_id: String,
    pub client_session_id: String,
    pub person_id: MyKeyId,
    pub scope: String,
    pub claims: Option<String>,
    pub auth_time: i64,
    pub amr: String,
    pub acr: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub verification_id: Option<String>,
    /// RFC 7638 thumbprint of the DPoP key the token is bound to (RFC 9449 §6).
    pub dpop_jkt: Option<String>,
}

pub fn consent(
    conn: &mut DbConn,
    person_id: &MyKeyId,
    client_id: &str,
) -> QueryResult<Option<String>> {
    native!(conn, c => consents::table
        .find((person_id, client_id))
        .select(consents::scope)
        .get_result(c)
        .optional())
}

/// Records what a person allowed a client, replacing what was recorded before. One upsert:
/// two approvals of the same person and client at once (two tabs, two nodes) both succeed on
/// PostgreSQL, where an update-then-insert would let the second insert fail on the key.
pub fn save_consent(
    conn: &mut DbConn,
    person_id: &MyKeyId,
    client_id: &str,
    scope: &str,
    now: i64,
) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(consents::table)
        .values((
            consents::person_id.eq(person_id),
            consents::client_id.eq(client_id),
            consents::scope.eq(scope),
            consents::granted_at.eq(now),
        ))
        .on_conflict((consents::person_id, consents::client_id))
        .do_update()
        .set((consents::scope.eq(scope), consents::granted_at.eq(now)))
        .execute(c))
    .map(drop)
}

pub fn insert_code(conn: &mut DbConn, row: &CodeRow) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(authorization_codes::table)
        .values(row)
        .execute(c))
    .map(drop)
}

/// Outcome of presenting a code.
#[derive(Debug)]
pub enum Redemption {
    /// First use within its lifetime: the code's data.
    Redeemed(CodeRow),
    /// Already redeemed: a replay. Carries the code so its grant can be revoked.
    Replayed(CodeRow),
    Expired,
    Unknown,
    /// The code's client session has ended (logout, revocation) or is gone (the person or the
    /// client was removed). A stored or recorded code is spent all the same.
    SessionEnded,
}

/// Redeems a code exactly once: a conditional update decides, so two nodes presenting the
/// same code at the same moment cannot both succeed (RFC 6749 §4.1.2).
pub fn redeem_code(conn: &mut DbConn, code_hash: &str, now: i64) -> QueryResult<Redemption> {
    let won = native!(conn, c => RedeemCode { code_hash, now }
        .get_result::<CodeRow>(c)
        .optional())?;
    if let Some(row) = won {
        if !super::sessions::client_session_live(conn, &row.client_session_id)? {
            return Ok(Redemption::SessionEnded);
        }
        return Ok(Redemption::Redeemed(row));
    }
    let row = native!(conn, c => authorization_codes::table
        .find(code_hash)
        .select(CodeRow::as_select())
        .get_result(c)
        .optional())?;
    Ok(match row {
        None => Redemption::Unknown,
        Some(row) if row.redeemed_at.is_some() => Redemption::Replayed(row),
        Some(_) => Redemption::Expired,
    })
}

/// Redeems a sealed code exactly once. The code carried its grant, so nothing was stored when
/// it was issued; redeeming it records its hash in `spent_codes`, and that key decides: of two
/// nodes presenting the same code at the same moment one inserts and the other finds the
/// record, a replay (`INSERT … ON CONFLICT DO NOTHING` waits for the first transaction on
/// PostgreSQL). A replay names its grant itself, so the record holds nothing else. The person
/// is read from the client session the code names, which must still be live. An expired code is not recorded, but a
/// recorded one presented again after it expired is still a replay, as for stored codes.
pub fn redeem_sealed_code(
    conn: &mut DbConn,
    mut row: CodeRow,
    now: i64,
) -> QueryResult<Redemption> {
    let Some(cs) = super::sessions::get_client_session(conn, &row.client_session_id)? else {
        return Ok(Redemption::SessionEnded);
    };
    if cs.client_id != row.client_id {
        return Ok(Redemption::Unknown);
    }
    let ended = cs.ended_at.is_some();
    row.person_id = cs.person_id;
    if row.expires_at > now {
        let inserted = native!(conn, c => diesel::insert_into(spent_codes::table)
            .values((
                spent_codes::expires_at.eq(row.expires_at),
                spent_codes::code_hash.eq(&row.code_hash),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted == 1 && ended {
            return Ok(Redemption::SessionEnded);
        }
        if inserted == 1 {
            row.redeemed_at = Some(now);
            return Ok(Redemption::Redeemed(row));
        }
    }
    let spent = native!(conn, c => spent_codes::table
        .find((row.expires_at, &row.code_hash))
        .select(spent_codes::expires_at)
        .get_result::<i64>(c)
        .optional())?;
    Ok(match spent {
        Some(_) => Redemption::Replayed(row),
        None => Redemption::Expired,
    })
}

/// `UPDATE authorization_codes SET redeemed_at = now WHERE code_hash = … AND redeemed_at IS
/// NULL AND expires_at > now RETURNING *`, spelled out as its own query type so that the
/// connection keeps it prepared: diesel re-prepares every `UPDATE` it builds (a `SET` list may
/// vary), and SQLite compiling this one with its `RETURNING` on every code exchange cost about
/// a tenth of the exchange's instructions outside RSA.
struct RedeemCode<'a> {
    code_hash: &'a str,
    now: i64,
}

impl QueryId for RedeemCode<'_> {
    type QueryId = RedeemCode<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for RedeemCode<'_> {
    type SqlType = <<authorization_codes::table as Table>::AllColumns as Expression>::SqlType;
}

impl<C> RunQueryDsl<C> for RedeemCode<'_> {}

impl<'a, DB> QueryFragment<DB> for RedeemCode<'a>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Text>,
    i64: ToSql<BigInt, DB>,
    &'a str: ToSql<Text, DB>,
    <authorization_codes::table as Table>::AllColumns: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE authorization_codes SET redeemed_at = ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(" WHERE code_hash = ");
        out.push_bind_param::<Text, _>(&self.code_hash)?;
        out.push_sql(" AND redeemed_at IS NULL AND expires_at > ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(" RETURNING ");
        authorization_codes::all_columns.walk_ast(out.reborrow())
    }
}

pub fn insert_access_token(conn: &mut DbConn, row: &AccessTokenRow) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(access_tokens::table)
        .values(row)
        .execute(c))
    .map(drop)
}

pub fn insert_refresh_token(conn: &mut DbConn, row: &RefreshTokenRow) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(c))
    .map(drop)
}

/// A token's row by its hash, as a query for either driver.
macro_rules! token_query {
    ($table:ident, $row:ty, $hash:expr) => {
        $table::table.find($hash).select(<$row>::as_select())
    };
}

pub fn access_token(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<AccessTokenRow>> {
    native!(conn, c => token_query!(access_tokens, AccessTokenRow, token_hash)
        .get_result(c)
        .optional())
}

/// [`access_token`] on the asynchronous PostgreSQL connection.
pub async fn access_token_async(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
) -> QueryResult<Option<AccessTokenRow>> {
    optional_row(
        conn,
        token_query!(access_tokens, AccessTokenRow, token_hash),
    )
    .await
}

pub fn refresh_token(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<RefreshTokenRow>> {
    native!(conn, c => token_query!(refresh_tokens, RefreshTokenRow, token_hash)
        .get_result(c)
        .optional())
}

/// [`refresh_token`] on the asynchronous PostgreSQL connection.
pub async fn refresh_token_async(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
) -> QueryResult<Option<RefreshTokenRow>> {
    optional_row(
        conn,
        token_query!(refresh_tokens, RefreshTokenRow, token_hash),
    )
    .await
}

/// Marks a refresh token used; only the first of concurrent callers wins (rotation).
pub fn use_refresh_token(conn: &mut DbConn, token_hash: &str, now: i64) -> QueryResult<bool> {
    native!(conn, c => UseRefreshToken { token_hash, now }.execute(c)).map(|n| n == 1)
}

/// `UPDATE refresh_tokens SET used_at = now WHERE token_hash = … AND used_at IS NULL AND
/// revoked_at IS NULL AND expires_at > now`, kept prepared for every refresh (see
/// [`RedeemCode`]).
struct UseRefreshToken<'a> {
    token_hash: &'a str,
    now: i64,
}

impl QueryId for UseRefreshToken<'_> {
    type QueryId = UseRefreshToken<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<C> RunQueryDsl<C> for UseRefreshToken<'_> {}

impl<'a, DB> QueryFragment<DB> for UseRefreshToken<'a>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Text>,
    i64: ToSql<BigInt, DB>,
    &'a str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE refresh_tokens SET used_at = ");
        out.push_bind_param::<BigInt, _>(&self.now)?;
        out.push_sql(" WHERE token_hash = ");
        out.push_bind_param::<Text, _>(&self.token_hash)?;
        out.push_sql(" AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ");
        out.push_bind_param::<BigInt, _>(&self.now)
    }
}

/// Revokes every token issued under a grant (code replay, refresh reuse, RFC 7009 revocation).
/// A grant lives in one client session, whose index finds its tokens.
pub fn revoke_grant(
    conn: &mut DbConn,
    client_session_id: &str,
    grant_id: &str,
    now: i64,
) -> QueryResult<usize> {
    let a = diesel::update(
        access_tokens::table
            .filter(access_tokens::client_session_id.eq(client_session_id))
            .filter(access_tokens::grant_id.eq(grant_id))
            .filter(access_tokens::revoked_at.is_null()),
    )
    .set(access_tokens::revoked_at.eq(now))
    .execute(conn)?;
    let r = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::client_session_id.eq(client_session_id))
            .filter(refresh_tokens::grant_id.eq(grant_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(a + r)
}

pub fn revoke_access_token(conn: &mut DbConn, token_hash: &str, now: i64) -> QueryResult<usize> {
    diesel::update(
        access_tokens::table
            .find(token_hash)
            .filter(access_tokens::revoked_at.is_null()),
    )
    .set(access_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// Revokes every token of the given client sessions (their browser session ended).
pub fn revoke_client_sessions(
    conn: &mut DbConn,
    client_session_ids: &[String],
    now: i64,
) -> QueryResult<usize> {
    let a = diesel::update(
        access_tokens::table
            .filter(access_tokens::client_session_id.eq_any(client_session_ids))
            .filter(access_tokens::revoked_at.is_null()),
    )
    .set(access_tokens::revoked_at.eq(now))
    .execute(conn)?;
    let r = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::client_session_id.eq_any(client_session_ids))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(a + r)
}

/// Revokes every token of a person (their certificate was revoked), found through the person's
/// client sessions.
pub fn revoke_person(conn: &mut DbConn, person_id: &MyKeyId, now: i64) -> QueryResult<usize> {
    let theirs = || super::sessions::client_session_ids_of(person_id);
    let a = diesel::update(
        access_tokens::table
            .filter(access_tokens::client_session_id.eq_any(theirs()))
            .filter(access_tokens::revoked_at.is_null()),
    )
    .set(access_tokens::revoked_at.eq(now))
    .execute(conn)?;
    let r = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::client_session_id.eq_any(theirs()))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(a + r)
}
