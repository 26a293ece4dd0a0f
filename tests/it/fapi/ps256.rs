//! PS256 ID tokens (RFC 7518 §3.5), verified by the `openidconnect` crate against the JWKS.

use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::TokenResponse;

use crate::provider::browser::{log_in, query, Browser};
use crate::provider::rp::Rp;
use crate::provider::support::{web_client, Db, TestProvider};

async fn discovery_lists_exactly_the_algorithms_jwks_holds_a_key_for(db: Db) {
    let tp = TestProvider::start(db).await;
    let metadata: serde_json::Value = reqwest::get(tp.url("/.well-known/openid-configuration"))
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    let jwks: serde_json::Value = reqwest::get(tp.url("/jwks.json"))
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let advertised: Vec<&str> = metadata["id_token_signing_alg_values_supported"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| a.as_str().expect("a name"))
        .collect();
    assert_eq!(advertised, ["RS256", "PS256", "ES256"]);
    let mut published: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["alg"].as_str().expect("every key names its alg"))
        .collect();
    published.sort_unstable();
    assert_eq!(published, ["ES256", "PS256", "RS256"]);
    tp.stop().await;
}

on_both_databases!(
    discovery_lists_ps256_with_a_published_ps256_key,
    discovery_lists_exactly_the_algorithms_jwks_holds_a_key_for
);

async fn a_ps256_client_gets_an_id_token_that_verifies_as_ps256(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let mut spec = web_client("Bank", "127.0.0.1:9");
    spec.id_token_alg = Some("PS256".into());
    let (id, secret) = tp.register(spec).await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("佐藤　一郎");
    let pending = rp.authorize(&[]);
    let back = log_in(&Browser::new(), &tp, &pending.url, &card).await;
    let tokens = rp.exchange(&query(&back)["code"], pending.verifier).await;
    let id_token = tokens.id_token().expect("an ID token");

    let rs256_only = rp
        .client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
    assert!(
        id_token.claims(&rs256_only, &pending.nonce).is_err(),
        "not an RS256 token"
    );
    let ps256 = rp
        .client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPssSha256]);
    let claims = id_token
        .claims(&ps256, &pending.nonce)
        .expect("the ID token verifies with the JWKS key as PS256");
    assert_eq!(
        *id_token.signing_alg().expect("alg"),
        CoreJwsSigningAlgorithm::RsaSsaPssSha256
    );
    assert_eq!(claims.issuer().as_str(), tp.issuer);
    assert!(claims.access_token_hash().is_some(), "at_hash");
    tp.stop().await;
}

on_both_databases!(
    a_client_registered_for_ps256_gets_ps256_id_tokens,
    a_ps256_client_gets_an_id_token_that_verifies_as_ps256
);
