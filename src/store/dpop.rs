//! DPoP proof ids seen (RFC 9449 §11.1), kept until their proofs would be refused for age.

use diesel::prelude::*;

use super::schema::dpop_proofs;
use super::DbConn;

/// Records a proof's `jti` for its key; `false` when it was recorded before (a replay). The
/// primary key decides, so two nodes given the same proof at the same moment cannot both
/// accept it (`INSERT … ON CONFLICT DO NOTHING` waits for the first on PostgreSQL).
pub fn remember(conn: &mut DbConn, jkt: &str, jti: &str, expires_at: i64) -> QueryResult<bool> {
    let inserted = native!(conn, c => diesel::insert_into(dpop_proofs::table)
        .values((
            dpop_proofs::jkt.eq(jkt),
            dpop_proofs::jti.eq(jti),
            dpop_proofs::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}
