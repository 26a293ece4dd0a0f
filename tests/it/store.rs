//! Migrations: the same list for both backends, and every one runs up and down on each.

use mykey_connect::store::Db;

use crate::provider::support::{Db as Backend, PgDatabase};

fn names(backend: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("migrations folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn sqlite_and_postgres_have_the_same_migrations_each_with_up_and_down() {
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
    for backend in ["sqlite", "postgres"] {
        for name in &sqlite {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(backend)
                .join(name);
            assert!(dir.join("up.sql").is_file(), "{backend}/{name}/up.sql");
            assert!(dir.join("down.sql").is_file(), "{backend}/{name}/down.sql");
        }
    }
}

fn up_down_up(url: &str) {
    let db = Db::connect(url, 1).expect("connect");
    let applied = db.migrate().expect("up");
    assert_eq!(applied.len(), names("sqlite").len());
    let reverted = db.revert_all().expect("down");
    assert_eq!(reverted.len(), applied.len());
    assert_eq!(db.migrate().expect("up again").len(), applied.len());
    assert!(db.migrate().expect("idempotent").is_empty());
}

fn migrations_round_trip(db: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pg = (db == Backend::Postgres).then(PgDatabase::create);
    let url = match &pg {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}", dir.path().join("m.sqlite3").display()),
    };
    up_down_up(&url);
}

on_both_databases!(sync every_migration_runs_up_and_down, migrations_round_trip);

#[test]
fn a_database_url_names_its_backend_by_scheme_only() {
    use mykey_connect::store::db::DatabaseUrl;
    use mykey_connect::store::Backend;
    assert_eq!(
        DatabaseUrl::parse("postgres://h/db").expect("pg").backend,
        Backend::Postgres
    );
    assert_eq!(
        DatabaseUrl::parse("postgresql://h/db").expect("pg").backend,
        Backend::Postgres
    );
    assert_eq!(
        DatabaseUrl::parse("sqlite://x.db").expect("sqlite").target,
        "x.db"
    );
    assert_eq!(
        DatabaseUrl::parse("data/x.db").expect("path").backend,
        Backend::Sqlite
    );
    assert!(DatabaseUrl::parse("mysql://h/db").is_err());
}

/// Two `Db` handles on one file behave like two processes (the server and `crl import`):
/// each has its own connections and its own in-process write lock.
#[test]
fn a_sqlite_write_that_read_first_waits_for_another_process_instead_of_failing_locked() {
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("two.sqlite3").display());
    let server = Db::connect(&url, 2).expect("connect");
    server.migrate().expect("migrate");
    let cli = Db::connect(&url, 1).expect("connect again");
    let count = |c: &mut mykey_connect::store::DbConn| {
        diesel::sql_query("SELECT COUNT(*) AS n FROM leases")
            .get_result::<Count>(c)
            .map(|r| r.n)
    };

    let (read_done, wait_read) = std::sync::mpsc::channel();
    let (other_committed, wait_commit) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        server.write_blocking(|c| {
            let before = count(c)?;
            read_done.send(()).expect("signal");
            // Another process commits while this transaction holds its read.
            let _ = wait_commit.recv_timeout(std::time::Duration::from_millis(500));
            diesel::sql_query(
                "INSERT INTO leases (name, holder, expires_at) VALUES ('server', 'a', 1)",
            )
            .execute(c)?;
            Ok(before)
        })
    });
    wait_read.recv().expect("the server's transaction started");
    let other = cli.write_blocking(|c| {
        diesel::sql_query("INSERT INTO leases (name, holder, expires_at) VALUES ('cli', 'b', 1)")
            .execute(c)
    });
    other_committed.send(()).ok();
    let server_result = writer.join().expect("writer thread");
    assert!(server_result.is_ok(), "server write: {server_result:?}");
    assert!(other.is_ok(), "other process's write: {other:?}");
    assert_eq!(cli.read_blocking(count).expect("count"), 2);
}

