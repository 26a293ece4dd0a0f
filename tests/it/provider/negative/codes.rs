//! Codes and refresh tokens: PKCE, replay, reuse, and private_key_jwt client assertions.

use std::path::Path;

use openidconnect::core::CoreTokenResponse;
use openidconnect::{OAuth2TokenResponse, PkceCodeVerifier, TokenIntrospectionResponse};
use serde_json::json;

use super::super::browser::{log_in, query, Browser};
use super::super::rp::{Pending, Rp};
use super::super::support::{web_client, Db, TestProvider};

/// Logs the resident in at `rp` and returns the code with the request's secrets.
pub async fn code(tp: &TestProvider, rp: &Rp, browser: &Browser, card: &Path) -> (String, Pending) {
    let pending = rp.authorize(&[]);
    let back = log_in(browser, tp, &pending.url, card).await;
    (query(&back)["code"].clone(), pending)
}

/// A provider with one client, its RP, and a resident's browser back from logging in with a
/// fresh code.
struct Scene {
    tp: TestProvider,
    rp: Rp,
    browser: Browser,
    code: String,
    pending: Pending,
}

impl Scene {
    async fn new(db: Db) -> Scene {
        Scene::new_with(db, &[]).await
    }

    /// A scene whose provider has more `MYKEY_*` settings.
    async fn new_with(db: Db, extra: &[(&str, &str)]) -> Scene {
        let mut tp = TestProvider::start_with(db, extra).await;
        let (id, secret) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
        let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
        let card = tp.issue_card("田中　実");
        let browser = Browser::new();
        let (code, pending) = code(&tp, &rp, &browser, &card).await;
        Scene {
            tp,
            rp,
            browser,
            code,
            pending,
        }
    }
}

async fn token_request(
    tp: &TestProvider,
    rp: &Rp,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let resp = reqwest::Client::new()
        .post(tp.url("/token"))
        .basic_auth(&rp.client_id, Some(&rp.secret))
        .form(form)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

/// Presents a code at `/token` as the RP would, with its redirect URI and PKCE verifier.
async fn redeem(
    tp: &TestProvider,
    rp: &Rp,
    code: &str,
    verifier: &str,
) -> (u16, serde_json::Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &rp.redirect),
        ("code_verifier", verifier),
    ];
    token_request(tp, rp, &form).await
}

/// The site logs the person out (RP-initiated logout with the ID token as hint).
async fn log_out(tp: &TestProvider, browser: &Browser, tokens: &CoreTokenResponse) {
    use openidconnect::{LogoutRequest, PostLogoutRedirectUrl};
    let logout = LogoutRequest::from(
        openidconnect::EndSessionUrl::new(tp.url("/end_session")).expect("url"),
    )
    .set_id_token_hint(openidconnect::TokenResponse::id_token(tokens).expect("id token"))
    .set_post_logout_redirect_uri(
        PostLogoutRedirectUrl::new("http://127.0.0.1:9/bye".into()).expect("url"),
    )
    .http_get_url();
    assert_eq!(browser.get(logout.as_str()).await.status, 302);
}

async fn active(rp: &Rp, tokens: &CoreTokenResponse) -> bool {
    rp.client
        .introspect(tokens.access_token())
        .request_async(&rp.http)
        .await
        .expect("introspection")
        .active()
}

