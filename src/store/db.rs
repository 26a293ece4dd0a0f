//! Database handle: backend chosen from the URL, connection pool, migrations, blocking bridge.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use parking_lot::Mutex;

use super::group;
use super::pg_async::{AsyncPg, TokenCommits};

pub(super) const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Every migration this binary has, by name, oldest first (both backends have the same names).
pub fn known_migrations() -> Vec<String> {
    use diesel::migration::MigrationSource;
    let mut names: Vec<String> =
        MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
            .map(|all| all.iter().map(|m| m.name().to_string()).collect())
            .unwrap_or_default();
    names.sort();
    names
}

/// One connection to either backend. Queries are written once against this type.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("bad database URL: {0}")]
    BadUrl(String),
    /// A stored row that no longer parses into its domain type.
    #[error("a stored row does not parse: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// A query error that means the database went away (closed or terminated connection) is
    /// `Unavailable`: the caller answers 503 and nothing is half-done.
    pub fn from_query(e: diesel::result::Error) -> StoreError {
        use diesel::result::{DatabaseErrorKind, Error};
        let gone = match &e {
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _) => true,
            Error::DatabaseError(_, info) => {
                let m = info.message();
                m.contains("terminating connection")
                    || m.contains("server closed the connection")
                    || m.contains("connection to server")
                    || m.contains("no connection")
            }
            _ => false,
        };
        if gone {
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Query(e)
        }
    }

    /// The database went away or cannot be reached: nothing was done, try again later.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }

    /// A unique-constraint violation: somebody else inserted the same key first.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// The parsed database URL: `postgres://…`/`postgresql://…`, or `sqlite://PATH`, `sqlite:PATH`
/// or a plain file path for SQLite. The scheme decides; nothing is tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    pub backend: Backend,
    /// What the driver receives: the full URL for PostgreSQL, the file path for SQLite.
    pub target: String,
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl, StoreError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl {
                backend: Backend::Postgres,
                target: url.to_owned(),
            });
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(StoreError::BadUrl(
                "use postgres://… or sqlite://PATH (or a file path)".to_owned(),
            ));
        }
        Ok(DatabaseUrl {
            backend: Backend::Sqlite,
            target: path.to_owned(),
        })
    }
}

/// r2d2 manager that opens the backend the URL names and sets SQLite up for a service.
#[derive(Debug, Clone)]
struct Manager {
    url: DatabaseUrl,
}

/// A pooled connection and whether a query found it dead (the pool then drops it instead of
/// handing it out again: connections are not tested before every use).
struct Pooled {
    conn: DbConn,
    gone: bool,
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Pooled, r2d2::Error> {
        self.open().map(|conn| Pooled { conn, gone: false })
    }

    fn is_valid(&self, c: &mut Pooled) -> Result<(), r2d2::Error> {
        c.conn
            .batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, c: &mut Pooled) -> bool {
        c.gone || diesel::r2d2::R2D2Connection::is_broken(&mut c.conn)
    }
}

