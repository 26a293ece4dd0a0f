//! The console's defences: anonymous callers, viewers, form tokens, cross-site POSTs, session
//! timeouts, account lockout, escaping, and headers.

use std::time::Duration;

use futures_util::StreamExt as _;

use super::support::{Ops, ADMIN, PASSWORD, VIEWER};
use crate::provider::support::Db;

/// Every console route with a harmless example path.
const GETS: [&str; 13] = [
    "/admin/clients",
    "/admin/clients/new",
    "/admin/clients/x",
    "/admin/clients/x/delete",
    "/admin/sessions",
    "/admin/persons",
    "/admin/persons/x",
    "/admin/keys",
    "/admin/audit",
    "/admin/audit/export",
    "/admin/api-keys",
    "/admin/account",
    "/admin",
];

/// Every state-changing console route, and whether it needs the admin role.
const POSTS: [(&str, bool); 14] = [
    ("/admin/clients", true),
    ("/admin/clients/x", true),
    ("/admin/clients/x/secret", true),
    ("/admin/clients/x/enabled", true),
    ("/admin/clients/x/delete", true),
    ("/admin/sessions/x/end", true),
    ("/admin/persons/merge", true),
    ("/admin/keys/rotate", true),
    ("/admin/api-keys", true),
    ("/admin/api-keys/x/revoke", true),
    ("/admin/account/totp", false),
    ("/admin/account/totp/confirm", false),
    ("/admin/logout", false),
    ("/admin/login", false),
];

