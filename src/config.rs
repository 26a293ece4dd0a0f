//! Settings: a TOML file, then `MYKEY_*` environment variables, then defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read settings file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("settings file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("setting {name} is not valid: {message}")]
    Invalid { name: &'static str, message: String },
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
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
    /// How long a retired signing key stays in JWKS, and how early a new one is published.
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

/// The URL with any password removed, for logs.
pub fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The TOML file's shape; every key optional. Durations are seconds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    issuer: Option<String>,
    listen: Option<String>,
    database_url: Option<String>,
    database_pool_size: Option<u32>,
    auth_roots: Option<PathBuf>,
    sign_roots: Option<PathBuf>,
    allow_test_cards: Option<bool>,
    pairwise_key: Option<String>,
    key_encryption_key: Option<String>,
    code_ttl: Option<u64>,
    access_token_ttl: Option<u64>,
    id_token_ttl: Option<u64>,
    refresh_token_ttl: Option<u64>,
    session_ttl: Option<u64>,
    challenge_ttl: Option<u64>,
    key_rotation_lead: Option<u64>,
    revocation_stale_grace: Option<u64>,
    allow_missing_revocation_data: Option<bool>,
    log_format: Option<LogFormat>,
    workers: Option<usize>,
    crl_dir: Option<PathBuf>,
    crl_urls: Option<Vec<String>>,
    crl_poll_interval: Option<u64>,
    backchannel_retry_period: Option<u64>,
    backchannel_timeout: Option<u64>,
    verified_facts_retention: Option<u64>,
    trusted_proxies: Option<Vec<String>>,
    audit_retention: Option<u64>,
}

