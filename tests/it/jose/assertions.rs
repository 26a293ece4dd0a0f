//! Client assertions (private_key_jwt): claim rules of RFC 7523 §3 and OIDC Core §9.

use mykey_connect::jose::{self, Alg, AssertionRules, JoseError};
use serde_json::{json, Value};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::{new_key, verifying, CLIENT_ID, ISSUER, TOKEN_ENDPOINT};

const NOW: OffsetDateTime = datetime!(2026-01-15 09:00 UTC);

fn claims() -> Value {
    let now = NOW.unix_timestamp();
    json!({
        "iss": CLIENT_ID, "sub": CLIENT_ID, "aud": TOKEN_ENDPOINT,
        "exp": now + 60, "iat": now, "jti": "jti-1",
    })
}

fn check(claims: &Value) -> Result<jose::AcceptedAssertion, JoseError> {
    let (_, key) = new_key(Alg::ES256);
    let token = jose::sign(&key, None, claims).expect("signs");
    let verified = jose::verify(&token, &[verifying(&key)], &[Alg::ES256]).expect("verifies");
    AssertionRules::new(CLIENT_ID, ISSUER, TOKEN_ENDPOINT, NOW).check(&verified)
}

fn with(name: &str, value: Value) -> Value {
    let mut claims = claims();
    claims[name] = value;
    claims
}

fn without(name: &str) -> Value {
    let mut claims = claims();
    claims.as_object_mut().expect("object").remove(name);
    claims
}

fn refused(claims: &Value) -> &'static str {
    match check(claims) {
        Err(JoseError::InvalidClaim { claim, .. }) => claim,
        other => panic!("expected a claim error, got {other:?}"),
    }
}

#[test]
fn valid_assertion_yields_its_jti_and_expiry_for_replay_tracking() {
    let accepted = check(&claims()).expect("valid assertion");
    assert_eq!(accepted.jti, "jti-1");
    assert_eq!(accepted.exp, NOW + Duration::seconds(60));
}

#[test]
fn issuer_identifier_and_audience_arrays_are_accepted_as_aud() {
    assert!(check(&with("aud", json!(ISSUER))).is_ok());
    assert!(check(&with(
        "aud",
        json!(["https://other.example", TOKEN_ENDPOINT])
    ))
    .is_ok());
}

#[test]
fn iss_or_sub_other_than_the_client_id_is_refused() {
    assert_eq!(refused(&with("iss", json!("someone-else"))), "iss");
    assert_eq!(refused(&with("sub", json!("someone-else"))), "sub");
    assert_eq!(refused(&without("sub")), "sub");
}

#[test]
fn audience_of_another_server_is_refused() {
    assert_eq!(
        refused(&with("aud", json!("https://evil.example/token"))),
        "aud"
    );
    assert_eq!(refused(&without("aud")), "aud");
}

#[test]
fn expired_assertion_is_refused_after_the_leeway() {
    let now = NOW.unix_timestamp();
    assert!(
        check(&with("exp", json!(now - 30))).is_ok(),
        "within 60 s leeway"
    );
    assert_eq!(refused(&with("exp", json!(now - 61))), "exp");
    assert_eq!(refused(&without("exp")), "exp");
}

#[test]
fn assertion_issued_in_the_future_is_refused() {
    let now = NOW.unix_timestamp();
    assert_eq!(refused(&with("iat", json!(now + 3600))), "iat");
    assert_eq!(refused(&with("nbf", json!(now + 3600))), "nbf");
}

#[test]
fn assertion_without_jti_is_refused() {
    assert_eq!(refused(&without("jti")), "jti");
    assert_eq!(refused(&with("jti", json!(""))), "jti");
}
