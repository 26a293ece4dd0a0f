//! Every way a JWS or a client JWKS can be wrong is refused with its own error.

use mykey_connect::jose::{self, Alg, JoseError, Jwks, SigningKey, VerifyingKey};

use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::RsaPrivateKey;

use super::{b64, compact, new_key, unb64, verifying};

const ALL: [Alg; 3] = [Alg::RS256, Alg::PS256, Alg::ES256];

fn signed(alg: Alg) -> (SigningKey, String) {
    let (_, key) = new_key(alg);
    let token =
        jose::sign(&key, Some("JWT"), &serde_json::json!({"sub": "a", "n": 1})).expect("signs");
    (key, token)
}

fn parts(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

#[test]
fn tampered_payload_is_refused() {
    let (key, token) = signed(Alg::RS256);
    let mut p = parts(&token);
    p[1] = b64(br#"{"sub":"b","n":1}"#);
    assert_eq!(
        jose::verify(&p.join("."), &[verifying(&key)], &ALL).map(|_| ()),
        Err(JoseError::BadSignature)
    );
}

#[test]
fn tampered_header_is_refused() {
    let (key, token) = signed(Alg::ES256);
    let mut p = parts(&token);
    p[0] = b64(format!(r#"{{"alg":"ES256","kid":"{}"}}"#, key.kid()).as_bytes());
    assert_eq!(
        jose::verify(&p.join("."), &[verifying(&key)], &ALL).map(|_| ()),
        Err(JoseError::BadSignature)
    );
}

#[test]
fn tampered_signature_is_refused() {
    for alg in [Alg::RS256, Alg::ES256] {
        let (key, token) = signed(alg);
        let mut p = parts(&token);
        let mut signature = unb64(&p[2]);
        signature[10] ^= 0x01;
        p[2] = b64(&signature);
        assert_eq!(
            jose::verify(&p.join("."), &[verifying(&key)], &ALL).map(|_| ()),
            Err(JoseError::BadSignature),
            "{alg}"
        );
    }
}

#[test]
fn rs256_signature_relabelled_as_ps256_is_refused() {
    let (key, token) = signed(Alg::RS256);
    let mut p = parts(&token);
    p[0] = b64(format!(r#"{{"alg":"PS256","kid":"{}","typ":"JWT"}}"#, key.kid()).as_bytes());
    let relabelled = p.join(".");
    // The published JWK says "alg":"RS256", which pins the key to that algorithm.
    assert_eq!(
        jose::verify(&relabelled, &[verifying(&key)], &ALL).map(|_| ()),
        Err(JoseError::NoUsableKey(Alg::PS256))
    );
    // Without that pin, the PKCS#1 v1.5 signature still fails as PSS.
    let mut unpinned = key.public_jwk().clone();
    unpinned.alg = None;
    let keys = [VerifyingKey::from_jwk(&unpinned).expect("public key")];
    assert_eq!(
        jose::verify(&relabelled, &keys, &ALL).map(|_| ()),
        Err(JoseError::BadSignature)
    );
}

#[test]
fn unsecured_alg_none_is_refused_even_with_an_empty_signature() {
    let (key, _) = signed(Alg::RS256);
    for header in [r#"{"alg":"none"}"#, r#"{"alg":"None","kid":"x"}"#] {
        let token = format!("{}.{}.", b64(header.as_bytes()), b64(br#"{"sub":"a"}"#));
        assert_eq!(
            jose::verify(&token, &[verifying(&key)], &ALL).map(|_| ()),
            Err(JoseError::AlgNone)
        );
    }
}

#[test]
fn hmac_token_using_the_public_key_as_secret_is_refused() {
    let (key, _) = signed(Alg::RS256);
    let token = compact(r#"{"alg":"HS256"}"#, r#"{"sub":"a"}"#, |_| vec![0; 32]);
    assert_eq!(
        jose::verify(&token, &[verifying(&key)], &ALL).map(|_| ()),
        Err(JoseError::UnsupportedAlg("HS256".to_owned()))
    );
}

#[test]
fn algorithm_outside_the_allow_list_is_refused() {
    let (key, token) = signed(Alg::ES256);
    assert_eq!(
        jose::verify(&token, &[verifying(&key)], &[Alg::RS256]).map(|_| ()),
        Err(JoseError::DisallowedAlg(Alg::ES256))
    );
}

#[test]
fn signature_from_another_key_under_the_same_kid_is_refused() {
    let (signer, token) = signed(Alg::RS256);
    let (_, other) = new_key(Alg::RS256);
    let mut impostor = other.public_jwk().clone();
    impostor.kid = Some(signer.kid().to_owned());
    let keys = [VerifyingKey::from_jwk(&impostor).expect("public key")];
    assert_eq!(
        jose::verify(&token, &keys, &ALL).map(|_| ()),
        Err(JoseError::BadSignature)
    );
}

#[test]
fn kid_naming_no_key_is_refused() {
    let (_, token) = signed(Alg::RS256);
    let (_, other) = new_key(Alg::RS256);
    let err = jose::verify(&token, &[verifying(&other)], &ALL).expect_err("unknown kid");
    assert!(matches!(err, JoseError::UnknownKid(_)), "{err}");
}

#[test]
fn without_kid_only_keys_of_the_right_type_are_tried() {
    let (_, ec) = new_key(Alg::ES256);
    let (der, rsa) = new_key(Alg::RS256);
    let private = RsaPrivateKey::from_pkcs8_der(der.as_bytes()).expect("rsa crate reads PKCS#8");
    let signer = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(private);
    let token = compact(r#"{"alg":"RS256"}"#, "{}", |input| {
        signer.sign(input).to_vec()
    });
    let keys = [verifying(&ec), verifying(&rsa)];
    let verified = jose::verify(&token, &keys, &ALL).expect("the RSA key is tried");
    assert_eq!(verified.header.kid, None);
    assert_eq!(
        jose::verify(&token, &[verifying(&ec)], &ALL).map(|_| ()),
        Err(JoseError::NoUsableKey(Alg::RS256))
    );
}

#[test]
fn kid_of_a_key_of_the_wrong_type_finds_no_usable_key() {
    let (rsa, _) = signed(Alg::RS256);
    let (_, ec) = new_key(Alg::ES256);
    let token = jose::sign(&ec, None, &1).expect("signs");
    let mut p = parts(&token);
    p[0] = b64(format!(r#"{{"alg":"ES256","kid":"{}"}}"#, rsa.kid()).as_bytes());
    assert_eq!(
        jose::verify(&p.join("."), &[verifying(&rsa)], &ALL).map(|_| ()),
        Err(JoseError::NoUsableKey(Alg::ES256))
    );
}

#[test]
fn critical_header_extensions_are_refused() {
    let (key, _) = signed(Alg::ES256);
    let header = format!(
        r#"{{"alg":"ES256","kid":"{}","crit":["exp"],"exp":1}}"#,
        key.kid()
    );
    let token = compact(&header, "{}", |_| vec![0; 64]);
    assert_eq!(
        jose::verify(&token, &[verifying(&key)], &ALL).map(|_| ()),
        Err(JoseError::UnsupportedCrit)
    );
}

#[test]
fn malformed_compact_serializations_are_refused() {
    let (key, token) = signed(Alg::ES256);
    let p = parts(&token);
    let cases = [
        format!("{}.{}", p[0], p[1]),
        format!("{token}.extra"),
        format!("{}=.{}.{}", p[0], p[1], p[2]),
        format!("{}.{}.{}!", p[0], p[1], p[2]),
        format!("{}.{}.{}", b64(br#"{"kid":"x"}"#), p[1], p[2]),
        format!("{}.{}.{}", b64(br#"{"alg":"ES256","typ":7}"#), p[1], p[2]),
        "x".repeat(70_000),
    ];
    for case in cases {
        let err = jose::verify(&case, &[verifying(&key)], &ALL).expect_err("malformed");
        assert!(matches!(err, JoseError::Malformed(_)), "{err}");
    }
    let not_an_object = format!("{}.{}.{}", b64(b"[1,2]"), p[1], p[2]);
    let err = jose::verify(&not_an_object, &[verifying(&key)], &ALL).expect_err("array header");
    assert!(
        matches!(
            err,
            JoseError::InvalidJson {
                what: "JWS header",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn client_jwks_with_a_private_key_is_refused_with_a_clear_error() {
    let (_, key) = new_key(Alg::ES256);
    let mut jwk = serde_json::to_value(key.public_jwk()).expect("serializes");
    jwk["d"] = serde_json::Value::String(b64(&[7; 32]));
    let jwks = serde_json::json!({ "keys": [jwk] }).to_string();
    let err = Jwks::parse_public(&jwks).expect_err("private JWKS");
    assert_eq!(err, JoseError::PrivateKeyMaterial("d"));
    assert!(err.to_string().contains("private key material"), "{err}");
}
