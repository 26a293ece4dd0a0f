//! Settings: a TOML file, then `MYKEY_*` environment variables, then defaults.

mod keys;
mod network;
mod report;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

pub use keys::{Key, Kind, Source, KEYS};
pub use network::{Network, NetworkError};
pub use report::{mask_database_url, redact_url};

use keys::{Given, Value};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read settings file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("settings file {path} is not valid TOML: {message}")]
    Parse { path: String, message: String },
    #[error("the settings are not valid:{}", list(.0))]
    Invalid(Vec<Problem>),
}

impl ConfigError {
    /// The settings (file keys) that were refused; empty for an unreadable file.
    pub fn keys(&self) -> Vec<&str> {
        match self {
            ConfigError::Invalid(problems) => problems.iter().filter_map(|p| p.key).collect(),
            _ => Vec::new(),
        }
    }
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

/// One thing wrong with the settings: which key (none for a problem of the file as a whole)
/// and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: Option<&'static str>,
    pub message: String,
}

impl Problem {
    pub fn new(key: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            key: Some(key),
            message: message.into(),
        }
    }

    fn file(message: String) -> Problem {
        Problem { key: None, message }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.key {
            Some(key) => write!(f, "{key}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Token, code and session lifetimes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifetimes {
    pub code: Duration,
    pub access_token: Duration,
    pub id_token: Duration,
    pub refresh_token: Duration,
    pub session: Duration,
    pub challenge: Duration,
    pub auth_request: Duration,
    /// How early a new signing key is published before it signs.
    pub key_rotation_lead: Duration,
}

impl Default for Lifetimes {
    fn default() -> Lifetimes {
        Lifetimes {
            code: Duration::from_secs(60),
            access_token: Duration::from_secs(600),
            id_token: Duration::from_secs(600),
            refresh_token: Duration::from_secs(8 * 3600),
            session: Duration::from_secs(8 * 3600),
            challenge: Duration::from_secs(300),
            auth_request: Duration::from_secs(1800),
            key_rotation_lead: Duration::from_secs(3600),
        }
    }
}

/// Everything the provider is configured with.
#[derive(Clone)]
pub struct Settings {
    /// The issuer identifier: scheme, host, optional port and path; no query or fragment.
    pub issuer: Url,
    pub listen: String,
    pub database_url: String,
    pub database_pool_size: u32,
    /// PostgreSQL: the code exchange and the refresh commit without waiting for the WAL flush
    /// (`synchronous_commit = off` on the connections that run them).
    pub postgres_asynchronous_token_commits: bool,
    /// Folders of PEM/DER roots per purpose; `None` means the shipped J-LIS roots.
    pub auth_roots: Option<PathBuf>,
    pub sign_roots: Option<PathBuf>,
    pub allow_test_cards: bool,
    /// base64/base64url of 32 bytes; `None`: generated once and kept (sealed) in the database.
    pub pairwise_key: Option<String>,
    /// base64/base64url of 32 bytes sealing private keys at rest; `None`: a key file next to a
    /// SQLite database is created; PostgreSQL deployments must set it (all nodes the same).
    pub key_encryption_key: Option<String>,
    pub lifetimes: Lifetimes,
    /// A signing key signs this long before the next one takes over (`None`: only by hand).
    pub key_rotation_interval: Option<Duration>,
    /// The key sealing authorization codes is replaced this often (`None`: never).
    pub code_key_rotation_interval: Option<Duration>,
    /// Serve past a CRL's nextUpdate for this long before failing closed.
    pub revocation_stale_grace: Duration,
    /// Accept cards of a root for which no CRL was ever imported (development only).
    pub allow_missing_revocation_data: bool,
    pub log_format: LogFormat,
    pub workers: usize,
    /// Folder watched for CRL files (DER or PEM) to import.
    pub crl_dir: Option<PathBuf>,
    /// URLs polled for CRLs with conditional GET.
    pub crl_urls: Vec<String>,
    pub crl_poll_interval: Duration,
    /// How long a back-channel delivery is retried before it is dead-lettered.
    pub backchannel_retry_period: Duration,
    /// Per-attempt timeout of a back-channel delivery.
    pub backchannel_timeout: Duration,
    /// How long verified facts may be reused for new requests without a fresh signature
    /// (0: never; they live only as long as the grant that received them).
    pub verified_facts_retention: Duration,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` is believed (empty: the TCP peer
    /// is the client).
    pub trusted_proxies: Vec<Network>,
    /// Audit entries older than this are pruned behind a signed checkpoint by the running
    /// provider (checked hourly, one node at a time); `None`: kept until `audit prune`.
    pub audit_retention: Option<Duration>,
    /// RFC 9126 §5: every client's authorization requests must be pushed (PAR).
    pub require_pushed_authorization_requests: bool,
    /// How long a pushed request's `request_uri` may be used (RFC 9126 §2.2 `expires_in`).
    pub pushed_request_ttl: Duration,
    /// RFC 9449 §8: DPoP proofs at the token and userinfo endpoints must carry a nonce this
    /// provider issued (`use_dpop_nonce` answers hand one out).
    pub dpop_nonce_required: bool,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("issuer", &self.issuer.as_str())
            .field("listen", &self.listen)
            .field("database", &redact_url(&self.database_url))
            .field("allow_test_cards", &self.allow_test_cards)
            .field(
                "pairwise_key",
                &self.pairwise_key.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "key_encryption_key",
                &self.key_encryption_key.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

/// Settings as loaded, with where each value came from and what deserves a warning.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    pub sources: BTreeMap<&'static str, Source>,
    pub warnings: Vec<String>,
}

/// The shortest interval between two rotations of a key.
const MIN_ROTATION_INTERVAL: u64 = 3600;
/// A new signing key is published at least this long before it signs: every node re-reads the
/// keys every 30 s, so each has it before any token it signs reaches a site.
const MIN_ROTATION_LEAD: u64 = 60;

impl Settings {
    /// Reads `file` (if given), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        Self::check(file, &std::env::vars().collect::<Vec<_>>()).map(|l| l.settings)
    }

    /// Settings from an optional TOML file and explicit `MYKEY_*` variables (tests use this).
    pub fn from_sources(
        file: Option<&Path>,
        env: &[(String, String)],
    ) -> Result<Settings, ConfigError> {
        Self::check(file, env).map(|l| l.settings)
    }

    /// Like [`Settings::from_sources`], keeping every problem (not only the first), where
    /// each value came from, and warnings (`config check`).
    pub fn check(file: Option<&Path>, env: &[(String, String)]) -> Result<Loaded, ConfigError> {
        let mut given = Given::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?;
            given
                .read_file(&text)
                .map_err(|message| ConfigError::Parse {
                    path: path.display().to_string(),
                    message,
                })?;
        }
        given.read_env(env);
        let settings = build(&mut given);
        match settings {
            Some(settings) if given.problems.is_empty() => Ok(Loaded {
                settings,
                sources: KEYS
                    .iter()
                    .map(|k| {
                        let source = given.values.get(k.name).map_or(Source::Default, |v| v.1);
                        (k.name, source)
                    })
                    .collect(),
                warnings: given.warnings,
            }),
            _ => Err(ConfigError::Invalid(given.problems)),
        }
    }

    /// The issuer without a trailing slash, for building endpoint URLs.
    pub fn issuer_str(&self) -> &str {
        self.issuer.as_str().trim_end_matches('/')
    }

    /// Cookies get `Secure` whenever the issuer is https.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.scheme() == "https"
    }
}

impl Given {
    fn text(&self, key: &str) -> Option<String> {
        match self.values.get(key) {
            Some((Value::Text(s), _)) => Some(s.clone()),
            _ => None,
        }
    }

    fn number(&self, key: &str) -> Option<u64> {
        match self.values.get(key) {
            Some((Value::Number(n), _)) => Some(*n),
            _ => None,
        }
    }

    fn flag(&self, key: &str) -> Option<bool> {
        match self.values.get(key) {
            Some((Value::Flag(b), _)) => Some(*b),
            _ => None,
        }
    }

    fn list(&self, key: &str) -> Option<Vec<String>> {
        match self.values.get(key) {
            Some((Value::List(l), _)) => Some(l.clone()),
            _ => None,
        }
    }

    fn secs(&self, key: &str, default: u64) -> Duration {
        Duration::from_secs(self.number(key).unwrap_or(default))
    }

    /// An interval where 0 means off.
    fn interval(&mut self, key: &'static str, default: u64) -> Option<Duration> {
        let secs = self.number(key).unwrap_or(default);
        if secs != 0 && secs < MIN_ROTATION_INTERVAL {
            self.problems.push(Problem::new(
                key,
                format!("must be 0 (off) or at least {MIN_ROTATION_INTERVAL} seconds"),
            ));
        }
        (secs != 0).then(|| Duration::from_secs(secs))
    }
}

/// The settings from what was given and the defaults; every problem goes to `given.problems`.
fn build(given: &mut Given) -> Option<Settings> {
    let listen = given
        .text("listen")
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let issuer_text = given
        .text("issuer")
        .unwrap_or_else(|| format!("http://{listen}"));
    let issuer = parse_issuer(&issuer_text)
        .map_err(|message| given.problems.push(Problem::new("issuer", message)))
        .ok();
    let defaults = Lifetimes::default();
    let secs = |key: &str, d: Duration| given.secs(key, d.as_secs());
    let mut lifetimes = Lifetimes {
        code: secs("code_ttl", defaults.code),
        access_token: secs("access_token_ttl", defaults.access_token),
        id_token: secs("id_token_ttl", defaults.id_token),
        refresh_token: secs("refresh_token_ttl", defaults.refresh_token),
        session: secs("session_ttl", defaults.session),
        challenge: secs("challenge_ttl", defaults.challenge),
        auth_request: defaults.auth_request,
        key_rotation_lead: secs("key_rotation_lead", defaults.key_rotation_lead),
    };
    if lifetimes.challenge.is_zero() || lifetimes.challenge.as_secs() > 300 {
        given.problems.push(Problem::new(
            "challenge_ttl",
            "must be 1–300 seconds (docs/card-login.md §1)",
        ));
        lifetimes.challenge = defaults.challenge;
    }
    if lifetimes.key_rotation_lead.as_secs() < MIN_ROTATION_LEAD {
        given.problems.push(Problem::new(
            "key_rotation_lead",
            format!("must be at least {MIN_ROTATION_LEAD} seconds: nodes re-read keys every 30 s"),
        ));
    }
    let key_rotation_interval = given.interval("key_rotation_interval", 90 * 86_400);
    if key_rotation_interval.is_some_and(|i| i <= lifetimes.key_rotation_lead) {
        given.problems.push(Problem::new(
            "key_rotation_interval",
            "must be longer than key_rotation_lead",
        ));
    }
    let code_key_rotation_interval = given.interval("code_key_rotation_interval", 86_400);
    let log_format = match given.text("log_format").as_deref() {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(_) => {
            given
                .problems
                .push(Problem::new("log_format", "must be text or json"));
            LogFormat::Text
        }
    };
    let mut trusted_proxies = Vec::new();
    for n in given.list("trusted_proxies").unwrap_or_default() {
        match n.parse::<Network>() {
            Ok(n) => trusted_proxies.push(n),
            Err(e) => given
                .problems
                .push(Problem::new("trusted_proxies", e.to_string())),
        }
    }
    let database_pool_size = match given.number("database_pool_size").unwrap_or(8) {
        n @ 1..=1000 => n as u32,
        _ => {
            given
                .problems
                .push(Problem::new("database_pool_size", "must be 1–1000"));
            8
        }
    };
    let path = |key| given.text(key).map(PathBuf::from);
    Some(Settings {
        issuer: issuer?,
        database_url: given
            .text("database_url")
            .unwrap_or_else(|| "sqlite://mykey.sqlite3".to_owned()),
        database_pool_size,
        postgres_asynchronous_token_commits: given
            .flag("postgres_asynchronous_token_commits")
            .unwrap_or(false),
        auth_roots: path("auth_roots"),
        sign_roots: path("sign_roots"),
        crl_dir: path("crl_dir"),
        allow_test_cards: given.flag("allow_test_cards").unwrap_or(false),
        pairwise_key: given.text("pairwise_key"),
        key_encryption_key: given.text("key_encryption_key"),
        lifetimes,
        key_rotation_interval,
        code_key_rotation_interval,
        revocation_stale_grace: given.secs("revocation_stale_grace", 0),
        allow_missing_revocation_data: given.flag("allow_missing_revocation_data").unwrap_or(false),
        log_format,
        workers: given.number("workers").unwrap_or(0) as usize,
        crl_urls: given.list("crl_urls").unwrap_or_default(),
        crl_poll_interval: given
            .secs("crl_poll_interval", 3600)
            .max(Duration::from_secs(10)),
        backchannel_retry_period: given.secs("backchannel_retry_period", 86_400),
        backchannel_timeout: given
            .secs("backchannel_timeout", 5)
            .max(Duration::from_secs(1)),
        verified_facts_retention: given.secs("verified_facts_retention", 0),
        // At least a day: the retention is for keeping records, not for tidying.
        audit_retention: given
            .number("audit_retention")
            .filter(|&s| s > 0)
            .map(|s| Duration::from_secs(s.max(86_400))),
        trusted_proxies,
        require_pushed_authorization_requests: given
            .flag("require_pushed_authorization_requests")
            .unwrap_or(false),
        // Long enough to redirect the browser, short enough to be a one-off (10–600 s).
        pushed_request_ttl: given
            .secs("pushed_request_ttl", 60)
            .clamp(Duration::from_secs(10), Duration::from_secs(600)),
        dpop_nonce_required: given.flag("dpop_nonce_required").unwrap_or(false),
        listen,
    })
}

/// OIDC Discovery §3: https URL (http allowed on loopback for development), no query/fragment.
fn parse_issuer(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".to_owned());
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if crate::domain::redirect_uri::is_loopback(&url) => Ok(url),
        "http" => Err("must be https unless the host is a loopback address".to_owned()),
        _ => Err("must be an https URL".to_owned()),
    }
}
