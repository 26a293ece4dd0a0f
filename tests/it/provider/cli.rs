//! `mykey-connect client …` and `keys …` against a running provider's database.

use super::browser::{log_in, query, Browser};
use super::flow::decode_payload;
use super::rp::Rp;
use super::support::{Db, TestProvider};
use openidconnect::TokenResponse;

fn cli(tp: &TestProvider, args: &[&str]) -> (bool, String, String) {
    let out = super::support::command(tp)
        .args(args)
        .output()
        .expect("run mykey-connect");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn token_error(tp: &TestProvider, id: &str, secret: &str) -> String {
    let resp = reqwest::Client::new()
        .post(tp.url("/token"))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "unknown"),
        ])
        .send()
        .await
        .expect("token");
    resp.json::<serde_json::Value>().await.expect("json")["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_registered_on_the_command_line_works_at_once_and_rotating_its_secret_retires_the_old_one(
) {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let (ok, out, err) = cli(
        &tp,
        &[
            "client",
            "add",
            "--name",
            "Library",
            "--redirect-uri",
            "http://127.0.0.1:7/cb",
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let added: serde_json::Value = serde_json::from_str(&out).expect("json");
    let id = added["client_id"].as_str().expect("id").to_owned();
    let secret = added["client_secret"]
        .as_str()
        .expect("secret shown once")
        .to_owned();
    assert_eq!(
        added["discovery_url"],
        format!("{}/.well-known/openid-configuration", tp.issuer)
    );

    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:7/cb").await;
    let card = tp.issue_card("中村　五郎");
    let pending = rp.authorize(&[]);
    let code = query(&log_in(&Browser::new(), &tp, &pending.url, &card).await)["code"].clone();
    rp.verify_id_token(&rp.exchange(&code, pending.verifier).await, &pending.nonce);

    let (ok, out, err) = cli(&tp, &["client", "show", &id]);
    assert!(ok, "client show: {err}");
    assert!(
        out.contains("Library") && !out.contains(&secret),
        "the secret is never shown again: {out}"
    );
    let (ok, out, err) = cli(&tp, &["client", "list"]);
    assert!(ok && out.contains(&id), "client list: {out}{err}");

    let (ok, out, err) = cli(&tp, &["client", "rotate-secret", &id, "--json"]);
    assert!(ok, "{err}");
    let rotated: serde_json::Value = serde_json::from_str(&out).expect("json");
    let new_secret = rotated["client_secret"]
        .as_str()
        .expect("new secret")
        .to_owned();
    tp.provider.clients.invalidate(&id);
    assert_eq!(
        token_error(&tp, &id, &secret).await,
        "invalid_client",
        "old secret refused"
    );
    assert_eq!(
        token_error(&tp, &id, &new_secret).await,
        "invalid_grant",
        "new secret accepted"
    );

    let (ok, _, err) = cli(
        &tp,
        &[
            "client",
            "update",
            &id,
            "--redirect-uri",
            "http://evil.example/cb",
        ],
    );
    assert!(
        !ok && err.contains("https"),
        "an insecure redirect URI is refused: {err}"
    );
    let (ok, _, _) = cli(&tp, &["client", "update", &id, "--name", "City Library"]);
    assert!(ok);
    let (ok, _, _) = cli(&tp, &["client", "remove", &id]);
    assert!(ok);
    tp.provider.clients.invalidate(&id);
    assert_eq!(token_error(&tp, &id, &new_secret).await, "invalid_client");
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_published_before_it_signs_and_the_old_one_stays_published() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let (id, secret) = tp
        .register(super::support::web_client("Shop", "127.0.0.1:9"))
        .await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("中村　五郎");
    let browser = Browser::new();
    let kid_of = |tokens: &openidconnect::core::CoreTokenResponse| {
        let jwt = tokens.id_token().expect("id token").to_string();
        let header = jwt.split('.').next().expect("header").to_owned();
        decode_payload(&format!("x.{header}.y"))["kid"]
            .as_str()
            .expect("kid")
            .to_owned()
    };
    let login = |rp: &Rp| {
        let pending = rp.authorize(&[]);
        let url = pending.url.clone();
        (pending, url)
    };
    let (p1, url) = login(&rp);
    let code = query(&log_in(&browser, &tp, &url, &card).await)["code"].clone();
    let old_kid = kid_of(&rp.exchange(&code, p1.verifier).await);

    let (ok, out, err) = cli(
        &tp,
        &["keys", "rotate", "--alg", "RS256", "--lead-time", "120"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("published now"));
    let refresh = |tp: &TestProvider| {
        let p = tp.provider.clone();
        tokio::task::spawn_blocking(move || p.keys.refresh(&p.db, &p.kek, p.clock.unix()))
    };
    refresh(&tp).await.expect("join").expect("refresh");
    let jwks: serde_json::Value = reqwest::get(tp.url("/jwks.json"))
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    assert_eq!(
        jwks["keys"].as_array().expect("keys").len(),
        4,
        "old RS256, next RS256, PS256, ES256"
    );

    let (p2, url) = login(&rp);
    let code = query(&log_in(&browser, &tp, &url, &card).await)["code"].clone();
    assert_eq!(
        kid_of(&rp.exchange(&code, p2.verifier).await),
        old_kid,
        "the next key waits"
    );

    tp.clock.advance(std::time::Duration::from_secs(121));
    refresh(&tp).await.expect("join").expect("refresh");
    // A fresh RP (its JWKS cache empty) verifies tokens of the new key.
    let rp2 = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let (p3, url) = login(&rp2);
    let code = query(&log_in(&browser, &tp, &url, &card).await)["code"].clone();
    let tokens = rp2.exchange(&code, p3.verifier).await;
    rp2.verify_id_token(&tokens, &p3.nonce);
    assert_ne!(
        kid_of(&tokens),
        old_kid,
        "the new key signs after the lead time"
    );
    let jwks: serde_json::Value = reqwest::get(tp.url("/jwks.json"))
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    assert!(
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k["kid"] == old_kid),
        "the retired key stays published while its tokens live"
    );
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_whose_log_goes_to_a_pipe_writes_it_without_terminal_colours() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let now = tp.clock.now();
    let crl = tp
        .ca
        .crl(
            mykey_connect::card::jpki::Purpose::Auth,
            now,
            now + time::Duration::days(1),
        )
        .expect("a newer CRL");
    let file = tp.dir.path().join("auth.crl");
    std::fs::write(&file, crl).expect("write CRL");
    let (ok, _, log) = cli(&tp, &["crl", "import", &file.display().to_string()]);
    assert!(ok, "{log}");
    assert!(log.contains("CRL imported"), "the import is logged: {log}");
    assert!(
        !log.contains('\u{1b}'),
        "no escape sequences in a piped log: {log:?}"
    );
    tp.stop().await;
}