/// Commits never wait for a checkpoint (pooled connections do not make them); the handle's
/// checkpointer copies committed pages into the database file by itself soon after.
#[test]
fn sqlite_commits_reach_the_database_file_without_any_connection_checkpointing() {
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("main.sqlite3");
    let db = Db::connect(&format!("sqlite://{}", file.display()), 2).expect("connect");
    db.migrate().expect("migrate");
    for i in 0..50 {
        db.write_blocking(|c| {
            diesel::sql_query(format!(
                "INSERT INTO leases (name, holder, expires_at) VALUES ('lease-{i}', 'x', 1)"
            ))
            .execute(c)
        })
        .expect("insert");
    }
    // The database file alone (without its -wal file) holds what a checkpoint copied back.
    let copy = dir.path().join("copy.sqlite3");
    let mut counted = 0;
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::fs::copy(&file, &copy).expect("copy the database file");
        let mut c = diesel::SqliteConnection::establish(copy.to_str().expect("utf-8 path"))
            .expect("open the copy");
        counted = diesel::sql_query("SELECT COUNT(*) AS n FROM leases")
            .get_result::<Count>(&mut c)
            .map(|r| r.n)
            .unwrap_or(0);
        drop(c);
        let _ = std::fs::remove_file(&copy);
        if counted == 50 {
            break;
        }
    }
    assert_eq!(counted, 50, "rows in the database file itself");
}

/// Under a steady stream of commits the checkpointer still gets the WAL started over, so the
/// WAL file stays far smaller than what was written through it (SQLite's "checkpoint
/// starvation" would otherwise let it grow for as long as the writes go on). It must hold on
/// a busy disk too, where one sync of the WAL can take seconds: the WAL may hold what arrives
/// between two checkpoints, not what arrives while a slow checkpoint runs.
#[test]
fn the_sqlite_wal_stays_bounded_under_a_steady_stream_of_commits_even_on_a_busy_disk() {
    use diesel::prelude::*;
    use std::io::Write;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("main.sqlite3");
    let wal = dir.path().join("main.sqlite3-wal");
    let db = Db::connect(&format!("sqlite://{}", file.display()), 2).expect("connect");
    db.migrate().expect("migrate");
    db.write_blocking(|c| {
        diesel::sql_query("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            .execute(c)
    })
    .expect("create a table");
    // Another process keeps the disk busy with synced writes, as on a loaded host.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy = {
        let (stop, path) = (stop.clone(), dir.path().join("busy"));
        std::thread::spawn(move || {
            let chunk = vec![7u8; 1 << 20];
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let mut f = std::fs::File::create(&path).expect("busy file");
                for _ in 0..256 {
                    f.write_all(&chunk).expect("busy write");
                }
                f.sync_all().expect("busy sync");
            }
        })
    };
    // Commits back to back at up to 64 MB/s of WAL (far more than any login traffic) for
    // several checkpointer ticks. A commit that was held back is not made up for later.
    const ROW: usize = 16 * 1024;
    const RATE: u64 = 64 << 20;
    let every = Duration::from_nanos(ROW as u64 * 1_000_000_000 / RATE);
    let begin = Instant::now();
    let (mut next, mut peak, mut commits) = (begin, 0, 0usize);
    while begin.elapsed() < Duration::from_millis(2500) {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        next = next.max(Instant::now()) + every;
        // Each commit replaces one of a few rows: the database stays small, the WAL takes it all.
        db.write_blocking(|c| {
            diesel::sql_query("INSERT OR REPLACE INTO filler (id, body) VALUES (?, zeroblob(?))")
                .bind::<diesel::sql_types::Integer, _>((commits % 8) as i32)
                .bind::<diesel::sql_types::Integer, _>(ROW as i32)
                .execute(c)
        })
        .expect("write");
        commits += 1;
        peak = peak.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    busy.join().expect("busy writer");
    // The WAL may hold the commits of a checkpointer tick (250 ms) and of a pass's budget
    // (500 ms), after which commits wait for the pass. Two seconds of commits at the top rate
    // leave room for that, measured up to 60 MB under a loaded disk. A WAL that is never
    // started over holds all 2.5 s, in frames larger than the rows (overflow and freed
    // pages): 177-190 MB measured with the RESTART pass removed.
    assert!(
        peak < 2 * RATE,
        "WAL peaked at {} MB after {} MB of commits in {:?}",
        peak >> 20,
        (ROW * commits) >> 20,
        begin.elapsed()
    );
}

/// `url` with one more connection parameter.
fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