impl Manager {
    fn open(&self) -> Result<DbConn, r2d2::Error> {
        match self.url.backend {
            Backend::Postgres => PgConnection::establish(&self.url.target)
                .map(DbConn::Postgres)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url.target)
                    .map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the single writer; NORMAL keeps commits durable
                // across process crashes (the WAL is synced at checkpoints). Checkpoints are
                // not made by these connections but by the `Db`'s checkpointer thread, so no
                // commit on a request's path waits for the files to be synced.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// The shared database handle. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    /// SQLite admits one writer; taking turns in-process avoids busy-waiting in SQLite.
    writers: Arc<Writers>,
    /// PostgreSQL only: the asynchronous connections of the hottest statements.
    pg_async: Option<AsyncPg>,
    /// SQLite only: request handlers' writes waiting to be committed together ([`group`]).
    group: Arc<group::Queue>,
    /// The SQLite checkpointer runs while any clone of this handle lives.
    _alive: Arc<()>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Db {
    /// Opens a server's pool of up to `pool_size` connections, one kept open while idle.
    /// A SQLite file is created when missing.
    /// On PostgreSQL it also makes a pool of up to `pool_size` asynchronous connections for
    /// the hottest statements ([`AsyncPg`]), opened as they are needed.
    pub fn connect(url: &str, pool_size: u32) -> Result<Db, StoreError> {
        Db::connect_serving(url, pool_size, TokenCommits::Durable)
    }

    /// [`Db::connect`], the asynchronous PostgreSQL connections committing as `commits` says
    /// (the `postgres_asynchronous_token_commits` setting).
    pub fn connect_serving(
        url: &str,
        pool_size: u32,
        commits: TokenCommits,
    ) -> Result<Db, StoreError> {
        let mut db = Db::connect_pool(url, pool_size, 1)?;
        if db.backend == Backend::Postgres {
            db.pg_async = AsyncPg::open_with(url.trim(), pool_size as usize, commits);
        }
        if commits == TokenCommits::Asynchronous && db.pg_async.is_none() {
            tracing::warn!(
                "postgres_asynchronous_token_commits has no effect here: it needs PostgreSQL \
                 through the asynchronous driver; every commit waits for the disk"
            );
        }
        Ok(db)
    }

    /// Opens a pool for a command that runs once and exits (`client add`, `audit verify`, …).
    /// Connections open only when the command asks for one: a pool that keeps a spare open
    /// starts connecting in the background at the first checkout, and a PostgreSQL connect
    /// (libpq's TLS set-up) still running when the process exits crashes in OpenSSL's exit
    /// handler.
    pub fn connect_for_command(url: &str) -> Result<Db, StoreError> {
        Db::connect_pool(url, 2, 0)
    }

    /// [`Db::connect_for_command`], then brings the schema up to date.
    pub fn open_for_command(url: &str) -> Result<Db, StoreError> {
        let db = Db::connect_for_command(url)?;
        db.migrate()?;
        Ok(db)
    }

    fn connect_pool(url: &str, pool_size: u32, min_idle: u32) -> Result<Db, StoreError> {
        let url = DatabaseUrl::parse(url)?;
        let backend = url.backend;
        if backend == Backend::Sqlite {
            if let Some(dir) = std::path::Path::new(&url.target).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                }
            }
        }
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(min_idle))
            .connection_timeout(Duration::from_secs(3))
            // A `SELECT 1` before every use would double the round trips of the hot path;
            // broken connections are noticed by `has_broken` and by the failing query.
            .test_on_check_out(false)
            .error_handler(Box::new(r2d2::LoggingErrorHandler))
            .build(Manager { url: url.clone() })
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let alive = Arc::new(());
        let writers = Arc::new(Writers::default());
        if backend == Backend::Sqlite {
            spawn_checkpointer(url.target, Arc::downgrade(&alive), writers.clone());
        }
        Ok(Db {
            pool,
            backend,
            writers,
            pg_async: None,
            group: Arc::default(),
            _alive: alive,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The asynchronous PostgreSQL connections ([`AsyncPg`]): `None` on SQLite, and on a
    /// PostgreSQL URL only libpq understands. Callers then use the synchronous driver.
    pub fn pg_async(&self) -> Option<&AsyncPg> {
        self.pg_async.as_ref()
    }

    /// How many SQLite commits of this process have waited for a checkpoint that ran past
    /// its budget (a slow disk); always 0 on PostgreSQL.
    pub fn checkpoint_stalls(&self) -> u64 {
        self.writers.stalls.load(Ordering::Relaxed)
    }

    /// The group commit's counts in this process ([`group`]): transactions that committed
    /// request handlers' writes, and the writes they carried; both 0 on PostgreSQL.
    pub fn write_groups(&self) -> (u64, u64) {
        (
            self.writers.groups.load(Ordering::Relaxed),
            self.writers.grouped.load(Ordering::Relaxed),
        )
    }

    /// Runs the embedded migrations of this backend; returns the versions applied now.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let applied = match &mut conn.conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
            DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        }
        .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(applied.iter().map(|v| v.to_string()).collect())
    }

