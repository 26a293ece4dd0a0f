//! Compact JWS (RFC 7515 §7.1): signing with cached headers, verification with an allow-list.

use std::sync::{PoisonError, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::alg::printable;
use super::{b64url_decode, Alg, JoseError, SigningKey, VerifyingKey};

/// Tokens longer than this are refused before any decoding; the provider's own tokens and
/// client assertions are a few kilobytes at most.
const MAX_TOKEN_LEN: usize = 64 * 1024;

/// How many distinct `typ` values one key keeps encoded headers for (the provider uses three:
/// ID token, logout token, security event token).
const MAX_CACHED_TYPS: usize = 8;

/// The protected headers of one signing key, base64url-encoded once per `typ`.
pub(crate) struct HeaderCache {
    alg: Alg,
    kid: String,
    untyped: String,
    typed: RwLock<Vec<(String, String)>>,
}

impl HeaderCache {
    pub(crate) fn new(alg: Alg, kid: &str) -> HeaderCache {
        HeaderCache {
            alg,
            kid: kid.to_owned(),
            untyped: encode_header(alg, kid, None),
            typed: RwLock::new(Vec::new()),
        }
    }

    fn write_to(&self, typ: Option<&str>, out: &mut String) {
        let Some(typ) = typ else {
            out.push_str(&self.untyped);
            return;
        };
        {
            let cached = self.typed.read().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, encoded)) = cached.iter().find(|(t, _)| t == typ) {
                out.push_str(encoded);
                return;
            }
        }
        let encoded = encode_header(self.alg, &self.kid, Some(typ));
        out.push_str(&encoded);
        let mut cached = self.typed.write().unwrap_or_else(PoisonError::into_inner);
        if cached.len() < MAX_CACHED_TYPS && !cached.iter().any(|(t, _)| t == typ) {
            cached.push((typ.to_owned(), encoded));
        }
    }
}

fn encode_header(alg: Alg, kid: &str, typ: Option<&str>) -> String {
    let kid = Value::String(kid.to_owned());
    let json = match typ {
        Some(typ) => format!(
            r#"{{"alg":"{alg}","kid":{kid},"typ":{}}}"#,
            Value::String(typ.to_owned())
        ),
        None => format!(r#"{{"alg":"{alg}","kid":{kid}}}"#),
    };
    URL_SAFE_NO_PAD.encode(json)
}

/// Signs `claims` as a compact JWS with the protected header `{"alg","kid","typ"?}`.
/// `typ` is e.g. `Some("JWT")`, `Some("logout+jwt")` (OIDC Back-Channel Logout §2.4) or
/// `Some("secevent+jwt")` (RFC 8417 §2.3).
pub fn sign(
    key: &SigningKey,
    typ: Option<&str>,
    claims: &impl Serialize,
) -> Result<String, JoseError> {
    let payload = serde_json::to_vec(claims).map_err(|_| JoseError::ClaimsNotSerializable)?;
    sign_payload(key, typ, &payload)
}

/// Signs already-serialized payload bytes; see [`sign`].
pub fn sign_payload(
    key: &SigningKey,
    typ: Option<&str>,
    payload: &[u8],
) -> Result<String, JoseError> {
    // Header ~120 chars, RSA-2048 signature 342 chars: one allocation for the whole token.
    let mut token = String::with_capacity(512 + payload.len() * 4 / 3);
    key.headers().write_to(typ, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = key.sign_input(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

/// The protected header members a caller may act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwsHeader {
    /// The verified algorithm (one of the caller's allowed ones).
    pub alg: Alg,
    /// The key id, when the signer named one.
    pub kid: Option<String>,
    /// The media type of the whole token (RFC 7515 §4.1.9), for explicit typing (RFC 8725 §3.11).
    pub typ: Option<String>,
}

/// A JWS whose signature verified; the payload is not yet interpreted.
#[derive(Clone, Debug)]
pub struct VerifiedJws {
    /// The protected header.
    pub header: JwsHeader,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

impl VerifiedJws {
    /// The payload parsed as JSON claims.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, JoseError> {
        serde_json::from_slice(&self.payload).map_err(|err| JoseError::json("JWS payload", &err))
    }
}

/// Verifies a compact JWS against `keys`, accepting only `allowed_algs`.
///
/// With a `kid`, only keys of that id are tried and an unknown id is refused; without one,
/// every key able to verify the algorithm is tried. The header's `alg` is never trusted beyond
/// the allow-list, and keys are never taken from the token itself (`jwk`, `jku`, `x5u`).
pub fn verify(
    token: &str,
    keys: &[VerifyingKey],
    allowed_algs: &[Alg],
) -> Result<VerifiedJws, JoseError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JoseError::Malformed("token is too large"));
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed(
            "a compact JWS has exactly three dot-separated parts",
        ));
    };
    let header = parse_header(header_b64)?;
    if !allowed_algs.contains(&header.alg) {
        return Err(JoseError::DisallowedAlg(header.alg));
    }
    let signature =
        b64url_decode(signature_b64).ok_or(JoseError::Malformed("signature is not base64url"))?;
    let signing_input = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];

    let kid = header.kid.as_deref();
    if let Some(kid) = kid {
        if !keys.iter().any(|key| key.kid() == Some(kid)) {
            return Err(JoseError::UnknownKid(printable(kid)));
        }
    }
    let mut candidates = keys
        .iter()
        .filter(|key| kid.is_none() || key.kid() == kid)
        .filter(|key| key.accepts(header.alg))
        .peekable();
    if candidates.peek().is_none() {
        return Err(JoseError::NoUsableKey(header.alg));
    }
    if !candidates.any(|key| key.verifies(header.alg, signing_input, &signature)) {
        return Err(JoseError::BadSignature);
    }
    let payload =
        b64url_decode(payload_b64).ok_or(JoseError::Malformed("payload is not base64url"))?;
    Ok(VerifiedJws { header, payload })
}

