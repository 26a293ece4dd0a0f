//! Headless Chromium on the demo site: card login, consent, the verified claims, logout and an
//! expired challenge, in Japanese and in English; every page self-contained under its CSP.

pub(crate) mod driver;
#[cfg(feature = "pcsc")]
pub(crate) mod extension;
mod page;
pub(crate) mod site;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mykey_connect::admin::{persons, Principal};
use mykey_connect::demo::DEMO_CLIENT_ID;
use mykey_connect::oidc::discovery::AMR_CARD;
use mykey_connect::web::i18n::{Texts, EN, JA};
use serde_json::Value;

use driver::{Browser, ChromeDriver, Tools};
use site::DemoSite;

const DEMO_CLIENT_NAME: &str = "デモサイト (Demo site)";
pub(crate) const DEMO_LOGIN: &str = "マイナンバーカードでログイン";
const DEMO_LOGOUT: &str = "ログアウト / Log out";

/// One resident: their card, their browser and the language it asks for.
struct Resident {
    card: PathBuf,
    browser: Browser,
    /// The pages' texts in that language; `t.lang` also prefixes the screenshots.
    t: &'static Texts,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_logs_in_to_the_demo_site_in_chromium_in_japanese_and_english() {
    let tools = Tools::find();
    let site = DemoSite::start().await;
    let driver = ChromeDriver::start(&tools).await;
    // Two residents, so each sees the consent page (it is remembered per person and site).
    let ja = Resident {
        card: site.card_path.clone(),
        browser: driver.browser("ja").await,
        t: &JA,
    };
    let en = Resident {
        card: site.issue_card("SMITH\u{3000}ALICE"),
        browser: driver.browser("en-US,en").await,
        t: &EN,
    };

    let (sub_ja, sid) = log_in(&ja, &site, true).await;
    ended_by_the_provider(&ja, &site, &sid).await;
    let (sub_en, _) = log_in(&en, &site, false).await;
    log_out(&en).await;
    assert_ne!(sub_ja, sub_en, "two residents, two subjects");

    // Logged out at the provider too: the next login asks for the card again. Nobody answers,
    // and when the challenge expires the page moves on to say so.
    for r in [&ja, &en] {
        r.browser.click(DEMO_LOGIN).await;
        r.browser
            .wait_for_path("the login page after logout", |p| p.starts_with("/login/"))
            .await;
    }
    let ttl = site.provider.settings.lifetimes.challenge;
    site.clock.advance(ttl + Duration::from_secs(1));
    for r in [&ja, &en] {
        let shot = format!("{}-5-failed-expired", r.t.lang);
        expired_challenge_page(&r.browser, r.t, Some(&shot)).await;
    }

    // Starting again works, and a language chosen with the page's link stays chosen: the
    // Japanese resident switches to English and the next expiry is told in English.
    let b = &ja.browser;
    b.click(JA.restart).await;
    b.wait_for_path("the login page again", |p| !p.ends_with("/failed"))
        .await;
    b.click(JA.other_lang_name).await;
    b.wait_for("html[lang='en']").await;
    site.clock.advance(ttl + Duration::from_secs(1));
    expired_challenge_page(b, &EN, None).await;

    ja.browser.close().await;
    en.browser.close().await;
    drop(driver);
    site.stop().await;
}

/// Demo page → login page → helper → (by itself) consent → approve → the demo shows the
/// verified claims; returns the `sub` and the `sid`.
async fn log_in(r: &Resident, site: &DemoSite, try_language_link: bool) -> (String, String) {
    let (b, t) = (&r.browser, r.t);
    b.client.goto(&site.url("/demo/")).await.expect("open");
    b.wait_for("#demo-login").await;
    b.click(DEMO_LOGIN).await;
    b.wait_for_path("the login page", |p| p.starts_with("/login/"))
        .await;
    assert_login_page(r).await;
    if try_language_link {
        switch_language_and_back(r).await;
    }
    b.assert_self_contained("login page").await;
    b.screenshot(&format!("{}-1-login", r.t.lang)).await;

    let command = b.text_content("#helper-command").await;
    let challenge_url = command
        .strip_prefix("mykey-helper login ")
        .unwrap_or_else(|| panic!("the helper command on the page: {command:?}"));
    let match_code = b.text(".match-code").await;
    let outcome = site
        .run_helper(challenge_url, &r.card)
        .await
        .expect("helper thread")
        .expect("the provider accepts the demo card");
    assert_eq!(outcome.match_code, match_code, "helper and page agree");
    assert_eq!(outcome.client_name, DEMO_CLIENT_NAME);

    b.wait_for_path("the consent page", |p| p.starts_with("/consent/"))
        .await;
    assert_eq!(b.lang().await, r.t.lang);
    assert_eq!(b.text("#consent-title").await, t.consent_title);
    assert!(b.text(".client").await.contains(DEMO_CLIENT_NAME));
    let items = b.text(".items").await;
    assert!(items.contains(t.consent_sub), "consent items: {items}");
    b.assert_self_contained("consent page").await;
    b.screenshot(&format!("{}-2-consent", r.t.lang)).await;
    b.click(t.approve).await;

    b.wait_for("#id-token-claims").await;
    assert_eq!(b.path().await, "/demo/");
    let claims: Value = serde_json::from_str(&b.text("#id-token-claims").await).expect("claims");
    let userinfo: Value = serde_json::from_str(&b.text("#userinfo").await).expect("userinfo");
    let sub = claims["sub"].as_str().expect("sub").to_owned();
    assert!(!sub.is_empty());
    assert_eq!(claims["iss"], site.issuer.as_str());
    assert_eq!(claims["aud"], serde_json::json!([DEMO_CLIENT_ID]));
    assert_eq!(claims["amr"], serde_json::json!(AMR_CARD));
    let sid = claims["sid"].as_str().expect("sid").to_owned();
    assert_eq!(
        userinfo["sub"],
        sub.as_str(),
        "userinfo names the same person"
    );
    b.assert_self_contained("demo page, logged in").await;
    b.screenshot(&format!("{}-3-demo-logged-in", r.t.lang))
        .await;
    (sub, sid)
}

