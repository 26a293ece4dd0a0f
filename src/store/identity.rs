//! Verifications (sealed facts of a signature certificate) and who received facts.

use diesel::prelude::*;

use crate::domain::MyKeyId;

use super::schema::{fact_releases, verifications};
use super::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = verifications)]
pub struct VerificationRow {
    pub id: String,
    pub person_id: MyKeyId,
    pub sign_binding_id: String,
    /// The facts and their evidence, sealed with the key-encryption key (aad = id).
    pub sealed_facts: String,
    pub verified_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

pub fn insert(conn: &mut DbConn, row: &VerificationRow) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(verifications::table)
        .values(row)
        .execute(c)
        .map(drop))
}

pub fn get(conn: &mut DbConn, id: &str) -> QueryResult<Option<VerificationRow>> {
    native!(conn, c => verifications::table
        .find(id)
        .select(VerificationRow::as_select())
        .get_result(c)
        .optional())
}

/// The newest live verification of a person (reused only when retention is configured).
pub fn latest_live(
    conn: &mut DbConn,
    person_id: &MyKeyId,
    now: i64,
) -> QueryResult<Option<VerificationRow>> {
    native!(conn, c => verifications::table
        .filter(verifications::person_id.eq(person_id))
        .filter(verifications::revoked_at.is_null())
        .filter(verifications::expires_at.gt(now))
        .order(verifications::verified_at.desc())
        .select(VerificationRow::as_select())
        .get_result(c)
        .optional())
}

/// Marks every verification of a signature certificate revoked; returns how many.
pub fn revoke_of_binding(conn: &mut DbConn, binding_id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(
        verifications::table
            .filter(verifications::sign_binding_id.eq(binding_id))
            .filter(verifications::revoked_at.is_null()),
    )
    .set(verifications::revoked_at.eq(now))
    .execute(conn)
}

pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::delete(verifications::table.find(id)).execute(conn)
}

pub fn record_release(
    conn: &mut DbConn,
    id: &str,
    verification: &VerificationRow,
    client_id: &str,
    now: i64,
) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(fact_releases::table)
        .values((
            fact_releases::id.eq(id),
            fact_releases::verification_id.eq(&verification.id),
            fact_releases::sign_binding_id.eq(&verification.sign_binding_id),
            fact_releases::person_id.eq(&verification.person_id),
            fact_releases::client_id.eq(client_id),
            fact_releases::released_at.eq(now),
        ))
        .execute(c)
        .map(drop))
}

/// Clients that received facts of a signature certificate.
pub fn clients_that_received(conn: &mut DbConn, binding_id: &str) -> QueryResult<Vec<String>> {
    fact_releases::table
        .filter(fact_releases::sign_binding_id.eq(binding_id))
        .select(fact_releases::client_id)
        .distinct()
        .load(conn)
}