    /// The migrations [`Db::migrate`] would apply, oldest first, by name; nothing is applied.
    pub fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let names = match &mut conn.conn {
            DbConn::Sqlite(c) => c
                .pending_migrations(SQLITE_MIGRATIONS)
                .map(|p| p.iter().map(|m| m.name().to_string()).collect()),
            DbConn::Postgres(c) => c
                .pending_migrations(POSTGRES_MIGRATIONS)
                .map(|p| p.iter().map(|m| m.name().to_string()).collect()),
        };
        names.map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// Reverts every migration (tests check that each `down.sql` works).
    pub fn revert_all(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let reverted = match &mut conn.conn {
            DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS),
            DbConn::Postgres(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS),
        }
        .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(reverted.iter().map(|v| v.to_string()).collect())
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
        self.pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Runs `f` on a pooled connection, on the calling thread (CLI and blocking contexts).
    /// A read that meets a dead pooled connection (the database restarted) is tried on the
    /// next one; a write only when it failed before anything was sent (see `write_blocking`),
    /// since a lost commit acknowledgement could otherwise repeat it.
    pub fn read_blocking<T>(
        &self,
        f: impl FnMut(&mut DbConn) -> QueryResult<T>,
    ) -> Result<T, StoreError> {
        let mut f = f;
        let mut result = Err(StoreError::Unavailable(
            "no live database connection".into(),
        ));
        // Every idle connection may be dead after a restart: up to one more than the pool holds.
        for _ in 0..=self.pool.max_size() {
            let mut conn = self.conn()?;
            result = f(&mut conn.conn).map_err(StoreError::from_query);
            conn.gone = matches!(result, Err(StoreError::Unavailable(_)));
            if !conn.gone {
                break;
            }
        }
        result
    }

