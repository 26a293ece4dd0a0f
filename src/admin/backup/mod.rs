//! Backup and restore of a SQLite deployment, audited and verified: a consistent copy of the
//! live database, and a restore that refuses a database in use, verifies the copy's audit chain
//! and keys before it replaces anything, and keeps what it replaced. PostgreSQL deployments use
//! `pg_dump` and `pg_restore` (README, "Backup and restore").
//!
//! The key-encryption key that seals the signing keys is not inside the database: without it a
//! backup cannot sign anything. With SQLite it lives in `<database>.kek` unless the settings give
//! it; a backup leaves it out unless asked, and always says where it is.

mod restore;
mod verify;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

pub use restore::{restore, Restored};
pub use verify::{check, Checked};

use super::Principal;
use crate::audit::{self, chain, AuditError, Event, Kind};
use crate::config::Settings;
use crate::jose::Kek;
use crate::provider::secrets::kek_file;
use crate::store::db::DatabaseUrl;
use crate::store::{backup as files, Backend, Db, StoreError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    #[error(
        "backup and restore are for SQLite databases; back up PostgreSQL with pg_dump and \
         restore it with pg_restore (README: Backup and restore)"
    )]
    Postgres,
    #[error("there is no database at {0}")]
    NoDatabase(PathBuf),
    #[error("{0} already exists; choose a new name")]
    Exists(PathBuf),
    #[error(
        "{0} is open in another process (a running provider, another node or a command): stop \
         the provider first (systemctl stop mykey-connect)"
    )]
    InUse(PathBuf),
    #[error("{0}")]
    NoKey(String),
    #[error("{0}")]
    AuditBroken(String),
    #[error(
        "the key-encryption key does not open {0}: the database needs the key it was made with"
    )]
    KeysDoNotOpen(String),
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl From<diesel::result::Error> for BackupError {
    fn from(e: diesel::result::Error) -> BackupError {
        BackupError::Store(StoreError::Query(e))
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Where the key-encryption key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPlace {
    /// In the settings (`key_encryption_key` / `MYKEY_KEY_ENCRYPTION_KEY`).
    Settings,
    /// In a key file.
    File(PathBuf),
}

/// The SQLite file of the settings' database, or why there is none to back up or restore.
fn sqlite_path(settings: &Settings) -> Result<PathBuf, BackupError> {
    let url = DatabaseUrl::parse(&settings.database_url)?;
    match url.backend {
        Backend::Sqlite => Ok(PathBuf::from(url.target)),
        Backend::Postgres => Err(BackupError::Postgres),
    }
}

/// The key-encryption key of the settings' database, and where it was found.
fn deployment_key(settings: &Settings) -> Result<(Kek, KeyPlace), BackupError> {
    if let Some(text) = &settings.key_encryption_key {
        let kek = Kek::from_settings_text(text)
            .map_err(|e| BackupError::NoKey(format!("key_encryption_key: {e}")))?;
        return Ok((kek, KeyPlace::Settings));
    }
    let path = kek_file(&settings.database_url).map_err(|e| BackupError::NoKey(e.to_string()))?;
    let kek = read_key_file(&path)?;
    Ok((kek, KeyPlace::File(path)))
}

fn read_key_file(path: &Path) -> Result<Kek, BackupError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        BackupError::NoKey(format!(
            "cannot read the key-encryption key {}: {e}",
            path.display()
        ))
    })?;
    Kek::from_settings_text(text.trim())
        .map_err(|e| BackupError::NoKey(format!("{}: {e}", path.display())))
}

/// Writes a copy of a key file, readable by its owner only; never over an existing file.
fn copy_private(from: &Path, to: &Path) -> Result<(), BackupError> {
    use std::io::Write as _;
    let bytes = std::fs::read(from).map_err(io(from))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
        .open(to)
        .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.sync_all()))
        .map_err(io(to))
}

/// `FILE.kek`: where a backup's key file goes, and where a restore looks for one.
pub fn key_file_of(backup: &Path) -> PathBuf {
    let mut name = backup.as_os_str().to_owned();
    name.push(".kek");
    PathBuf::from(name)
}

/// What a backup wrote and found.
#[derive(Debug, Clone)]
pub struct BackedUp {
    pub file: PathBuf,
    /// Where the key is: in the settings, in the deployment's key file, or (`with_key`) also in
    /// `FILE.kek`.
    pub key: KeyPlace,
    pub key_copy: Option<PathBuf>,
    pub checked: Checked,
}

impl std::fmt::Display for BackedUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "backup written to {}", self.file.display())?;
        writeln!(f, "verified: {}", self.checked)?;
        match (&self.key, &self.key_copy) {
            (_, Some(copy)) => writeln!(
                f,
                "the key-encryption key is in {}: whoever holds both files can use the signing \
                 keys; keep it apart from the backup (another medium, a secret store)",
                copy.display()
            ),
            (KeyPlace::Settings, None) => writeln!(
                f,
                "the key-encryption key is not in the backup: it is the key_encryption_key of \
                 your settings, and a restore needs that same key"
            ),
            (KeyPlace::File(path), None) => writeln!(
                f,
                "the key-encryption key is NOT in the backup: without it the backup cannot open \
                 its signing keys. It is in {} and never changes: keep one copy of it apart from \
                 your backups (or run backup --with-key to write FILE.kek)",
                path.display()
            ),
        }
    }
}

/// How long a backup waits for a running provider's chainer to finish its batch.
const PATIENCE: Duration = Duration::from_secs(30);

/// Copies the settings' SQLite database into `to` while the provider runs, verifies the copy,
/// and (`with_key`) copies the key file beside it as `to.kek`. The backup is audited.
pub fn backup(
    settings: &Settings,
    who: &Principal,
    to: &Path,
    with_key: bool,
    now: i64,
) -> Result<BackedUp, BackupError> {
    let path = sqlite_path(settings)?;
    if !path.is_file() {
        return Err(BackupError::NoDatabase(path));
    }
    let key_copy = with_key.then(|| key_file_of(to));
    for target in std::iter::once(to).chain(key_copy.as_deref()) {
        if target.exists() {
            return Err(BackupError::Exists(target.to_path_buf()));
        }
    }
    let (kek, place) = deployment_key(settings)?;
    if let (Some(_), KeyPlace::Settings) = (&key_copy, &place) {
        return Err(BackupError::NoKey(
            "--with-key copies a key file, but this deployment's key-encryption key is in the \
             settings: keep it where the settings come from"
                .to_owned(),
        ));
    }
    let db = Db::open_for_command(&settings.database_url)?;
    let event = Event::new(Kind::BackupCreated, who.actor.clone())
        .data(json!({ "file": to.display().to_string(), "with_key": with_key }));
    db.write_blocking(|c| audit::record(c, &event, now))?;
    chain::drain_blocking(&db, PATIENCE)?;
    files::copy_sqlite(&db, to)?;
    let checked = {
        let mut copy = files::open_file(to)?;
        check(&mut copy, &kek, false)
    };
    let checked = match checked {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(to);
            return Err(e);
        }
    };
    if let (Some(copy), KeyPlace::File(from)) = (&key_copy, &place) {
        copy_private(from, copy)?;
    }
    Ok(BackedUp {
        file: to.to_path_buf(),
        key: place,
        key_copy,
        checked,
    })
}