/// Enough fields for every console form, so refusals come from the guard, not the parser.
const EVERY_FIELD: [(&str, &str); 10] = [
    ("name", "x"),
    ("source", "a"),
    ("target", "b"),
    ("reason", "r"),
    ("alg", "RS256"),
    ("role", "admin"),
    ("enabled", "false"),
    ("code", "123456"),
    ("username", "alice"),
    ("password", "not the password"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_route_refuses_anonymous_viewers_forged_and_cross_site_requests() {
    let ops = Ops::start(Db::Sqlite).await;
    let anonymous = ops.console();
    for path in GETS {
        let r = anonymous.get(path).await;
        assert_eq!(r.status, 303, "GET {path} anonymously");
        assert_eq!(
            r.location.as_deref(),
            Some(if path == "/admin" {
                "/admin/clients"
            } else {
                "/admin/login"
            }),
            "{path}"
        );
    }
    for (path, _) in POSTS {
        let r = anonymous.post(path, &EVERY_FIELD).await;
        assert!(
            matches!(r.status, 303 | 403),
            "POST {path} anonymously: {}",
            r.status
        );
        assert!(
            r.location.as_deref() != Some("/admin/clients") || path == "/admin/login",
            "{path}"
        );
    }

    let viewer = ops.console();
    assert_eq!(viewer.login(VIEWER, PASSWORD, None).await.status, 303);
    assert_eq!(
        viewer.get("/admin/clients").await.status,
        200,
        "viewers read"
    );
    assert_eq!(viewer.get("/admin/clients/new").await.status, 403);
    let csrf = viewer.csrf.lock().expect("csrf").clone();
    for (path, admin_only) in POSTS {
        if !admin_only {
            continue;
        }
        let r = viewer.post(path, &EVERY_FIELD).await;
        assert_eq!(r.status, 403, "a viewer POSTs {path}");
    }

    let admin = ops.console();
    assert_eq!(admin.login(ADMIN, PASSWORD, None).await.status, 303);
    admin.get("/admin/api-keys").await;
    let token = admin.csrf.lock().expect("csrf").clone();
    assert_ne!(token, csrf, "form tokens are per session");
    let form = [("name", "forged"), ("role", "admin")];
    let missing = admin
        .post_raw("/admin/api-keys", &form, Some(&ops.tp.issuer))
        .await;
    assert_eq!(missing.status, 403, "no form token");
    let wrong = admin
        .post_raw(
            "/admin/api-keys",
            &[("name", "forged"), ("role", "admin"), ("csrf", &csrf)],
            Some(&ops.tp.issuer),
        )
        .await;
    assert_eq!(wrong.status, 403, "another session's form token");
    let cross = admin
        .post_raw(
            "/admin/api-keys",
            &[("name", "forged"), ("role", "admin"), ("csrf", &token)],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(cross.status, 403, "a cross-site POST with a stolen token");
    let null = admin
        .post_raw(
            "/admin/api-keys",
            &[("name", "forged"), ("role", "admin"), ("csrf", &token)],
            Some("null"),
        )
        .await;
    assert_eq!(null.status, 403, "an opaque origin");
    for (path, _) in POSTS {
        let mut fields = EVERY_FIELD.to_vec();
        let r = admin.post_raw(path, &fields, Some(&ops.tp.issuer)).await;
        assert_eq!(r.status, 403, "POST {path} without a form token");
        fields.push(("csrf", &token));
        let r = admin
            .post_raw(path, &fields, Some("https://evil.example"))
            .await;
        assert_eq!(r.status, 403, "POST {path} from another site");
    }
    let keys = admin.get("/admin/api-keys").await;
    assert!(
        !keys.body.contains("forged"),
        "none of the forged requests created a key"
    );
    let real = admin
        .post("/admin/api-keys", &[("name", "real"), ("role", "viewer")])
        .await;
    assert_eq!(real.status, 200, "{}", real.body);
    assert!(real.body.contains("mkc_"), "the new key is shown once");
    ops.tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sessions_end_after_thirty_idle_minutes_and_twelve_hours_in_all() {
    let ops = Ops::start(Db::Sqlite).await;
    let c = ops.console();
    let login = c.login(ADMIN, PASSWORD, None).await;
    let cookie = login
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("cookie").to_owned())
        .find(|v| v.starts_with("mykey_admin="))
        .expect("session cookie");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/admin"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http issuer on loopback");
    let page = c.get("/admin/clients").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["cache-control"], "no-store");
    assert!(page.headers["content-security-policy"]
        .to_str()
        .expect("csp")
        .contains("script-src 'self'"));

    ops.tp.clock.advance(Duration::from_secs(29 * 60));
    assert_eq!(
        c.get("/admin/clients").await.status,
        200,
        "29 idle minutes are fine"
    );
    ops.tp.clock.advance(Duration::from_secs(31 * 60));
    let idle = c.get("/admin/clients").await;
    assert_eq!(
        (idle.status, idle.location.as_deref()),
        (303, Some("/admin/login")),
        "31 idle minutes end it"
    );

    let c = ops.console();
    c.login(ADMIN, PASSWORD, None).await;
    for _ in 0..25 {
        ops.tp.clock.advance(Duration::from_secs(29 * 60));
        if c.get("/admin/clients").await.status != 200 {
            break;
        }
    }
    let late = c.get("/admin/clients").await;
    assert_eq!(
        late.status, 303,
        "an active session still ends after twelve hours"
    );
    ops.tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_wrong_passwords_lock_the_account_for_fifteen_minutes() {
    let ops = Ops::start(Db::Sqlite).await;
    let c = ops.console();
    for i in 0..10 {
        let r = c.login(ADMIN, "wrong password!", None).await;
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let locked = c.login(ADMIN, PASSWORD, None).await;
    assert_eq!(
        locked.status, 401,
        "the right password is refused while locked"
    );
    assert!(
        locked.body.contains("15"),
        "the page says for how long: {}",
        locked.body
    );
    assert!(c.cookie("mykey_admin").is_none());
    ops.tp.clock.advance(Duration::from_secs(15 * 60 + 1));
    assert_eq!(
        c.login(ADMIN, PASSWORD, None).await.status,
        303,
        "unlocked after fifteen minutes"
    );

    let unknown = c.login("nobody", PASSWORD, None).await;
    let wrong = c.login(VIEWER, "wrong password!", None).await;
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(
        super::support::text_of(&unknown.body, "error"),
        super::support::text_of(&wrong.body, "error"),
        "unknown names look like wrong passwords"
    );
    let audit = ops
        .api_json(reqwest::Method::GET, "/audit?kind=admin.locked", None)
        .await;
    assert_eq!(audit["entries"].as_array().expect("entries").len(), 1);
    ops.tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xss_payload_in_every_client_field_comes_back_escaped() {
    let ops = Ops::start(Db::Sqlite).await;
    let c = ops.console();
    c.login(ADMIN, PASSWORD, None).await;
    c.get("/admin/clients/new").await;
    let payload = "\"><script>alert(1)</script>";
    let fields = [
        "name",
        "redirect_uris",
        "post_logout_redirect_uris",
        "backchannel_logout_uri",
        "sector_identifier_uri",
        "auth_method",
        "jwks",
        "jwks_uri",
        "scopes",
        "logo_uri",
        "tos_uri",
        "policy_uri",
        "security_event_uri",
        "id_token_alg",
        "profile",
    ];
    let form: Vec<(&str, &str)> = fields.iter().map(|f| (*f, payload)).collect();
    let refused = c.post("/admin/clients", &form).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        !refused.body.contains("<script>alert(1)"),
        "nothing comes back unescaped"
    );
    assert!(
        refused.body.matches("&#34;&#62;&#60;script&#62;").count()
            + refused.body.matches("&quot;&gt;&lt;script&gt;").count()
            >= 10,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("field-error"),
        "errors next to their fields"
    );

    // A client that is valid but carries the payload where free text is allowed.
    let ok = c
        .post(
            "/admin/clients",
            &[
                ("name", payload),
                (
                    "redirect_uris",
                    "http://127.0.0.1:9/cb?x=%22%3E%3Cscript%3E",
                ),
                ("scopes", "openid"),
                ("auth_method", "client_secret_basic"),
            ],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    for page in ["/admin/clients", "/admin/audit"] {
        let body = c.get(page).await.body;
        assert!(
            !body.contains("<script>alert(1)"),
            "{page} escapes the name"
        );
    }
    ops.tp.stop().await;
}

/// A request body whose first kilobyte comes at once and whose rest never does: only a
/// provider that answers before reading the body answers it.
fn endless_body() -> reqwest::Body {
    let first = futures_util::stream::once(async { Ok::<_, std::io::Error>(vec![b'0'; 1024]) });
    reqwest::Body::wrap_stream(first.chain(futures_util::stream::pending()))
}

/// The answer to a request whose body is [`endless_body`]: it must come all the same.
async fn answered_early<T>(what: &str, request: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer while the body was still coming"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_uploads_from_anyone_but_a_signed_in_writer_are_refused_before_their_body_is_read(
) {
    let ops = Ops::start(Db::Sqlite).await;
    let http = reqwest::Client::new();
    for (path, key, status, error) in [
        ("/crls", None, 401, "unauthorized"),
        ("/linkage", None, 401, "unauthorized"),
        ("/crls", Some(ops.viewer_key.as_str()), 403, "forbidden"),
        ("/linkage", Some(ops.viewer_key.as_str()), 403, "forbidden"),
    ] {
        let mut req = http
            .post(ops.tp.url(&format!("/admin/api/v1{path}")))
            .header("content-type", "application/pkix-crl")
            .body(endless_body());
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let resp = answered_early(&format!("POST {path}"), req.send())
            .await
            .expect("response");
        assert_eq!(resp.status().as_u16(), status, "POST {path}");
        let body: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(body["error"], error, "POST {path}");
    }

    let form = "multipart/form-data; boundary=x";
    let anonymous = ops.console();
    let viewer = ops.console();
    assert_eq!(viewer.login(VIEWER, PASSWORD, None).await.status, 303);
    for path in ["/admin/revocation/crl", "/admin/revocation/linkage"] {
        let r = answered_early(path, anonymous.post_body(path, form, endless_body())).await;
        assert_eq!(
            (r.status, r.location.as_deref()),
            (303, Some("/admin/login")),
            "{path} anonymously"
        );
        let r = answered_early(path, viewer.post_body(path, form, endless_body())).await;
        assert_eq!(r.status, 403, "{path} as a viewer");
    }
    ops.tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_requests_of_the_admin_api_from_anyone_but_a_writer_are_refused_before_their_body_is_read(
) {
    let ops = Ops::start(Db::Sqlite).await;
    let http = reqwest::Client::new();
    let writes = [
        (reqwest::Method::POST, "/clients"),
        (reqwest::Method::PUT, "/clients/any"),
        (reqwest::Method::POST, "/persons/merge"),
        (reqwest::Method::POST, "/keys/rotate"),
        (reqwest::Method::POST, "/api-keys"),
    ];
    for (method, path) in &writes {
        for (key, status, error) in [
            (None, 401, "unauthorized"),
            (Some(ops.viewer_key.as_str()), 403, "forbidden"),
        ] {
            let mut req = http
                .request(method.clone(), ops.tp.url(&format!("/admin/api/v1{path}")))
                .header("content-type", "application/json")
                .body(endless_body());
            if let Some(k) = key {
                req = req.bearer_auth(k);
            }
            let what = format!("{method} {path} with {key:?}");
            let resp = answered_early(&what, req.send()).await.expect("response");
            assert_eq!(resp.status().as_u16(), status, "{what}");
            let body: serde_json::Value = resp.json().await.expect("json");
            assert_eq!(body["error"], error, "{what}");
        }
    }

    // A writer's body is read, up to 256 KB: more is refused with 413, and nothing is created.
    let padded = serde_json::json!({ "name": "x".repeat(256 * 1024), "role": "viewer" });
    let resp = http
        .post(ops.tp.url("/admin/api/v1/api-keys"))
        .bearer_auth(&ops.admin_key)
        .json(&padded)
        .send()
        .await
        .expect("response");
    assert_eq!(resp.status().as_u16(), 413);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request", "{body}");
    let keys: serde_json::Value = http
        .get(ops.tp.url("/admin/api/v1/api-keys"))
        .bearer_auth(&ops.admin_key)
        .send()
        .await
        .expect("response")
        .json()
        .await
        .expect("json");
    assert_eq!(keys["api_keys"].as_array().map(Vec::len), Some(2), "{keys}");
    ops.tp.stop().await;
}
