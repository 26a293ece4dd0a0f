//! The resident's path with no terminal, in headless Chromium: the extension (loaded unpacked,
//! as `--load-extension` allows), the native-messaging host from the profile's
//! `NativeMessagingHosts/`, the card in a PC/SC reader (pcscd with the vpcd software card),
//! and the PIN typed into a dialog (a test pinentry program). And a page of another origin
//! that asks the extension to answer this provider's challenge, refused.

use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use mykey_connect::helper::install::{self, HOST_NAME};
use mykey_connect::web::i18n::JA;
use serde_json::Value;

use super::driver::{Browser, ChromeDriver, Extension, Tools};
use super::site::DemoSite;
use super::{DEMO_CLIENT_NAME, DEMO_LOGIN};
use crate::helper::dialogs::Dialogs;
use crate::helper::pcsc::{wait_for_virtual_card, Bridge, VPCD};

/// The unpacked extension in the repository, as a resident's browser loads it.
fn extension_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("extension")
}

/// The host manifest `mykey-helper install` writes for Chromium, naming the helper binary.
fn host_manifest() -> String {
    install::manifest::chromium(env!("CARGO_BIN_EXE_mykey-helper"))
}

/// A site of another origin whose page asks the extension to answer the challenge named in
/// its address's fragment, claiming to be the provider, and shows the reply.
async fn other_origin_site() -> (String, actix_web::dev::ServerHandle) {
    const PAGE: &str = r#"<!DOCTYPE html><html><body><pre id="reply">waiting</pre><script>
      var challenge = decodeURIComponent(location.hash.slice(1)), asked = false;
      window.addEventListener("message", function (e) {
        var m = e.data;
        if (e.source !== window || !m || m.source !== "mykey-extension") { return; }
        if (m.type === "pong" && !asked) {
          asked = true;
          window.postMessage({ source: "mykey-page", type: "login", id: "x", challenge: challenge,
                               origin: new URL(challenge).origin }, location.origin);
        } else if (m.type === "result") {
          document.getElementById("reply").textContent = JSON.stringify(m.reply);
        }
      });
      (function ping() { if (!asked) { window.postMessage({ source: "mykey-page", type: "ping" }, location.origin); setTimeout(ping, 250); } })();
    </script></body></html>"#;
    let server = HttpServer::new(|| {
        App::new().route(
            "/",
            web::get().to(|| async { HttpResponse::Ok().content_type("text/html").body(PAGE) }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .expect("bind");
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://localhost:{port}/"), handle)
}

async fn wait_for_text(b: &Browser, css: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if b.has(css).await {
            let text = b.text(css).await;
            if done(&text) {
                return text;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} never showed in {css} on {}: {}",
            b.path().await,
            b.text("body").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::await_holding_lock,
    reason = "the reader lock is the one the synchronous PC/SC tests take; this test holds it \
              from start to end on purpose, and nothing else in the test takes it"
)]
async fn a_resident_logs_in_through_the_extension_and_a_dialog_and_another_origin_is_refused() {
    let _reader = VPCD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let tools = Tools::find();
    let site = DemoSite::start().await;
    let _bridge = Bridge::start(&site.card_path);
    tokio::task::spawn_blocking(|| wait_for_virtual_card(Duration::from_secs(20)))
        .await
        .expect("the card is in the reader");
    // The person cancels the first dialog, mistypes in the second, then types the PIN.
    let dialogs = Dialogs::answering(&["CANCEL", "0000", "1234"]);
    let driver = ChromeDriver::start_with_env(&tools, &dialogs.env()).await;
    let extension = Extension {
        dir: extension_dir(),
        host_manifest: Some((HOST_NAME.to_owned(), host_manifest())),
    };
    let resident = driver.browser_with("ja", Some(&extension)).await;

    // A live challenge of this provider, from a login page in a browser without the extension.
    let bystander = driver.browser("ja").await;
    bystander
        .client
        .goto(&site.url("/demo/"))
        .await
        .expect("open");
    bystander.click(DEMO_LOGIN).await;
    bystander
        .wait_for_path("the login page", |p| p.starts_with("/login/"))
        .await;
    let command = bystander.text_content("#helper-command").await;
    let challenge = command
        .strip_prefix("mykey-helper login ")
        .expect("the command names the challenge")
        .to_owned();
    assert!(
        !bystander.shown("#extension").await && bystander.shown("#open-helper").await,
        "without the extension the page offers the helper link"
    );

    // Another origin asks the resident's extension to answer it: refused, no dialog, no
    // request to the provider, the challenge still waiting for its own browser.
    let (other, other_server) = other_origin_site().await;
    let b = &resident;
    b.client
        .goto(&format!(
            "{other}#{}",
            percent_encoding::utf8_percent_encode(&challenge, percent_encoding::NON_ALPHANUMERIC)
        ))
        .await
        .expect("open the other site");
    let reply = wait_for_text(b, "#reply", "the extension's reply", |t| t != "waiting").await;
    let reply: Value = serde_json::from_str(&reply).expect("a JSON reply");
    assert_eq!(reply["type"], "refused", "{reply}");
    assert_eq!(reply["error"], "origin_mismatch", "{reply}");
    assert_eq!(reply["retry"], false);
    assert_eq!(
        dialogs.commands(),
        Vec::<String>::new(),
        "no dialog was shown"
    );
    assert_eq!(bystander.text("#status").await, JA.waiting);
    other_server.stop(true).await;
    // That page's console (its missing favicon) is not the login page's.
    b.console().await;
    bystander.close().await;

    // The resident: one click at the site; the page finds the extension and the helper's
    // dialog asks the PIN.
    b.client.goto(&site.url("/demo/")).await.expect("open");
    b.click(DEMO_LOGIN).await;
    b.wait_for_path("the login page", |p| p.starts_with("/login/"))
        .await;
    let match_code = b.text(".match-code").await;
    let cancelled = wait_for_text(b, "#extension-state", "the cancelled dialog", |t| {
        t.contains("中止")
    })
    .await;
    assert!(
        b.shown("#use-card").await && !b.shown("#open-helper").await,
        "with the extension the page offers the card again, not the helper link: {cancelled}"
    );
    b.assert_self_contained("login page with the extension")
        .await;
    b.screenshot("ja-extension-1-login-cancelled").await;
    b.click(JA.use_card_again).await;
    let wrong = wait_for_text(b, "#extension-state", "the wrong PIN", |t| {
        t.contains("残り2回")
    })
    .await;
    assert!(wrong.contains("暗証番号が違います"), "{wrong}");
    b.screenshot("ja-extension-2-wrong-pin").await;
    b.click(JA.use_card_again).await;
    consent_and_claims(b, &site).await;
    b.screenshot("ja-extension-3-logged-in").await;

    // Each dialog named the site, the provider's origin and the page's match code; the
    // wrong PIN was told in a dialog too.
    let shown = dialogs.commands().join("\n");
    for expected in [
        DEMO_CLIENT_NAME,
        site.issuer.as_str(),
        match_code.as_str(),
        "残り2回",
    ] {
        assert!(
            shown.contains(expected),
            "{expected:?} missing from the dialogs: {shown}"
        );
    }
    assert_eq!(dialogs.count("GETPIN"), 3, "{shown}");

    resident.close().await;
    drop(driver);
    site.stop().await;
}

/// From the login page on, once the card has answered: consent, and the demo site shows the
/// claims of the ID token it verified.
pub(crate) async fn consent_and_claims(b: &Browser, site: &DemoSite) -> Value {
    b.wait_for_path("the consent page", |p| p.starts_with("/consent/"))
        .await;
    b.click(JA.approve).await;
    b.wait_for("#id-token-claims").await;
    let claims: Value = serde_json::from_str(&b.text("#id-token-claims").await).expect("claims");
    assert_eq!(claims["iss"], site.issuer.as_str());
    assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()));
    claims
}