async fn wrong_verifier(db: Db) {
    let Scene {
        tp,
        rp,
        code,
        pending,
        ..
    } = Scene::new(db).await;
    let wrong = PkceCodeVerifier::new("a".repeat(64));
    let (status, body) = redeem(&tp, &rp, &code, wrong.secret()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = redeem(&tp, &rp, &code, pending.verifier.secret()).await;
    assert_eq!(status, 400, "a code is good for one attempt only");
    tp.stop().await;
}

on_both_databases!(
    a_wrong_pkce_verifier_is_an_invalid_grant_and_spends_the_code,
    wrong_verifier
);

/// Exchanges the code, presents it again, and checks that the second time is refused and
/// revoked what the first issued; returns those tokens.
async fn exchange_and_replay(
    tp: &TestProvider,
    rp: &Rp,
    code: &str,
    pending: Pending,
) -> CoreTokenResponse {
    let verifier = pending.verifier.secret().clone();
    let tokens = rp.exchange(code, pending.verifier).await;
    rp.verify_id_token(&tokens, &pending.nonce);
    assert!(active(rp, &tokens).await);
    let (status, body) = redeem(tp, rp, code, &verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        !active(rp, &tokens).await,
        "the replay revoked what the code issued"
    );
    tokens
}

/// [`exchange_and_replay`], then checks that the refresh token the code issued is refused too.
async fn replay_and_refresh(tp: &TestProvider, rp: &Rp, code: &str, pending: Pending) {
    let tokens = exchange_and_replay(tp, rp, code, pending).await;
    let (status, body) = token_request(
        tp,
        rp,
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                tokens.refresh_token().expect("rt").secret(),
            ),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

async fn replay(db: Db) {
    let Scene {
        tp,
        rp,
        code,
        pending,
        ..
    } = Scene::new(db).await;
    replay_and_refresh(&tp, &rp, &code, pending).await;
    tp.stop().await;
}

on_both_databases!(a_replayed_code_revokes_the_tokens_it_issued, replay);

/// `postgres_asynchronous_token_commits` changes when an exchange is answered, not what it
/// spends: a replayed code is refused and revokes what it issued, a refresh token rotates
/// once, and a second login's code is exchanged as usual.
#[tokio::test]
async fn with_asynchronous_token_commits_on_postgres_codes_and_refresh_tokens_are_still_spent_once()
{
    let extra = [("MYKEY_POSTGRES_ASYNCHRONOUS_TOKEN_COMMITS", "true")];
    let Scene {
        tp,
        rp,
        browser,
        code,
        pending,
    } = Scene::new_with(Db::Postgres, &extra).await;
    replay_and_refresh(&tp, &rp, &code, pending).await;

    // Single sign-on: the same browser gets a second code at once.
    let again = rp.authorize(&[]);
    let page = browser.get(&again.url).await;
    assert_eq!(page.status, 302, "{}", page.body);
    let second = query(&page.location.expect("redirect"))["code"].clone();
    let tokens = rp.exchange(&second, again.verifier).await;
    rp.verify_id_token(&tokens, &again.nonce);
    let rotated = rp
        .refresh(tokens.refresh_token().expect("rt"))
        .await
        .expect("refresh");
    assert!(active(&rp, &rotated).await, "the rotated tokens are live");
    let reused = rp.refresh(tokens.refresh_token().expect("rt")).await;
    assert!(
        reused.is_err_and(|e| e.contains("invalid_grant")),
        "a spent refresh token"
    );
    tp.stop().await;
}

async fn reused_refresh(db: Db) {
    let Scene {
        tp,
        rp,
        code,
        pending,
        ..
    } = Scene::new(db).await;
    let first = rp.exchange(&code, pending.verifier).await;
    let rt1 = first.refresh_token().expect("rt").clone();
    let second = rp.refresh(&rt1).await.expect("first refresh");
    assert!(active(&rp, &second).await);
    let (status, body) = token_request(
        &tp,
        &rp,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt1.secret()),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        !active(&rp, &second).await,
        "the thief's reuse killed the legitimate branch too"
    );
    let (status, _) = token_request(
        &tp,
        &rp,
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                second.refresh_token().expect("rt").secret(),
            ),
        ],
    )
    .await;
    assert_eq!(status, 400);
    tp.stop().await;
}

