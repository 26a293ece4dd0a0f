//! JOSE layer: interop with independent implementations, refusals, client assertions, sealing.

mod assertions;
mod interop;
mod refusals;
mod seal;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mykey_connect::jose::{Alg, Pkcs8Der, SigningKey, VerifyingKey};

pub const ISSUER: &str = "https://id.example.jp";
pub const TOKEN_ENDPOINT: &str = "https://id.example.jp/token";
pub const CLIENT_ID: &str = "library-client";

/// A freshly generated key (PKCS#8 kept for independent signers) and its parsed signing key.
pub fn new_key(alg: Alg) -> (Pkcs8Der, SigningKey) {
    let der = SigningKey::generate(alg).expect("key generation");
    let key = SigningKey::from_pkcs8(alg, der.as_bytes()).expect("generated key parses");
    (der, key)
}

pub fn verifying(key: &SigningKey) -> VerifyingKey {
    key.verifying_key().expect("own public key")
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// A compact JWS assembled by hand from a header JSON, payload JSON and signer, so tests can
/// produce tokens this crate's `sign` never would.
pub fn compact(header: &str, payload: &str, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(&signature))
}
