//! Signing keys (sealed private keys, public JWKs), generations of the code-sealing key,
//! provider secrets and assertion replay ids.

use diesel::prelude::*;

use super::schema::{assertion_jtis, code_keys, provider_secrets, signing_keys};
use super::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub kid: String,
    pub alg: String,
    pub sealed_private_key: String,
    pub public_jwk: String,
    pub created_at: i64,
    /// The key signs from this time on (published in JWKS from `created_at`).
    pub activate_at: i64,
    /// Stops signing at this time; stays in JWKS until tokens it signed have expired.
    pub retired_at: Option<i64>,
}

pub fn all(conn: &mut DbConn) -> QueryResult<Vec<SigningKeyRow>> {
    signing_keys::table
        .order(signing_keys::activate_at.asc())
        .select(SigningKeyRow::as_select())
        .load(conn)
}

pub fn insert(conn: &mut DbConn, row: &SigningKeyRow) -> QueryResult<()> {
    diesel::insert_into(signing_keys::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn retire(conn: &mut DbConn, kid: &str, at: i64) -> QueryResult<usize> {
    diesel::update(
        signing_keys::table
            .find(kid)
            .filter(signing_keys::retired_at.is_null()),
    )
    .set(signing_keys::retired_at.eq(at))
    .execute(conn)
}

pub fn delete_retired_before(conn: &mut DbConn, before: i64) -> QueryResult<usize> {
    diesel::delete(signing_keys::table.filter(signing_keys::retired_at.lt(before))).execute(conn)
}

/// One generation of the key that seals authorization codes.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = code_keys)]
pub struct CodeKeyRow {
    pub generation: i64,
    /// Sealed under the key-encryption key (see `provider::secrets::code_key_label`).
    pub sealed_key: String,
    pub created_at: i64,
    /// Seals codes from this time on; every node has loaded it by then.
    pub activate_at: i64,
}

/// Every generation, oldest first.
pub fn code_keys(conn: &mut DbConn) -> QueryResult<Vec<CodeKeyRow>> {
    code_keys::table
        .order(code_keys::generation.asc())
        .select(CodeKeyRow::as_select())
        .load(conn)
}

/// Adds a generation; a unique violation means another node added that generation first.
pub fn insert_code_key(conn: &mut DbConn, row: &CodeKeyRow) -> QueryResult<()> {
    diesel::insert_into(code_keys::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn delete_code_keys(conn: &mut DbConn, generations: &[i64]) -> QueryResult<usize> {
    diesel::delete(code_keys::table.filter(code_keys::generation.eq_any(generations))).execute(conn)
}

pub fn secret(conn: &mut DbConn, name: &str) -> QueryResult<Option<String>> {
    provider_secrets::table
        .find(name)
        .select(provider_secrets::sealed_value)
        .get_result(conn)
        .optional()
}

/// Every provider secret: (name, sealed value).
pub fn all_secrets(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    provider_secrets::table
        .select((provider_secrets::name, provider_secrets::sealed_value))
        .load(conn)
}

pub fn insert_secret(conn: &mut DbConn, name: &str, sealed: &str, now: i64) -> QueryResult<()> {
    diesel::insert_into(provider_secrets::table)
        .values((
            provider_secrets::name.eq(name),
            provider_secrets::sealed_value.eq(sealed),
            provider_secrets::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Records a client assertion's `jti`; `false` when it was seen before (a replay, RFC 7523 §3).
pub fn remember_jti(
    conn: &mut DbConn,
    client_id: &str,
    jti: &str,
    expires_at: i64,
    now: i64,
) -> QueryResult<bool> {
    diesel::delete(assertion_jtis::table.filter(assertion_jtis::expires_at.lt(now)))
        .execute(conn)?;
    let seen = assertion_jtis::table
        .find((client_id, jti))
        .count()
        .get_result::<i64>(conn)?;
    if seen > 0 {
        return Ok(false);
    }
    diesel::insert_into(assertion_jtis::table)
        .values((
            assertion_jtis::client_id.eq(client_id),
            assertion_jtis::jti.eq(jti),
            assertion_jtis::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(true)
}
