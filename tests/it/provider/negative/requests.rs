//! Bad authorization requests and bad client authentication.

use super::super::browser::{query, Browser};
use super::super::rp::Rp;
use super::super::support::{web_client, Db, TestProvider};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_client_or_a_foreign_redirect_uri_gets_an_error_page_and_no_redirect() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let (id, secret) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
    let browser = Browser::new();

    let foreign = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/elsewhere").await;
    let page = browser.get(&foreign.authorize(&[]).url).await;
    assert_eq!(page.status, 400);
    assert!(
        page.location.is_none(),
        "never redirected to an unregistered URI"
    );
    assert!(
        page.body.contains("redirect_uri is not registered"),
        "{}",
        page.body
    );

    let stranger = Rp::discover(&tp, "no-such-client", "x", "http://127.0.0.1:9/callback").await;
    let page = browser.get(&stranger.authorize(&[]).url).await;
    assert_eq!(page.status, 400);
    assert!(page.location.is_none());
    assert!(page.body.contains("unknown client_id"));
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_with_a_good_redirect_uri_get_their_errors_at_the_client_with_state_and_iss() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let (id, _) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
    let browser = Browser::new();
    let base = format!(
        "{}/authorize?client_id={id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&state=s1",
        tp.issuer
    );
    let challenge =
        "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
    let cases = [
        (format!("{base}&response_type=code&scope=openid"), "invalid_request"),
        (format!("{base}&response_type=token&scope=openid&{challenge}"), "unsupported_response_type"),
        (format!("{base}&response_type=code&scope=profile&{challenge}"), "invalid_scope"),
        (format!("{base}&response_type=code&scope=openid%20email&{challenge}"), "invalid_scope"),
        (
            format!("{base}&response_type=code&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=plain"),
            "invalid_request",
        ),
        (format!("{base}&response_type=code&scope=openid&{challenge}&prompt=none"), "login_required"),
        (format!("{base}&response_type=code&scope=openid&{challenge}&request=x"), "request_not_supported"),
        (format!("{base}&response_type=code&scope=openid&{challenge}&max_age=-1"), "invalid_request"),
        (format!("{base}&response_type=code&scope=openid&{challenge}&state=s2"), "invalid_request"),
    ];
    for (url, error) in cases {
        let page = browser.get(&url).await;
        assert_eq!(page.status, 302, "{url}: {}", page.body);
        let location = page.location.expect("redirect");
        assert!(
            location.starts_with("http://127.0.0.1:9/callback?"),
            "{location}"
        );
        let q = query(&location);
        assert_eq!(q["error"], error, "{url}");
        assert_eq!(q["iss"], tp.issuer);
        assert_eq!(q["state"], "s1");
    }
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_client_secret_is_refused_with_a_basic_challenge() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let (id, _) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
    let resp = reqwest::Client::new()
        .post(tp.url("/token"))
        .basic_auth(&id, Some("not-the-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("code_verifier", "y"),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 401);
    assert!(resp
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Basic")));
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "invalid_client");

    // The same with the secret in the body of a client registered for Basic.
    let resp = reqwest::Client::new()
        .post(tp.url("/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", id.as_str()),
            ("client_secret", "nope"),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 401);
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_malformed_token_requests_get_oauth_errors() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let (id, secret) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
    let http = reqwest::Client::new();
    let huge = "x".repeat(70 * 1024);
    let resp = http
        .post(tp.url("/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", huge.as_str()),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 413);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");

    let resp = http
        .post(tp.url("/token"))
        .basic_auth(&id, Some(&secret))
        .header("content-type", "application/json")
        .body("{\"grant_type\":\"authorization_code\"}")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 400);

    let resp = http
        .post(tp.url("/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "password"), ("username", "a")])
        .send()
        .await
        .expect("request");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "unsupported_grant_type");
    tp.stop().await;
}
