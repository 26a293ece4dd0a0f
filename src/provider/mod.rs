//! The provider application: everything a request or a command needs, and the operations that
//! combine protocol rules with storage (login, grants, sessions, clients, keys).

pub mod background;
pub mod client_auth;
pub mod clients;
pub mod dpop;
pub mod error;
pub mod flow;
pub mod grants;
pub mod health;
pub mod identity;
pub mod keyring;
pub mod linkage;
pub mod login;
pub mod metrics;
pub mod outbox;
pub mod persons;
pub mod preflight;
pub mod ratelimit;
pub mod revocation;
pub mod rotation;
pub mod secrets;
pub mod sessions;
pub mod ssf;

use std::sync::Arc;

use crate::card::revocation::InMemoryRevocation;
use crate::card::trust::TrustStore;
use crate::card::verify::VerifyPolicy;
use crate::clock::Clock;
use crate::config::Settings;
use crate::jose::Kek;
use crate::oidc::pairwise::PairwiseKey;
use crate::store::{Db, StoreError, TokenCommits};

pub use clients::ClientCache;
pub use error::ProviderError;
pub use keyring::KeyRing;
pub use metrics::Metrics;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Store(StoreError),
    #[error("trust store: {0}")]
    Trust(String),
}

/// Shared by every request handler, background task and command.
pub struct Provider {
    pub settings: Settings,
    pub db: Db,
    pub clock: Clock,
    pub kek: Kek,
    pub keys: KeyRing,
    /// Shared with transactions that compute subjects (a client's removal).
    pub pairwise: Arc<PairwiseKey>,
    /// Seals the grant into each authorization code, with every live generation of the key.
    pub codes: grants::CodeKeyRing,
    pub trust: Arc<TrustStore>,
    pub revocation: Arc<InMemoryRevocation>,
    pub clients: ClientCache,
    pub metrics: Metrics,
    pub http: reqwest::Client,
    pub jwks_cache: client_auth::JwksCache,
    /// Wakes the outbox deliverer when this node queued something.
    pub deliveries: tokio::sync::Notify,
    /// Card challenge creation and responses per client address (docs/card-login.md §7).
    pub card_limiter: ratelimit::RateLimiter,
    /// Makes and checks DPoP nonces when the settings require them (RFC 9449 §8).
    pub dpop_nonces: Option<crate::jose::NonceKey>,
    /// The discovery document, serialised once.
    pub discovery_json: bytes::Bytes,
}

impl Provider {
    /// Connects, migrates and loads keys; the same for `serve`, `demo` and tests.
    pub fn open(settings: Settings, clock: Clock) -> Result<Provider, StartError> {
        let commits = if settings.postgres_asynchronous_token_commits {
            TokenCommits::Asynchronous
        } else {
            TokenCommits::Durable
        };
        let db = Db::connect_serving(&settings.database_url, settings.database_pool_size, commits)
            .map_err(StartError::Store)?;
        let applied = db.migrate().map_err(StartError::Store)?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "database migrated");
        }
        Provider::on(db, settings, clock, true)
    }

    /// The provider of a command that runs once (`client add`, `crl import`, …), on a
    /// command's pool. Stored CRLs are not loaded: a command that checks certificates or shows
    /// freshness loads them (`revocation::load_stored_crls`).
    pub fn open_for_command(settings: Settings, clock: Clock) -> Result<Provider, StartError> {
        let db = Db::open_for_command(&settings.database_url).map_err(StartError::Store)?;
        Provider::on(db, settings, clock, false)
    }

    /// Loads keys, secrets and roots over a migrated database, and the stored CRLs when
    /// `load_crls`.
    fn on(
        db: Db,
        settings: Settings,
        clock: Clock,
        load_crls: bool,
    ) -> Result<Provider, StartError> {
        let now = clock.unix();
        let kek = secrets::key_encryption_key(&settings, &db)?;
        let pairwise = secrets::pairwise_key(&settings, &db, &kek, now)?;
        let codes = grants::CodeKeyRing::new(secrets::code_keys(&db, &kek, now)?);
        let dpop_nonces = secrets::dpop_nonce_key(&settings, &db, &kek, now)?;
        let l = &settings.lifetimes;
        let retention = l
            .id_token
            .max(l.access_token)
            .max(l.refresh_token)
            .as_secs() as i64;
        let keys = KeyRing::open(&db, &kek, retention, now)?;
        let trust = trust_store(&settings)?;
        let discovery = crate::oidc::discovery::metadata(
            settings.issuer_str(),
            &["openid", "name", "address", "birthdate", "gender"],
            &[
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "acr",
                "amr",
                "sid",
                "at_hash",
                "verified_claims",
                "name",
                "family_name",
                "given_name",
                "address",
                "birthdate",
                "gender",
            ],
            settings.require_pushed_authorization_requests,
        );
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| StartError::Config(format!("HTTP client: {e}")))?;
        let metrics = Metrics::new();
        metrics.watch_database(db.clone());
        let provider = Provider {
            discovery_json: bytes::Bytes::from(discovery.to_string()),
            clients: ClientCache::new(db.clone()),
            jwks_cache: client_auth::JwksCache::default(),
            card_limiter: ratelimit::RateLimiter::new(60, 2.0),
            deliveries: tokio::sync::Notify::new(),
            revocation: Arc::new(InMemoryRevocation::new()),
            metrics,
            settings,
            db,
            clock,
            kek,
            keys,
            pairwise: Arc::new(pairwise),
            codes,
            dpop_nonces,
            trust: Arc::new(trust),
            http,
        };
        let loaded = if load_crls {
            revocation::load_stored_crls(&provider).map_err(StartError::Store)?
        } else {
            0
        };
        if loaded > 0 {
            tracing::info!(crls = loaded, "revocation data loaded");
        }
        Ok(provider)
    }

    /// Card verification rules from settings.
    pub fn verify_policy(&self) -> VerifyPolicy {
        VerifyPolicy {
            allow_test_cards: self.settings.allow_test_cards,
            stale_grace: time::Duration::seconds(
                self.settings.revocation_stale_grace.as_secs() as i64
            ),
            allow_missing_revocation_data: self.settings.allow_missing_revocation_data,
        }
    }

    /// `ISS` + path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.issuer_str())
    }
}

/// The shipped J-LIS roots, or the configured folders per purpose (a purpose without a folder
/// then trusts nothing, which the log says).
pub fn trust_store(settings: &Settings) -> Result<TrustStore, StartError> {
    let trust = |e: crate::card::trust::TrustError| StartError::Trust(e.to_string());
    if settings.auth_roots.is_none() && settings.sign_roots.is_none() {
        return TrustStore::jlis().map_err(trust);
    }
    let mut store = TrustStore::new();
    for (purpose, dir) in [
        (crate::card::jpki::Purpose::Auth, &settings.auth_roots),
        (crate::card::jpki::Purpose::Sign, &settings.sign_roots),
    ] {
        match dir {
            Some(dir) => {
                let n = store.add_folder(purpose, dir).map_err(trust)?;
                tracing::info!(%purpose, roots = n, dir = %dir.display(), "trust roots loaded");
            }
            None => {
                tracing::warn!(%purpose, "no roots configured: no card of this purpose is trusted")
            }
        }
    }
    Ok(store)
}
