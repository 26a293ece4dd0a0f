use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PSS_SHA256};
use serde_json::json;

use super::*;
use crate::jose::{JwkKey, SigningKey};

const URI: &str = "https://op.example/token";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("valid time")
}

fn es256() -> SigningKey {
    let der = SigningKey::generate_es256().expect("generates");
    SigningKey::from_pkcs8(Alg::ES256, der.as_bytes()).expect("parses")
}

/// A proof as an RP library writes it: header with the public JWK, signed by the key.
fn proof_with(key: &SigningKey, header: Value, claims: Value) -> String {
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let signature = key.sign_input(input.as_bytes()).expect("signs");
    format!("{input}.{}", b64url(&signature))
}

fn public_jwk(key: &SigningKey) -> Value {
    let mut jwk = serde_json::to_value(&key.public_jwk().key).expect("serializes");
    if let Value::Object(m) = &mut jwk {
        m.remove("kid");
    }
    jwk
}

fn header(key: &SigningKey) -> Value {
    json!({"typ": "dpop+jwt", "alg": key.alg().as_str(), "jwk": public_jwk(key)})
}

fn claims() -> Value {
    json!({"jti": "e1j3V_bKic8-LAEB", "htm": "POST", "htu": URI, "iat": now().unix_timestamp()})
}

fn check() -> ProofCheck<'static> {
    ProofCheck::new("POST", URI, now(), None)
}

#[test]
fn a_fresh_es256_proof_is_accepted_with_the_thumbprint_of_its_key() {
    let key = es256();
    let accepted = check()
        .verify(&proof_with(&key, header(&key), claims()))
        .expect("valid proof");
    assert_eq!(accepted.jkt, key.public_jwk().thumbprint());
    assert_eq!(accepted.jti, "e1j3V_bKic8-LAEB");
    assert_eq!(accepted.nonce, None);
    assert_eq!(
        accepted.replay_until.unix_timestamp(),
        now().unix_timestamp() + 61
    );
}

#[test]
fn an_rs256_proof_is_accepted() {
    let der = SigningKey::generate_rs256().expect("generates");
    let key = SigningKey::from_pkcs8(Alg::RS256, der.as_bytes()).expect("parses");
    let accepted = check()
        .verify(&proof_with(&key, header(&key), claims()))
        .expect("valid proof");
    assert_eq!(accepted.jkt, key.public_jwk().thumbprint());
}

