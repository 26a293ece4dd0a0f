//! The one error type of the JOSE layer; every message is safe to log (never key material).

use super::Alg;

/// Why a JOSE operation failed. Attacker-supplied strings appear only shortened and stripped
/// of control characters; keys, plaintexts and signatures never appear.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoseError {
    /// The compact serialization or its header is not well formed (RFC 7515 §7.1).
    #[error("malformed JWS: {0}")]
    Malformed(&'static str),
    /// `alg: none` (RFC 7518 §3.6) is never accepted.
    #[error("unsecured JWS (alg \"none\") refused")]
    AlgNone,
    /// An `alg` this crate does not implement.
    #[error("unsupported JWS algorithm \"{0}\"")]
    UnsupportedAlg(String),
    /// A known `alg` that the caller's allow-list does not contain.
    #[error("JWS algorithm {0} is not allowed here")]
    DisallowedAlg(Alg),
    /// RFC 7515 §4.1.11: a `crit` extension we do not understand makes the JWS invalid.
    #[error("JWS header has critical extensions this verifier does not understand")]
    UnsupportedCrit,
    /// The header's `kid` names no key of the key set.
    #[error("no key with kid \"{0}\"")]
    UnknownKid(String),
    /// No key of the key set can verify this algorithm (wrong type, or its JWK `alg` differs).
    #[error("no key usable for {0}")]
    NoUsableKey(Alg),
    /// The signature does not verify with any candidate key.
    #[error("JWS signature does not verify")]
    BadSignature,
    /// A JWK or key document could not be used as a key.
    #[error("key rejected: {0}")]
    InvalidKey(&'static str),
    /// RSA keys shorter than 2048 bits are refused (RFC 7518 §3.3).
    #[error("RSA key of {0} bits refused: at least 2048 bits are required")]
    WeakKey(usize),
    /// A JWK member is missing or has the wrong form.
    #[error("invalid JWK: {0}")]
    InvalidJwk(&'static str),
    /// A JWKS offered as public keys holds private members (RFC 7517 §9.2).
    #[error("JWKS holds private key material (member \"{0}\"); register public keys only")]
    PrivateKeyMaterial(&'static str),
    /// A JSON document could not be parsed; the position, not the text, is reported.
    #[error("{what} is not valid JSON (line {line}, column {column})")]
    InvalidJson {
        /// What was being parsed ("JWKS", "JWS header", "client assertion claims").
        what: &'static str,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// Claims could not be turned into JSON.
    #[error("claims could not be serialized to JSON")]
    ClaimsNotSerializable,
    /// A claim of a client assertion breaks RFC 7523 §3 / OIDC Core §9.
    #[error("client assertion claim \"{claim}\" {problem}")]
    InvalidClaim {
        /// The claim name.
        claim: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A DPoP proof breaks RFC 9449 §4.3 (type, key, or a claim).
    #[error("DPoP proof refused: {0}")]
    InvalidProof(&'static str),
    /// The cryptographic library failed to generate a key or to sign.
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
    /// The key-encryption key setting is not 32 bytes of base64/base64url.
    #[error("invalid key-encryption key: {0}")]
    InvalidKek(&'static str),
    /// A sealed key's text form is not `v1.<nonce>.<ciphertext>`.
    #[error("sealed key is malformed: {0}")]
    SealedFormat(&'static str),
    /// AES-GCM authentication failed; the cases cannot be told apart by design.
    #[error(
        "sealed key could not be opened: wrong key-encryption key, wrong kid, or tampered data"
    )]
    SealOpen,
}

impl JoseError {
    pub(crate) fn json(what: &'static str, err: &serde_json::Error) -> Self {
        JoseError::InvalidJson {
            what,
            line: err.line(),
            column: err.column(),
        }
    }
}
