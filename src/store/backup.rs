//! SQLite files for backup and restore: a consistent copy of a live database, a plain
//! connection to a copy (no pool, no checkpointer thread), migrations on it, and an exclusive
//! lock that proves no other process has a database open.

use std::path::Path;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::MigrationHarness as _;

use super::db::SQLITE_MIGRATIONS;
use super::{Backend, Db, DbConn, StoreError};

/// Copies the database behind `db` into `to`, which must not exist, as one consistent snapshot
/// while the provider keeps reading and writing. `VACUUM INTO` (SQLite 3.27) reads the database
/// in one read transaction of its own and writes a compact copy. SQLite's online backup API
/// would do the same page by page, but this crate reaches it only through `unsafe` FFI calls,
/// which it forbids. The copy is created readable by its owner only: it holds sealed keys and
/// personal data.
pub fn copy_sqlite(db: &Db, to: &Path) -> Result<(), StoreError> {
    if db.backend() != Backend::Sqlite {
        return Err(StoreError::BadUrl(
            "copies are made of SQLite databases only".to_owned(),
        ));
    }
    let target = to
        .to_str()
        .ok_or_else(|| StoreError::Unavailable(format!("{} is not UTF-8", to.display())))?
        .to_owned();
    // VACUUM INTO writes into an empty file, which is created here with the right mode.
    create_private(to).map_err(|e| StoreError::Unavailable(format!("{}: {e}", to.display())))?;
    let copied = db.read_blocking(|c| match c {
        DbConn::Sqlite(c) => diesel::sql_query("VACUUM INTO ?")
            .bind::<Text, _>(&target)
            .execute(c),
        DbConn::Postgres(_) => Err(diesel::result::Error::NotFound),
    });
    if copied.is_err() {
        let _ = std::fs::remove_file(to);
    }
    copied.map(drop)
}

fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

/// Whether the file starts like a SQLite database.
pub fn is_sqlite_file(path: &Path) -> bool {
    use std::io::Read as _;
    let mut header = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok_and(|()| &header == b"SQLite format 3\0")
}

/// One plain connection to an existing SQLite file. Closing it (dropping) leaves no WAL behind,
/// so the file can be moved at once.
pub fn open_file(path: &Path) -> Result<DbConn, StoreError> {
    if !is_sqlite_file(path) {
        return Err(StoreError::BadUrl(format!(
            "{} is not a SQLite database",
            path.display()
        )));
    }
    let mut conn = SqliteConnection::establish(&path.display().to_string())
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    conn.batch_execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;")?;
    Ok(DbConn::Sqlite(conn))
}

/// Brings a file opened with [`open_file`] to this version's schema; returns what it applied.
pub fn migrate_file(conn: &mut DbConn) -> Result<Vec<String>, StoreError> {
    match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|applied| applied.iter().map(|v| v.to_string()).collect())
            .map_err(|e| StoreError::Migration(e.to_string())),
        DbConn::Postgres(_) => Err(StoreError::BadUrl("not a SQLite file".to_owned())),
    }
}

/// Holds a SQLite database so that nobody else can open it, until dropped.
pub struct ExclusiveLock {
    conn: SqliteConnection,
}

impl ExclusiveLock {
    /// Takes the database out of WAL mode, which copies the WAL into it and deletes the WAL:
    /// the file alone is then the whole database and can be moved while this lock holds it.
    pub fn leave_wal(&mut self) -> Result<(), StoreError> {
        #[derive(QueryableByName)]
        struct Mode {
            #[diesel(sql_type = Text)]
            journal_mode: String,
        }
        let mode =
            diesel::sql_query("PRAGMA journal_mode = DELETE").get_result::<Mode>(&mut self.conn)?;
        if mode.journal_mode != "delete" {
            return Err(StoreError::Unavailable(format!(
                "the database stayed in {} mode",
                mode.journal_mode
            )));
        }
        Ok(())
    }
}

/// Takes the database at `path` for this process alone; `None` when another process has it
/// open. In WAL mode every connection holds a shared lock for as long as it is open, so an
/// exclusive lock is granted only when no provider, node or command is connected, idle or not.
pub fn lock_exclusively(path: &Path) -> Result<Option<ExclusiveLock>, StoreError> {
    let mut conn = SqliteConnection::establish(&path.display().to_string())
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    conn.batch_execute("PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE;")?;
    match conn.batch_execute("BEGIN EXCLUSIVE; COMMIT;") {
        Ok(()) => Ok(Some(ExclusiveLock { conn })),
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("locked") || info.message().contains("busy") =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}
