//! What `config check` finds beyond the settings' syntax, without touching the database: a
//! database URL the provider can use, keys that decode, root folders that load, folders that
//! exist, an address it can listen on.

use crate::card::jpki::Purpose;
use crate::card::trust::TrustStore;
use crate::config::{Problem, Settings};
use crate::jose::Kek;
use crate::store::db::DatabaseUrl;
use crate::store::Backend;

/// The problems that would stop `serve`, and warnings about what would work badly.
#[derive(Debug, Default)]
pub struct Preflight {
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
}

pub fn check(s: &Settings) -> Preflight {
    let mut out = Preflight::default();
    let mut problem = |key, message: String| out.problems.push(Problem::new(key, message));
    match DatabaseUrl::parse(&s.database_url) {
        Err(e) => problem("database_url", e.to_string()),
        Ok(url) if url.backend == Backend::Postgres && s.key_encryption_key.is_none() => problem(
            "key_encryption_key",
            "is required with PostgreSQL: every node must use the same 32-byte key \
             (`openssl rand -base64 32`)"
                .to_owned(),
        ),
        Ok(_) => {}
    }
    if let Some(text) = &s.key_encryption_key {
        if let Err(e) = Kek::from_settings_text(text) {
            problem("key_encryption_key", e.to_string());
        }
    }
    if let Some(text) = &s.pairwise_key {
        if super::secrets::decode_key(text).is_none() {
            problem("pairwise_key", "must be base64 of 32 bytes".to_owned());
        }
    }
    for (key, purpose, dir) in [
        ("auth_roots", Purpose::Auth, &s.auth_roots),
        ("sign_roots", Purpose::Sign, &s.sign_roots),
    ] {
        if let Some(dir) = dir {
            if let Err(e) = TrustStore::new().add_folder(purpose, dir) {
                problem(key, format!("{}: {e}", dir.display()));
            }
        }
    }
    if let Some(dir) = &s.crl_dir {
        if let Err(e) = std::fs::read_dir(dir) {
            problem("crl_dir", format!("cannot read {}: {e}", dir.display()));
        }
    }
    if let Err(e) = std::net::ToSocketAddrs::to_socket_addrs(s.listen.as_str()) {
        problem(
            "listen",
            format!("{:?} is not an address to listen on: {e}", s.listen),
        );
    }
    if s.allow_test_cards {
        out.warnings.push(
            "allow_test_cards is on: cards of the JPKI-TEST roots log in (never in production)"
                .to_owned(),
        );
    }
    if s.allow_missing_revocation_data {
        out.warnings.push(
            "allow_missing_revocation_data is on: cards of a root without a CRL log in \
             (development only)"
                .to_owned(),
        );
    }
    if s.issuer.scheme() == "http" {
        out.warnings.push(format!(
            "the issuer {} is plain http: only this machine can use it",
            s.issuer_str()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(env: &[(&str, &str)]) -> Settings {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_sources(None, &env).expect("settings")
    }

    fn keys(p: &Preflight) -> Vec<&str> {
        p.problems.iter().filter_map(|p| p.key).collect()
    }

    #[test]
    fn a_postgres_deployment_without_a_key_encryption_key_is_a_problem() {
        let p = check(&settings(&[
            ("MYKEY_ISSUER", "https://id.example.jp"),
            ("MYKEY_DATABASE_URL", "postgres://db/mykey"),
        ]));
        assert_eq!(keys(&p), ["key_encryption_key"]);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn keys_that_do_not_decode_and_folders_that_are_missing_are_named() {
        let p = check(&settings(&[
            ("MYKEY_KEY_ENCRYPTION_KEY", "short"),
            ("MYKEY_PAIRWISE_KEY", "c2hvcnQ="),
            ("MYKEY_AUTH_ROOTS", "/nonexistent/roots"),
            ("MYKEY_CRL_DIR", "/nonexistent/crl"),
            ("MYKEY_LISTEN", "nowhere"),
            ("MYKEY_ISSUER", "http://127.0.0.1:8080"),
        ]));
        assert_eq!(
            keys(&p),
            [
                "key_encryption_key",
                "pairwise_key",
                "auth_roots",
                "crl_dir",
                "listen"
            ]
        );
        assert_eq!(p.warnings.len(), 1, "plain http: {:?}", p.warnings);
    }
}
