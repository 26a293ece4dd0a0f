//! An operator's day in the console over HTTP: two-step login set-up, a client registered in
//! one form and used at once by a real OIDC client, edited, its secret rotated (the old one
//! refused), a session ended, the audit log exported, logout; pages in both languages.

use openidconnect::TokenResponse as _;

use super::support::{text_of, Ops, ADMIN, PASSWORD};
use crate::provider::browser::{log_in, query, unescape, Browser};
use crate::provider::rp::Rp;
use crate::provider::support::Db;
use mykey_connect::admin::totp;

async fn token_error(ops: &Ops, id: &str, secret: &str) -> u16 {
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

pub(super) fn base32_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
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

async fn operator_day(db: Db) {
    let mut ops = Ops::start(db).await;
    let c = ops.console();

    // Log in without TOTP, set it up from the account page, log out, log in with a code.
    assert_eq!(
        c.login(ADMIN, PASSWORD, None).await.location.as_deref(),
        Some("/admin/clients")
    );
    assert!(c
        .get("/admin/account")
        .await
        .body
        .contains("id=\"setup-totp\""));
    let begun = c.post("/admin/account/totp", &[]).await;
    assert!(
        begun.body.contains("src=\"data:image/svg+xml;base64,"),
        "the QR code is an inline image"
    );
    let key = base32_decode(&text_of(&begun.body, "totp-key").expect("typed key"));
    let now = ops.tp.clock.unix();
    let wrong = c
        .post("/admin/account/totp/confirm", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status, 400);
    let confirm_code = totp::code(&key, totp::step_of(now));
    let confirmed = c
        .post("/admin/account/totp/confirm", &[("code", &confirm_code)])
        .await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    c.get("/admin/account").await;
    assert_eq!(
        c.post("/admin/logout", &[]).await.location.as_deref(),
        Some("/admin/login")
    );
    assert_eq!(c.get("/admin/clients").await.status, 303, "logged out");
    assert_eq!(
        c.login(ADMIN, PASSWORD, None).await.status,
        401,
        "a code is now needed"
    );
    assert_eq!(
        c.login(ADMIN, PASSWORD, Some(&confirm_code)).await.status,
        401,
        "a used code is not accepted twice"
    );
    ops.tp.clock.advance(std::time::Duration::from_secs(30));
    let next = totp::code(&key, totp::step_of(ops.tp.clock.unix()));
    assert_eq!(c.login(ADMIN, PASSWORD, Some(&next)).await.status, 303);

    // One form registers a client; the secret is shown once.
    c.get("/admin/account").await;
    c.get("/admin/clients/new").await;
    let created = c
        .post(
            "/admin/clients",
            &[
                ("name", "City Library"),
                ("redirect_uris", "http://127.0.0.1:7/cb"),
                ("post_logout_redirect_uris", "http://127.0.0.1:7/bye"),
                ("scopes", "openid"),
                ("auth_method", "client_secret_basic"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let secret = text_of(&created.body, "secret").expect("secret shown once");
    let client_page = unescape(&created.body);
    let id = client_page
        .split("/admin/clients/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("link to the client")
        .to_owned();
    let shown = c.get(&format!("/admin/clients/{id}")).await;
    assert_eq!(
        text_of(&shown.body, "snippet-issuer").as_deref(),
        Some(ops.tp.issuer.as_str())
    );
    assert_eq!(
        text_of(&shown.body, "snippet-discovery"),
        Some(format!(
            "{}/.well-known/openid-configuration",
            ops.tp.issuer
        ))
    );
    assert!(
        !shown.body.contains(&secret),
        "the secret is never shown again"
    );

    // The credentials work at once in a real code flow.
    let rp = Rp::discover(&ops.tp, &id, &secret, "http://127.0.0.1:7/cb").await;
    let card = ops.tp.issue_card("高橋　三郎");
    let pending = rp.authorize(&[]);
    let back = log_in(&Browser::new(), &ops.tp, &pending.url, &card).await;
    let tokens = rp.exchange(&query(&back)["code"], pending.verifier).await;
    rp.verify_id_token(&tokens, &pending.nonce);
    assert!(tokens.id_token().is_some());

    // Edit: a second redirect URI on the same host.
    let edited = c
        .post(
            &format!("/admin/clients/{id}"),
            &[
                ("name", "City Library (main)"),
                (
                    "redirect_uris",
                    "http://127.0.0.1:7/cb\nhttp://127.0.0.1:7/cb2",
                ),
                ("scopes", "openid"),
                ("auth_method", "client_secret_basic"),
            ],
        )
        .await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    let shown = c.get(&format!("/admin/clients/{id}")).await;
    assert_eq!(
        text_of(&shown.body, "title").as_deref(),
        Some("City Library (main)")
    );
    assert!(shown.body.contains("http://127.0.0.1:7/cb2"));

    // Rotation: the new secret works, the old one is refused.
    let rotated = c.post(&format!("/admin/clients/{id}/secret"), &[]).await;
    let new_secret = text_of(&rotated.body, "secret").expect("new secret");
    assert_ne!(new_secret, secret);
    assert_eq!(
        token_error(&ops, &id, &secret).await,
        401,
        "the old secret is refused"
    );
    assert_eq!(
        token_error(&ops, &id, &new_secret).await,
        400,
        "the new one authenticates (the code is bogus)"
    );

    // Sessions: the resident's session is listed and can be ended.
    let sessions = c.get(&format!("/admin/sessions?client={id}")).await;
    let session_id = sessions
        .body
        .split("/admin/sessions/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("a session")
        .to_owned();
    assert_eq!(
        c.post(&format!("/admin/sessions/{session_id}/end"), &[])
            .await
            .status,
        303
    );
    assert!(!c.get("/admin/sessions").await.body.contains(&session_id));

    // The audit log, filtered and exported.
    let audit = c.get(&format!("/admin/audit?client={id}")).await;
    for kind in [
        "client.created",
        "client.updated",
        "client.secret_rotated",
        "token.issued",
    ] {
        assert!(audit.body.contains(kind), "{kind} on the audit page");
    }
    let verified = c.get("/admin/audit?verify=1").await;
    assert!(
        verified
            .body
            .contains("id=\"chain-status\" role=\"status\""),
        "{}",
        verified.body
    );
    let export = c.get(&format!("/admin/audit/export?client={id}")).await;
    assert_eq!(export.headers["content-type"], "application/jsonl");
    let lines: Vec<serde_json::Value> = export
        .body
        .lines()
        .map(|l| serde_json::from_str(l).expect("line"))
        .collect();
    assert!(lines
        .iter()
        .any(|l| l["kind"] == "client.secret_rotated" && l["actor"] == "admin:alice"));
    assert!(
        !export.body.contains(&new_secret) && !export.body.contains(&secret),
        "no secrets in the export"
    );

    // Delete with confirmation.
    let confirm = c.get(&format!("/admin/clients/{id}/delete")).await;
    assert!(confirm.body.contains("confirm-delete"));
    assert_eq!(
        c.post(&format!("/admin/clients/{id}/delete"), &[])
            .await
            .status,
        303
    );
    assert_eq!(c.get(&format!("/admin/clients/{id}")).await.status, 404);

    assert_eq!(c.post("/admin/logout", &[]).await.status, 303);
    assert_eq!(c.get("/admin/audit").await.status, 303);
    ops.tp.stop().await;
}

on_both_databases!(
    an_operator_sets_up_totp_registers_uses_edits_rotates_and_deletes_a_client,
    operator_day
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_speaks_japanese_by_default_and_english_when_asked() {
    let ops = Ops::start(Db::Sqlite).await;
    let mut c = ops.console();
    let ja = c.get("/admin/login").await;
    assert!(ja.body.contains("<html lang=\"ja\">"));
    assert_eq!(
        text_of(&ja.body, "title").as_deref(),
        Some("管理者ログイン")
    );
    c.lang = Some("en-US,en;q=0.9");
    let en = c.get("/admin/login").await;
    assert_eq!(
        text_of(&en.body, "title").as_deref(),
        Some("Administrator login")
    );
    c.lang = None;
    let switched = c.get("/admin/lang?to=en&back=/admin/login").await;
    assert_eq!(switched.location.as_deref(), Some("/admin/login"));
    assert_eq!(
        text_of(&c.get("/admin/login").await.body, "title").as_deref(),
        Some("Administrator login"),
        "the choice is remembered"
    );
    let away = c.get("/admin/lang?to=ja&back=https://evil.example/").await;
    assert_eq!(
        away.location.as_deref(),
        Some("/admin/clients"),
        "the switch never leaves the console"
    );
    ops.tp.stop().await;
}
