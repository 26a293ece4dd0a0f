//! The periodic purge against a SQLite database the size of a busy node's: how long it keeps
//! the single writer, and how long a login's write waits behind it meanwhile.
//!
//! `cargo bench --bench purge` (`PURGE_ROWS`, default 1,000,000: access tokens and refresh
//! tokens each, a quarter as many authorization requests; 1% of each expired long enough to
//! go, their expiries spread over an hour as a day's traffic spreads them). Figures:
//! BENCHMARKS.md, "Purging expired rows". PostgreSQL is not measured: its writers do not wait
//! for one another's scans.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use mykey_connect::store::purge::{self, Purged, KEPT_PAST_EXPIRY};
use mykey_connect::store::Db;

const NOW: i64 = 1_765_000_000;

fn fill(db: &Db, rows: usize) {
    let gone = NOW - KEPT_PAST_EXPIRY - 3_600;
    let live = NOW + 3_600;
    let expired = rows / 100;
    let requests = rows / 4;
    let sql = format!(
        "INSERT INTO clients (id, name, auth_method, redirect_uris, post_logout_redirect_uris, \
           sector, scopes, id_token_alg, created_at, updated_at) \
         VALUES ('bench', 'Bench', 'client_secret_basic', '[]', '[]', 'bench', 'openid', \
           'RS256', {NOW}, {NOW});
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
         INSERT INTO access_tokens (token_hash, grant_id, client_id, client_session_id, \
           person_id, scope, created_at, expires_at)
         SELECT hex(randomblob(32)), hex(randomblob(16)), 'bench', hex(randomblob(16)), \
           hex(randomblob(16)), 'openid', {NOW}, CASE WHEN i <= {expired} THEN {gone} - i % 3600 ELSE {live} + i % 3600 END FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
         INSERT INTO refresh_tokens (token_hash, grant_id, client_id, client_session_id, \
           person_id, scope, auth_time, amr, acr, created_at, expires_at)
         SELECT hex(randomblob(32)), hex(randomblob(16)), 'bench', hex(randomblob(16)), \
           hex(randomblob(16)), 'openid', {NOW}, 'sc pin hwk', 'acr', {NOW}, \
           CASE WHEN i <= {expired} THEN {gone} - i % 3600 ELSE {live} + i % 3600 END FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {requests})
         INSERT INTO auth_requests (id, cookie_hash, client_id, redirect_uri, scope, \
           code_challenge, created_at, expires_at)
         SELECT hex(randomblob(16)), hex(randomblob(32)), 'bench', 'https://rp.example/cb', \
           'openid', hex(randomblob(32)), {NOW}, \
           CASE WHEN i <= {expired} / 4 THEN {gone} - i % 3600 ELSE {live} + i % 3600 END FROM n;"
    );
    db.write_blocking(|c| c.batch_execute(&sql)).expect("fill");
}

/// Copies the write-ahead log back and empties it, so that no checkpoint of earlier writes
/// runs during a measurement.
fn checkpoint(db: &Db) {
    db.read_blocking(|c| c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)"))
        .expect("checkpoint");
}

/// Runs the purge while another thread writes one small row every millisecond, as logins
/// do; returns the purge's report, how long it took, and the longest wait of those writes.
/// `round` keeps each round's rows apart.
fn purge_beside_a_writer(db: &Db, round: usize) -> (Purged, Duration, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop) = (db.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut longest, mut n) = (Duration::ZERO, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let sql = format!(
                    "INSERT INTO dpop_proofs (jkt, jti, expires_at) VALUES ('bench', '{round}-{n}', {})",
                    NOW + 60
                );
                db.write_blocking(|c| c.batch_execute(&sql)).expect("write");
                longest = longest.max(started.elapsed());
                n += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            longest
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    let purged = purge::run(db, NOW, purge::PAUSE).expect("purge");
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    (purged, took, writer.join().expect("writer"))
}

fn main() {
    // `cargo test --benches` runs every bench binary once; this one only under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rows: usize = std::env::var("PURGE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("purge.sqlite3").display());
    let db = Db::connect(&url, 4).expect("database");
    db.migrate().expect("migrations");
    let filling = Instant::now();
    fill(&db, rows);
    println!(
        "filled {rows} access and {rows} refresh tokens, {} authorization requests in {:.1} s",
        rows / 4,
        filling.elapsed().as_secs_f64()
    );
    for (round, what) in ["1% expired", "nothing expired", "nothing expired"]
        .into_iter()
        .enumerate()
    {
        checkpoint(&db);
        let (p, took, waited) = purge_beside_a_writer(&db, round);
        println!(
            "purge, {what}: {} rows in {:.1} ms, {} transaction(s), longest {:.1} ms; \
             a concurrent write waited at most {:.1} ms",
            p.rows,
            took.as_secs_f64() * 1e3,
            p.transactions,
            p.longest.as_secs_f64() * 1e3,
            waited.as_secs_f64() * 1e3
        );
    }
}
