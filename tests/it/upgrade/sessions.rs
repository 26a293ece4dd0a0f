//! An earlier version's database, brought to this version's schema, keeps what its residents,
//! sites and operators had: sessions, tokens, an unredeemed code, signing keys, the audit chain.

use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use mykey_connect::jose::{self, Alg, Jwks, VerifyingKey};
use openidconnect::PkceCodeChallenge;
use serde_json::Value;

use super::fixture::{self, Fixture};
use crate::provider::browser::{query, Browser};
use crate::provider::support::{command, Db, PgDatabase, TestProvider};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The migrations of this version, by version number.
fn current_migrations() -> usize {
    std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"))
        .expect("migrations")
        .count()
}

/// Applies the fixture's migrations one at a time, checking each is the one that version had.
fn step<DB: diesel::backend::Backend>(
    conn: &mut impl MigrationHarness<DB>,
    source: fn() -> EmbeddedMigrations,
    versions: &[String],
) {
    for want in versions {
        let applied = conn
            .run_next_migration(source())
            .expect("an earlier migration");
        assert_eq!(
            &applied.to_string(),
            want,
            "migrations apply in the same order"
        );
    }
}

/// A database at the fixture's schema holding its rows. The folder (SQLite) or database
/// (PostgreSQL) lives as long as the returned guard.
fn earlier_database(
    db: Db,
    f: &Fixture,
) -> (
    String,
    Option<std::sync::Arc<PgDatabase>>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    match db {
        Db::Sqlite => {
            let path = dir.path().join("mykey.sqlite3");
            let mut c = SqliteConnection::establish(&path.display().to_string()).expect("open");
            step(&mut c, || SQLITE, &f.migrations);
            fixture::insert(&mut c, &f.tables, false);
            (format!("sqlite://{}", path.display()), None, dir)
        }
        Db::Postgres => {
            let pg = PgDatabase::create();
            let mut c = PgConnection::establish(&pg.url).expect("connect");
            step(&mut c, || POSTGRES, &f.migrations);
            fixture::insert(&mut c, &f.tables, true);
            (pg.url.clone(), Some(std::sync::Arc::new(pg)), dir)
        }
    }
}