on_both_databases!(
    a_reused_refresh_token_revokes_its_whole_family,
    reused_refresh
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_presented_twice_at_once_is_redeemed_exactly_once() {
    let Scene {
        tp,
        rp,
        code,
        pending,
        ..
    } = Scene::new(Db::Postgres).await;
    let verifier = pending.verifier.secret().clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", rp.redirect.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let attempts = (0..6).map(|_| token_request(&tp, &rp, &form));
    let results = futures_util::future::join_all(attempts).await;
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 1, "{results:?}");
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_clients_authenticate_and_a_tampered_assertion_is_refused() {
    use mykey_connect::jose::{self, Alg, SigningKey};
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let der = SigningKey::generate(Alg::ES256).expect("key");
    let key = SigningKey::from_pkcs8(Alg::ES256, der.as_bytes()).expect("key");
    let jwks = json!({ "keys": [key.public_jwk()] }).to_string();
    let mut spec = web_client("Bank", "127.0.0.1:9");
    spec.auth_method = Some("private_key_jwt".into());
    spec.jwks = Some(jwks);
    let (id, _) = tp.register(spec).await;
    let rp = Rp::discover(&tp, &id, "", "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("田中　実");
    let browser = Browser::new();
    let (code, pending) = code(&tp, &rp, &browser, &card).await;
    let now = tp.clock.unix();
    let assertion = |jti: &str| {
        jose::sign(
            &key,
            None,
            &json!({"iss": id, "sub": id, "aud": tp.url("/token"), "jti": jti, "iat": now, "exp": now + 60}),
        )
        .expect("sign")
    };
    let post = |assertion: String, code: String| {
        let form = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code),
            (
                "redirect_uri".to_owned(),
                "http://127.0.0.1:9/callback".to_owned(),
            ),
            (
                "code_verifier".to_owned(),
                pending.verifier.secret().clone(),
            ),
            (
                "client_assertion_type".to_owned(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion".to_owned(), assertion),
        ];
        let url = tp.url("/token");
        async move {
            let resp = reqwest::Client::new()
                .post(url)
                .form(&form)
                .send()
                .await
                .expect("request");
            let status = resp.status().as_u16();
            (
                status,
                resp.json::<serde_json::Value>().await.expect("json"),
            )
        }
    };
    // Tampered: payload changed after signing.
    let good = assertion("jti-1");
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: serde_json::Value =
            serde_json::from_slice(&b64.decode(&parts[1]).expect("b64")).expect("json");
        claims["exp"] = json!(now + 100_000);
        b64.encode(claims.to_string())
    };
    let (status, body) = post(parts.join("."), code.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    let (status, body) = post(good.clone(), code.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());
    let (status, body) = post(good, code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "a replayed assertion: {body}"
    );
    tp.stop().await;
}

async fn expired(db: Db) {
    let Scene {
        tp,
        rp,
        code,
        pending,
        ..
    } = Scene::new(db).await;
    tp.clock.advance(std::time::Duration::from_secs(601));
    let (status, body) = redeem(&tp, &rp, &code, pending.verifier.secret()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(body["error_description"], "the code has expired");
    tp.stop().await;
}

on_both_databases!(
    a_code_presented_after_its_lifetime_is_an_invalid_grant,
    expired
);

async fn altered(db: Db) {
    let Scene {
        tp,
        rp,
        code,
        pending,
        ..
    } = Scene::new(db).await;
    assert!(
        code.len() < 512,
        "an ordinary grant makes a code of a few hundred characters: {code}"
    );
    let mut altered = code.clone().into_bytes();
    let i = altered.len() / 2;
    altered[i] = if altered[i] == b'x' { b'y' } else { b'x' };
    let altered = String::from_utf8(altered).expect("ascii");
    let (status, body) = redeem(&tp, &rp, &altered, pending.verifier.secret()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let tokens = rp.exchange(&code, pending.verifier).await;
    rp.verify_id_token(&tokens, &pending.nonce);
    tp.stop().await;
}

on_both_databases!(
    an_altered_code_is_refused_and_does_not_spend_the_real_one,
    altered
);

/// A `claims` request long enough that its grant is stored instead of carried in the code.
async fn large_grant(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let (id, secret) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("田中　実");
    let browser = Browser::new();
    let wanted: serde_json::Map<String, serde_json::Value> = (0..40)
        .map(|i| (format!("urn:example:claim:{i:02}"), serde_json::Value::Null))
        .collect();
    let claims = json!({ "userinfo": wanted }).to_string();
    assert!(claims.len() > 1000);
    let pending = rp.authorize(&[("claims", &claims)]);
    let back = log_in(&browser, &tp, &pending.url, &card).await;
    let code = query(&back)["code"].clone();
    assert!(code.len() < 64, "the code stays short: {code}");
    exchange_and_replay(&tp, &rp, &code, pending).await;
    tp.stop().await;
}

on_both_databases!(
    a_grant_too_large_for_the_code_is_stored_and_redeemed_once,
    large_grant
);

async fn logged_out(db: Db) {
    let Scene {
        tp,
        rp,
        browser,
        code: unused,
        pending: unused_pending,
    } = Scene::new(db).await;
    // Single sign-on: the same browser gets a second code at once, and uses it.
    let again = rp.authorize(&[]);
    let page = browser.get(&again.url).await;
    assert_eq!(page.status, 302, "{}", page.body);
    let location = page.location.expect("redirect");
    let tokens = rp.exchange(&query(&location)["code"], again.verifier).await;
    log_out(&tp, &browser, &tokens).await;
    let (status, body) = redeem(&tp, &rp, &unused, unused_pending.verifier.secret()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(body["error_description"], "the login session has ended");
    tp.stop().await;
}

on_both_databases!(
    a_code_issued_before_the_person_logged_out_is_refused,
    logged_out
);

async fn refresh_bounds(db: Db) {
    let Scene {
        tp,
        rp,
        browser,
        code,
        pending,
    } = Scene::new(db).await;
    let tokens = rp.exchange(&code, pending.verifier).await;
    let refresh = |token: String, scope: Option<&'static str>| {
        let (tp, rp) = (&tp, &rp);
        async move {
            let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", &token)];
            form.extend(scope.map(|s| ("scope", s)));
            token_request(tp, rp, &form).await
        }
    };
    let first = tokens.refresh_token().expect("rt").secret().clone();
    let (status, body) = refresh(first.clone(), Some("openid email")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope")),
        "{body}"
    );
    let (status, body) = refresh(first, Some("openid")).await;
    assert_eq!(
        status, 200,
        "the refused wider scope did not spend the token: {body}"
    );
    assert_eq!(body["scope"], "openid");
    let rotated = body["refresh_token"].as_str().expect("rotated").to_owned();

    log_out(&tp, &browser, &tokens).await;
    let (status, body) = refresh(rotated, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Logging out revoked the session's tokens.
    assert_eq!(
        body["error_description"], "the refresh token is expired or revoked",
        "{body}"
    );
    tp.stop().await;
}

on_both_databases!(
    a_refresh_asks_for_no_wider_scope_and_ends_with_the_login_session,
    refresh_bounds
);
