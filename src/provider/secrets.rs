//! Start-up secrets: the key-encryption key and the pairwise key.

use std::path::PathBuf;

use crate::config::Settings;
use crate::domain::secret::random_bytes;
use crate::jose::{Kek, OpenedKey};
use crate::oidc::pairwise::PairwiseKey;
use crate::store::{self, Backend, Db};

use super::grants::CodeSeal;
use super::StartError;

const PAIRWISE_SECRET: &str = "pairwise_key";
const CODE_SECRET: &str = "code_key";

/// The KEK from settings; for SQLite without one, a key file beside the database is created
/// (mode 0600) so a single node runs with zero set-up. PostgreSQL nodes must share a set one.
pub fn key_encryption_key(settings: &Settings, db: &Db) -> Result<Kek, StartError> {
    if let Some(text) = &settings.key_encryption_key {
        return Kek::from_settings_text(text)
            .map_err(|e| StartError::Config(format!("key_encryption_key: {e}")));
    }
    if db.backend() == Backend::Postgres {
        return Err(StartError::Config(
            "MYKEY_KEY_ENCRYPTION_KEY (or key_encryption_key) is required with PostgreSQL: \
             every node must use the same 32-byte key (e.g. `openssl rand -base64 32`)"
                .to_owned(),
        ));
    }
    let path = kek_file(&settings.database_url)?;
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Kek::from_settings_text(text.trim())
            .map_err(|e| StartError::Config(format!("{}: {e}", path.display())));
    }
    let bytes = random_bytes(32);
    let text = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes);
    write_private(&path, text.as_bytes())
        .map_err(|e| StartError::Config(format!("cannot create {}: {e}", path.display())))?;
    tracing::info!(path = %path.display(), "created a key-encryption key file");
    Kek::from_bytes(&bytes).map_err(|e| StartError::Config(e.to_string()))
}

fn kek_file(database_url: &str) -> Result<PathBuf, StartError> {
    let url = store::db::DatabaseUrl::parse(database_url)
        .map_err(|e| StartError::Config(e.to_string()))?;
    Ok(PathBuf::from(format!("{}.kek", url.target)))
}

fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

/// The pairwise key from settings, or generated once and kept sealed in the database so every
/// node derives the same subjects.
pub fn pairwise_key(
    settings: &Settings,
    db: &Db,
    kek: &Kek,
    now: i64,
) -> Result<PairwiseKey, StartError> {
    if let Some(text) = &settings.pairwise_key {
        let bytes = decode_key(text)
            .ok_or_else(|| StartError::Config("pairwise_key must be base64 of 32 bytes".into()))?;
        return Ok(PairwiseKey::new(&bytes));
    }
    let key = stored_secret(db, kek, PAIRWISE_SECRET, now)?;
    Ok(PairwiseKey::new(key.as_bytes()))
}

/// The key that seals authorization codes, generated once and kept sealed in the database so
/// that a code issued by one node opens at every other.
pub fn code_key(db: &Db, kek: &Kek, now: i64) -> Result<CodeSeal, StartError> {
    let key = stored_secret(db, kek, CODE_SECRET, now)?;
    CodeSeal::new(key.as_bytes()).map_err(|e| StartError::Config(e.to_owned()))
}

/// 32 random bytes kept under `name`, sealed with the KEK; created by the first node to start.
fn stored_secret(db: &Db, kek: &Kek, name: &str, now: i64) -> Result<OpenedKey, StartError> {
    let stored = db.read_blocking(|c| store::keys::secret(c, name))?;
    let sealed = match stored {
        Some(sealed) => sealed,
        None => {
            let sealed = kek
                .seal(
                    name,
                    &random_bytes(32),
                    &aws_lc_rs::rand::SystemRandom::new(),
                )
                .map_err(|e| StartError::Config(e.to_string()))?;
            match db.write_blocking(|c| store::keys::insert_secret(c, name, &sealed, now)) {
                Ok(()) => sealed,
                // Another node created it first: use theirs.
                Err(e) if e.is_unique_violation() => db
                    .read_blocking(|c| store::keys::secret(c, name))?
                    .ok_or_else(|| StartError::Config(format!("the stored {name} vanished")))?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    kek.open(name, &sealed).map_err(|e| {
        StartError::Config(format!(
            "cannot open the stored {name} (is the key-encryption key the one it was created \
             with?): {e}"
        ))
    })
}

fn decode_key(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let text = text.trim();
    let bytes = STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE_NO_PAD.decode(text))
        .ok()?;
    (bytes.len() == 32).then_some(bytes)
}
