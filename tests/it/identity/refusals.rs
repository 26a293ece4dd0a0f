//! Who may ask, wrong passwords, foreign signature certificates, and facts that change.

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use mykey_connect::card::jpki::{Purpose, RevocationReason};
use mykey_connect::card::message::signed_message;
use mykey_connect::card::protocol::{ChallengeDocument, ChallengeResponse};
use mykey_connect::helper::jpki::{Jpki, JpkiError};
use mykey_connect::helper::login::LoginError;
use mykey_connect::helper::secret::Secret;
use mykey_connect::helper::softcard::SoftCard;
use openidconnect::{OAuth2TokenResponse, TokenIntrospectionResponse};

use super::support::{decide, hard_card, verify_login, verifying_site, IdaUserInfo};
use crate::provider::browser::{log_in, query, use_helper_typing, Browser, LoginPage};
use crate::provider::support::{Db, TestProvider};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_not_allowed_to_ask_gets_invalid_scope_or_nothing() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let shop = verifying_site(&tp, "Shop", "127.0.0.1:9", false).await;
    let card = hard_card(&mut tp);
    let browser = Browser::new();
    let page = browser
        .get(&shop.rp.authorize_scoped(&["name"], &[]).url)
        .await;
    let q = query(&page.location.expect("redirect"));
    assert_eq!(q["error"], "invalid_scope");

    // Through the claims parameter: ignored — a plain card login, no facts anywhere.
    let claims = serde_json::json!({"userinfo": {"verified_claims": {"claims": {"name": null}}}, "id_token": {"name": null}});
    let pending = shop.rp.authorize(&[("claims", &claims.to_string())]);
    let back = log_in(&browser, &tp, &pending.url, &card).await;
    let tokens = shop
        .rp
        .exchange(&query(&back)["code"], pending.verifier)
        .await;
    let userinfo: IdaUserInfo = shop
        .rp
        .userinfo(tokens.access_token())
        .await
        .expect("userinfo");
    assert!(userinfo.additional_claims().verified_claims.is_none() && userinfo.name().is_none());
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_signature_password_counts_down_and_blocks_at_five() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let bank = verifying_site(&tp, "Bank", "127.0.0.1:9", true).await;
    let card = hard_card(&mut tp);
    for expected_left in (0..5).rev() {
        let browser = Browser::new();
        let first = browser
            .get(&bank.rp.authorize_scoped(&["name"], &[]).url)
            .await;
        let path = first.location.expect("login");
        let page = LoginPage::parse(&path, &browser.get(&tp.url(&path)).await.body);
        let err = use_helper_typing(
            &page.challenge_url,
            &card,
            &["1234", "WRONG99"],
            tp.clock.unix(),
        )
        .await
        .expect_err("wrong password");
        match err {
            LoginError::Card(JpkiError::WrongPin {
                purpose: Purpose::Sign,
                tries_left,
            }) => {
                assert_eq!(tries_left, expected_left)
            }
            LoginError::Card(JpkiError::Blocked {
                purpose: Purpose::Sign,
            }) => assert_eq!(expected_left, 0),
            other => panic!("unexpected {other}"),
        }
        assert_eq!(
            tp.card(&card).sign.tries_left,
            expected_left,
            "the count persists in the card"
        );
    }
    let browser = Browser::new();
    let first = browser
        .get(&bank.rp.authorize_scoped(&["name"], &[]).url)
        .await;
    let path = first.location.expect("login");
    let page = LoginPage::parse(&path, &browser.get(&tp.url(&path)).await.body);
    let blocked = use_helper_typing(
        &page.challenge_url,
        &card,
        &["1234", "ABC123"],
        tp.clock.unix(),
    )
    .await
    .expect_err("blocked even with the right password");
    assert!(
        matches!(
            blocked,
            LoginError::Card(JpkiError::Blocked {
                purpose: Purpose::Sign
            })
        ),
        "{blocked}"
    );
    tp.stop().await;
}

