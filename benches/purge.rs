//! The periodic purge against a SQLite database the size of a busy node's: how long it keeps
//! the single writer, and how long a login's write waits behind it meanwhile.
//!
//! `cargo bench --bench purge` (`PURGE_ROWS`, default 1,000,000: access tokens and refresh
//! tokens each, a quarter as many authorization requests; 1% of each expired long enough to
//! go, their expiries spread over an hour as a day's traffic spreads them). With
//! `PURGE_POSTGRES_URL` (an admin URL such as `postgres://postgres@127.0.0.1:5432/postgres`) it
//! runs on a fresh PostgreSQL database instead, dropped at the end: there writers do not wait
//! for one another, and what it shows is how long a pass takes and reads. Figures:
//! BENCHMARKS.md, "Purging expired rows".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use mykey_connect::store::purge::{self, Purged, KEPT_PAST_EXPIRY};
use mykey_connect::store::{Backend, Db};

const NOW: i64 = 1_765_000_000;

fn fill(db: &Db, rows: usize) {
    let gone = NOW - KEPT_PAST_EXPIRY - 3_600;
    let live = NOW + 3_600;
    let expired = rows / 100;
    let requests = rows / 4;
    // Random hex keys and a numbered series, in each database's words.
    let (series, hex16, hex32) = match db.backend() {
        Backend::Sqlite => (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) ",
            "hex(randomblob(16))",
            "hex(randomblob(32))",
        ),
        Backend::Postgres => (
            "WITH n(i) AS (SELECT generate_series(1, {n})) ",
            "md5(random()::text)",
            "md5(random()::text) || md5(random()::text)",
        ),
    };
    let series = |n: usize| series.replace("{n}", &n.to_string());
    let sql = format!(
        "INSERT INTO clients (id, name, auth_method, redirect_uris, post_logout_redirect_uris, \
           sector, scopes, id_token_alg, created_at, updated_at) \
         VALUES ('bench', 'Bench', 'client_secret_basic', '[]', '[]', 'bench', 'openid', \
           'RS256', {NOW}, {NOW});
         {all} INSERT INTO access_tokens (token_hash, grant_id, client_id, client_session_id, \
           person_id, scope, created_at, expires_at)
         SELECT {hex32}, {hex16}, 'bench', {hex16}, \
           {hex16}, 'openid', {NOW}, CASE WHEN i <= {expired} THEN {gone} - i % 3600 ELSE {live} + i % 3600 END FROM n;
         {all} INSERT INTO refresh_tokens (token_hash, grant_id, client_id, client_session_id, \
           person_id, scope, auth_time, amr, acr, created_at, expires_at)
         SELECT {hex32}, {hex16}, 'bench', {hex16}, \
           {hex16}, 'openid', {NOW}, 'sc pin hwk', 'acr', {NOW}, \
           CASE WHEN i <= {expired} THEN {gone} - i % 3600 ELSE {live} + i % 3600 END FROM n;
         {quarter} INSERT INTO auth_requests (id, cookie_hash, client_id, redirect_uri, scope, \
           code_challenge, created_at, expires_at)
         SELECT {hex16}, {hex32}, 'bench', 'https://rp.example/cb', \
           'openid', {hex32}, {NOW}, \
           CASE WHEN i <= {expired} / 4 THEN {gone} - i % 3600 ELSE {live} + i % 3600 END FROM n;",
        all = series(rows),
        quarter = series(requests),
    );
    db.write_blocking(|c| c.batch_execute(&sql)).expect("fill");
}

/// Copies the write-ahead log back (and on SQLite empties it), so that no checkpoint of
/// earlier writes runs during a measurement; on PostgreSQL also refreshes the statistics.
fn checkpoint(db: &Db) {
    let statements: &[&str] = match db.backend() {
        Backend::Sqlite => &["PRAGMA wal_checkpoint(TRUNCATE)"],
        Backend::Postgres => &["ANALYZE", "CHECKPOINT"],
    };
    for sql in statements {
        db.read_blocking(|c| c.batch_execute(sql))
            .expect("checkpoint");
    }
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
    let admin = std::env::var("PURGE_POSTGRES_URL").ok();
    let database = format!("mykey_purge_bench_{}", std::process::id());
    let url = match &admin {
        Some(admin) => {
            let server = Db::connect_for_command(admin).expect("PostgreSQL");
            server
                .read_blocking(|c| c.batch_execute(&format!("CREATE DATABASE {database}")))
                .expect("create the database");
            format!("{}/{database}", admin.rsplit_once('/').expect("a URL").0)
        }
        None => format!("sqlite://{}", dir.path().join("purge.sqlite3").display()),
    };
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
    if let Some(admin) = admin {
        drop(db);
        Db::connect_for_command(&admin)
            .expect("PostgreSQL")
            .read_blocking(|c| c.batch_execute(&format!("DROP DATABASE {database} WITH (FORCE)")))
            .expect("drop the database");
    }
}
