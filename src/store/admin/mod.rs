//! The operator tables: admin accounts, console sessions, login failures, API keys, merges;
//! [`views`] holds what operators read from the provider's own tables.

pub mod views;

use diesel::prelude::*;

use super::schema::{
    admin_accounts, admin_api_keys, admin_login_failures, admin_sessions, person_merges,
};
use super::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admin_accounts)]
pub struct AccountRow {
    pub id: String,
    pub username: String,
    /// Argon2id PHC string; never shown.
    pub password_hash: String,
    pub role: String,
    /// The TOTP key sealed with the key-encryption key.
    pub totp_secret: Option<String>,
    /// A key being set up (sealed), confirmed by a first valid code.
    pub totp_pending: Option<String>,
    /// The last accepted TOTP time step (RFC 6238 §5.2: a code is accepted once).
    pub totp_last_step: Option<i64>,
    pub failed_logins: i32,
    pub locked_until: Option<i64>,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admin_sessions)]
pub struct SessionRow {
    pub id: String,
    pub token_hash: String,
    pub account_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admin_api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub key_hash: String,
    pub role: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub fn insert_account(conn: &mut DbConn, row: &AccountRow) -> QueryResult<()> {
    diesel::insert_into(admin_accounts::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn account_by_name(conn: &mut DbConn, username: &str) -> QueryResult<Option<AccountRow>> {
    admin_accounts::table
        .filter(admin_accounts::username.eq(username))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

pub fn account(conn: &mut DbConn, id: &str) -> QueryResult<Option<AccountRow>> {
    admin_accounts::table
        .find(id)
        .select(AccountRow::as_select())
        .first(conn)
        .optional()
}

pub fn accounts(conn: &mut DbConn) -> QueryResult<Vec<AccountRow>> {
    admin_accounts::table
        .order(admin_accounts::username.asc())
        .select(AccountRow::as_select())
        .load(conn)
}

pub fn set_password(conn: &mut DbConn, id: &str, hash: &str, now: i64) -> QueryResult<usize> {
    diesel::update(admin_accounts::table.find(id))
        .set((
            admin_accounts::password_hash.eq(hash),
            admin_accounts::failed_logins.eq(0),
            admin_accounts::locked_until.eq(None::<i64>),
            admin_accounts::updated_at.eq(now),
        ))
        .execute(conn)
}

pub fn set_disabled(conn: &mut DbConn, id: &str, disabled: bool, now: i64) -> QueryResult<usize> {
    diesel::update(admin_accounts::table.find(id))
        .set((
            admin_accounts::disabled.eq(disabled),
            admin_accounts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Counts a wrong password; sets `locked_until` when the count reaches `limit`.
pub fn record_failure(
    conn: &mut DbConn,
    id: &str,
    limit: i32,
    lock_until: i64,
) -> QueryResult<i32> {
    let failed: i32 = diesel::update(admin_accounts::table.find(id))
        .set(admin_accounts::failed_logins.eq(admin_accounts::failed_logins + 1))
        .returning(admin_accounts::failed_logins)
        .get_result(conn)?;
    if failed >= limit {
        diesel::update(admin_accounts::table.find(id))
            .set((
                admin_accounts::locked_until.eq(lock_until),
                admin_accounts::failed_logins.eq(0),
            ))
            .execute(conn)?;
    }
    Ok(failed)
}

pub fn record_success(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::update(admin_accounts::table.find(id))
        .set((
            admin_accounts::failed_logins.eq(0),
            admin_accounts::locked_until.eq(None::<i64>),
        ))
        .execute(conn)
}

pub fn set_totp_pending(
    conn: &mut DbConn,
    id: &str,
    sealed: Option<&str>,
    now: i64,
) -> QueryResult<usize> {
    diesel::update(admin_accounts::table.find(id))
        .set((
            admin_accounts::totp_pending.eq(sealed),
            admin_accounts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Makes the pending key the account's key, remembering the step that confirmed it.
pub fn confirm_totp(conn: &mut DbConn, id: &str, step: i64, now: i64) -> QueryResult<usize> {
    diesel::update(admin_accounts::table.find(id))
        .set((
            admin_accounts::totp_secret.eq(admin_accounts::totp_pending),
            admin_accounts::totp_pending.eq(None::<String>),
            admin_accounts::totp_last_step.eq(step),
            admin_accounts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Accepts a TOTP step once: only a step after the last accepted one wins (atomic).
pub fn use_totp_step(conn: &mut DbConn, id: &str, step: i64) -> QueryResult<bool> {
    diesel::update(
        admin_accounts::table.find(id).filter(
            admin_accounts::totp_last_step
                .is_null()
                .or(admin_accounts::totp_last_step.lt(step)),
        ),
    )
    .set(admin_accounts::totp_last_step.eq(step))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn insert_failure(conn: &mut DbConn, id: &str, address: &str, at: i64) -> QueryResult<()> {
    diesel::insert_into(admin_login_failures::table)
        .values((
            admin_login_failures::id.eq(id),
            admin_login_failures::address.eq(address),
            admin_login_failures::at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// Wrong passwords from `address` since `since` (older ones are deleted on the way).
pub fn failures_from(conn: &mut DbConn, address: &str, since: i64) -> QueryResult<i64> {
    diesel::delete(admin_login_failures::table.filter(admin_login_failures::at.lt(since)))
        .execute(conn)?;
    admin_login_failures::table
        .filter(admin_login_failures::address.eq(address))
        .count()
        .get_result(conn)
}

pub fn insert_session(conn: &mut DbConn, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(admin_sessions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// A live session and its account: not ended, not past either timeout.
pub fn live_session(
    conn: &mut DbConn,
    token_hash: &str,
    idle_since: i64,
    now: i64,
) -> QueryResult<Option<(SessionRow, AccountRow)>> {
    admin_sessions::table
        .inner_join(admin_accounts::table.on(admin_accounts::id.eq(admin_sessions::account_id)))
        .filter(admin_sessions::token_hash.eq(token_hash))
        .filter(admin_sessions::ended_at.is_null())
        .filter(admin_sessions::expires_at.gt(now))
        .filter(admin_sessions::last_seen_at.gt(idle_since))
        .filter(admin_accounts::disabled.eq(false))
        .select((SessionRow::as_select(), AccountRow::as_select()))
        .first(conn)
        .optional()
}

pub fn touch_session(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(admin_sessions::table.find(id))
        .set(admin_sessions::last_seen_at.eq(now))
        .execute(conn)
}

pub fn end_session(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(
        admin_sessions::table
            .find(id)
            .filter(admin_sessions::ended_at.is_null()),
    )
    .set(admin_sessions::ended_at.eq(now))
    .execute(conn)
}

/// Ends every session of an account (disabled, password reset).
pub fn end_sessions_of(conn: &mut DbConn, account_id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(
        admin_sessions::table
            .filter(admin_sessions::account_id.eq(account_id))
            .filter(admin_sessions::ended_at.is_null()),
    )
    .set(admin_sessions::ended_at.eq(now))
    .execute(conn)
}

pub fn insert_api_key(conn: &mut DbConn, row: &ApiKeyRow) -> QueryResult<()> {
    diesel::insert_into(admin_api_keys::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn api_keys(conn: &mut DbConn) -> QueryResult<Vec<ApiKeyRow>> {
    admin_api_keys::table
        .order(admin_api_keys::created_at.desc())
        .select(ApiKeyRow::as_select())
        .load(conn)
}

pub fn api_key_by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<ApiKeyRow>> {
    admin_api_keys::table
        .filter(admin_api_keys::key_hash.eq(hash))
        .filter(admin_api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()
}

pub fn api_key(conn: &mut DbConn, id: &str) -> QueryResult<Option<ApiKeyRow>> {
    admin_api_keys::table
        .find(id)
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()
}

pub fn touch_api_key(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(admin_api_keys::table.find(id))
        .set(admin_api_keys::last_used_at.eq(now))
        .execute(conn)
}

pub fn revoke_api_key(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(
        admin_api_keys::table
            .find(id)
            .filter(admin_api_keys::revoked_at.is_null()),
    )
    .set(admin_api_keys::revoked_at.eq(now))
    .execute(conn)
}

pub fn merged_into(conn: &mut DbConn, source_id: &str) -> QueryResult<Option<String>> {
    person_merges::table
        .find(source_id)
        .select(person_merges::target_id)
        .first(conn)
        .optional()
}

pub fn insert_merge(
    conn: &mut DbConn,
    source_id: &str,
    target_id: &str,
    reason: &str,
    merged_by: &str,
    now: i64,
) -> QueryResult<()> {
    diesel::insert_into(person_merges::table)
        .values((
            person_merges::source_id.eq(source_id),
            person_merges::target_id.eq(target_id),
            person_merges::reason.eq(reason),
            person_merges::merged_by.eq(merged_by),
            person_merges::merged_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}
