//! CRLs, import history, linkage records, terminations, binding status changes and leases.

use diesel::prelude::*;

use crate::domain::MyKeyId;

use super::persons::BindingRow;
use super::schema::{bindings, crl_fetches, crl_imports, crls, leases, linkages, terminations};
use super::states::BindingStatus;
use super::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crls)]
pub struct CrlRow {
    pub root_key_id: String,
    pub purpose: String,
    pub crl_number: String,
    pub this_update: i64,
    pub next_update: i64,
    pub entry_count: i64,
    pub sha256: String,
    pub der: Vec<u8>,
    pub source: String,
    pub imported_at: i64,
}

/// A CRL's header without its body.
#[derive(Debug, Clone, Queryable)]
pub struct CrlHeader {
    pub root_key_id: String,
    pub purpose: String,
    pub crl_number: String,
    pub this_update: i64,
    pub next_update: i64,
    pub entry_count: i64,
    pub imported_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crl_imports)]
pub struct CrlImportRow {
    pub id: String,
    pub sha256: String,
    pub root_key_id: Option<String>,
    pub crl_number: Option<String>,
    pub this_update: Option<i64>,
    pub next_update: Option<i64>,
    pub entry_count: Option<i64>,
    pub newly_revoked: i64,
    pub no_longer_listed: i64,
    pub terminated: i64,
    pub source: String,
    /// `imported` or `refused`.
    pub outcome: String,
    pub error: Option<String>,
    pub imported_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = linkages)]
pub struct LinkageRow {
    pub id: String,
    pub purpose: String,
    pub old_issuer_key_id: String,
    pub old_serial: String,
    pub new_issuer_key_id: String,
    pub new_serial: String,
    pub linked_at: i64,
    pub imported_at: i64,
    pub person_id: Option<MyKeyId>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = terminations)]
pub struct TerminationRow {
    pub id: String,
    pub person_id: MyKeyId,
    pub binding_id: String,
    pub root_key_id: String,
    pub serial: String,
    pub reason: String,
    pub revoked_at: i64,
    pub crl_number: String,
    pub sessions_ended: i64,
    pub terminated_at: i64,
}

pub fn crl_number(conn: &mut DbConn, root: &str) -> QueryResult<Option<String>> {
    crls::table
        .find(root)
        .select(crls::crl_number)
        .get_result(conn)
        .optional()
}

/// How [`crl_number_locked`] holds the row until the transaction ends (PostgreSQL; a SQLite
/// write transaction holds the whole database already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    /// An import: two imports for one root on two nodes take turns, so an older CRL checked
    /// against the same previous number can never replace the newer one after it committed.
    Update,
    /// A new binding: an import under way finishes first (and its number is read here), or
    /// waits until this transaction has committed (and then finds the new binding).
    Share,
}

/// The stored CRL number of a root, read with the row locked.
pub fn crl_number_locked(
    conn: &mut DbConn,
    root: &str,
    lock: RowLock,
) -> QueryResult<Option<String>> {
    let query = crls::table.find(root).select(crls::crl_number);
    match (conn, lock) {
        (DbConn::Sqlite(c), _) => query.get_result(c).optional(),
        (DbConn::Postgres(c), RowLock::Update) => query.for_update().get_result(c).optional(),
        (DbConn::Postgres(c), RowLock::Share) => query.for_share().get_result(c).optional(),
    }
}

pub fn crl(conn: &mut DbConn, root: &str) -> QueryResult<Option<CrlRow>> {
    crls::table
        .find(root)
        .select(CrlRow::as_select())
        .get_result(conn)
        .optional()
}

/// Each root's stored CRL number: what a card answer compares its node's sets with.
pub fn crl_numbers(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    native!(conn, c => crls::table
        .select((crls::root_key_id, crls::crl_number))
        .load(c))
}

pub fn crl_headers(conn: &mut DbConn) -> QueryResult<Vec<CrlHeader>> {
    crls::table
        .select((
            crls::root_key_id,
            crls::purpose,
            crls::crl_number,
            crls::this_update,
            crls::next_update,
            crls::entry_count,
            crls::imported_at,
        ))
        .order(crls::root_key_id.asc())
        .load(conn)
}