    /// Runs `f` in one transaction, on the calling thread.
    pub fn write_blocking<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> QueryResult<T>,
    ) -> Result<T, StoreError> {
        let turn = match self.backend {
            Backend::Sqlite => Some(self.writers.turn()),
            Backend::Postgres => None,
        };
        self.write_in_turn(turn, f)
    }

    /// [`Db::write_blocking`] once the caller has this process's SQLite writer turn (`None` on
    /// PostgreSQL, where the database orders writers).
    fn write_in_turn<T>(
        &self,
        _turn: Option<parking_lot::MutexGuard<'_, ()>>,
        f: impl FnOnce(&mut DbConn) -> QueryResult<T>,
    ) -> Result<T, StoreError> {
        let mut f = Some(f);
        // A pooled connection that died while idle (the database restarted) fails at BEGIN,
        // before `f` ran: nothing was sent, so trying the next one is safe. Every idle
        // connection may be dead, so up to one more than the pool holds.
        for _ in 0..=self.pool.max_size() {
            let mut conn = self.conn()?;
            let mut ran = false;
            let result = write_transaction(&mut conn.conn, |c| {
                ran = true;
                match f.take() {
                    Some(f) => f(c),
                    None => Err(diesel::result::Error::RollbackTransaction),
                }
            })
            .map_err(StoreError::from_query);
            conn.gone = matches!(result, Err(StoreError::Unavailable(_)));
            if conn.gone && !ran {
                continue;
            }
            return result;
        }
        Err(StoreError::Unavailable(
            "no live database connection".to_owned(),
        ))
    }

    /// Like [`Db::read_blocking`] for a request handler. SQLite queries take microseconds and
    /// run in place (a thread hand-off would cost more than the query); PostgreSQL queries are
    /// network round trips and run on the blocking pool.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnMut(&mut DbConn) -> QueryResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        match self.backend {
            Backend::Sqlite => self.read_blocking(f),
            Backend::Postgres => self.read_offloaded(f).await,
        }
    }

    /// A read on a hot path: on the asynchronous PostgreSQL connection ([`AsyncPg::read`]) when
    /// there is one, otherwise `sync` through [`Db::read`]. Both closures run the same query.
    pub async fn read_hot<T: Send + 'static>(
        &self,
        on_async_pg: impl AsyncFnMut(&mut diesel_async::AsyncPgConnection) -> QueryResult<T>,
        sync: impl FnMut(&mut DbConn) -> QueryResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        match &self.pg_async {
            Some(pg) => pg.read(on_async_pg).await,
            None => self.read(sync).await,
        }
    }

    /// Like [`Db::write_blocking`] for a request handler (see [`Db::read`]). On SQLite the
    /// writes that handlers ask for together are committed together ([`group`]); the group
    /// runs in place when this process's writer turn is free at once, which is nearly always.
    /// When it is not (the checkpointer is restarting the WAL, or a slow checkpoint pass holds
    /// commits back, or another worker thread is writing), the group waits for its turn on
    /// the blocking pool: waiting in place would leave this worker's other requests (reads,
    /// pages, signatures) standing for as long as the disk takes.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        if self.backend == Backend::Postgres {
            return self.write_offloaded(f).await;
        }
        let (job, answer) = group::Job::new(f);
        if self.group.push(job) {
            let lead = Lead(Some(self));
            // The worker's other ready requests run once and queue their writes behind this.
            tokio::task::yield_now().await;
            lead.run().await;
        }
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the write was abandoned with its group".into(),
            ))
        })
    }

    /// [`Db::commit_group`] after waiting for the writer turn (on a blocking thread).
    fn commit_group_when_turn(&self, jobs: Vec<group::Job>) {
        self.commit_group(self.writers.turn(), jobs)
    }

    /// Commits the group `jobs` in one transaction once the caller has the writer turn.
    fn commit_group(&self, _turn: parking_lot::MutexGuard<'_, ()>, jobs: Vec<group::Job>) {
        if jobs.is_empty() {
            return;
        }
        self.writers.groups.fetch_add(1, Ordering::Relaxed);
        let writes = jobs.len() as u64;
        self.writers.grouped.fetch_add(writes, Ordering::Relaxed);
        let mut conn = match self.conn() {
            Ok(conn) => conn,
            Err(e) => return group::refuse(jobs, &e),
        };
        let c = &mut conn.conn;
        if let Err(e) = begin_write(c) {
            return group::refuse(jobs, &StoreError::from_query(e));
        }
        group::run(c, jobs, |c, commit| {
            type Manager = <DbConn as Connection>::TransactionManager;
            if commit {
                Manager::commit_transaction(c)
            } else {
                Manager::rollback_transaction(c)
            }
        });
    }

    /// A read that may take long (whole-table scans): always off the async threads.
    pub async fn read_offloaded<T: Send + 'static>(
        &self,
        f: impl FnMut(&mut DbConn) -> QueryResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.read_blocking(f))
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?
    }

    /// A transaction that may take long (CRL import, fan-out, purge): always off the async
    /// threads, so other requests of the worker keep flowing.
    pub async fn write_offloaded<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.write_blocking(f))
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?
    }

    /// A cheap liveness query for `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| c.batch_execute("SELECT 1")).await
    }
}

/// One write transaction. On SQLite it begins with `BEGIN IMMEDIATE`, taking the write lock
/// up front: a deferred transaction that has read cannot become a writer once another process
/// (`mykey-connect crl import`, a second node's CLI) has committed in between, and SQLite
/// answers "database is locked" at once instead of waiting out `busy_timeout`.
fn write_transaction<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> QueryResult<T>,
) -> QueryResult<T> {
    type Manager = <DbConn as Connection>::TransactionManager;
    begin_write(conn)?;
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback),
        },
    }
}

/// Begins a write transaction: on SQLite `BEGIN IMMEDIATE`, which takes the write lock at once
/// (a deferred one could meet another process's writer only at its first write, and fail).
fn begin_write(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        }
        DbConn::Postgres(_) => <DbConn as Connection>::TransactionManager::begin_transaction(conn),
    }
}

