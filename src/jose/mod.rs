//! JOSE for the provider: signing keys, JWK/JWKS, compact JWS, token hashes, keys sealed at rest.
//!
//! Written directly on aws-lc-rs so that a parsed signing key is reused for every token (the
//! code-flow throughput target depends on it) and so that every refusal has its own error.
//!
//! - [`SigningKey`]: the provider's RS256/ES256 keys, parsed once; kid = RFC 7638 thumbprint.
//! - [`Jwk`], [`Jwks`], [`VerifyingKey`]: public keys published by the provider or by a client.
//! - [`sign`], [`verify`]: compact JWS (RFC 7515) with an algorithm allow-list.
//! - [`at_hash`], [`c_hash`], [`AssertionRules`]: OIDC Core hashes and client assertions.
//! - [`Kek`]: AES-256-GCM encryption of private keys at rest.
//! - [`ProofCheck`], [`NonceKey`]: DPoP proofs and server nonces (RFC 9449).

mod alg;
mod claims;
mod dpop;
mod error;
mod jwk;
mod jws;
mod keys;
mod seal;
mod verifying;

pub use alg::Alg;
pub use claims::{at_hash, c_hash, AcceptedAssertion, AssertionRules};
pub use dpop::{access_token_hash, AcceptedProof, NonceKey, ProofCheck, PROOF_ALGS};
pub use error::JoseError;
pub use jwk::{Jwk, JwkKey, Jwks};
pub use jws::{sign, sign_payload, verify, JwsHeader, VerifiedJws};
pub use keys::{Pkcs8Der, SigningKey};
pub use seal::{Kek, OpenedKey};
pub use verifying::VerifyingKey;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// base64url without padding (RFC 7515 §2), the encoding of every JOSE binary value.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url decoding: padding, other alphabets and non-canonical trailing bits are
/// refused, so one token has exactly one encoding.
pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}