#[derive(diesel::QueryableByName)]
struct ServerProcess {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ssl: bool,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// The server process behind the asynchronous connection that serves a read, and whether
/// the connection is encrypted.
async fn backend_of(pg: &mykey_connect::store::pg_async::AsyncPg) -> ServerProcess {
    pg.read(async |c| {
        let query =
            diesel::sql_query("SELECT ssl, pid FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
        diesel_async::RunQueryDsl::get_result::<ServerProcess>(query, c).await
    })
    .await
    .expect("read on the asynchronous connection")
}

#[tokio::test]
async fn the_asynchronous_postgres_connections_encrypt_as_the_urls_sslmode_asks() {
    use mykey_connect::store::pg_async::AsyncPg;
    let db = PgDatabase::create();
    let required = AsyncPg::open(&with_param(&db.url, "sslmode=require"), 2).expect("pool");
    assert!(backend_of(&required).await.ssl, "sslmode=require: TLS");
    let plain = AsyncPg::open(&with_param(&db.url, "sslmode=disable"), 2).expect("pool");
    assert!(!backend_of(&plain).await.ssl, "sslmode=disable: no TLS");
    // Certificate checks are libpq's alone: such a URL keeps every query on libpq.
    assert!(AsyncPg::open(&with_param(&db.url, "sslmode=verify-full"), 2).is_none());
    assert!(AsyncPg::open(&with_param(&db.url, "sslrootcert=/etc/ssl/pg.crt"), 2).is_none());
}

#[derive(diesel::QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// A server setting as a statement on the asynchronous connection sees it.
async fn setting_of(pg: &mykey_connect::store::pg_async::AsyncPg, name: &str) -> String {
    let query = format!("SELECT current_setting('{name}') AS value");
    pg.read(async |c| {
        diesel_async::RunQueryDsl::get_result::<Setting>(diesel::sql_query(&query), c).await
    })
    .await
    .expect("read on the asynchronous connection")
    .value
}

#[tokio::test]
async fn token_statements_skip_the_wait_for_the_disk_only_when_the_operator_asks() {
    use diesel::Connection;
    use mykey_connect::store::pg_async::AsyncPg;
    use mykey_connect::store::TokenCommits;
    let db = PgDatabase::create();
    let mut admin = diesel::pg::PgConnection::establish(&db.url).expect("connection");
    let Setting { value: server } = diesel::RunQueryDsl::get_result(
        diesel::sql_query("SELECT current_setting('synchronous_commit') AS value"),
        &mut admin,
    )
    .expect("server's setting");

    let durable = AsyncPg::open_with(&db.url, 1, TokenCommits::Durable).expect("pool");
    assert_eq!(setting_of(&durable, "synchronous_commit").await, server);

    // The URL's own options stay in force beside the one added.
    let url = with_param(&db.url, "options=-c%20application_name%3Dnode-7");
    let fast = AsyncPg::open_with(&url, 1, TokenCommits::Asynchronous).expect("pool");
    assert_eq!(setting_of(&fast, "synchronous_commit").await, "off");
    assert_eq!(setting_of(&fast, "application_name").await, "node-7");
}

#[tokio::test]
async fn a_read_after_the_database_ended_every_connection_is_answered_at_the_first_try() {
    use diesel::Connection;
    use mykey_connect::store::pg_async::AsyncPg;
    let db = PgDatabase::create();
    let pg = AsyncPg::open(&db.url, 3).expect("pool");
    // Three reads at once open three connections, which then wait idle in the pool.
    let (a, b, c) = tokio::join!(backend_of(&pg), backend_of(&pg), backend_of(&pg));
    let before = [a.pid, b.pid, c.pid];
    let mut admin =
        diesel::pg::PgConnection::establish(&crate::provider::support::postgres_admin_url())
            .expect("admin connection");
    #[derive(diesel::QueryableByName)]
    struct Ended {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        ended: i64,
    }
    let Ended { ended } = diesel::RunQueryDsl::get_result(
        diesel::sql_query(format!(
            "SELECT count(pg_terminate_backend(pid)) AS ended FROM pg_stat_activity \
             WHERE datname = '{}'",
            db.url.rsplit('/').next().expect("name")
        )),
        &mut admin,
    )
    .expect("terminate");
    assert_eq!(ended, 3, "the pool's three connections were ended");
    // Every pooled connection is dead; the read still succeeds, on a new one.
    let after = backend_of(&pg).await;
    assert!(!before.contains(&after.pid), "served by a new connection");
}