/// The leader of a group of writes ([`Db::write`]). Dropped before it ran the group (its
/// handler went away while the others queued), it hands the group to the blocking pool, so
/// the others are still answered.
struct Lead<'a>(Option<&'a Db>);

impl Lead<'_> {
    async fn run(mut self) {
        let Some(db) = self.0.take() else { return };
        let jobs = db.group.take();
        if let Some(turn) = db.writers.try_turn() {
            return db.commit_group(turn, jobs);
        }
        let db = db.clone();
        let waited = tokio::task::spawn_blocking(move || db.commit_group_when_turn(jobs));
        // A panic there has dropped the jobs: their handlers hear the group was abandoned.
        let _ = waited.await;
    }
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        let Some(db) = self.0.take() else { return };
        let (db, jobs) = (db.clone(), db.group.take());
        if jobs.is_empty() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(move || db.commit_group_when_turn(jobs))),
            Err(_) => db.commit_group_when_turn(jobs),
        }
    }
}

/// How often the SQLite checkpointer copies the WAL back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Copies committed pages from the WAL into the database file every [`CHECKPOINT_EVERY`] on
/// a connection of its own, until `alive` is gone. The WAL and the file are synced here, off
/// every request's path. See [`checkpoint`] for how the WAL is kept from growing.
fn spawn_checkpointer(target: String, alive: std::sync::Weak<()>, writers: Arc<Writers>) {
    let run = move || {
        let mut conn: Option<SqliteConnection> = None;
        while alive.strong_count() > 0 {
            std::thread::sleep(CHECKPOINT_EVERY);
            if conn.is_none() {
                conn = SqliteConnection::establish(&target)
                    .ok()
                    .filter(|_| alive.strong_count() > 0)
                    .and_then(|mut c| {
                        c.batch_execute("PRAGMA busy_timeout = 1000;")
                            .ok()
                            .map(|_| c)
                    });
            }
            let Some(c) = conn.as_mut() else { continue };
            if let Err(e) = checkpoint(c, &writers) {
                tracing::warn!(error = %e, "SQLite checkpoint failed; retrying");
                conn = None;
            }
        }
    };
    if let Err(e) = std::thread::Builder::new()
        .name("sqlite-checkpoint".to_owned())
        .spawn(run)
    {
        tracing::error!(error = %e, "cannot start the SQLite checkpointer");
    }
}

/// What `PRAGMA wal_checkpoint` reports that matters here: the frames in the WAL.
#[derive(diesel::QueryableByName)]
struct CheckpointReport {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
}

/// One checkpoint. A PASSIVE pass copies what it can without waiting for anyone; under a steady
/// stream of commits it never reaches the last frame, because commits keep arriving while it
/// copies. SQLite starts the WAL over only once every frame is copied, so with PASSIVE alone
/// the WAL grows for as long as the load lasts (measured: 1.4 GB in 15 s of code flows). Once
/// the WAL is past [`RESTART_ABOVE_FRAMES`], the checkpointer takes this process's writer lock
/// (SQLite's own busy wait would lose every race against back-to-back commits) and makes a
/// RESTART pass: it copies the few frames the PASSIVE pass left, so the next commit writes from
/// the start of the WAL again, over pages the file already has. Writers wait for that moment,
/// and for the rest of a PASSIVE pass that runs past [`PASSIVE_BUDGET`] (see [`Writers`]).
fn checkpoint(c: &mut SqliteConnection, writers: &Writers) -> QueryResult<()> {
    let passive = writers.passive_pass(|| {
        diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<CheckpointReport>(c)
    })?;
    if passive.log > RESTART_ABOVE_FRAMES {
        let _writers = writers.turn.lock();
        diesel::sql_query("PRAGMA wal_checkpoint(RESTART)").get_result::<CheckpointReport>(c)?;
    }
    Ok(())
}