impl Settings {
    /// Reads `file` (if given), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::from_sources(file, &env)
    }

    /// Settings from an optional TOML file and explicit `MYKEY_*` variables (tests use this).
    pub fn from_sources(
        file: Option<&Path>,
        env: &[(String, String)],
    ) -> Result<Settings, ConfigError> {
        let mut f = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                toml::from_str::<FileSettings>(&text).map_err(|e| ConfigError::Parse {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?
            }
            None => FileSettings::default(),
        };
        for (key, value) in env {
            apply_env(&mut f, key, value)?;
        }
        Self::from_file_settings(f)
    }

    fn from_file_settings(f: FileSettings) -> Result<Settings, ConfigError> {
        let listen = f.listen.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let issuer_text = f.issuer.unwrap_or_else(|| format!("http://{listen}"));
        let issuer = parse_issuer(&issuer_text)?;
        let mut lifetimes = Lifetimes::default();
        let secs = Duration::from_secs;
        if let Some(v) = f.code_ttl {
            lifetimes.code = secs(v);
        }
        if let Some(v) = f.access_token_ttl {
            lifetimes.access_token = secs(v);
        }
        if let Some(v) = f.id_token_ttl {
            lifetimes.id_token = secs(v);
        }
        if let Some(v) = f.refresh_token_ttl {
            lifetimes.refresh_token = secs(v);
        }
        if let Some(v) = f.session_ttl {
            lifetimes.session = secs(v);
        }
        if let Some(v) = f.challenge_ttl {
            if v == 0 || v > 300 {
                return Err(ConfigError::Invalid {
                    name: "challenge_ttl",
                    message: "must be 1–300 seconds (docs/card-login.md §1)".to_owned(),
                });
            }
            lifetimes.challenge = secs(v);
        }
        if let Some(v) = f.key_rotation_lead {
            lifetimes.key_rotation_lead = secs(v);
        }
        Ok(Settings {
            issuer,
            listen,
            database_url: f
                .database_url
                .unwrap_or_else(|| "sqlite://mykey.sqlite3".to_owned()),
            database_pool_size: f.database_pool_size.unwrap_or(8),
            auth_roots: f.auth_roots,
            sign_roots: f.sign_roots,
            allow_test_cards: f.allow_test_cards.unwrap_or(false),
            pairwise_key: f.pairwise_key,
            key_encryption_key: f.key_encryption_key,
            lifetimes,
            revocation_stale_grace: secs(f.revocation_stale_grace.unwrap_or(0)),
            allow_missing_revocation_data: f.allow_missing_revocation_data.unwrap_or(false),
            log_format: f.log_format.unwrap_or(LogFormat::Text),
            workers: f.workers.unwrap_or(0),
            crl_dir: f.crl_dir,
            crl_urls: f.crl_urls.unwrap_or_default(),
            crl_poll_interval: secs(f.crl_poll_interval.unwrap_or(3600).max(10)),
            backchannel_retry_period: secs(f.backchannel_retry_period.unwrap_or(86_400)),
            backchannel_timeout: secs(f.backchannel_timeout.unwrap_or(5).max(1)),
            verified_facts_retention: secs(f.verified_facts_retention.unwrap_or(0)),
            // At least a day: the retention is for keeping records, not for tidying.
            audit_retention: f
                .audit_retention
                .filter(|&s| s > 0)
                .map(|s| secs(s.max(86_400))),
            trusted_proxies: f
                .trusted_proxies
                .unwrap_or_default()
                .iter()
                .map(|n| {
                    n.parse().map_err(|e: NetworkError| ConfigError::Invalid {
                        name: "trusted_proxies",
                        message: e.to_string(),
                    })
                })
                .collect::<Result<_, _>>()?,
        })
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

/// OIDC Discovery §3: https URL (http allowed on loopback for development), no query/fragment.
fn parse_issuer(text: &str) -> Result<Url, ConfigError> {
    let invalid = |message: &str| ConfigError::Invalid {
        name: "issuer",
        message: message.to_owned(),
    };
    let url = Url::parse(text).map_err(|e| invalid(&e.to_string()))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    match url.scheme() {
        "https" => {}
        "http" if crate::domain::redirect_uri::is_loopback(&url) => {}
        "http" => {
            return Err(invalid(
                "must be https unless the host is a loopback address",
            ))
        }
        _ => return Err(invalid("must be an https URL")),
    }
    Ok(url)
}

fn apply_env(f: &mut FileSettings, key: &str, value: &str) -> Result<(), ConfigError> {
    let Some(name) = key.strip_prefix("MYKEY_") else {
        return Ok(());
    };
    let num = |name: &'static str| {
        value.parse::<u64>().map_err(|_| ConfigError::Invalid {
            name,
            message: format!("{key} must be a number of seconds"),
        })
    };
    let flag = |name: &'static str| match value {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(ConfigError::Invalid {
            name,
            message: format!("{key} must be true or false"),
        }),
    };
    match name {
        "ISSUER" => f.issuer = Some(value.to_owned()),
        "LISTEN" => f.listen = Some(value.to_owned()),
        "DATABASE_URL" => f.database_url = Some(value.to_owned()),
        "DATABASE_POOL_SIZE" => f.database_pool_size = Some(num("database_pool_size")? as u32),
        "AUTH_ROOTS" => f.auth_roots = Some(PathBuf::from(value)),
        "SIGN_ROOTS" => f.sign_roots = Some(PathBuf::from(value)),
        "ALLOW_TEST_CARDS" => f.allow_test_cards = Some(flag("allow_test_cards")?),
        "PAIRWISE_KEY" => f.pairwise_key = Some(value.to_owned()),
        "KEY_ENCRYPTION_KEY" => f.key_encryption_key = Some(value.to_owned()),
        "CODE_TTL" => f.code_ttl = Some(num("code_ttl")?),
        "ACCESS_TOKEN_TTL" => f.access_token_ttl = Some(num("access_token_ttl")?),
        "ID_TOKEN_TTL" => f.id_token_ttl = Some(num("id_token_ttl")?),
        "REFRESH_TOKEN_TTL" => f.refresh_token_ttl = Some(num("refresh_token_ttl")?),
        "SESSION_TTL" => f.session_ttl = Some(num("session_ttl")?),
        "CHALLENGE_TTL" => f.challenge_ttl = Some(num("challenge_ttl")?),
        "KEY_ROTATION_LEAD" => f.key_rotation_lead = Some(num("key_rotation_lead")?),
        "REVOCATION_STALE_GRACE" => f.revocation_stale_grace = Some(num("revocation_stale_grace")?),
        "ALLOW_MISSING_REVOCATION_DATA" => {
            f.allow_missing_revocation_data = Some(flag("allow_missing_revocation_data")?)
        }
        "LOG_FORMAT" => {
            f.log_format = Some(match value {
                "json" => LogFormat::Json,
                "text" => LogFormat::Text,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "log_format",
                        message: "MYKEY_LOG_FORMAT must be text or json".to_owned(),
                    })
                }
            })
        }
        "WORKERS" => f.workers = Some(num("workers")? as usize),
        "CRL_DIR" => f.crl_dir = Some(PathBuf::from(value)),
        "CRL_URLS" => f.crl_urls = Some(list(value)),
        "CRL_POLL_INTERVAL" => f.crl_poll_interval = Some(num("crl_poll_interval")?),
        "BACKCHANNEL_RETRY_PERIOD" => {
            f.backchannel_retry_period = Some(num("backchannel_retry_period")?)
        }
        "BACKCHANNEL_TIMEOUT" => f.backchannel_timeout = Some(num("backchannel_timeout")?),
        "VERIFIED_FACTS_RETENTION" => {
            f.verified_facts_retention = Some(num("verified_facts_retention")?)
        }
        "AUDIT_RETENTION" => f.audit_retention = Some(num("audit_retention")?),
        "TRUSTED_PROXIES" => f.trusted_proxies = Some(list(value)),
        // Other MYKEY_* names belong to tools (tests, the helper); not an error here.
        _ => {}
    }
    Ok(())
}

