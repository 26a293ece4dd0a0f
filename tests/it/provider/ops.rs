//! What an operator and a browser see around the protocol: health, readiness, metrics,
//! security headers, languages, and a database that goes away and comes back.

use diesel::connection::SimpleConnection as _;
use diesel::Connection as _;

use super::browser::{log_in, query, Browser};
use super::rp::Rp;
use super::support::{postgres_admin_url, web_client, Db, TestProvider};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics_answer_for_operators() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let health = reqwest::get(tp.url("/healthz")).await.expect("healthz");
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(tp.url("/readyz")).await.expect("readyz");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["database"], "ok");
    let metrics = reqwest::get(tp.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("mykey_http_requests_total"), "{metrics}");
    assert!(metrics.contains("mykey_database_up 1"));
    assert!(
        metrics.contains("mykey_sqlite_checkpoint_stalls_total 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("mykey_sqlite_write_groups_total ")
            && metrics.contains("mykey_sqlite_grouped_writes_total "),
        "{metrics}"
    );
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_security_headers_and_speak_japanese_unless_asked_for_english() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let (id, secret) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for (extra, accept, expect) in [
        (vec![], None, "マイナンバーカードでログイン"),
        (
            vec![("ui_locales", "en")],
            None,
            "Log in with your My Number Card",
        ),
        (
            vec![],
            Some("en-GB,en;q=0.9"),
            "Log in with your My Number Card",
        ),
    ] {
        let mut b = Browser::new();
        b.accept_language = accept.map(str::to_owned);
        let first = b.get(&rp.authorize(&extra).url).await;
        let login = first.location.expect("login page");
        let resp = http
            .get(tp.url(&login))
            .header(
                "cookie",
                format!(
                    "mykey_browser={}",
                    b.cookie("mykey_browser").expect("binding")
                ),
            )
            .header("accept-language", accept.unwrap_or("ja"))
            .send()
            .await
            .expect("login page");
        let h = resp.headers().clone();
        let csp = h["content-security-policy"].to_str().expect("csp");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "no-store");
        let html = resp.text().await.expect("html");
        assert!(html.contains(expect), "{expect} in {html}");
        assert!(!html.contains("<script>"), "no inline script");
    }
    let cookie = http
        .get(rp.authorize(&[]).url)
        .send()
        .await
        .expect("authorize")
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().expect("cookie").to_owned())
        .expect("binding cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "no Secure flag on a plain-http loopback issuer"
    );
    tp.stop().await;
}

fn set_connections(name: &str, allow: bool) {
    let mut admin = diesel::pg::PgConnection::establish(&postgres_admin_url()).expect("admin");
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid();"
        ))
        .expect("toggle connections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_and_loses_no_code() {
    let mut tp = TestProvider::start(Db::Postgres).await;
    let (id, secret) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("伊藤　四郎");
    let browser = Browser::new();
    let pending = rp.authorize(&[]);
    let code = query(&log_in(&browser, &tp, &pending.url, &card).await)["code"].clone();
    let name = tp
        .database_url
        .rsplit('/')
        .next()
        .expect("db name")
        .to_owned();

    set_connections(&name, false);
    let resp = reqwest::Client::new()
        .post(tp.url("/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
            ("code_verifier", pending.verifier.secret().as_str()),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(resp.status(), 503);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "temporarily_unavailable");
    let ready = reqwest::get(tp.url("/readyz")).await.expect("readyz");
    assert_eq!(ready.status(), 503);
    let page = Browser::new().get(&rp.authorize(&[]).url).await;
    assert_eq!(page.status, 503);
    assert!(
        page.body.contains("<html"),
        "the resident gets a page, not JSON"
    );

    set_connections(&name, true);
    let tokens = rp.exchange(&code, pending.verifier).await;
    rp.verify_id_token(&tokens, &pending.nonce);
    tp.stop().await;
}
