//! Restoring a SQLite backup over the deployment's database: only while nobody has the database
//! open, only a copy that migrates and verifies, and keeping the database it replaces.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use super::{
    check, copy_private, io, key_file_of, read_key_file, sqlite_path, BackupError, Checked,
    KeyPlace,
};
use crate::admin::Principal;
use crate::audit::{self, chain, Event, Kind};
use crate::config::Settings;
use crate::jose::Kek;
use crate::provider::secrets::kek_file;
use crate::store::{backup as files, Db};

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    pub from: PathBuf,
    pub database: PathBuf,
    /// The database it replaced, kept under this name (`None`: there was none).
    pub replaced: Option<PathBuf>,
    /// Where the key that opened the backup came from.
    pub key: KeyPlace,
    /// The deployment's key file, when the restore put the backup's key there.
    pub key_installed: Option<PathBuf>,
    /// Migrations applied to bring the backup to this version's schema.
    pub migrations: Vec<String>,
    pub checked: Checked,
}

impl std::fmt::Display for Restored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "restored {} into {}",
            self.from.display(),
            self.database.display()
        )?;
        if !self.migrations.is_empty() {
            writeln!(
                f,
                "migrated the backup to this version: {}",
                self.migrations.join(", ")
            )?;
        }
        writeln!(f, "verified: {}", self.checked)?;
        if let Some(kept) = &self.replaced {
            writeln!(f, "the database it replaced is kept as {}", kept.display())?;
        }
        if let Some(key) = &self.key_installed {
            writeln!(
                f,
                "the backup's key-encryption key is now {}",
                key.display()
            )?;
        }
        Ok(())
    }
}

/// The key that opens the backup: the settings' key, `--key FILE`, `FROM.kek` beside the
/// backup, or the deployment's own key file, in that order.
fn backup_key(
    settings: &Settings,
    from: &Path,
    key: Option<&Path>,
) -> Result<(Kek, KeyPlace), BackupError> {
    match (&settings.key_encryption_key, key) {
        (Some(_), Some(_)) => Err(BackupError::NoKey(
            "--key names a key file, but the settings give key_encryption_key: the restored \
             database must open with that key"
                .to_owned(),
        )),
        (Some(text), None) => Kek::from_settings_text(text)
            .map(|k| (k, KeyPlace::Settings))
            .map_err(|e| BackupError::NoKey(format!("key_encryption_key: {e}"))),
        (None, Some(path)) => Ok((read_key_file(path)?, KeyPlace::File(path.to_path_buf()))),
        (None, None) => {
            let beside = key_file_of(from);
            let current =
                kek_file(&settings.database_url).map_err(|e| BackupError::NoKey(e.to_string()))?;
            let path = [beside.clone(), current.clone()]
                .into_iter()
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    BackupError::NoKey(format!(
                        "the backup's key-encryption key is needed: neither {} nor {} exists; \
                         pass --key FILE",
                        beside.display(),
                        current.display()
                    ))
                })?;
            Ok((read_key_file(&path)?, KeyPlace::File(path)))
        }
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// How long the restore waits to chain its own audit entry.
const PATIENCE: Duration = Duration::from_secs(30);

/// Replaces the settings' SQLite database with the backup `from`. Refuses while any process has
/// the database open. The backup is copied beside the database, migrated to this version and
/// verified (audit chain, every sealed key opens) before anything is replaced; the replaced
/// database is kept as `<database>.replaced-<time>`. The restore is audited in the restored
/// database.
pub fn restore(
    settings: &Settings,
    who: &Principal,
    from: &Path,
    key: Option<&Path>,
    now: i64,
) -> Result<Restored, BackupError> {
    let target = sqlite_path(settings)?;
    if !files::is_sqlite_file(from) {
        return Err(BackupError::Io {
            path: from.to_path_buf(),
            message: "not a SQLite database".to_owned(),
        });
    }
    let (kek, place) = backup_key(settings, from, key)?;
    let mut lock = if target.exists() {
        let lock = files::lock_exclusively(&target)?;
        Some(lock.ok_or_else(|| BackupError::InUse(target.clone()))?)
    } else {
        None
    };
    let staging = sibling(&target, ".restoring");
    for stale in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(sibling(&staging, stale));
    }
    std::fs::copy(from, &staging).map_err(io(&staging))?;
    set_private(&staging)?;
    let verified = files::open_file(&staging)
        .map_err(BackupError::from)
        .and_then(|mut c| {
            let migrations = files::migrate_file(&mut c)?;
            Ok((migrations, check(&mut c, &kek, true)?))
        });
    let (migrations, checked) = match verified {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            return Err(e);
        }
    };
    let replaced = match lock.as_mut() {
        Some(lock) => {
            lock.leave_wal()?;
            let kept = sibling(&target, &format!(".replaced-{now}"));
            std::fs::rename(&target, &kept).map_err(io(&target))?;
            let _ = std::fs::remove_file(sibling(&target, "-shm"));
            Some(kept)
        }
        None => None,
    };
    std::fs::rename(&staging, &target).map_err(io(&target))?;
    drop(lock);
    let key_installed = install_key(settings, &place, replaced.as_deref(), now)?;

    let db = Db::open_for_command(&settings.database_url)?;
    let event = Event::new(Kind::DatabaseRestored, who.actor.clone()).data(json!({
        "from": from.display().to_string(),
        "replaced": replaced.as_ref().map(|p| p.display().to_string()),
        "migrations": migrations,
    }));
    db.write_blocking(|c| audit::record(c, &event, now))?;
    chain::drain_blocking(&db, PATIENCE)?;
    Ok(Restored {
        from: from.to_path_buf(),
        database: target,
        replaced,
        key: place,
        key_installed,
        migrations,
        checked,
    })
}

fn set_private(path: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io(path))?;
    }
    Ok(())
}

/// Puts the key file that opened the backup where the deployment reads it, when the settings
/// give no key and it is not there already. A different key found there is kept beside the
/// replaced database.
fn install_key(
    settings: &Settings,
    used: &KeyPlace,
    replaced: Option<&Path>,
    now: i64,
) -> Result<Option<PathBuf>, BackupError> {
    let KeyPlace::File(used) = used else {
        return Ok(None);
    };
    let current =
        kek_file(&settings.database_url).map_err(|e| BackupError::NoKey(e.to_string()))?;
    if *used == current {
        return Ok(None);
    }
    if current.exists() {
        let same = std::fs::read(&current).map_err(io(&current))?
            == std::fs::read(used).map_err(io(used))?;
        if same {
            return Ok(None);
        }
        let kept = match replaced {
            Some(db) => sibling(db, ".kek"),
            None => sibling(&current, &format!(".replaced-{now}")),
        };
        std::fs::rename(&current, &kept).map_err(io(&current))?;
    }
    copy_private(used, &current)?;
    Ok(Some(current))
}