/// Replaces the stored CRL of a root.
pub fn store_crl(conn: &mut DbConn, row: &CrlRow) -> QueryResult<()> {
    diesel::delete(crls::table.find(&row.root_key_id)).execute(conn)?;
    diesel::insert_into(crls::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn record_import(conn: &mut DbConn, row: &CrlImportRow) -> QueryResult<()> {
    diesel::insert_into(crl_imports::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// Whether a CRL with these bytes was already imported or refused (files are offered again
/// and again by a watched folder).
pub fn import_seen(conn: &mut DbConn, sha256: &str) -> QueryResult<bool> {
    let n: i64 = crl_imports::table
        .filter(crl_imports::sha256.eq(sha256))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn recent_imports(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<CrlImportRow>> {
    crl_imports::table
        .order(crl_imports::imported_at.desc())
        .limit(limit)
        .select(CrlImportRow::as_select())
        .load(conn)
}

/// Bindings of a root in one status (e.g. all active ones, checked against a new CRL).
pub fn bindings_of_root(
    conn: &mut DbConn,
    root: &str,
    status: BindingStatus,
) -> QueryResult<Vec<BindingRow>> {
    bindings::table
        .filter(bindings::issuer_key_id.eq(root))
        .filter(bindings::status.eq(status))
        .select(BindingRow::as_select())
        .load(conn)
}

pub fn set_binding_status(
    conn: &mut DbConn,
    id: &str,
    status: BindingStatus,
    reason: Option<&str>,
    at: Option<i64>,
) -> QueryResult<usize> {
    diesel::update(bindings::table.find(id))
        .set((
            bindings::status.eq(status),
            bindings::revoked_reason.eq(reason),
            bindings::revoked_at.eq(at),
        ))
        .execute(conn)
}

pub fn insert_linkage(conn: &mut DbConn, row: &LinkageRow) -> QueryResult<bool> {
    let exists: i64 = linkages::table
        .filter(linkages::old_issuer_key_id.eq(&row.old_issuer_key_id))
        .filter(linkages::old_serial.eq(&row.old_serial))
        .filter(linkages::new_issuer_key_id.eq(&row.new_issuer_key_id))
        .filter(linkages::new_serial.eq(&row.new_serial))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    diesel::insert_into(linkages::table)
        .values(row)
        .execute(conn)
        .map(|_| true)
}

/// Linkage records whose old certificate is this one.
pub fn successors(conn: &mut DbConn, root: &str, serial: &str) -> QueryResult<Vec<LinkageRow>> {
    linkages::table
        .filter(linkages::old_issuer_key_id.eq(root))
        .filter(linkages::old_serial.eq(serial))
        .select(LinkageRow::as_select())
        .load(conn)
}

pub fn linkages_of_person(conn: &mut DbConn, person_id: &MyKeyId) -> QueryResult<Vec<LinkageRow>> {
    linkages::table
        .filter(linkages::person_id.eq(person_id))
        .order(linkages::linked_at.asc())
        .select(LinkageRow::as_select())
        .load(conn)
}

pub fn insert_termination(conn: &mut DbConn, row: &TerminationRow) -> QueryResult<()> {
    diesel::insert_into(terminations::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn recent_terminations(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<TerminationRow>> {
    terminations::table
        .order(terminations::terminated_at.desc())
        .limit(limit)
        .select(TerminationRow::as_select())
        .load(conn)
}

/// Conditional-GET validators of a polled URL: (etag, last_modified).
pub fn fetch_state(
    conn: &mut DbConn,
    url: &str,
) -> QueryResult<Option<(Option<String>, Option<String>)>> {
    crl_fetches::table
        .find(url)
        .select((crl_fetches::etag, crl_fetches::last_modified))
        .get_result(conn)
        .optional()
}

pub fn save_fetch_state(
    conn: &mut DbConn,
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
    status: &str,
    now: i64,
) -> QueryResult<()> {
    diesel::delete(crl_fetches::table.find(url)).execute(conn)?;
    diesel::insert_into(crl_fetches::table)
        .values((
            crl_fetches::url.eq(url),
            crl_fetches::etag.eq(etag),
            crl_fetches::last_modified.eq(last_modified),
            crl_fetches::fetched_at.eq(now),
            crl_fetches::status.eq(status),
        ))
        .execute(conn)
        .map(drop)
}

/// Takes or renews the lease `name` for `holder` until `now + ttl`; `false` when another
/// holder's lease is still running. Exactly one node wins a free lease: the update is
/// conditional and the insert collides on the primary key.
pub fn try_lease(
    conn: &mut DbConn,
    name: &str,
    holder: &str,
    now: i64,
    ttl: i64,
) -> QueryResult<bool> {
    let renewed = diesel::update(
        leases::table
            .find(name)
            .filter(leases::holder.eq(holder).or(leases::expires_at.lt(now))),
    )
    .set((leases::holder.eq(holder), leases::expires_at.eq(now + ttl)))
    .execute(conn)?;
    if renewed == 1 {
        return Ok(true);
    }
    let exists: i64 = leases::table.find(name).count().get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    // A savepoint, so a lost race does not abort the caller's PostgreSQL transaction.
    let inserted = conn.transaction(|c| {
        diesel::insert_into(leases::table)
            .values((
                leases::name.eq(name),
                leases::holder.eq(holder),
                leases::expires_at.eq(now + ttl),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e),
    }
}
