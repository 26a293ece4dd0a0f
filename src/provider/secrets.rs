//! Start-up secrets: the key-encryption key, the pairwise key and the code-sealing key.

use std::path::PathBuf;

use crate::config::Settings;
use crate::domain::secret::random_bytes;
use crate::jose::{Kek, NonceKey, OpenedKey};
use crate::oidc::pairwise::PairwiseKey;
use crate::store::keys::CodeKeyRow;
use crate::store::{self, Backend, Db};

use super::grants::CodeSeal;
use super::StartError;

const PAIRWISE_SECRET: &str = "pairwise_key";
const DPOP_NONCE_SECRET: &str = "dpop_nonce_key";

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

/// `<database>.kek`: where a SQLite deployment keeps its key-encryption key when the settings
/// do not give one.
pub fn kek_file(database_url: &str) -> Result<PathBuf, StartError> {
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

/// The key DPoP nonces are made with when the settings require nonces: generated once and kept
/// sealed in the database, so a nonce one node hands out is accepted by every other.
pub fn dpop_nonce_key(
    settings: &Settings,
    db: &Db,
    kek: &Kek,
    now: i64,
) -> Result<Option<NonceKey>, StartError> {
    if !settings.dpop_nonce_required {
        return Ok(None);
    }
    let key = stored_secret(db, kek, DPOP_NONCE_SECRET, now)?;
    Ok(Some(NonceKey::new(key.as_bytes())))
}

/// The label a code-key generation is sealed under. Generation 1 keeps the name of the single
/// key of earlier versions, so the migration that introduced generations carried it over as it
/// was.
pub fn code_key_label(generation: i64) -> String {
    match generation {
        1 => "code_key".to_owned(),
        n => format!("code_key.{n}"),
    }
}

/// Every generation of the key that seals authorization codes, opened. The first node to start
/// creates generation 1, so that a code issued by one node opens at every other.
pub fn code_keys(db: &Db, kek: &Kek, now: i64) -> Result<CodeSeal, StartError> {
    let mut rows = db.read_blocking(store::keys::code_keys)?;
    if rows.is_empty() {
        let row = new_code_key(kek, 1, now, now)?;
        match db.write_blocking(|c| store::keys::insert_code_key(c, &row)) {
            // Another node created it first: use theirs.
            Ok(()) => {}
            Err(e) if e.is_unique_violation() => {}
            Err(e) => return Err(e.into()),
        }
        rows = db.read_blocking(store::keys::code_keys)?;
    }
    open_code_keys(&rows, kek)
}

/// A new generation of the code key, sealed under the KEK, sealing from `activate_at`.
pub fn new_code_key(
    kek: &Kek,
    generation: i64,
    now: i64,
    activate_at: i64,
) -> Result<CodeKeyRow, StartError> {
    let sealed = kek
        .seal(
            &code_key_label(generation),
            &random_bytes(32),
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .map_err(|e| StartError::Config(e.to_string()))?;
    Ok(CodeKeyRow {
        generation,
        sealed_key: sealed,
        created_at: now,
        activate_at,
    })
}

/// Opens stored generations into a seal.
pub fn open_code_keys(rows: &[CodeKeyRow], kek: &Kek) -> Result<CodeSeal, StartError> {
    let mut opened = Vec::with_capacity(rows.len());
    for row in rows {
        let key = kek
            .open(&code_key_label(row.generation), &row.sealed_key)
            .map_err(|e| {
                StartError::Config(format!(
                    "cannot open generation {} of the code key (is the key-encryption key the \
                     one it was created with?): {e}",
                    row.generation
                ))
            })?;
        let number = u32::try_from(row.generation).map_err(|_| {
            StartError::Config(format!("bad code key generation {}", row.generation))
        })?;
        opened.push((number, key, row.activate_at));
    }
    let keys: Vec<(u32, &[u8], i64)> = opened
        .iter()
        .map(|(n, k, a)| (*n, k.as_bytes(), *a))
        .collect();
    CodeSeal::with_generations(&keys).map_err(|e| StartError::Config(e.to_owned()))
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

/// 32 key bytes from base64 or base64url text.
pub fn decode_key(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let text = text.trim();
    let bytes = STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE_NO_PAD.decode(text))
        .ok()?;
    (bytes.len() == 32).then_some(bytes)
}
