//! Pushed authorization requests (RFC 9126): pushed with a plain HTTP client, as an RP library
//! does, then the resident logs in through `/authorize?client_id=…&request_uri=…`.

use std::time::Duration;

use crate::provider::browser::{log_in, query, Browser};
use crate::provider::rp::Rp;
use crate::provider::support::{web_client, Db, TestProvider};

use super::support::{authorize_url, push, url_pairs};

const CALLBACK: &str = "http://127.0.0.1:9/callback";

async fn pushed_login_then_replay(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let (id, secret) = tp.register(web_client("Bank", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &id, &secret, CALLBACK).await;
    let metadata: serde_json::Value = reqwest::get(tp.url("/.well-known/openid-configuration"))
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        tp.url("/par")
    );
    assert_eq!(metadata["require_pushed_authorization_requests"], false);

    let pending = rp.authorize(&[]);
    let (status, pushed) = push(&tp, Some((&id, &secret)), &url_pairs(&pending.url)).await;
    assert_eq!(status, 201, "{pushed}");
    let request_uri = pushed["request_uri"].as_str().expect("request_uri");
    assert!(
        request_uri.starts_with("urn:ietf:params:oauth:request_uri:"),
        "{request_uri}"
    );
    assert_eq!(pushed["expires_in"], 60);

    let card = tp.issue_card("鈴木　一郎");
    let browser = Browser::new();
    let url = authorize_url(&tp, &id, request_uri);
    let back = log_in(&browser, &tp, &url, &card).await;
    assert!(back.starts_with(CALLBACK), "{back}");
    let params = query(&back);
    assert_eq!(
        params["state"], pending.state,
        "the pushed state comes back"
    );
    assert_eq!(params["iss"], tp.issuer);
    let tokens = rp.exchange(&params["code"], pending.verifier).await;
    rp.verify_id_token(&tokens, &pending.nonce);

    let again = browser.get(&url).await;
    assert_eq!(again.status, 400, "a request_uri is good for one use");
    assert!(again.location.is_none());
    assert!(again.body.contains("invalid_request_uri"), "{}", again.body);
    assert!(again.body.contains("used already"), "{}", again.body);
    tp.stop().await;
}

on_both_databases!(
    a_pushed_request_completes_a_login_and_its_request_uri_is_refused_the_second_time,
    pushed_login_then_replay
);

async fn foreign_and_expired(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let (bank, bank_secret) = tp.register(web_client("Bank", "127.0.0.1:9")).await;
    let (shop, _) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &bank, &bank_secret, CALLBACK).await;
    let browser = Browser::new();

    let pending = rp.authorize(&[]);
    let (_, pushed) = push(&tp, Some((&bank, &bank_secret)), &url_pairs(&pending.url)).await;
    let request_uri = pushed["request_uri"].as_str().expect("request_uri");
    let page = browser.get(&authorize_url(&tp, &shop, request_uri)).await;
    assert_eq!(page.status, 400);
    assert!(page.location.is_none());
    assert!(page.body.contains("invalid_request_uri"), "{}", page.body);
    assert!(page.body.contains("not issued to this client_id"));

    // Refused for the other client, it is still the bank's to use.
    let card = tp.issue_card("高橋　二郎");
    let back = log_in(
        &browser,
        &tp,
        &authorize_url(&tp, &bank, request_uri),
        &card,
    )
    .await;
    assert!(query(&back).contains_key("code"), "{back}");

    let late = rp.authorize(&[]);
    let (_, pushed) = push(&tp, Some((&bank, &bank_secret)), &url_pairs(&late.url)).await;
    let request_uri = pushed["request_uri"].as_str().expect("request_uri");
    tp.clock.advance(Duration::from_secs(61));
    let page = Browser::new()
        .get(&authorize_url(&tp, &bank, request_uri))
        .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("invalid_request_uri"), "{}", page.body);
    assert!(page.body.contains("expired"), "{}", page.body);

    let made_up = format!("urn:ietf:params:oauth:request_uri:{}", "A".repeat(43));
    let page = Browser::new()
        .get(&authorize_url(&tp, &bank, &made_up))
        .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("invalid_request_uri"), "{}", page.body);
    tp.stop().await;
}

on_both_databases!(
    another_clients_and_expired_and_unknown_request_uris_are_refused,
    foreign_and_expired
);

async fn required_par(db: Db) {
    let tp = TestProvider::start(db).await;
    let mut spec = web_client("Bank", "127.0.0.1:9");
    spec.require_pushed_authorization_requests = Some(true);
    let (id, secret) = tp.register(spec).await;
    let rp = Rp::discover(&tp, &id, &secret, CALLBACK).await;
    let page = Browser::new().get(&rp.authorize(&[]).url).await;
    assert_eq!(page.status, 400);
    assert!(
        page.location.is_none(),
        "the unpushed request is not redirected"
    );
    assert!(
        page.body.contains("must push its authorization requests"),
        "{}",
        page.body
    );
    // The same request pushed is accepted.
    let (status, pushed) = push(
        &tp,
        Some((&id, &secret)),
        &url_pairs(&rp.authorize(&[]).url),
    )
    .await;
    assert_eq!(status, 201, "{pushed}");
    let page = Browser::new()
        .get(&authorize_url(
            &tp,
            &id,
            pushed["request_uri"].as_str().expect("uri"),
        ))
        .await;
    assert_eq!(page.status, 302, "{}", page.body);
    assert!(page.location.expect("login page").starts_with("/login/"));
    tp.stop().await;
}

on_both_databases!(
    a_client_that_requires_par_is_refused_at_authorize_without_it,
    required_par
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_par_required_globally_discovery_says_so_and_unpushed_requests_are_refused() {
    let tp = TestProvider::start_with(
        Db::Sqlite,
        &[("MYKEY_REQUIRE_PUSHED_AUTHORIZATION_REQUESTS", "true")],
    )
    .await;
    let (id, secret) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
    let metadata: serde_json::Value = reqwest::get(tp.url("/.well-known/openid-configuration"))
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(metadata["require_pushed_authorization_requests"], true);
    let rp = Rp::discover(&tp, &id, &secret, CALLBACK).await;
    let page = Browser::new().get(&rp.authorize(&[]).url).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("must push its authorization requests"));
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_par_endpoint_answers_bad_pushes_with_oauth_errors_in_json() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let (id, secret) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &id, &secret, CALLBACK).await;
    let good = url_pairs(&rp.authorize(&[]).url);

    let (status, body) = push(&tp, Some((&id, "not-the-secret")), &good).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    let with = |name: &str, value: &str| -> Vec<(String, String)> {
        let mut form: Vec<(String, String)> =
            good.iter().filter(|(k, _)| k != name).cloned().collect();
        form.push((name.to_owned(), value.to_owned()));
        form
    };
    let cases = [
        (
            with("redirect_uri", "http://127.0.0.1:9/elsewhere"),
            "invalid_request",
        ),
        (with("response_type", "token"), "unsupported_response_type"),
        (with("scope", "openid email"), "invalid_scope"),
        (with("code_challenge_method", "plain"), "invalid_request"),
        (
            with("request_uri", "urn:ietf:params:oauth:request_uri:x"),
            "invalid_request",
        ),
        (with("client_id", "someone-else"), "invalid_request"),
    ];
    for (form, error) in cases {
        let (status, body) = push(&tp, Some((&id, &secret)), &form).await;
        assert_eq!(status, 400, "{form:?}: {body}");
        assert_eq!(body["error"], error, "{form:?}: {body}");
        assert!(body["error_description"].is_string());
    }
    tp.stop().await;
}
