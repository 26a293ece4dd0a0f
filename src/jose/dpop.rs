//! DPoP (RFC 9449): checking a proof JWT (§4.3), the thumbprint it binds tokens to (§6.1),
//! and stateless server nonces (§8) that every node sharing the nonce key accepts.

use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use super::jwk::refuse_private_members;
use super::{b64url, b64url_decode, verify, Alg, JoseError, Jwk, VerifyingKey};

/// The proof algorithms accepted, strongest first as advertised in
/// `dpop_signing_alg_values_supported`; `none` and MACs cannot prove possession (§4.2).
pub const PROOF_ALGS: [Alg; 3] = [Alg::ES256, Alg::PS256, Alg::RS256];

/// The explicit type of a proof (§4.2).
const PROOF_TYP: &str = "dpop+jwt";

/// A `jti` longer than this is refused: it is stored for replay detection.
const MAX_JTI_LEN: usize = 128;

/// What a proof must match at this endpoint, checked at `now`.
#[derive(Clone, Debug)]
pub struct ProofCheck<'a> {
    /// The request's HTTP method (`htm`, compared exactly).
    pub method: &'a str,
    /// The request's target URI; query and fragment are ignored on both sides (§4.3 item 9).
    pub uri: &'a str,
    /// The current time, passed in so freshness is testable.
    pub now: OffsetDateTime,
    /// How far `iat` may lie before or after `now` (freshness plus clock skew, §11.1).
    pub window: Duration,
    /// The access token presented with the proof, whose hash `ath` must carry (§4.3 item 12).
    pub access_token: Option<&'a str>,
}

/// A proof that passed every stateless check; the caller still checks `nonce` against what it
/// issued and refuses a `jti` seen before `replay_until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedProof {
    /// RFC 7638 thumbprint of the proof key: the `jkt` tokens are bound to.
    pub jkt: String,
    /// The proof's unique id.
    pub jti: String,
    /// The server nonce the proof carries, if any.
    pub nonce: Option<String>,
    /// After this time the proof is refused for its age, so its `jti` need not be kept.
    pub replay_until: OffsetDateTime,
}

impl ProofCheck<'_> {
    /// A check with a 60-second window each side of `now`.
    pub fn new<'a>(
        method: &'a str,
        uri: &'a str,
        now: OffsetDateTime,
        access_token: Option<&'a str>,
    ) -> ProofCheck<'a> {
        ProofCheck {
            method,
            uri,
            now,
            window: Duration::seconds(60),
            access_token,
        }
    }

    /// Verifies `proof` (the `DPoP` header value) against these expectations.
    pub fn verify(&self, proof: &str) -> Result<AcceptedProof, JoseError> {
        let bad = JoseError::InvalidProof;
        let header_b64 = proof
            .split('.')
            .next()
            .ok_or(JoseError::Malformed("no header"))?;
        let header =
            b64url_decode(header_b64).ok_or(JoseError::Malformed("header is not base64url"))?;
        let header: Map<String, Value> =
            serde_json::from_slice(&header).map_err(|err| JoseError::json("JWS header", &err))?;
        if header.get("typ").and_then(Value::as_str) != Some(PROOF_TYP) {
            return Err(bad("typ must be dpop+jwt"));
        }
        let Some(Value::Object(jwk_members)) = header.get("jwk") else {
            return Err(bad("the header has no jwk object"));
        };
        refuse_private_members(jwk_members)?;
        let mut jwk: Jwk = serde_json::from_value(Value::Object(jwk_members.clone()))
            .map_err(|_| JoseError::InvalidJwk("jwk is not an RSA or EC public key"))?;
        // The key in the header is the key: a `kid` names nothing to look up (§4.2).
        jwk.kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
        let key = VerifyingKey::from_jwk(&jwk)?;
        let verified = verify(proof, &[key], &PROOF_ALGS)?;
        let claims: Map<String, Value> = verified.claims()?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str);

        let jti = match text("jti") {
            Some(jti) if !jti.is_empty() && jti.len() <= MAX_JTI_LEN => jti.to_owned(),
            Some(_) => return Err(bad("jti must be 1 to 128 characters")),
            None => return Err(bad("jti is missing")),
        };
        if text("htm") != Some(self.method) {
            return Err(bad("htm does not match the request method"));
        }
        let htu = text("htu").ok_or(bad("htu is missing"))?;
        if !same_target(htu, self.uri) {
            return Err(bad("htu does not match the request URI"));
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or(bad("iat is missing or not an integer"))?;
        let now = self.now.unix_timestamp();
        let window = self.window.whole_seconds();
        if iat > now + window {
            return Err(bad("iat is in the future"));
        }
        if iat < now - window {
            return Err(bad("iat is too old"));
        }
        let nonce = match claims.get("nonce") {
            None => None,
            Some(Value::String(n)) => Some(n.clone()),
            Some(_) => return Err(bad("nonce must be a string")),
        };
        if let Some(token) = self.access_token {
            if text("ath") != Some(access_token_hash(token).as_str()) {
                return Err(bad("ath does not match the access token"));
            }
        }
        let replay_until = OffsetDateTime::from_unix_timestamp(iat + window + 1)
            .map_err(|_| bad("iat is out of range"))?;
        Ok(AcceptedProof {
            jkt: jwk.thumbprint(),
            jti,
            nonce,
            replay_until,
        })
    }
}