/// An operator ends the resident's session at the provider: its back-channel logout token
/// reaches the demo site, which ends its own session of that `sid`.
async fn ended_by_the_provider(r: &Resident, site: &DemoSite, sid: &str) {
    let live = persons::live_sessions(&site.provider, Some(DEMO_CLIENT_ID))
        .await
        .expect("sessions");
    let session = live
        .iter()
        .find(|s| s.client_session_id == sid)
        .expect("the demo's session is the ID token's sid");
    persons::end_session(&site.provider, &Principal::cli(), &session.session_id)
        .await
        .expect("the operator ends it");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        r.browser
            .client
            .goto(&site.url("/demo/"))
            .await
            .expect("open");
        if r.browser.has("#demo-login").await {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the demo site never heard of the logout"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!r.browser.has("#id-token-claims").await);
}

async fn assert_login_page(r: &Resident) {
    let b = &r.browser;
    assert_eq!(b.lang().await, r.t.lang);
    assert_eq!(b.text("#login-title").await, r.t.login_title);
    assert_eq!(b.text("#match-label").await, r.t.match_code);
    assert_eq!(b.text("#status").await, r.t.waiting);
    assert_eq!(b.text(".client").await, DEMO_CLIENT_NAME);
}

/// The page's language link switches (a new challenge each time) and switches back.
async fn switch_language_and_back(r: &Resident) {
    let b = &r.browser;
    let other = if r.t.lang == "ja" { &EN } else { &JA };
    b.click(r.t.other_lang_name).await;
    b.wait_for(&format!("html[lang='{}']", other.lang)).await;
    assert_eq!(b.text("#login-title").await, other.login_title);
    b.click(other.other_lang_name).await;
    b.wait_for(&format!("html[lang='{}']", r.t.lang)).await;
    assert_login_page(r).await;
}

/// The demo's logout ends the provider session and comes back to the demo, logged out.
async fn log_out(r: &Resident) {
    let b = &r.browser;
    b.click(DEMO_LOGOUT).await;
    b.wait_for("#demo-login").await;
    assert_eq!(b.path().await, "/demo/");
    assert!(!b.has("#id-token-claims").await, "no claims after logout");
    b.assert_self_contained("demo page, logged out").await;
    b.screenshot(&format!("{}-4-demo-logged-out", r.t.lang))
        .await;
}

async fn expired_challenge_page(b: &Browser, t: &'static Texts, screenshot: Option<&str>) {
    b.wait_for_path("the failed page", |p| p.ends_with("/failed"))
        .await;
    assert_eq!(b.lang().await, t.lang);
    assert_eq!(b.text("#error-title").await, t.error_title);
    assert_eq!(b.text("#error-message").await, t.failed_expired);
    assert_eq!(b.text(".code").await, "expired_challenge");
    let page = b.text("main").await;
    assert!(
        !page.contains(t.blocked_pin_help),
        "PIN advice is beside the point when time ran out: {page}"
    );
    assert_eq!(b.text("#retry").await, t.restart);
    b.assert_self_contained("failed page").await;
    if let Some(name) = screenshot {
        b.screenshot(name).await;
    }
}

#[test]
fn without_chromium_the_browser_test_fails_saying_what_to_install() {
    let present = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let missing = Path::new("/nonexistent/chromium");
    let message = Tools::at(missing, &present).expect_err("a missing browser is an error");
    assert!(
        message.contains("/nonexistent/chromium is missing"),
        "{message}"
    );
    assert!(
        message.contains("apt-get install chromium chromium-driver"),
        "{message}"
    );
    assert!(!message.contains("Cargo.toml"), "{message}");
}