/// A list setting in one environment variable: items separated by commas or spaces.
fn list(value: &str) -> Vec<String> {
    value
        .split([',', ' '])
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl Network {
    pub fn contains(&self, addr: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        // An IPv4 client may arrive as an IPv4-mapped IPv6 address on a dual-stack socket.
        let addr = match addr {
            V6(v6) => v6.to_ipv4_mapped().map(V4).unwrap_or(addr),
            v4 => v4,
        };
        match (self.addr, addr) {
            (V4(net), V4(a)) => prefix_eq(&net.octets(), &a.octets(), self.prefix),
            (V6(net), V6(a)) => prefix_eq(&net.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(net: &[u8], addr: &[u8], prefix: u8) -> bool {
    let (whole, rest) = (usize::from(prefix / 8), prefix % 8);
    if net[..whole] != addr[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        net[whole] & mask == addr[whole] & mask
    }
}

/// Why text is not a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    #[error("{0:?} is not an IP address or CIDR block")]
    NotAnAddress(String),
    #[error("{0:?} has no valid prefix length (0–{1})")]
    BadPrefix(String, u8),
}

impl std::str::FromStr for Network {
    type Err = NetworkError;

    fn from_str(text: &str) -> Result<Network, NetworkError> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: std::net::IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| NetworkError::NotAnAddress(text.to_owned()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| NetworkError::BadPrefix(text.to_owned(), max))?,
        };
        Ok(Network { addr, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_overrides_the_file_and_defaults_fill_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mykey.toml");
        std::fs::write(&path, "issuer = \"https://id.example.jp\"\ncode_ttl = 30\n")
            .expect("write");
        let s = Settings::from_sources(
            Some(&path),
            &env(&[("MYKEY_CODE_TTL", "45"), ("MYKEY_ALLOW_TEST_CARDS", "true")]),
        )
        .expect("valid");
        assert_eq!(s.issuer.as_str(), "https://id.example.jp/");
        assert_eq!(s.issuer_str(), "https://id.example.jp");
        assert_eq!(s.lifetimes.code, Duration::from_secs(45));
        assert!(s.allow_test_cards);
        assert!(s.secure_cookies());
        assert_eq!(s.database_url, "sqlite://mykey.sqlite3");
    }

    #[test]
    fn an_audit_retention_is_off_by_default_and_never_shorter_than_a_day() {
        let retention = |value: Option<&str>| {
            let vars: Vec<(&str, &str)> = value
                .map(|v| ("MYKEY_AUDIT_RETENTION", v))
                .into_iter()
                .collect();
            Settings::from_sources(None, &env(&vars))
                .expect("valid")
                .audit_retention
        };
        assert_eq!(retention(None), None);
        assert_eq!(retention(Some("0")), None);
        assert_eq!(retention(Some("60")), Some(Duration::from_secs(86_400)));
        assert_eq!(
            retention(Some("34560000")),
            Some(Duration::from_secs(34_560_000))
        );
        assert!(Settings::from_sources(None, &env(&[("MYKEY_AUDIT_RETENTION", "400d")])).is_err());
    }

    #[test]
    fn a_plain_http_issuer_is_refused_unless_it_is_loopback() {
        let bad = Settings::from_sources(None, &env(&[("MYKEY_ISSUER", "http://id.example.jp")]));
        assert!(matches!(
            bad,
            Err(ConfigError::Invalid { name: "issuer", .. })
        ));
        let ok = Settings::from_sources(None, &env(&[("MYKEY_ISSUER", "http://127.0.0.1:9")]));
        assert!(ok.is_ok());
    }

    #[test]
    fn unknown_keys_in_the_file_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mykey.toml");
        std::fs::write(&path, "isuer = \"https://id.example.jp\"\n").expect("write");
        assert!(matches!(
            Settings::from_sources(Some(&path), &[]),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn the_database_password_is_not_shown_in_debug_output() {
        let s = Settings::from_sources(
            None,
            &env(&[("MYKEY_DATABASE_URL", "postgres://u:pw@db/mykey")]),
        )
        .expect("valid");
        assert!(!format!("{s:?}").contains("pw@"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_cidr_blocks_and_anything_else_is_refused() {
        let s = Settings::from_sources(
            None,
            &env(&[(
                "MYKEY_TRUSTED_PROXIES",
                "10.0.0.0/8, 192.0.2.10,2001:db8::/32",
            )]),
        )
        .expect("settings");
        let has = |a: &str| {
            let a = a.parse().expect("ip");
            s.trusted_proxies.iter().any(|n| n.contains(a))
        };
        assert!(has("10.200.3.4") && has("192.0.2.10") && has("2001:db8:1::5"));
        assert!(
            has("::ffff:10.0.0.1"),
            "IPv4-mapped IPv6 is the IPv4 address"
        );
        assert!(!has("11.0.0.1") && !has("192.0.2.11") && !has("2001:db9::1"));
        for bad in ["10.0.0.0/33", "proxy.example", "10.0.0.0/x", "::/129"] {
            let e = Settings::from_sources(None, &env(&[("MYKEY_TRUSTED_PROXIES", bad)]));
            assert!(
                matches!(
                    e,
                    Err(ConfigError::Invalid {
                        name: "trusted_proxies",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }
}