/// Past this many frames (16 MB of 4 KB pages) the checkpointer restarts the WAL itself; below
/// it, writers are never held back and a WAL copied completely is restarted by the next commit.
const RESTART_ABOVE_FRAMES: i32 = 4096;

/// How long a PASSIVE pass may run before writers wait for its end. A pass copies the WAL's
/// pages into the database file and syncs both; it is bound by the disk's random writes, and on
/// a volume with few IOPS a busy tick's pages take hundreds of milliseconds (the S5 and S7
/// benchmarks on a cloud volume: about two passes a second ran past 100 ms, and one every
/// second or two past 500 ms). When the disk is slower still (other processes flushing, a
/// volume out of burst credits), a sync can take seconds, and every commit meanwhile lengthens
/// the WAL that the next pass must write: measured, 776 MB of WAL after 1 GB of commits. Past
/// this budget commits wait instead, so the WAL holds at most the commits of a tick and a
/// budget.
const PASSIVE_BUDGET: Duration = Duration::from_millis(500);

/// How the writers of one process take turns with each other and with the checkpointer.
struct Writers {
    /// One writer at a time. Fair (parking_lot hands it over at the latest every half
    /// millisecond), so the checkpointer gets it between back-to-back commits.
    turn: Mutex<()>,
    /// Held by the checkpointer for the whole of a PASSIVE pass.
    passive: Mutex<()>,
    /// When the running PASSIVE pass began, in microseconds after `epoch`; 0 between passes.
    passive_began: AtomicU64,
    epoch: Instant,
    /// Writers that waited for a PASSIVE pass past its budget.
    stalls: AtomicU64,
    /// Writers waiting for their turn. While any wait, a request's writer queues behind them
    /// instead of taking a turn that has just come free.
    waiting: AtomicU64,
    /// When the last warning about slow passes was logged, and the slow passes since.
    warned: Mutex<(Option<Instant>, u64)>,
    /// Groups of request handlers' writes committed (or tried), and the writes in them; see
    /// [`group`].
    groups: AtomicU64,
    grouped: AtomicU64,
}

impl Default for Writers {
    fn default() -> Writers {
        Writers {
            turn: Mutex::new(()),
            passive: Mutex::new(()),
            passive_began: AtomicU64::new(0),
            epoch: Instant::now(),
            stalls: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
            warned: Mutex::new((None, 0)),
            groups: AtomicU64::new(0),
            grouped: AtomicU64::new(0),
        }
    }
}

impl Writers {
    /// A writer's turn. A writer that arrives while a PASSIVE pass is past its budget first
    /// waits for the pass to end. Counted in `waiting` until it has the turn.
    fn turn(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.waiting.fetch_add(1, Ordering::AcqRel);
        if self.passive_past_budget() {
            self.stalls.fetch_add(1, Ordering::Relaxed);
            drop(self.passive.lock());
        }
        let turn = self.turn.lock();
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        turn
    }

