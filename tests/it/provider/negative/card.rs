//! Card-login refusals as the helper and the browser see them (docs/card-login.md §4–§6).

use std::path::Path;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use mykey_connect::card::jpki::{Purpose, RevocationReason};
use mykey_connect::card::message::signed_message;
use mykey_connect::card::protocol::{CardErrorCode, ChallengeDocument, ChallengeResponse};
use mykey_connect::helper::jpki::Jpki;
use mykey_connect::helper::login::LoginError;
use mykey_connect::helper::secret::Secret;
use mykey_connect::helper::softcard::SoftCard;
use mykey_connect::testkit::TestCa;

use super::super::browser::{use_helper, wait_for_state, Browser, LoginPage};
use super::super::rp::Rp;
use super::super::support::{web_client, Db, TestProvider};

/// Opens the login page of a new authorization and returns it.
async fn login_page(tp: &TestProvider, browser: &Browser) -> LoginPage {
    let (id, secret) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
    let rp = Rp::discover(tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let first = browser.get(&rp.authorize(&[]).url).await;
    let path = first.location.expect("to the login page");
    let page = browser.get(&tp.url(&path)).await;
    assert_eq!(page.status, 200);
    LoginPage::parse(&path, &page.body)
}

/// What a helper would post for `card`, built from the fetched challenge.
async fn signed_answer(challenge_url: &str, card: &Path) -> (ChallengeDocument, ChallengeResponse) {
    let doc: ChallengeDocument = reqwest::Client::new()
        .get(challenge_url)
        .header("accept", "application/json")
        .send()
        .await
        .expect("fetch")
        .json()
        .await
        .expect("document");
    let message = signed_message(
        &doc.issuer,
        &doc.challenge_id,
        &doc.nonce,
        doc.purpose,
        doc.expires_at,
    );
    let card = card.to_path_buf();
    let answer = tokio::task::spawn_blocking(move || {
        let mut jpki = Jpki::new(SoftCard::open(&card).expect("card"));
        jpki.select_application().expect("select");
        let cert = jpki.read_certificate(Purpose::Auth).expect("cert");
        jpki.verify(Purpose::Auth, &Secret::pin("1234".into()).expect("pin"))
            .expect("pin ok");
        let sig = jpki.sign(Purpose::Auth, &message).expect("sign");
        ChallengeResponse {
            auth_certificate: STANDARD.encode(cert),
            auth_signature: URL_SAFE_NO_PAD.encode(sig),
            sign_certificate: None,
            sign_signature: None,
        }
    })
    .await
    .expect("thread");
    (doc, answer)
}

async fn post(url: &str, body: &ChallengeResponse) -> (u16, serde_json::Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .expect("post");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

fn provider_code(e: LoginError) -> Option<CardErrorCode> {
    match e {
        LoginError::Provider { code, .. } => code,
        other => panic!("expected a provider refusal, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_challenge_is_refused_and_the_page_says_expired() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let card = tp.issue_card("鈴木　次郎");
    let browser = Browser::new();
    let page = login_page(&tp, &browser).await;
    let helper_now = tp.clock.unix();
    tp.clock.advance(std::time::Duration::from_secs(301));
    let refused = use_helper(&page.challenge_url, &card, "1234", helper_now)
        .await
        .expect_err("expired");
    assert_eq!(
        provider_code(refused),
        Some(CardErrorCode::ExpiredChallenge)
    );
    let state = wait_for_state(&browser, &tp, &page.status_url).await;
    assert_eq!(state["state"], "expired");
    let failed = browser
        .get(&tp.url(&format!("{}/failed?code=expired_challenge", page.path)))
        .await;
    assert!(
        failed.body.contains("有効期限が切れました"),
        "{}",
        failed.body
    );
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_answered_twice_at_once_accepts_exactly_one_answer() {
    let mut tp = TestProvider::start(Db::Postgres).await;
    let card = tp.issue_card("鈴木　次郎");
    let browser = Browser::new();
    let page = login_page(&tp, &browser).await;
    let (doc, answer) = signed_answer(&page.challenge_url, &card).await;
    let results =
        futures_util::future::join_all((0..4).map(|_| post(&doc.response_uri, &answer))).await;
    let statuses: Vec<u16> = results.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{results:?}"
    );
    assert!(results
        .iter()
        .filter(|(s, _)| *s != 200)
        .all(|(s, b)| *s == 409 && b["error"] == "challenge_already_used"));
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_answers_get_invalid_request_and_leave_the_challenge_open() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let card = tp.issue_card("鈴木　次郎");
    let browser = Browser::new();
    let page = login_page(&tp, &browser).await;
    let response_uri = format!("{}/response", page.challenge_url);
    let http = reqwest::Client::new();
    let resp = http
        .post(&response_uri)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<serde_json::Value>().await.expect("json")["error"],
        "invalid_request"
    );
    let resp = http
        .post(&response_uri)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"auth_certificate\":\"{}\"}}",
            "A".repeat(20_000)
        ))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 413);
    assert_eq!(
        resp.json::<serde_json::Value>().await.expect("json")["error"],
        "invalid_request"
    );
    // The genuine answer still works afterwards.
    use_helper(&page.challenge_url, &card, "1234", tp.clock.unix())
        .await
        .expect("accepted");
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_from_another_ca_and_a_revoked_card_are_refused_with_their_codes() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let browser = Browser::new();

    let mut foreign_ca = TestCa::ephemeral(tp.clock.now()).expect("ca");
    let foreign = foreign_ca
        .issue_card(
            &mykey_connect::testkit::CardOptions::example(),
            tp.clock.now(),
        )
        .expect("card");
    let foreign_path = tp.dir.path().join("foreign.json");
    foreign.save(&foreign_path).expect("save");
    let page = login_page(&tp, &browser).await;
    let refused = use_helper(&page.challenge_url, &foreign_path, "1234", tp.clock.unix())
        .await
        .expect_err("foreign CA");
    assert_eq!(
        provider_code(refused),
        Some(CardErrorCode::UntrustedCertificate)
    );
    let state = wait_for_state(&browser, &tp, &page.status_url).await;
    assert_eq!(
        (state["state"].as_str(), state["error"].as_str()),
        (Some("failed"), Some("untrusted_certificate"))
    );

    let card = tp.issue_card("鈴木　次郎");
    let serial = tp.card(&card).serial_hex(Purpose::Auth).expect("serial");
    let now = tp.clock.now();
    tp.ca
        .revoke(&serial, RevocationReason::KeyCompromise, now)
        .expect("revoke");
    let crl = tp
        .ca
        .crl(Purpose::Auth, now, now + time::Duration::days(1))
        .expect("crl");
    mykey_connect::provider::revocation::import_crl(&tp.provider, crl.as_slice(), "test")
        .await
        .expect("import");
    let page = login_page(&tp, &browser).await;
    let refused = use_helper(&page.challenge_url, &card, "1234", tp.clock.unix())
        .await
        .expect_err("revoked");
    assert_eq!(
        provider_code(refused),
        Some(CardErrorCode::CertificateRevoked)
    );
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_sends_nothing_and_the_challenge_stays_open_for_the_right_one() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let card = tp.issue_card("鈴木　次郎");
    let browser = Browser::new();
    let page = login_page(&tp, &browser).await;
    let wrong = use_helper(&page.challenge_url, &card, "9999", tp.clock.unix())
        .await
        .expect_err("wrong PIN");
    assert!(matches!(wrong, LoginError::Card(_)), "{wrong}");
    assert_eq!(
        tp.card(&card).auth.tries_left,
        2,
        "the card counted the wrong PIN"
    );
    let status = browser.get(&tp.url(&page.status_url)).await;
    assert!(status.body.contains("pending"));
    use_helper(&page.challenge_url, &card, "1234", tp.clock.unix())
        .await
        .expect("the right PIN then logs in");
    assert_eq!(
        tp.card(&card).auth.tries_left,
        3,
        "a right PIN resets the counter"
    );
    tp.stop().await;
}

