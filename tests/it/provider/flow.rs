//! The whole flow as an RP and a resident see it, on both storage backends.

use openidconnect::core::CoreUserInfoClaims;
use openidconnect::{
    LogoutRequest, OAuth2TokenResponse, PostLogoutRedirectUrl, TokenIntrospectionResponse,
    TokenResponse,
};

use super::browser::{log_in, query, Browser};
use super::rp::Rp;
use super::support::{web_client, Db, TestProvider};

async fn full_flow(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let (id, secret) = tp.register(web_client("City Library", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("山田　花子");
    let browser = Browser::new();

    let pending = rp.authorize(&[]);
    let back = log_in(&browser, &tp, &pending.url, &card).await;
    assert!(back.starts_with("http://127.0.0.1:9/callback?"), "{back}");
    let params = query(&back);
    assert_eq!(params["state"], pending.state);
    assert_eq!(params["iss"], tp.issuer, "RFC 9207 iss in the response");

    let tokens = rp.exchange(&params["code"], pending.verifier).await;
    let claims = rp.verify_id_token(&tokens, &pending.nonce);
    let sub = claims.subject().as_str().to_owned();
    assert_eq!(claims.issuer().as_str(), tp.issuer);
    assert!(claims.auth_time().is_some());
    let amr: Vec<String> = claims
        .auth_method_refs()
        .expect("amr")
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect();
    assert_eq!(amr, ["sc", "pin", "hwk"]);
    assert!(claims.auth_context_ref().is_some(), "acr");
    let raw = tokens.id_token().expect("id token").to_string();
    let payload = decode_payload(&raw);
    assert!(
        payload["sid"].as_str().is_some_and(|s| !s.is_empty()),
        "sid"
    );

    let userinfo: CoreUserInfoClaims = rp.userinfo(tokens.access_token()).await.expect("userinfo");
    assert_eq!(userinfo.subject().as_str(), sub, "the same sub in userinfo");

    // Refresh rotates: the new pair works, the old refresh token is spent.
    let refresh = tokens.refresh_token().expect("refresh token").clone();
    let refreshed = rp.refresh(&refresh).await.expect("refresh");
    let again = rp.verify_id_token_without_nonce(&refreshed);
    assert_eq!(again, sub, "refreshing keeps the sub");

    let introspected = rp
        .client
        .introspect(refreshed.access_token())
        .request_async(&rp.http)
        .await
        .expect("introspection");
    assert!(introspected.active());
    assert_eq!(
        introspected.sub(),
        Some(sub.as_str()),
        "pairwise sub in introspection"
    );

    // RFC 7009: revoking the refresh token kills its grant, the access token included.
    // (openidconnect refuses revocation endpoints without TLS, so this one call is a plain
    // RFC 7009 form POST with HTTP Basic, exactly what the library would send over https.)
    let revoked = reqwest::Client::new()
        .post(tp.url("/revoke"))
        .basic_auth(&rp.client_id, Some(&rp.secret))
        .form(&[
            (
                "token",
                refreshed.refresh_token().expect("rt").secret().as_str(),
            ),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .expect("revocation");
    assert_eq!(revoked.status(), 200);
    let after = rp
        .client
        .introspect(refreshed.access_token())
        .request_async(&rp.http)
        .await
        .expect("introspection");
    assert!(!after.active(), "revoked grant is inactive at once");

    // RP-initiated logout with the ID token hint ends the session and returns to the site.
    let logout = LogoutRequest::from(
        openidconnect::EndSessionUrl::new(tp.url("/end_session")).expect("url"),
    )
    .set_id_token_hint(tokens.id_token().expect("id token"))
    .set_post_logout_redirect_uri(
        PostLogoutRedirectUrl::new("http://127.0.0.1:9/bye".into()).expect("url"),
    )
    .set_state(openidconnect::CsrfToken::new("bye-state".into()))
    .http_get_url();
    let out = browser.get(logout.as_str()).await;
    assert_eq!(out.status, 302, "{}", out.body);
    assert_eq!(
        out.location.as_deref(),
        Some("http://127.0.0.1:9/bye?state=bye-state")
    );
    assert!(
        browser.cookie("mykey_session").is_none(),
        "session cookie removed"
    );
    let userinfo_after: Result<CoreUserInfoClaims, _> = rp.userinfo(tokens.access_token()).await;
    assert!(
        userinfo_after.is_err(),
        "tokens of the ended session are dead"
    );
    tp.stop().await;
}

on_both_databases!(
    a_resident_logs_in_at_a_site_through_the_whole_flow,
    full_flow
);

async fn pairwise(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let (a_id, a_secret) = tp.register(web_client("Shop A", "127.0.0.1:9")).await;
    let (b_id, b_secret) = tp.register(web_client("Bank B", "localhost:9")).await;
    let a = Rp::discover(&tp, &a_id, &a_secret, "http://127.0.0.1:9/callback").await;
    let b = Rp::discover(&tp, &b_id, &b_secret, "http://localhost:9/callback").await;
    let card = tp.issue_card("佐藤　一郎");

    let browser = Browser::new();
    let sub_at = |rp: &Rp, tokens: &openidconnect::core::CoreTokenResponse, nonce| {
        rp.verify_id_token(tokens, nonce)
            .subject()
            .as_str()
            .to_owned()
    };
    let p1 = a.authorize(&[]);
    let back = log_in(&browser, &tp, &p1.url, &card).await;
    let t1 = a.exchange(&query(&back)["code"], p1.verifier).await;
    let sub_a1 = sub_at(&a, &t1, &p1.nonce);

    // Single sign-on at B: consent is asked (new site), no card needed.
    let p2 = b.authorize(&[]);
    let back = log_in(&browser, &tp, &p2.url, &card).await;
    let t2 = b.exchange(&query(&back)["code"], p2.verifier).await;
    let sub_b = sub_at(&b, &t2, &p2.nonce);
    assert_ne!(sub_a1, sub_b, "two sites see two different subs");

    // Another browser, a fresh card login at A: the same sub as before.
    let other = Browser::new();
    let p3 = a.authorize(&[]);
    let back = log_in(&other, &tp, &p3.url, &card).await;
    let t3 = a.exchange(&query(&back)["code"], p3.verifier).await;
    assert_eq!(
        sub_at(&a, &t3, &p3.nonce),
        sub_a1,
        "the same site sees the same sub again"
    );
    tp.stop().await;
}

on_both_databases!(
    one_resident_has_a_different_sub_per_site_and_a_stable_one_per_site,
    pairwise
);

async fn single_sign_on(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let spec = mykey_connect::provider::clients::ClientSpec {
        scopes: Some("openid profile".into()),
        ..web_client("Ward Office", "127.0.0.1:9")
    };
    let (id, secret) = tp.register(spec).await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("鈴木　次郎");
    let browser = Browser::new();

    let first = rp.authorize(&[]);
    let back = log_in(&browser, &tp, &first.url, &card).await;
    let t1 = rp.exchange(&query(&back)["code"], first.verifier).await;
    let sub = rp.verify_id_token(&t1, &first.nonce).subject().clone();

    // Back at the same site with the session cookie: straight to the site, no page at all.
    let again = rp.authorize(&[]);
    let answer = browser.get(&again.url).await;
    assert_eq!(answer.status, 302, "{}", answer.body);
    let back = answer.location.expect("redirect");
    assert!(back.starts_with("http://127.0.0.1:9/callback?"), "{back}");
    assert_eq!(query(&back)["state"], again.state);
    let t2 = rp.exchange(&query(&back)["code"], again.verifier).await;
    assert_eq!(rp.verify_id_token(&t2, &again.nonce).subject(), &sub);
    assert_eq!(sid_of(&t2), sid_of(&t1), "one client session: the same sid");

    // Asking more than the person allowed goes to the consent page, not to the site.
    let wider = rp.authorize_scoped(&["profile"], &[]);
    let answer = browser.get(&wider.url).await;
    assert_eq!(answer.status, 302, "{}", answer.body);
    let to = answer.location.expect("redirect");
    assert!(to.starts_with("/consent/"), "{to}");

    // prompt=none without a session cookie: login_required at the site.
    let stranger = Browser::new();
    let silent = rp.authorize(&[("prompt", "none")]);
    let answer = stranger.get(&silent.url).await;
    let back = answer.location.expect("redirect");
    assert_eq!(query(&back)["error"], "login_required", "{back}");
    tp.stop().await;
}

on_both_databases!(
    a_signed_in_resident_returns_to_a_site_without_a_page_and_keeps_its_sid,
    single_sign_on
);

async fn logging_in_again(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let (id, secret) = tp.register(web_client("Ward Office", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let (hanako, jiro) = (tp.issue_card("山田　花子"), tp.issue_card("鈴木　次郎"));
    let browser = Browser::new();
    let active = |tokens: &openidconnect::core::CoreTokenResponse| {
        let token = tokens.access_token().clone();
        let rp = &rp;
        async move {
            rp.client
                .introspect(&token)
                .request_async(&rp.http)
                .await
                .expect("introspection")
                .active()
        }
    };

    let first = rp.authorize(&[]);
    let back = log_in(&browser, &tp, &first.url, &hanako).await;
    let t1 = rp.exchange(&query(&back)["code"], first.verifier).await;
    let sub = rp.verify_id_token(&t1, &first.nonce).subject().clone();
    let cookie = browser.cookie("mykey_session").expect("session cookie");

    // The same card again (prompt=login): the same session goes on, with its sid at the site,
    // no new cookie, and the tokens issued before still good.
    let (t2, sub2) = log_in_again(&rp, &browser, &tp, &hanako).await;
    assert_eq!(sub2, sub);
    assert_eq!(sid_of(&t2), sid_of(&t1), "the same client session");
    assert_eq!(
        browser.cookie("mykey_session").as_deref(),
        Some(cookie.as_str())
    );
    assert!(active(&t1).await, "the first login's tokens are still good");

    // Another person's card in the same browser: their own session (and consent page); the
    // first person's session ends, and its tokens with it.
    let (t3, sub3) = log_in_again(&rp, &browser, &tp, &jiro).await;
    assert_ne!(sub3, sub);
    assert_ne!(sid_of(&t3), sid_of(&t1), "a new client session");
    let new_cookie = browser.cookie("mykey_session").expect("session cookie");
    assert_ne!(new_cookie, cookie, "a new session cookie");
    assert!(active(&t3).await);
    assert!(!active(&t1).await, "the replaced session's tokens are dead");
    assert!(!active(&t2).await, "the replaced session's tokens are dead");
    tp.stop().await;
}

/// A login with `prompt=login` in `browser` (which may hold a session) with `card`, back at
/// the site; the tokens and the ID token's subject.
async fn log_in_again(
    rp: &Rp,
    browser: &Browser,
    tp: &TestProvider,
    card: &std::path::Path,
) -> (
    openidconnect::core::CoreTokenResponse,
    openidconnect::SubjectIdentifier,
) {
    let pending = rp.authorize(&[("prompt", "login")]);
    let back = log_in(browser, tp, &pending.url, card).await;
    assert!(back.starts_with("http://127.0.0.1:9/callback?"), "{back}");
    let tokens = rp.exchange(&query(&back)["code"], pending.verifier).await;
    let sub = rp
        .verify_id_token(&tokens, &pending.nonce)
        .subject()
        .clone();
    (tokens, sub)
}

on_both_databases!(
    logging_in_again_keeps_the_same_persons_session_and_ends_another_persons,
    logging_in_again
);

/// Residents at sixteen browsers log in at once with the same, not yet enrolled card (a
/// family's card at a library's counter PCs is the everyday case; the load generator's S6 is
/// the extreme one): the first answers enrol the card concurrently, and every browser still
/// reaches the consent page, the site, and the same person.
async fn logging_in_at_once(db: Db) {
    const BROWSERS: usize = 16;
    let mut tp = TestProvider::start(db).await;
    let (id, secret) = tp.register(web_client("City Library", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("山田　花子");

    let logins = (0..BROWSERS).map(|_| async {
        let browser = Browser::new();
        let pending = rp.authorize(&[("prompt", "consent")]);
        let back = log_in(&browser, &tp, &pending.url, &card).await;
        assert!(back.starts_with("http://127.0.0.1:9/callback?"), "{back}");
        let tokens = rp.exchange(&query(&back)["code"], pending.verifier).await;
        let claims = rp.verify_id_token(&tokens, &pending.nonce);
        claims.subject().as_str().to_owned()
    });
    let subjects = futures_util::future::join_all(logins).await;

    assert_eq!(subjects.len(), BROWSERS);
    assert!(
        subjects.iter().all(|s| *s == subjects[0]),
        "one card is one person at the site: {subjects:?}"
    );
    tp.stop().await;
}

on_both_databases!(
    residents_logging_in_at_once_with_one_new_card_all_reach_the_site_as_one_person,
    logging_in_at_once
);

pub fn decode_payload(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("json")
}

/// The `sid` claim of an ID token (the RP verified it already).
pub fn sid_of(tokens: &openidconnect::core::CoreTokenResponse) -> String {
    decode_payload(&tokens.id_token().expect("id token").to_string())["sid"]
        .as_str()
        .expect("sid")
        .to_owned()
}

pub fn decode_header(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let header = jwt.split('.').next().expect("header");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("json")
}
