//! The `persons` and `bindings` tables: MyKey IDs and the card certificates bound to them.

use diesel::prelude::*;

use crate::domain::MyKeyId;

use super::schema::{bindings, persons};
use super::states::BindingStatus;
use super::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bindings)]
pub struct BindingRow {
    pub id: String,
    pub person_id: MyKeyId,
    pub purpose: String,
    pub issuer_key_id: String,
    pub serial: String,
    pub not_after: i64,
    pub status: BindingStatus,
    pub revoked_reason: Option<String>,
    pub revoked_at: Option<i64>,
    pub created_at: i64,
}

pub fn find_binding(
    conn: &mut DbConn,
    issuer_key_id: &str,
    serial: &str,
) -> QueryResult<Option<BindingRow>> {
    native!(conn, c => bindings::table
        .filter(bindings::issuer_key_id.eq(issuer_key_id))
        .filter(bindings::serial.eq(serial))
        .select(BindingRow::as_select())
        .get_result(c)
        .optional())
}

pub fn bindings_of(conn: &mut DbConn, person_id: &MyKeyId) -> QueryResult<Vec<BindingRow>> {
    native!(conn, c => bindings::table
        .filter(bindings::person_id.eq(person_id))
        .order(bindings::created_at.asc())
        .select(BindingRow::as_select())
        .load(c))
}

pub fn insert_person(conn: &mut DbConn, id: &MyKeyId, now: i64) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(persons::table)
        .values((persons::id.eq(id), persons::created_at.eq(now)))
        .execute(c)
        .map(drop))
}

pub fn insert_binding(conn: &mut DbConn, row: &BindingRow) -> QueryResult<()> {
    native!(conn, c => diesel::insert_into(bindings::table)
        .values(row)
        .execute(c)
        .map(drop))
}

pub fn count_persons(conn: &mut DbConn) -> QueryResult<i64> {
    persons::table.count().get_result(conn)
}

pub fn set_not_after(conn: &mut DbConn, id: &str, not_after: i64) -> QueryResult<usize> {
    diesel::update(bindings::table.find(id))
        .set(bindings::not_after.eq(not_after))
        .execute(conn)
}