fn parse_header(header_b64: &str) -> Result<JwsHeader, JoseError> {
    let bytes = b64url_decode(header_b64).ok_or(JoseError::Malformed("header is not base64url"))?;
    let members: Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|err| JoseError::json("JWS header", &err))?;
    let alg = match members.get("alg") {
        Some(Value::String(name)) => name.parse::<Alg>()?,
        _ => return Err(JoseError::Malformed("header has no string \"alg\"")),
    };
    // RFC 7515 §4.1.11: this verifier implements no extension, so any `crit` (even an empty
    // one, which the RFC forbids) makes the JWS invalid.
    if members.contains_key("crit") {
        return Err(JoseError::UnsupportedCrit);
    }
    Ok(JwsHeader {
        alg,
        kid: optional_string(&members, "kid")?,
        typ: optional_string(&members, "typ")?,
    })
}

fn optional_string(members: &Map<String, Value>, name: &str) -> Result<Option<String>, JoseError> {
    match members.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(JoseError::Malformed(
            "header \"kid\" and \"typ\" must be strings",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alg: Alg) -> SigningKey {
        let der = SigningKey::generate(alg).expect("generates");
        SigningKey::from_pkcs8(alg, der.as_bytes()).expect("parses")
    }

    #[test]
    fn header_carries_alg_kid_and_typ_in_that_order() {
        let key = key(Alg::ES256);
        let token = sign(&key, Some("logout+jwt"), &serde_json::json!({"a": 1})).expect("signs");
        let header = token.split('.').next().expect("header part");
        let json = String::from_utf8(b64url_decode(header).expect("b64")).expect("utf-8");
        assert_eq!(
            json,
            format!(
                r#"{{"alg":"ES256","kid":"{}","typ":"logout+jwt"}}"#,
                key.kid()
            )
        );
    }

    #[test]
    fn cached_and_fresh_headers_are_identical() {
        let key = key(Alg::ES256);
        let mut first = String::new();
        let mut second = String::new();
        key.headers().write_to(Some("JWT"), &mut first);
        key.headers().write_to(Some("JWT"), &mut second);
        assert_eq!(first, second);
        assert_eq!(first, encode_header(Alg::ES256, key.kid(), Some("JWT")));
    }

    #[test]
    fn rs256_and_es256_tokens_verify_with_the_signers_public_key() {
        for alg in [Alg::RS256, Alg::ES256] {
            let key = key(alg);
            let token = sign(&key, Some("JWT"), &serde_json::json!({"sub": "x"})).expect("signs");
            let verifying = [key.verifying_key().expect("public key")];
            let verified = verify(&token, &verifying, &[alg]).expect("verifies");
            assert_eq!(verified.header.alg, alg);
            assert_eq!(verified.header.kid.as_deref(), Some(key.kid()));
            assert_eq!(verified.header.typ.as_deref(), Some("JWT"));
            assert_eq!(verified.payload, br#"{"sub":"x"}"#);
        }
    }

    #[test]
    fn a_typ_with_quotes_is_escaped_not_injected() {
        let key = key(Alg::ES256);
        let token = sign(&key, Some(r#"x","alg":"none"#), &1).expect("signs");
        let verifying = [key.verifying_key().expect("public key")];
        let verified = verify(&token, &verifying, &[Alg::ES256]).expect("verifies");
        assert_eq!(verified.header.typ.as_deref(), Some(r#"x","alg":"none"#));
    }
}