/// `ath`: base64url of the SHA-256 of the access token's ASCII octets (§4.2).
pub fn access_token_hash(access_token: &str) -> String {
    b64url(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes()).as_ref())
}

/// Whether two URIs name the same target once parsed (so scheme and host case and default
/// ports do not matter, RFC 3986 §6.2.2–6.2.3) and without query and fragment.
fn same_target(htu: &str, request: &str) -> bool {
    let strip = |text: &str| {
        let mut url = url::Url::parse(text).ok()?;
        url.set_query(None);
        url.set_fragment(None);
        Some(url)
    };
    match (strip(htu), strip(request)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// How long one nonce window lasts; a nonce is accepted in its window and the next one, so
/// it lives between 5 and 10 minutes.
const NONCE_WINDOW_SECS: i64 = 300;
/// The MAC is cut to 128 bits: enough against forgery within two windows.
const NONCE_MAC_LEN: usize = 16;

/// Server nonces (§8) without server state: a nonce is its time window and a MAC over it
/// under a key every node shares, so any node accepts any node's nonces.
pub struct NonceKey {
    key: aws_lc_rs::hmac::Key,
}

impl NonceKey {
    /// A nonce key from 32 secret bytes.
    pub fn new(secret: &[u8]) -> NonceKey {
        NonceKey {
            key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret),
        }
    }

    /// The nonce to hand out at `now`.
    pub fn issue(&self, now: OffsetDateTime) -> String {
        let window = now.unix_timestamp().div_euclid(NONCE_WINDOW_SECS);
        let mut bytes = window.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.mac(window)[..NONCE_MAC_LEN]);
        b64url(&bytes)
    }

    /// Whether `nonce` was issued by a holder of this key in the current or the previous window.
    pub fn accepts(&self, nonce: &str, now: OffsetDateTime) -> bool {
        let Some(bytes) = b64url_decode(nonce) else {
            return false;
        };
        if bytes.len() != 8 + NONCE_MAC_LEN {
            return false;
        }
        let mut window = [0u8; 8];
        window.copy_from_slice(&bytes[..8]);
        let window = i64::from_be_bytes(window);
        let current = now.unix_timestamp().div_euclid(NONCE_WINDOW_SECS);
        if window != current && window != current - 1 {
            return false;
        }
        let expected = self.mac(window);
        aws_lc_rs::constant_time::verify_slices_are_equal(&expected[..NONCE_MAC_LEN], &bytes[8..])
            .is_ok()
    }

    fn mac(&self, window: i64) -> Vec<u8> {
        let mut input = b"mykey-connect dpop nonce ".to_vec();
        input.extend_from_slice(&window.to_be_bytes());
        aws_lc_rs::hmac::sign(&self.key, &input).as_ref().to_vec()
    }
}

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceKey([redacted])")
    }
}

#[cfg(test)]
#[path = "dpop_tests.rs"]
mod tests;