/// Posts a (non-JSON) answer to the card endpoint as a browser behind `forwarded` would arrive
/// through a proxy; the status tells whether the rate limit let it through (415) or not (429).
async fn post_answer(tp: &TestProvider, forwarded: &str) -> u16 {
    post_answer_with(tp, "x-forwarded-for", forwarded).await
}

async fn post_answer_with(tp: &TestProvider, header: &str, value: &str) -> u16 {
    reqwest::Client::new()
        .post(tp.url("/card/challenges/unknown/response"))
        .header("content-type", "text/plain")
        .header(header, value)
        .body("not json")
        .send()
        .await
        .expect("post")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_resident_address_has_its_own_card_rate_limit() {
    let tp =
        TestProvider::start_with(Db::Sqlite, &[("MYKEY_TRUSTED_PROXIES", "127.0.0.0/8")]).await;
    // Spec §7: 60 at once per address; the proxy appends the address it saw.
    for _ in 0..60 {
        assert_eq!(post_answer(&tp, "198.51.100.1, 203.0.113.7").await, 415);
    }
    assert_eq!(
        post_answer(&tp, "198.51.100.2, 203.0.113.7").await,
        429,
        "the same resident, whatever it claims to the left"
    );
    assert_eq!(
        post_answer(&tp, "203.0.113.8").await,
        415,
        "another resident behind the same proxy"
    );
    // A proxy that speaks RFC 7239 names the same residents with `Forwarded`.
    let forwarded = |v| post_answer_with(&tp, "forwarded", v);
    assert_eq!(forwarded("for=198.51.100.3, for=203.0.113.7").await, 429);
    assert_eq!(forwarded("for=203.0.113.9;proto=https").await, 415);
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_trusted_proxies_a_forwarded_for_header_does_not_escape_the_card_rate_limit() {
    let tp = TestProvider::start(Db::Sqlite).await;
    for i in 0..60 {
        assert_eq!(post_answer(&tp, &format!("203.0.113.{i}")).await, 415);
    }
    assert_eq!(post_answer(&tp, "203.0.113.200").await, 429);
    tp.stop().await;
}
