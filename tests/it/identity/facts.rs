//! A verifying site receives exactly the consented facts with their evidence.

use openidconnect::{OAuth2TokenResponse, TokenResponse};
use serde_json::json;

use super::support::{decide, hard_card, verify_login, verifying_site, IdaUserInfo};
use crate::provider::browser::Browser;
use crate::provider::flow::decode_payload;
use crate::provider::support::{Db, TestProvider};

async fn facts_released(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let bank = verifying_site(&tp, "Bank", "127.0.0.1:9", true).await;
    let card = hard_card(&mut tp);
    let sign_serial = tp
        .card(&card)
        .serial_hex(mykey_connect::card::jpki::Purpose::Sign)
        .expect("serial");
    let browser = Browser::new();
    // Scopes for userinfo; the claims parameter asks the ID token for the address only.
    let claims = json!({"id_token": {"verified_claims": {
        "verification": {"trust_framework": null}, "claims": {"address": null}}}});
    let pending = bank.rp.authorize_scoped(
        &["name", "address", "birthdate", "gender"],
        &[("claims", &claims.to_string())],
    );
    let (_, consent) = verify_login(&tp, &browser, &pending, &card).await;
    let (page, code) = decide(&tp, &browser, &consent, "approve").await;
    assert!(
        page.contains("髙橋　一郎") && page.contains("外字"),
        "the page shows what goes"
    );
    assert!(page.contains("東京都千代田区永田町１丁目７番１号"));
    let tokens = bank
        .rp
        .exchange(&code.expect("code"), pending.verifier)
        .await;
    bank.rp.verify_id_token(&tokens, &pending.nonce);

    let userinfo: IdaUserInfo = bank
        .rp
        .userinfo(tokens.access_token())
        .await
        .expect("userinfo");
    let vc = userinfo
        .additional_claims()
        .verified_claims
        .clone()
        .expect("verified_claims");
    assert_eq!(vc["verification"]["trust_framework"], "jp_aml");
    let evidence = &vc["verification"]["evidence"][0];
    assert_eq!(evidence["type"], "electronic_signature");
    assert_eq!(evidence["signature_type"], "jpki");
    assert_eq!(evidence["serial_number"], sign_serial.as_str());
    assert!(evidence["issuer"]
        .as_str()
        .is_some_and(|i| i.contains("JPKI")));
    let c = &vc["claims"];
    assert_eq!(c["name"], "髙橋　一郎");
    assert_eq!(
        (c["family_name"].as_str(), c["given_name"].as_str()),
        (Some("髙橋"), Some("一郎"))
    );
    assert_eq!(
        c["address"]["formatted"],
        "東京都千代田区永田町１丁目７番１号"
    );
    assert_eq!(c["birthdate"], "1970", "only the year is known");
    assert_eq!(c["gender"], "unknown");
    assert_eq!(
        c["urn:mykey-connect:claims:substitute_characters"],
        json!(["name", "family_name", "given_name"])
    );
    assert!(
        userinfo.name().is_none(),
        "no plain claims unless asked for"
    );

    let id_claims = decode_payload(&tokens.id_token().expect("id").to_string());
    let in_token = &id_claims["verified_claims"]["claims"];
    assert_eq!(
        in_token["address"]["formatted"],
        "東京都千代田区永田町１丁目７番１号"
    );
    assert!(
        in_token.get("name").is_none(),
        "the ID token carries only what was asked for it"
    );
    tp.stop().await;
}

on_both_databases!(
    a_verifying_site_receives_exactly_the_consented_facts_with_their_evidence,
    facts_released
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusing_the_facts_on_the_consent_page_still_logs_in_without_them() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let bank = verifying_site(&tp, "Bank", "127.0.0.1:9", true).await;
    let card = hard_card(&mut tp);
    let browser = Browser::new();
    let pending = bank.rp.authorize_scoped(&["name"], &[]);
    let (_, consent) = verify_login(&tp, &browser, &pending, &card).await;
    let (page, code) = decide(&tp, &browser, &consent, "approve_without_facts").await;
    assert!(page.contains("id=\"approve-without-facts\""));
    let tokens = bank
        .rp
        .exchange(&code.expect("code"), pending.verifier)
        .await;
    let userinfo: IdaUserInfo = bank
        .rp
        .userinfo(tokens.access_token())
        .await
        .expect("userinfo");
    assert!(userinfo.additional_claims().verified_claims.is_none());

    // An essential fact cannot be declined: only approve or deny.
    let essential = serde_json::json!({"userinfo": {"verified_claims": {"verification": {"trust_framework": null},
        "claims": {"birthdate": {"essential": true}}}}});
    let pending = bank.rp.authorize(&[("claims", &essential.to_string())]);
    let (_, consent) = verify_login(&tp, &browser, &pending, &card).await;
    let page = browser.get(&tp.url(&consent)).await;
    assert!(!page.body.contains("approve-without-facts"));
    let (_, code) = decide(&tp, &browser, &consent, "deny").await;
    assert!(code.is_none(), "denied: no code");
    tp.stop().await;
}
