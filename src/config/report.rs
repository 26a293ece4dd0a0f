//! The effective settings as a TOML document for `config check`: every key with the value in
//! force and where it came from, secrets masked.

use std::fmt::Write as _;

use url::Url;

use super::{Kind, Loaded, LogFormat, Settings, Source, KEYS};

const MASK: &str = "********";

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

/// A database URL with its password masked, in the user part or in libpq's `password`
/// parameter.
pub fn mask_database_url(url: &str) -> String {
    let Ok(mut u) = Url::parse(url) else {
        return url.to_owned();
    };
    if u.password().is_some() {
        let _ = u.set_password(Some(MASK));
    }
    if u.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" {
                    MASK.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// A TOML string literal.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn seconds(d: std::time::Duration) -> String {
    d.as_secs().to_string()
}

/// The value in force for a key as TOML, or `None` when it is unset (with its meaning).
fn value(s: &Settings, key: &str) -> Result<String, &'static str> {
    let l = &s.lifetimes;
    let path =
        |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| quoted(&p.display().to_string()));
    let list = |items: Vec<String>| {
        format!(
            "[{}]",
            items
                .iter()
                .map(|i| quoted(i))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let interval = |i: Option<std::time::Duration>| i.map_or("0".to_owned(), seconds);
    Ok(match key {
        "issuer" => quoted(s.issuer_str()),
        "listen" => quoted(&s.listen),
        "database_url" => quoted(&mask_database_url(&s.database_url)),
        "database_pool_size" => s.database_pool_size.to_string(),
        "postgres_asynchronous_token_commits" => s.postgres_asynchronous_token_commits.to_string(),
        "auth_roots" => path(&s.auth_roots).ok_or("the shipped J-LIS roots")?,
        "sign_roots" => path(&s.sign_roots).ok_or("the shipped J-LIS roots")?,
        "allow_test_cards" => s.allow_test_cards.to_string(),
        "pairwise_key" => s
            .pairwise_key
            .as_ref()
            .map(|_| quoted(MASK))
            .ok_or("generated once, kept sealed in the database")?,
        "key_encryption_key" => s
            .key_encryption_key
            .as_ref()
            .map(|_| quoted(MASK))
            .ok_or("SQLite: the file <database>.kek; PostgreSQL: required")?,
        "code_ttl" => seconds(l.code),
        "access_token_ttl" => seconds(l.access_token),
        "id_token_ttl" => seconds(l.id_token),
        "refresh_token_ttl" => seconds(l.refresh_token),
        "session_ttl" => seconds(l.session),
        "challenge_ttl" => seconds(l.challenge),
        "key_rotation_interval" => interval(s.key_rotation_interval),
        "key_rotation_lead" => seconds(l.key_rotation_lead),
        "code_key_rotation_interval" => interval(s.code_key_rotation_interval),
        "revocation_stale_grace" => seconds(s.revocation_stale_grace),
        "allow_missing_revocation_data" => s.allow_missing_revocation_data.to_string(),
        "dpop_nonce_required" => s.dpop_nonce_required.to_string(),
        "log_format" => quoted(match s.log_format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }),
        "workers" => s.workers.to_string(),
        "crl_dir" => path(&s.crl_dir).ok_or("no folder is watched")?,
        "crl_urls" => list(s.crl_urls.clone()),
        "crl_poll_interval" => seconds(s.crl_poll_interval),
        "backchannel_retry_period" => seconds(s.backchannel_retry_period),
        "backchannel_timeout" => seconds(s.backchannel_timeout),
        "verified_facts_retention" => seconds(s.verified_facts_retention),
        "audit_retention" => s
            .audit_retention
            .map(seconds)
            .ok_or("entries are kept until `audit prune`")?,
        "require_pushed_authorization_requests" => {
            s.require_pushed_authorization_requests.to_string()
        }
        "pushed_request_ttl" => seconds(s.pushed_request_ttl),
        "trusted_proxies" => list(s.trusted_proxies.iter().map(|n| n.to_string()).collect()),
        _ => return Err("(not a setting)"),
    })
}

impl Loaded {
    /// The settings in force as a TOML document that, secrets aside, loads back to the same
    /// settings; each line says where its value came from. Secrets are masked.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for key in KEYS {
            let source = match self.sources.get(key.name) {
                Some(Source::File) => "file".to_owned(),
                Some(Source::Environment) => format!("environment {}", key.env()),
                _ => "default".to_owned(),
            };
            let masked = match key.kind {
                Kind::Secret => ", masked",
                Kind::DatabaseUrl
                    if mask_database_url(&self.settings.database_url)
                        != self.settings.database_url =>
                {
                    ", password masked"
                }
                _ => "",
            };
            let _ = match value(&self.settings, key.name) {
                Ok(v) => writeln!(out, "{} = {v}  # {source}{masked}", key.name),
                Err(meaning) => writeln!(out, "# {} not set: {meaning}", key.name),
            };
        }
        out
    }
}
