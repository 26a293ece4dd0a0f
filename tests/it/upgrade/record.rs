//! Records this version's database for the upgrade tests of later versions. Run at a release
//! (it writes `tests/upgrade/<version>/fixture.json`, commit the file):
//! `cargo test --test it upgrade::record -- --ignored`.

use std::time::Duration;

use mykey_connect::admin::{Principal, Role};
use mykey_connect::audit::Actor;
use openidconnect::{OAuth2TokenResponse, TokenResponse};

use super::fixture::{self, Fixture, Held, FORMAT};
use crate::provider::browser::{log_in, query, Browser};
use crate::provider::rp::Rp;
use crate::provider::support::{web_client, Db, TestProvider};

/// Ten years: the tokens and sessions this version issues outlive the fixture's use.
const LONG: &str = "315360000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes tests/upgrade/<version>/fixture.json; run at a release"]
async fn record_this_versions_database_for_later_upgrade_tests() {
    let settings: Vec<(String, String)> = [
        "MYKEY_CODE_TTL",
        "MYKEY_ACCESS_TOKEN_TTL",
        "MYKEY_ID_TOKEN_TTL",
        "MYKEY_REFRESH_TOKEN_TTL",
        "MYKEY_SESSION_TTL",
    ]
    .iter()
    .map(|k| (k.to_string(), LONG.to_owned()))
    .collect();
    let extra: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut tp = TestProvider::start_quiet(Db::Sqlite, &extra).await;
    let redirect = "http://127.0.0.1:9/callback";
    let (client_id, client_secret) = tp
        .register(web_client("Upgrade Library", "127.0.0.1:9"))
        .await;
    let rp = Rp::discover(&tp, &client_id, &client_secret, redirect).await;
    let card = tp.issue_card("鈴木　一郎");
    let browser = Browser::new();

    let first = rp.authorize(&[]);
    let back = log_in(&browser, &tp, &first.url, &card).await;
    let tokens = rp.exchange(&query(&back)["code"], first.verifier).await;
    let claims = rp.verify_id_token(&tokens, &first.nonce);

    // The browser's session gives a second code without the card; it is left unredeemed.
    let second = rp.authorize(&[("prompt", "none")]);
    let back = log_in(&browser, &tp, &second.url, &card).await;
    let code = query(&back)["code"].clone();

    // An operator rotation: a key that signs now and one published for later.
    let operator = Principal {
        actor: Actor::Cli,
        role: Role::Admin,
        account_id: None,
        name: "cli".to_owned(),
    };
    mykey_connect::admin::keys::rotate(&tp.provider, &operator, "RS256", Some(3600))
        .await
        .expect("rotation");
    mykey_connect::audit::chain::drain(&tp.provider.db, Duration::from_secs(10))
        .await
        .expect("audit chained");

    let (migrations, tables) = fixture::read_sqlite(&tp.dir.path().join("mykey.sqlite3"));
    let cookies = ["mykey_session", "mykey_browser"]
        .iter()
        .map(|n| (n.to_string(), browser.cookie(n).expect("cookie")))
        .collect();
    let f = Fixture {
        format: FORMAT.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        migrations,
        tables,
        held: Held {
            settings,
            key_encryption_key: tp.kek.clone(),
            issuer: tp.issuer.clone(),
            client_id,
            client_secret,
            redirect_uri: redirect.to_owned(),
            sub: claims.subject().as_str().to_owned(),
            id_token: tokens.id_token().expect("id token").to_string(),
            access_token: tokens.access_token().secret().clone(),
            refresh_token: tokens.refresh_token().expect("refresh").secret().clone(),
            cookies,
            code,
            code_verifier: second.verifier.secret().clone(),
        },
    };
    let out = fixture::dir().join(&f.version);
    std::fs::create_dir_all(&out).expect("fixture folder");
    let text = serde_json::to_string_pretty(&f).expect("json");
    std::fs::write(out.join("fixture.json"), text + "\n").expect("write fixture");
}
