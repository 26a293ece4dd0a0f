//! An operator in headless Chromium: logs in, registers a client in one form and a real OIDC
//! client uses it at once, edits it, rotates its secret (the old one is refused), pastes a CRL
//! that ends a session and watches the logout delivery, verifies and exports the audit log,
//! sets up TOTP and logs in with it, logs out; every page screenshotted in both languages.

use std::time::{Duration, Instant};

use mykey_connect::admin::totp;
use mykey_connect::card::jpki::{Purpose, RevocationReason};

use super::chrome::{Chrome, Driver};
use super::support::{Ops, ADMIN, PASSWORD};
use crate::provider::browser::{log_in, query, Browser};
use crate::provider::rp::Rp;
use crate::provider::support::Db;
use crate::revocation::support::Receiver;

async fn token_status(ops: &Ops, id: &str, secret: &str) -> u16 {
    reqwest::Client::new()
        .post(ops.tp.url("/token"))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("code_verifier", "y"),
            ("redirect_uri", "http://127.0.0.1:7/cb"),
        ])
        .send()
        .await
        .expect("token")
        .status()
        .as_u16()
}

fn base32_decode(text: &str) -> Vec<u8> {
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in text.trim().bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {text}"),
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

async fn log_in_console(b: &Chrome, ops: &Ops, code: Option<&str>) {
    b.goto(&ops.tp.url("/admin/login")).await;
    b.wait_for("#login").await;
    b.fill("#username", ADMIN).await;
    b.fill("#password", PASSWORD).await;
    if let Some(code) = code {
        b.fill("#code", code).await;
    }
    b.click("#login", "#who").await;
    assert_eq!(b.text("#who").await, ADMIN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_runs_the_console_in_chromium_in_japanese_and_english() {
    let mut ops = Ops::start(Db::Sqlite).await;
    let driver = Driver::start().await;
    let b = driver.browser("ja", false).await;
    let receiver = Receiver::start();

    b.goto(&ops.tp.url("/admin/login")).await;
    b.wait_for("#login").await;
    assert_eq!(b.lang().await, "ja");
    b.screenshot("ja-login").await;
    log_in_console(&b, &ops, None).await;

    // One form registers the client.
    b.click("#new-client", "#save").await;
    b.fill("#name", "市立図書館").await;
    b.fill("#redirect_uris", "http://127.0.0.1:7/cb").await;
    b.fill("#post_logout_redirect_uris", "http://127.0.0.1:7/bye")
        .await;
    b.fill("#backchannel_logout_uri", &receiver.url).await;
    b.screenshot("ja-client-new").await;
    b.click("#save", "#secret").await;
    b.screenshot("ja-client-secret").await;
    let secret = b.text("#secret").await;
    let back = b
        .client
        .find(fantoccini::Locator::Css("#back"))
        .await
        .expect("back")
        .attr("href")
        .await
        .expect("href")
        .expect("href");
    let id = back.trim_start_matches("/admin/clients/").to_owned();

    // The credentials work at once for a real OIDC client.
    let rp = Rp::discover(&ops.tp, &id, &secret, "http://127.0.0.1:7/cb").await;
    let card = ops.tp.issue_card("渡辺　五郎");
    let pending = rp.authorize(&[]);
    let code = query(&log_in(&Browser::new(), &ops.tp, &pending.url, &card).await)["code"].clone();
    rp.verify_id_token(&rp.exchange(&code, pending.verifier).await, &pending.nonce);

    // Edit, then rotate the secret.
    b.goto(&ops.tp.url(&format!("/admin/clients/{id}"))).await;
    b.wait_for("#snippet").await;
    assert_eq!(b.text("#snippet-client-id").await, id);
    b.fill("#name", "市立図書館（本館）").await;
    b.click("#save", "#snippet").await;
    assert_eq!(b.text("#title").await, "市立図書館（本館）");
    b.click("#rotate-secret", "#secret").await;
    let new_secret = b.text("#secret").await;
    assert_ne!(new_secret, secret);
    assert_eq!(
        token_status(&ops, &id, &secret).await,
        401,
        "the old secret is refused"
    );
    assert_eq!(
        token_status(&ops, &id, &new_secret).await,
        400,
        "the new one authenticates"
    );

    // A CRL pasted in the console ends the resident's session; the delivery shows.
    let serial = ops
        .tp
        .card(&card)
        .serial_hex(Purpose::Auth)
        .expect("serial");
    let now = ops.tp.clock.now();
    ops.tp
        .ca
        .revoke(&serial, RevocationReason::KeyCompromise, now)
        .expect("revoke");
    let crl = ops
        .tp
        .ca
        .crl(Purpose::Auth, now, now + time::Duration::days(1))
        .expect("crl");
    // The CRL as J-LIS publishes it (DER), chosen in the file dialog.
    let file = ops.tp.dir.path().join("jpki-auth.crl");
    std::fs::write(&file, &crl).expect("write the CRL file");
    b.goto(&ops.tp.url("/admin/revocation")).await;
    b.wait_for("#crl_file").await;
    b.choose_file("#crl_file", &file).await;
    b.click("#import-crl", "#message").await;
    assert!(
        b.text("#message").await.contains("1 persons logged out"),
        "{}",
        b.text("#message").await
    );
    receiver.wait_for(1, Duration::from_secs(20)).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        b.goto(&ops.tp.url("/admin/revocation")).await;
        b.wait_for("#deliveries").await;
        if b.text("#deliveries").await.contains("delivered") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the delivery status never reached delivered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The audit log verifies and exports.
    b.goto(&ops.tp.url("/admin/audit?verify=1")).await;
    b.wait_for("#chain-status").await;
    assert!(b
        .text("#chain-status")
        .await
        .starts_with("ハッシュチェーンは正常です"));
    let href = b
        .client
        .find(fantoccini::Locator::Css("#export"))
        .await
        .expect("export")
        .attr("href")
        .await
        .expect("href")
        .expect("href");
    let export = b.fetch_text(&href).await;
    let kinds: Vec<String> = export
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("JSON line")["kind"]
                .as_str()
                .expect("kind")
                .to_owned()
        })
        .collect();
    for k in [
        "client.created",
        "client.updated",
        "client.secret_rotated",
        "crl.imported",
        "person.terminated",
        "logout.delivery",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} exported");
    }

    // Two-step login: set up, log out, log in with a code.
    b.goto(&ops.tp.url("/admin/account")).await;
    b.click("#setup-totp", "#totp-qr").await;
    b.screenshot("ja-account-totp").await;
    let key = base32_decode(&b.text("#totp-key").await);
    let first = totp::code(&key, totp::step_of(ops.tp.clock.unix()));
    b.fill("#code", &first).await;
    b.click("#confirm-totp", "#totp-state").await;
    b.click("#logout", "#login").await;
    ops.tp.clock.advance(Duration::from_secs(30));
    let next = totp::code(&key, totp::step_of(ops.tp.clock.unix()));
    log_in_console(&b, &ops, Some(&next)).await;

    // Every page, in both languages.
    let pages = [
        ("clients", "/admin/clients".to_owned()),
        ("client", format!("/admin/clients/{id}")),
        ("sessions", "/admin/sessions".to_owned()),
        ("persons", format!("/admin/persons?serial={serial}")),
        ("keys", "/admin/keys".to_owned()),
        ("revocation", "/admin/revocation".to_owned()),
        ("audit", "/admin/audit".to_owned()),
        ("api-keys", "/admin/api-keys".to_owned()),
        ("account", "/admin/account".to_owned()),
    ];
    for lang in ["ja", "en"] {
        b.goto(
            &ops.tp
                .url(&format!("/admin/lang?to={lang}&back=/admin/clients")),
        )
        .await;
        b.wait_for("#who").await;
        for (name, path) in &pages {
            b.goto(&ops.tp.url(path)).await;
            b.wait_for("#title").await;
            assert_eq!(b.lang().await, lang, "{path}");
            b.screenshot(&format!("{lang}-{name}")).await;
        }
    }
    b.click("#logout", "#login").await;
    assert_eq!(b.path().await, "/admin/login");
    b.goto(&ops.tp.url("/admin/clients")).await;
    b.wait_for("#login").await;
    b.close().await;
    drop(driver);
    ops.tp.stop().await;
}