#[test]
fn a_ps256_proof_is_accepted() {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("generates");
    let public = pair.public_key();
    let jwk = json!({
        "kty": "RSA",
        "n": b64url(public.modulus().big_endian_without_leading_zero()),
        "e": b64url(public.exponent().big_endian_without_leading_zero()),
    });
    let head = json!({"typ": "dpop+jwt", "alg": "PS256", "jwk": jwk});
    let input = format!(
        "{}.{}",
        b64url(head.to_string().as_bytes()),
        b64url(claims().to_string().as_bytes())
    );
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(
        &RSA_PSS_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .expect("signs");
    let proof = format!("{input}.{}", b64url(&signature));
    check().verify(&proof).expect("PS256 proof verifies");
}

// RFC 9449 §4.1's example key and the `jkt` §6.1 gives for it.
#[test]
fn the_thumbprint_of_the_rfc_9449_example_key_is_its_jkt() {
    let jwk: Jwk = serde_json::from_value(json!({
        "kty": "EC",
        "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
        "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
        "crv": "P-256"
    }))
    .expect("EC JWK");
    assert_eq!(
        jwk.thumbprint(),
        "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
    );
}

// RFC 7638 §3.1's example RSA key, as a proof key.
#[test]
fn the_thumbprint_of_the_rfc_7638_example_key_is_the_rfc_value() {
    let jwk = Jwk {
        key: JwkKey::Rsa {
            n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".to_owned(),
            e: "AQAB".to_owned(),
        },
        kid: None,
        use_: None,
        alg: None,
    };
    assert_eq!(
        jwk.thumbprint(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn a_proof_without_the_dpop_type_is_refused() {
    let key = es256();
    let mut head = header(&key);
    head["typ"] = json!("JWT");
    let err = check()
        .verify(&proof_with(&key, head, claims()))
        .expect_err("wrong typ");
    assert_eq!(err, JoseError::InvalidProof("typ must be dpop+jwt"));
}

#[test]
fn a_proof_with_a_private_key_in_its_header_is_refused() {
    let key = es256();
    let mut head = header(&key);
    head["jwk"]["d"] = json!("AQ");
    let err = check()
        .verify(&proof_with(&key, head, claims()))
        .expect_err("private member");
    assert_eq!(err, JoseError::PrivateKeyMaterial("d"));
}

#[test]
fn an_unsecured_or_hmac_proof_is_refused() {
    let key = es256();
    for alg in ["none", "HS256"] {
        let mut head = header(&key);
        head["alg"] = json!(alg);
        let err = check()
            .verify(&proof_with(&key, head, claims()))
            .expect_err("no asymmetric signature");
        assert!(
            matches!(err, JoseError::AlgNone | JoseError::UnsupportedAlg(_)),
            "{err:?}"
        );
    }
}

#[test]
fn a_proof_signed_by_another_key_than_its_header_names_is_refused() {
    let (key, other) = (es256(), es256());
    let err = check()
        .verify(&proof_with(&other, header(&key), claims()))
        .expect_err("signature by another key");
    assert_eq!(err, JoseError::BadSignature);
}

#[test]
fn method_and_uri_must_match_but_query_and_fragment_do_not_count() {
    let key = es256();
    let mut c = claims();
    c["htu"] = json!("HTTPS://OP.example:443/token?x=1#frag");
    check()
        .verify(&proof_with(&key, header(&key), c.clone()))
        .expect("same target");
    c["htu"] = json!("https://op.example/userinfo");
    let err = check()
        .verify(&proof_with(&key, header(&key), c))
        .expect_err("other endpoint");
    assert_eq!(
        err,
        JoseError::InvalidProof("htu does not match the request URI")
    );
    let mut c = claims();
    c["htm"] = json!("GET");
    let err = check()
        .verify(&proof_with(&key, header(&key), c))
        .expect_err("other method");
    assert_eq!(
        err,
        JoseError::InvalidProof("htm does not match the request method")
    );
}

#[test]
fn iat_outside_the_window_is_refused_and_inside_it_is_accepted() {
    let key = es256();
    for (offset, ok) in [(-61, false), (-60, true), (60, true), (61, false)] {
        let mut c = claims();
        c["iat"] = json!(now().unix_timestamp() + offset);
        let result = check().verify(&proof_with(&key, header(&key), c));
        assert_eq!(result.is_ok(), ok, "iat offset {offset}: {result:?}");
    }
}

#[test]
fn missing_jti_or_iat_is_refused() {
    let key = es256();
    for claim in ["jti", "iat", "htm", "htu"] {
        let mut c = claims();
        c.as_object_mut().expect("object").remove(claim);
        assert!(
            check().verify(&proof_with(&key, header(&key), c)).is_err(),
            "{claim} missing"
        );
    }
}

#[test]
fn ath_must_be_the_hash_of_the_presented_access_token() {
    let key = es256();
    let with_token = ProofCheck::new("POST", URI, now(), Some("token-a"));
    let mut c = claims();
    c["ath"] = json!(access_token_hash("token-a"));
    with_token
        .verify(&proof_with(&key, header(&key), c.clone()))
        .expect("ath matches");
    let other = ProofCheck::new("POST", URI, now(), Some("token-b"));
    assert_eq!(
        other.verify(&proof_with(&key, header(&key), c)),
        Err(JoseError::InvalidProof(
            "ath does not match the access token"
        ))
    );
    assert!(with_token
        .verify(&proof_with(&key, header(&key), claims()))
        .is_err());
}

// RFC 9449 §7.1 example: ath of the access token "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".
#[test]
fn ath_matches_the_rfc_9449_example() {
    assert_eq!(
        access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
}

#[test]
fn the_nonce_claim_is_handed_back() {
    let key = es256();
    let mut c = claims();
    c["nonce"] = json!("n-123");
    let accepted = check()
        .verify(&proof_with(&key, header(&key), c))
        .expect("valid");
    assert_eq!(accepted.nonce.as_deref(), Some("n-123"));
}

#[test]
fn a_nonce_is_accepted_by_another_holder_of_the_key_for_two_windows_only() {
    let (a, b) = (NonceKey::new(&[7; 32]), NonceKey::new(&[7; 32]));
    let nonce = a.issue(now());
    assert!(b.accepts(&nonce, now()));
    assert!(b.accepts(&nonce, now() + Duration::seconds(300)));
    assert!(!b.accepts(&nonce, now() + Duration::seconds(600)));
    assert!(!b.accepts(&nonce, now() - Duration::seconds(300)));
}

#[test]
fn a_nonce_of_another_key_or_altered_is_refused() {
    let key = NonceKey::new(&[7; 32]);
    let nonce = NonceKey::new(&[8; 32]).issue(now());
    assert!(!key.accepts(&nonce, now()));
    let mut own = key.issue(now()).into_bytes();
    let last = own.len() - 1;
    own[last] = if own[last] == b'A' { b'B' } else { b'A' };
    assert!(!key.accepts(&String::from_utf8(own).expect("ascii"), now()));
    assert!(!key.accepts("", now()));
}