/// Signs the challenge with one card's user-authentication key and another's signature key.
async fn mixed_answer(
    url: &str,
    auth_card: &std::path::Path,
    sign_card: &std::path::Path,
) -> (String, ChallengeResponse) {
    let doc: ChallengeDocument = reqwest::get(url)
        .await
        .expect("fetch")
        .json()
        .await
        .expect("doc");
    let message = signed_message(
        &doc.issuer,
        &doc.challenge_id,
        &doc.nonce,
        doc.purpose,
        doc.expires_at,
    );
    let (a, s) = (auth_card.to_path_buf(), sign_card.to_path_buf());
    let answer = tokio::task::spawn_blocking(move || {
        let sign_with = |path: &std::path::Path, purpose: Purpose, secret: Secret| {
            let mut jpki = Jpki::new(SoftCard::open(path).expect("card"));
            jpki.select_application().expect("select");
            jpki.verify(purpose, &secret).expect("secret");
            (
                jpki.read_certificate(purpose).expect("cert"),
                jpki.sign(purpose, &message).expect("sign"),
            )
        };
        let (ac, asig) = sign_with(&a, Purpose::Auth, Secret::pin("1234".into()).expect("pin"));
        let (sc, ssig) = sign_with(
            &s,
            Purpose::Sign,
            Secret::sign_password("ABC123".into()).expect("pw"),
        );
        ChallengeResponse {
            auth_certificate: STANDARD.encode(ac),
            auth_signature: URL_SAFE_NO_PAD.encode(asig),
            sign_certificate: Some(STANDARD.encode(sc)),
            sign_signature: Some(URL_SAFE_NO_PAD.encode(ssig)),
        }
    })
    .await
    .expect("thread");
    (doc.response_uri, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_certificate_from_another_persons_card_is_refused() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let bank = verifying_site(&tp, "Bank", "127.0.0.1:9", true).await;
    let alice = hard_card(&mut tp);
    let bob = tp.issue_card("鈴木　二郎");
    // Alice verifies once: her signature certificate is bound to her.
    let pending = bank.rp.authorize_scoped(&["name"], &[]);
    let (_, consent) = verify_login(&tp, &Browser::new(), &pending, &alice).await;
    let _ = consent;
    // Bob answers with his own card and Alice's signature certificate.
    let browser = Browser::new();
    let first = browser
        .get(&bank.rp.authorize_scoped(&["name"], &[]).url)
        .await;
    let path = first.location.expect("login");
    let page = LoginPage::parse(&path, &browser.get(&tp.url(&path)).await.body);
    let (response_uri, answer) = mixed_answer(&page.challenge_url, &bob, &alice).await;
    let resp = reqwest::Client::new()
        .post(&response_uri)
        .json(&answer)
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "untrusted_certificate");
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_signature_certificate_sends_a_set_to_the_sites_that_received_facts_and_no_one_else(
) {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let bank = verifying_site(&tp, "Bank", "127.0.0.1:9", true).await;
    let carrier = verifying_site(&tp, "Carrier", "localhost:9", true).await;
    let card = hard_card(&mut tp);
    let browser = Browser::new();
    let pending = bank.rp.authorize_scoped(&["name", "address"], &[]);
    let (_, consent) = verify_login(&tp, &browser, &pending, &card).await;
    let (_, code) = decide(&tp, &browser, &consent, "approve").await;
    let bank_tokens = bank
        .rp
        .exchange(&code.expect("code"), pending.verifier)
        .await;
    let bank_sub = bank
        .rp
        .verify_id_token(&bank_tokens, &pending.nonce)
        .subject()
        .as_str()
        .to_owned();
    // The carrier logs the person in without facts.
    let pending = carrier.rp.authorize(&[]);
    let back = log_in(&browser, &tp, &pending.url, &card).await;
    let carrier_tokens = carrier
        .rp
        .exchange(&query(&back)["code"], pending.verifier)
        .await;

    // The person moves: J-LIS revokes the signature certificate (affiliationChanged).
    let serial = tp.card(&card).serial_hex(Purpose::Sign).expect("serial");
    let now = tp.clock.now();
    tp.ca
        .revoke(&serial, RevocationReason::AffiliationChanged, now)
        .expect("revoke");
    let crl = tp
        .ca
        .crl(Purpose::Sign, now, now + time::Duration::days(1))
        .expect("crl");
    let report =
        mykey_connect::provider::revocation::import_crl(&tp.provider, crl.as_slice(), "test")
            .await
            .expect("import");
    assert_eq!(
        (
            report.terminated,
            report.facts_changed,
            report.security_events
        ),
        (0, 1, 1)
    );

    let sets = bank.events.wait_for(1, Duration::from_secs(20)).await;
    let set = validate_set(&tp.issuer, &bank.rp.client_id, &sets[0]).await;
    let event =
        &set["events"]["https://schemas.openid.net/secevent/caep/event-type/credential-change"];
    assert_eq!(
        (
            event["credential_type"].as_str(),
            event["change_type"].as_str()
        ),
        (Some("x509"), Some("revoke"))
    );
    assert_eq!(
        set["sub_id"]["sub"].as_str(),
        Some(bank_sub.as_str()),
        "the bank's pairwise sub"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        carrier.events.tokens().is_empty(),
        "a site that got no facts hears nothing"
    );

    // Not logged out, but the facts are gone until a fresh signature.
    let active = |rp: &crate::provider::rp::Rp, t: &openidconnect::core::CoreTokenResponse| {
        let (rp_client, http, token) =
            (rp.client.clone(), rp.http.clone(), t.access_token().clone());
        async move {
            rp_client
                .introspect(&token)
                .request_async(&http)
                .await
                .expect("introspect")
                .active()
        }
    };
    assert!(active(&bank.rp, &bank_tokens).await && active(&carrier.rp, &carrier_tokens).await);
    let userinfo: IdaUserInfo = bank
        .rp
        .userinfo(bank_tokens.access_token())
        .await
        .expect("userinfo");
    assert!(userinfo.additional_claims().verified_claims.is_none());
    tp.stop().await;
}

/// Checks a Security Event Token as its receiver does (RFC 8417 §2, RFC 8935 §2).
async fn validate_set(issuer: &str, client_id: &str, token: &str) -> serde_json::Value {
    let parts: Vec<&str> = token.split('.').collect();
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("header");
    assert_eq!(header["typ"], "secevent+jwt");
    // The same JWKS check as for logout tokens.
    let claims = crate::revocation::support::verify_signed(issuer, token).await;
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["aud"], client_id);
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert!(claims["iat"].as_i64().is_some());
    assert!(claims.get("exp").is_none() || claims["exp"].is_i64());
    claims
}
