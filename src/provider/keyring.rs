//! The provider's signing keys: loaded from the database, current key per algorithm chosen by
//! time, JWKS served from a cached document, rotation with a publication lead time.

use std::sync::{Arc, RwLock};

use aws_lc_rs::rand::SystemRandom;

use crate::audit::{Actor, Event, Kind};
use crate::domain::IdTokenAlg;
use crate::jose::{Alg, Kek, SigningKey, VerifyingKey};
use crate::store::keys::SigningKeyRow;
use crate::store::{self, Db, StoreError};

use super::StartError;

/// One loaded key with its schedule.
struct LoadedKey {
    key: Arc<SigningKey>,
    activate_at: i64,
    retired_at: Option<i64>,
}

/// An immutable snapshot of the keys; replaced as a whole on refresh.
pub struct KeySet {
    keys: Vec<LoadedKey>,
    /// The JWKS document, serialised once per snapshot.
    pub jwks_json: bytes::Bytes,
    pub verifying: Vec<VerifyingKey>,
}

impl KeySet {
    /// The key that signs for `alg` at `now`: the newest activated one not yet retired.
    pub fn signing_key(&self, alg: IdTokenAlg, now: i64) -> Option<&Arc<SigningKey>> {
        let want = jose_alg(alg);
        self.keys
            .iter()
            .filter(|k| k.key.alg() == want && k.activate_at <= now)
            .filter(|k| k.retired_at.is_none_or(|r| r > now))
            .max_by_key(|k| k.activate_at)
            .map(|k| &k.key)
    }
}

/// Audit checkpoints are signed with the current RS256 key.
impl crate::audit::prune::CheckpointSigner for KeySet {
    fn checkpoint_key(&self, now: i64) -> Option<&SigningKey> {
        self.signing_key(IdTokenAlg::Rs256, now).map(|k| &**k)
    }
}

pub fn jose_alg(alg: IdTokenAlg) -> Alg {
    match alg {
        IdTokenAlg::Rs256 => Alg::RS256,
        IdTokenAlg::Ps256 => Alg::PS256,
        IdTokenAlg::Es256 => Alg::ES256,
    }
}

/// Shared handle to the current snapshot.
pub struct KeyRing {
    current: RwLock<Arc<KeySet>>,
    /// How long a retired key stays published (the longest token lifetime).
    retention: i64,
}

impl KeyRing {
    /// Loads the keys, creating a key for each algorithm that has none (RS256, PS256 and ES256 on
    /// first start; PS256 when upgrading from a version without it).
    pub fn open(db: &Db, kek: &Kek, retention: i64, now: i64) -> Result<KeyRing, StartError> {
        for alg in IdTokenAlg::ALL {
            let rows = db.read_blocking(store::keys::all)?;
            let set = build(&rows, kek, retention, now)?;
            if set.signing_key(alg, now).is_none() {
                let row = new_key_row(alg, kek, now, now)?;
                db.write_blocking(|c| store::keys::insert(c, &row))?;
                tracing::info!(kid = %row.kid, alg = alg.as_str(), "created a signing key");
            }
        }
        let rows = db.read_blocking(store::keys::all)?;
        Ok(KeyRing {
            current: RwLock::new(Arc::new(build(&rows, kek, retention, now)?)),
            retention,
        })
    }

    pub fn snapshot(&self) -> Arc<KeySet> {
        self.current
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Re-reads the table (keys rotated on another node, retired keys dropping out of JWKS).
    pub fn refresh(&self, db: &Db, kek: &Kek, now: i64) -> Result<(), StartError> {
        let rows = db.read_blocking(store::keys::all)?;
        let set = Arc::new(build(&rows, kek, self.retention, now)?);
        match self.current.write() {
            Ok(mut g) => *g = set,
            Err(p) => *p.into_inner() = set,
        }
        Ok(())
    }
}

/// Schedules a rotation: a new key published now that signs from `now + lead`, when the old
/// one stops. Returns the new key id.
pub fn rotate(
    db: &Db,
    kek: &Kek,
    alg: IdTokenAlg,
    lead: i64,
    now: i64,
    actor: &Actor,
) -> Result<String, StartError> {
    let row = new_key_row(alg, kek, now, now + lead)?;
    let kid = row.kid.clone();
    let want = jose_alg(alg).as_str().to_owned();
    let event = Event::new(Kind::KeysRotated, actor.clone())
        .data(serde_json::json!({ "kid": kid, "alg": alg.as_str(), "lead": lead }));
    db.write_blocking(move |c| {
        for old in store::keys::all(c)? {
            if old.alg == want && old.retired_at.is_none() {
                store::keys::retire(c, &old.kid, now + lead)?;
            }
        }
        store::keys::insert(c, &row)?;
        crate::audit::record(c, &event, now)
    })?;
    Ok(kid)
}

fn new_key_row(
    alg: IdTokenAlg,
    kek: &Kek,
    now: i64,
    activate_at: i64,
) -> Result<SigningKeyRow, StartError> {
    let alg = jose_alg(alg);
    let crypto = |e: crate::jose::JoseError| StartError::Config(e.to_string());
    let pkcs8 = SigningKey::generate(alg).map_err(crypto)?;
    let key = SigningKey::from_pkcs8(alg, pkcs8.as_bytes()).map_err(crypto)?;
    let sealed = kek
        .seal(key.kid(), pkcs8.as_bytes(), &SystemRandom::new())
        .map_err(crypto)?;
    Ok(SigningKeyRow {
        kid: key.kid().to_owned(),
        alg: alg.as_str().to_owned(),
        sealed_private_key: sealed,
        public_jwk: serde_json::to_string(key.public_jwk())
            .map_err(|e| StartError::Config(format!("cannot serialise a public key: {e}")))?,
        created_at: now,
        activate_at,
        retired_at: None,
    })
}

fn build(
    rows: &[SigningKeyRow],
    kek: &Kek,
    retention: i64,
    now: i64,
) -> Result<KeySet, StartError> {
    let mut keys = Vec::new();
    for row in rows {
        if row.retired_at.is_some_and(|r| r + retention < now) {
            continue;
        }
        let Ok(alg) = row.alg.parse::<Alg>() else {
            tracing::warn!(kid = %row.kid, alg = %row.alg, "skipping a key of unknown algorithm");
            continue;
        };
        let opened = kek.open(&row.kid, &row.sealed_private_key).map_err(|e| {
            StartError::Config(format!(
                "cannot open signing key {} (wrong key-encryption key?): {e}",
                row.kid
            ))
        })?;
        let key = SigningKey::from_pkcs8(alg, opened.as_bytes())
            .map_err(|e| StartError::Config(format!("signing key {}: {e}", row.kid)))?;
        keys.push(LoadedKey {
            key: Arc::new(key),
            activate_at: row.activate_at,
            retired_at: row.retired_at,
        });
    }
    let jwks = serde_json::json!({
        "keys": keys.iter().map(|k| k.key.public_jwk()).collect::<Vec<_>>()
    });
    let verifying = keys
        .iter()
        .filter_map(|k| k.key.verifying_key().ok())
        .collect();
    Ok(KeySet {
        jwks_json: bytes::Bytes::from(jwks.to_string()),
        keys,
        verifying,
    })
}

impl From<StoreError> for StartError {
    fn from(e: StoreError) -> StartError {
        StartError::Store(e)
    }
}
