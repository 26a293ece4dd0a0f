//! Tokens signed here verify with openidconnect; tokens signed by other code verify here.

use std::io::Write as _;
use std::process::Command;

use mykey_connect::jose::{self, at_hash, Alg, Jwk, JwkKey, Jwks, VerifyingKey};
use num_bigint::BigUint;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{AccessToken, AccessTokenHash, ClientId, IssuerUrl, Nonce};
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use rsa::RsaPrivateKey;
use time::OffsetDateTime;

use super::{b64, compact, new_key, CLIENT_ID, ISSUER, TOKEN_ENDPOINT};

fn id_token_claims(access_token: &str, alg: Alg) -> serde_json::Value {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    serde_json::json!({
        "iss": ISSUER, "sub": "pairwise-subject", "aud": CLIENT_ID,
        "exp": now + 300, "iat": now, "auth_time": now, "nonce": "n-0S6_WzA2Mj",
        "at_hash": at_hash(alg, access_token), "sid": "session-1", "amr": ["hwk", "pin"],
    })
}

fn id_token_verifies_with_openidconnect(alg: Alg, oidc_alg: CoreJwsSigningAlgorithm) {
    let (_, key) = new_key(alg);
    let access_token = "SlAV32hkKG-access-token";
    let token = jose::sign(&key, Some("JWT"), &id_token_claims(access_token, alg)).expect("signs");

    let published = Jwks {
        keys: vec![key.public_jwk().clone()],
    };
    let jwks: CoreJsonWebKeySet =
        serde_json::from_str(&serde_json::to_string(&published).expect("JWKS serializes"))
            .expect("openidconnect reads the published JWKS");
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(CLIENT_ID.to_owned()),
        IssuerUrl::new(ISSUER.to_owned()).expect("issuer URL"),
        jwks,
    )
    .set_allowed_algs([oidc_alg]);
    let id_token: CoreIdToken = token.parse().expect("openidconnect parses the token");
    let claims = id_token
        .claims(&verifier, &Nonce::new("n-0S6_WzA2Mj".to_owned()))
        .expect("openidconnect verifies signature and claims");
    assert_eq!(claims.subject().as_str(), "pairwise-subject");

    let expected = AccessTokenHash::from_token(
        &AccessToken::new(access_token.to_owned()),
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&verifier).expect("key"),
    )
    .expect("openidconnect computes at_hash");
    assert_eq!(claims.access_token_hash(), Some(&expected));
}

#[test]
fn rs256_id_token_verifies_with_openidconnect_including_at_hash() {
    id_token_verifies_with_openidconnect(Alg::RS256, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256);
}

#[test]
fn es256_id_token_verifies_with_openidconnect_including_at_hash() {
    id_token_verifies_with_openidconnect(Alg::ES256, CoreJwsSigningAlgorithm::EcdsaP256Sha256);
}

fn assertion_claims() -> String {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    serde_json::json!({
        "iss": CLIENT_ID, "sub": CLIENT_ID, "aud": TOKEN_ENDPOINT,
        "exp": now + 60, "iat": now, "jti": "assertion-1",
    })
    .to_string()
}

/// The client's key as the rsa crate sees it, and the JWK the client would register,
/// built from the rsa crate's modulus and exponent (not from this crate's key code).
fn rsa_client(alg: Alg) -> (RsaPrivateKey, Vec<VerifyingKey>) {
    let (der, _) = new_key(Alg::RS256);
    let private = RsaPrivateKey::from_pkcs8_der(der.as_bytes()).expect("rsa crate reads PKCS#8");
    let jwks = serde_json::json!({"keys": [{
        "kty": "RSA", "kid": "client-key", "use": "sig", "alg": alg.as_str(),
        "n": b64(&private.n().to_bytes_be()), "e": b64(&private.e().to_bytes_be()),
    }]});
    let keys = Jwks::parse_public(&jwks.to_string())
        .and_then(|jwks| jwks.verifying_keys())
        .expect("client JWKS is usable");
    (private, keys)
}

#[test]
fn rs256_assertion_signed_by_the_rsa_crate_verifies() {
    let (private, keys) = rsa_client(Alg::RS256);
    let signer = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(private);
    let token = compact(
        r#"{"alg":"RS256","kid":"client-key"}"#,
        &assertion_claims(),
        |input| signer.sign(input).to_vec(),
    );
    let verified =
        jose::verify(&token, &keys, &[Alg::RS256, Alg::PS256, Alg::ES256]).expect("verifies");
    assert_eq!(verified.header.alg, Alg::RS256);
    assert_eq!(verified.header.kid.as_deref(), Some("client-key"));
}

/// rand_core glue so the rsa crate's PSS salt comes from the system generator.
struct SystemRng;

impl rsa::rand_core::RngCore for SystemRng {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }
    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        aws_lc_rs::rand::fill(dest).expect("system random");
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for SystemRng {}

#[test]
fn ps256_assertion_signed_by_the_rsa_crate_without_kid_verifies() {
    let (private, keys) = rsa_client(Alg::PS256);
    // RFC 7518 §3.5: salt as long as the hash, which is the rsa crate's default.
    let signer = rsa::pss::SigningKey::<rsa::sha2::Sha256>::new(private);
    let token = compact(r#"{"alg":"PS256"}"#, &assertion_claims(), |input| {
        signer.sign_with_rng(&mut SystemRng, input).to_vec()
    });
    let verified = jose::verify(&token, &keys, &[Alg::PS256]).expect("verifies");
    assert_eq!(verified.header.kid, None);
}

/// Signs with the openssl command line and turns its DER ECDSA-Sig-Value into JOSE `r ‖ s`.
fn openssl_es256(pkcs8_der: &[u8], input: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_path = dir.path().join("client.der");
    let input_path = dir.path().join("input");
    std::fs::write(&key_path, pkcs8_der).expect("write key");
    std::fs::File::create(&input_path)
        .and_then(|mut file| file.write_all(input))
        .expect("write input");
    let output = Command::new("openssl")
        .args(["dgst", "-sha256", "-keyform", "DER", "-sign"])
        .arg(&key_path)
        .arg(&input_path)
        .output()
        .expect("openssl runs (the CI installs it)");
    assert!(
        output.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (r, s) = yasna::parse_der(&output.stdout, |reader| {
        reader.read_sequence(|seq| Ok((seq.next().read_biguint()?, seq.next().read_biguint()?)))
    })
    .expect("ECDSA-Sig-Value");
    [fixed_32(&r), fixed_32(&s)].concat()
}

fn fixed_32(value: &BigUint) -> Vec<u8> {
    let bytes = value.to_bytes_be();
    let mut out = vec![0; 32 - bytes.len()];
    out.extend_from_slice(&bytes);
    out
}

#[test]
fn es256_assertion_signed_by_openssl_verifies() {
    let (der, key) = new_key(Alg::ES256);
    let JwkKey::Ec { x, y, .. } = key.public_jwk().key.clone() else {
        panic!("EC key");
    };
    let client_jwk = Jwk {
        key: JwkKey::Ec {
            crv: "P-256".to_owned(),
            x,
            y,
        },
        kid: Some("ec-client".to_owned()),
        use_: None,
        alg: None,
    };
    let keys = [VerifyingKey::from_jwk(&client_jwk).expect("EC JWK")];
    let token = compact(
        r#"{"alg":"ES256","kid":"ec-client"}"#,
        &assertion_claims(),
        |input| openssl_es256(der.as_bytes(), input),
    );
    let verified = jose::verify(&token, &keys, &[Alg::ES256]).expect("verifies");
    assert_eq!(verified.header.alg, Alg::ES256);
}