async fn jwks(tp: &TestProvider) -> (Vec<String>, Vec<VerifyingKey>) {
    let text = reqwest::get(tp.url("/jwks.json"))
        .await
        .expect("jwks")
        .text()
        .await
        .expect("body");
    let jwks = Jwks::parse_public(&text).expect("JWKS");
    let doc: Value = serde_json::from_str(&text).expect("json");
    let kids = doc["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect();
    (kids, jwks.verifying_keys().expect("keys"))
}

/// The ID token's claims, verified against the provider's published keys.
fn id_token_claims(token: &str, keys: &[VerifyingKey]) -> Value {
    jose::verify(token, keys, &[Alg::RS256, Alg::ES256])
        .expect("the ID token verifies against the provider's JWKS")
        .claims()
        .expect("claims")
}

async fn token(tp: &TestProvider, f: &Fixture, form: &[(&str, &str)]) -> Value {
    let resp = reqwest::Client::new()
        .post(tp.url("/token"))
        .basic_auth(&f.held.client_id, Some(&f.held.client_secret))
        .form(form)
        .send()
        .await
        .expect("token request");
    let status = resp.status();
    let body: Value = resp.json().await.expect("json");
    assert_eq!(status, 200, "{body}");
    body
}

async fn upgrade_keeps_everything(db: Db) {
    let fixtures = Fixture::all();
    assert!(
        !fixtures.is_empty(),
        "tests/upgrade holds at least one version"
    );
    for (path, f) in fixtures {
        let held = &f.held;
        let (url, pg, _dir) = earlier_database(db, &f);
        let pending = mykey_connect::store::Db::connect_for_command(&url)
            .expect("connect")
            .pending_migrations()
            .expect("pending");
        assert_eq!(
            pending.len(),
            current_migrations() - f.migrations.len(),
            "{}: {pending:?}",
            path.display()
        );

        let mut extra: Vec<(&str, &str)> = held
            .settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        extra.push(("MYKEY_ISSUER", &held.issuer));
        let tp =
            TestProvider::start_on(url.clone(), held.key_encryption_key.clone(), pg, &extra).await;
        let version = &f.version;

        // Keys: every key that version had is still published, and its ID token verifies.
        let (kids, keys) = jwks(&tp).await;
        let signing = f
            .tables
            .iter()
            .find(|t| t.name == "signing_keys")
            .expect("signing keys");
        for row in &signing.rows {
            let kid = row[0].as_str().expect("kid");
            assert!(
                kids.iter().any(|k| k == kid),
                "{version}: key {kid} published"
            );
        }
        let old = id_token_claims(&held.id_token, &keys);
        assert_eq!(old["sub"], held.sub.as_str());

        // The access token that version issued still answers at userinfo.
        let info: Value = reqwest::Client::new()
            .get(tp.url("/userinfo"))
            .bearer_auth(&held.access_token)
            .send()
            .await
            .expect("userinfo")
            .json()
            .await
            .expect("json");
        assert_eq!(info["sub"], held.sub.as_str(), "{version}: userinfo {info}");

        // Its refresh token refreshes, for the same person.
        let refreshed = token(
            &tp,
            &f,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &held.refresh_token),
            ],
        )
        .await;
        let claims = id_token_claims(refreshed["id_token"].as_str().expect("id_token"), &keys);
        assert_eq!(claims["sub"], held.sub.as_str());
        assert_eq!(claims["iss"], held.issuer.as_str());

        // The code it issued and nobody redeemed yet is redeemed now.
        let redeemed = token(
            &tp,
            &f,
            &[
                ("grant_type", "authorization_code"),
                ("code", &held.code),
                ("redirect_uri", &held.redirect_uri),
                ("code_verifier", &held.code_verifier),
            ],
        )
        .await;
        let claims = id_token_claims(redeemed["id_token"].as_str().expect("id_token"), &keys);
        assert_eq!(
            claims["sub"],
            held.sub.as_str(),
            "{version}: the sealed code opens"
        );

        // The browser's session still signs the person in without the card.
        let browser = Browser::new();
        for (name, value) in &held.cookies {
            browser.set_cookie(name, value);
        }
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let authorize = format!(
            "{}/authorize?response_type=code&scope=openid&prompt=none&state=s&nonce=n\
             &client_id={}&redirect_uri={}&code_challenge={}&code_challenge_method=S256",
            tp.issuer,
            held.client_id,
            held.redirect_uri,
            challenge.as_str()
        );
        let page = browser.get(&authorize).await;
        let back = page.location.expect("a redirect back to the site");
        let params = query(&back);
        assert!(
            params.contains_key("code"),
            "{version}: prompt=none answered {back}"
        );
        let tokens = token(
            &tp,
            &f,
            &[
                ("grant_type", "authorization_code"),
                ("code", &params["code"]),
                ("redirect_uri", &held.redirect_uri),
                ("code_verifier", verifier.secret()),
            ],
        )
        .await;
        let claims = id_token_claims(tokens["id_token"].as_str().expect("id_token"), &keys);
        assert_eq!(
            claims["sub"],
            held.sub.as_str(),
            "{version}: the same person"
        );

        // The audit chain that version wrote verifies, with this version's entries after it.
        let out = command(&tp)
            .args(["audit", "verify", "--json"])
            .output()
            .expect("audit verify");
        let report: Value = serde_json::from_slice(&out.stdout).expect("report");
        assert!(out.status.success(), "{version}: {report}");
        let audit = f
            .tables
            .iter()
            .find(|t| t.name == "audit_log")
            .expect("audit");
        assert!(
            report["entries"].as_u64().expect("entries") > audit.rows.len() as u64,
            "{report}"
        );
        assert!(report["broken"].is_null(), "{report}");

        let after = mykey_connect::store::Db::connect_for_command(&url)
            .expect("connect")
            .pending_migrations()
            .expect("pending");
        assert!(after.is_empty(), "{after:?}");
        tp.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_versions_sqlite_database_migrates_and_keeps_its_sessions_keys_codes_and_audit_chain(
) {
    upgrade_keeps_everything(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_versions_postgres_database_migrates_and_keeps_its_sessions_keys_codes_and_audit_chain(
) {
    upgrade_keeps_everything(Db::Postgres).await;
}