    /// A writer's turn if it can be had without waiting: none while a PASSIVE pass is past its
    /// budget (the writer must wait for the pass, see [`Writers::turn`]), another writer holds
    /// the turn or others wait for it.
    fn try_turn(&self) -> Option<parking_lot::MutexGuard<'_, ()>> {
        if self.passive_past_budget() || self.waiting.load(Ordering::Acquire) > 0 {
            return None;
        }
        self.turn.try_lock()
    }

    fn passive_past_budget(&self) -> bool {
        let began = self.passive_began.load(Ordering::Acquire);
        began != 0 && self.micros() >= began + PASSIVE_BUDGET.as_micros() as u64
    }

    fn passive_pass<T>(&self, pass: impl FnOnce() -> T) -> T {
        let _pass = self.passive.lock();
        let began = self.micros().max(1);
        self.passive_began.store(began, Ordering::Release);
        let result = pass();
        self.passive_began.store(0, Ordering::Release);
        let took = Duration::from_micros(self.micros() - began);
        if took > PASSIVE_BUDGET {
            self.slow_pass(took);
        }
        result
    }

    /// Tells the operator, at most once a minute, that the disk holds commits back.
    fn slow_pass(&self, took: Duration) {
        let mut warned = self.warned.lock();
        let (at, slow) = &mut *warned;
        *slow += 1;
        if at.is_some_and(|at| at.elapsed() < Duration::from_secs(60)) {
            return;
        }
        tracing::warn!(
            took_ms = took.as_millis() as u64,
            slow_passes = *slow,
            stalled_commits = self.stalls.load(Ordering::Relaxed),
            "SQLite checkpoint slowed by the disk; commits waited for it"
        );
        *warned = (Some(Instant::now()), 0);
    }

    fn micros(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a PASSIVE pass lasting `pass` on another thread and times a writer's turn that
    /// begins `after` into it; also returns the stalls counted.
    fn turn_during_a_pass(pass: Duration, after: Duration) -> (Duration, u64) {
        let writers = Arc::new(Writers::default());
        let checkpointer = {
            let writers = writers.clone();
            std::thread::spawn(move || writers.passive_pass(|| std::thread::sleep(pass)))
        };
        while writers.passive_began.load(Ordering::Acquire) == 0 {
            std::thread::yield_now();
        }
        std::thread::sleep(after);
        let asked = Instant::now();
        drop(writers.turn());
        let waited = asked.elapsed();
        checkpointer.join().expect("checkpointer");
        (waited, writers.stalls.load(Ordering::Relaxed))
    }

    #[test]
    fn a_writer_is_not_held_back_by_a_checkpoint_within_its_budget() {
        let (waited, stalls) =
            turn_during_a_pass(Duration::from_millis(300), Duration::from_millis(20));
        assert!(waited < Duration::from_millis(50), "waited {waited:?}");
        assert_eq!(stalls, 0);
    }

    #[test]
    fn a_writer_waits_for_a_checkpoint_that_has_run_past_its_budget() {
        let after = PASSIVE_BUDGET + Duration::from_millis(100);
        let (waited, stalls) = turn_during_a_pass(PASSIVE_BUDGET * 3, after);
        assert!(waited > PASSIVE_BUDGET, "waited {waited:?}");
        assert_eq!(
            stalls, 1,
            "counted for mykey_sqlite_checkpoint_stalls_total"
        );
    }

    #[test]
    fn a_request_that_reads_is_served_while_a_writer_waits_for_the_checkpointer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sqlite_db(&dir);

        // The checkpointer restarting the WAL holds the writers' turn, as on a slow disk.
        let hold = Duration::from_millis(400);
        let (taken, turn_taken) = std::sync::mpsc::channel();
        let checkpointer = {
            let writers = db.writers.clone();
            std::thread::spawn(move || {
                let _turn = writers.turn.lock();
                taken.send(()).expect("test waits");
                std::thread::sleep(hold);
            })
        };
        turn_taken.recv().expect("checkpointer");

        // A write asked first, a read after it.
        let runtime = one_worker();
        let began = Instant::now();
        let (written, read) = runtime.block_on(async {
            let write = async {
                db.write(insert(1)).await.expect("write");
                began.elapsed()
            };
            let read = async {
                db.read(|c| c.batch_execute("SELECT count(*) FROM t"))
                    .await
                    .expect("read");
                began.elapsed()
            };
            tokio::join!(write, read)
        });
        checkpointer.join().expect("checkpointer");

        assert!(
            read < hold / 4,
            "the read waited {read:?} behind the writer"
        );
        assert!(written >= hold / 2, "the write went in after {written:?}");
    }

    /// One worker thread, as a pinned server runs.
    fn one_worker() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    }

    fn sqlite_db(dir: &tempfile::TempDir) -> Db {
        let url = format!("sqlite://{}", dir.path().join("db.sqlite3").display());
        let db = Db::connect(&url, 4).expect("database");
        db.write_blocking(|c| c.batch_execute("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
            .expect("table");
        db
    }

    fn kept(db: &Db) -> Vec<i64> {
        #[derive(QueryableByName)]
        struct X {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            x: i64,
        }
        db.read_blocking(|c| diesel::sql_query("SELECT x FROM t ORDER BY x").load::<X>(c))
            .expect("read")
            .into_iter()
            .map(|r| r.x)
            .collect()
    }

    fn insert(x: i64) -> impl FnOnce(&mut DbConn) -> QueryResult<usize> + Send + 'static {
        move |c| {
            diesel::sql_query("INSERT INTO t VALUES (?)")
                .bind::<diesel::sql_types::BigInt, _>(x)
                .execute(c)
        }
    }

    #[test]
    fn writes_asked_together_commit_together_and_a_failing_one_is_undone_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sqlite_db(&dir);
        db.write_blocking(insert(1)).expect("first row");
        let (groups, writes) = db.write_groups();

        let runtime = one_worker();
        let (a, b, c) = runtime.block_on(async {
            tokio::join!(
                db.write(insert(10)),
                // Writes 20, then meets the row that exists: all of it is undone.
                db.write(|c| {
                    insert(20)(c)?;
                    insert(1)(c)
                }),
                // Sees what the writes before it in the group did.
                db.write(|c| {
                    insert(30)(c)?;
                    #[derive(QueryableByName)]
                    struct N {
                        #[diesel(sql_type = diesel::sql_types::BigInt)]
                        n: i64,
                    }
                    diesel::sql_query("SELECT count(*) AS n FROM t WHERE x IN (10, 20)")
                        .get_result::<N>(c)
                        .map(|r| r.n)
                }),
            )
        });

        assert_eq!(a.expect("first write"), 1);
        let refused = b.expect_err("the write meeting an existing row");
        assert!(refused.is_unique_violation(), "{refused}");
        assert_eq!(c.expect("third write"), 1, "10 was there, 20 was undone");
        assert_eq!(kept(&db), vec![1, 10, 30]);
        assert_eq!(
            db.write_groups(),
            (groups + 1, writes + 3),
            "the three writes were one transaction"
        );
    }

    #[test]
    fn a_write_that_breaks_its_groups_transaction_leaves_nothing_of_the_group() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sqlite_db(&dir);
        let runtime = one_worker();
        let (a, b, c) = runtime.block_on(async {
            tokio::join!(
                db.write(insert(10)),
                // Ends the group's transaction under it: the group cannot be committed.
                db.write(|c| c.batch_execute("ROLLBACK")),
                db.write(insert(30)),
            )
        });
        // The others did nothing wrong: they hear that nothing was done and may try again.
        assert!(
            a.is_err_and(|e| e.is_unavailable()),
            "the write before the break is told it was not kept"
        );
        assert!(b.is_err(), "the breaking write is told its error");
        assert!(
            c.is_err_and(|e| e.is_unavailable()),
            "the write after the break is not run"
        );
        assert_eq!(kept(&db), Vec::<i64>::new());

        let later = runtime.block_on(db.write(insert(40)));
        assert_eq!(later.expect("a later write"), 1);
        assert_eq!(kept(&db), vec![40]);
    }

    #[test]
    fn a_group_whose_leader_goes_away_before_running_it_is_still_committed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sqlite_db(&dir);
        let runtime = one_worker();
        let followed = runtime.block_on(async {
            let mut leader = Box::pin(db.write(insert(10)));
            let mut follower = Box::pin(db.write(insert(20)));
            assert!(
                futures_util::poll!(leader.as_mut()).is_pending(),
                "leads, lets others in"
            );
            assert!(
                futures_util::poll!(follower.as_mut()).is_pending(),
                "queued behind it"
            );
            // The leader's handler goes away (its client disconnected) while others wait.
            drop(leader);
            follower.await
        });
        assert_eq!(followed.expect("the follower's write"), 1);
        assert_eq!(kept(&db), vec![10, 20], "the group ran as handed over");
    }
}
