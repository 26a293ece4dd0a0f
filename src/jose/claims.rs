//! Claim rules shared by the provider: `at_hash`/`c_hash` and client-assertion validation.

use serde::Deserialize;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use super::{b64url, Alg, JoseError, VerifiedJws};

/// `at_hash` of an access token (OIDC Core §3.1.3.6): base64url of the left half of the hash
/// of its ASCII octets, the hash being the one of the ID token's `alg`.
pub fn at_hash(alg: Alg, access_token: &str) -> String {
    left_half_hash(alg, access_token)
}

/// `c_hash` of an authorization code (OIDC Core §3.3.2.11), computed like [`at_hash`].
pub fn c_hash(alg: Alg, code: &str) -> String {
    left_half_hash(alg, code)
}

fn left_half_hash(alg: Alg, token: &str) -> String {
    // Every algorithm implemented here hashes with SHA-256 (RFC 7518 §3.1).
    let digest_alg = match alg {
        Alg::RS256 | Alg::PS256 | Alg::ES256 => &aws_lc_rs::digest::SHA256,
    };
    let digest = aws_lc_rs::digest::digest(digest_alg, token.as_bytes());
    let bytes = digest.as_ref();
    b64url(&bytes[..bytes.len() / 2])
}

/// What the token endpoint expects of a `private_key_jwt` client assertion
/// (RFC 7523 §3, OIDC Core §9), checked at `now`.
#[derive(Clone, Debug)]
pub struct AssertionRules<'a> {
    /// The authenticating client; `iss` and `sub` must both equal it.
    pub client_id: &'a str,
    /// The provider's issuer identifier, accepted as `aud`.
    pub issuer: &'a str,
    /// The token endpoint URL, accepted as `aud` (OIDC Core §9).
    pub token_endpoint: &'a str,
    /// The URL of the endpoint receiving the assertion when it is not the token endpoint (the
    /// PAR endpoint, RFC 9126 §2), also accepted as `aud`.
    pub endpoint: Option<&'a str>,
    /// The current time, passed in so expiry is testable.
    pub now: OffsetDateTime,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
}

impl<'a> AssertionRules<'a> {
    /// Rules with a 60-second leeway.
    pub fn new(
        client_id: &'a str,
        issuer: &'a str,
        token_endpoint: &'a str,
        now: OffsetDateTime,
    ) -> AssertionRules<'a> {
        AssertionRules {
            client_id,
            issuer,
            token_endpoint,
            endpoint: None,
            now,
            leeway: Duration::seconds(60),
        }
    }

    /// Checks the claims of a verified assertion. The caller must still refuse a `jti` it has
    /// seen before its `exp` (RFC 7523 §3 item 7), which is why both are returned.
    pub fn check(&self, assertion: &VerifiedJws) -> Result<AcceptedAssertion, JoseError> {
        let claims: AssertionClaims = serde_json::from_slice(&assertion.payload)
            .map_err(|err| JoseError::json("client assertion claims", &err))?;
        let invalid = |claim, problem| JoseError::InvalidClaim { claim, problem };

        if claims.iss.as_deref() != Some(self.client_id) {
            return Err(invalid("iss", "must be the client_id"));
        }
        if claims.sub.as_deref() != Some(self.client_id) {
            return Err(invalid("sub", "must be the client_id"));
        }
        let audiences = match &claims.aud {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => return Err(invalid("aud", "is missing")),
        };
        let accepted = |aud: &str| {
            aud == self.token_endpoint || aud == self.issuer || Some(aud) == self.endpoint
        };
        if !audiences.iter().any(|aud| accepted(aud)) {
            return Err(invalid(
                "aud",
                "must contain the issuer, the token endpoint URL or this endpoint's URL",
            ));
        }
        let now = self.now.unix_timestamp();
        let leeway = self.leeway.whole_seconds();
        let exp = numeric_date(claims.exp.as_ref()).ok_or(invalid("exp", "is missing"))?;
        if exp + leeway <= now {
            return Err(invalid("exp", "is in the past"));
        }
        if let Some(nbf) = claims.nbf.as_ref() {
            let nbf = numeric_date(Some(nbf)).ok_or(invalid("nbf", "is not a NumericDate"))?;
            if nbf > now + leeway {
                return Err(invalid("nbf", "is in the future"));
            }
        }
        if let Some(iat) = claims.iat.as_ref() {
            let iat = numeric_date(Some(iat)).ok_or(invalid("iat", "is not a NumericDate"))?;
            if iat > now + leeway {
                return Err(invalid("iat", "is in the future"));
            }
        }
        let jti = match claims.jti {
            Some(jti) if !jti.is_empty() => jti,
            _ => return Err(invalid("jti", "is missing")),
        };
        let exp = OffsetDateTime::from_unix_timestamp(exp)
            .map_err(|_| invalid("exp", "is out of range"))?;
        Ok(AcceptedAssertion { jti, exp })
    }
}

/// A client assertion whose claims passed; store `jti` until `exp` to refuse replays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedAssertion {
    /// The assertion's unique id.
    pub jti: String,
    /// When the assertion expires; the replay record can be dropped after it.
    pub exp: OffsetDateTime,
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Value>,
    exp: Option<Value>,
    nbf: Option<Value>,
    iat: Option<Value>,
    jti: Option<String>,
}

/// RFC 7519 §2 NumericDate: seconds since the epoch, possibly with a fraction (dropped).
fn numeric_date(value: Option<&Value>) -> Option<i64> {
    let number = value?.as_number()?;
    number.as_i64().or_else(|| {
        let seconds = number.as_f64()?.floor();
        // Outside ±2^53 the float is not an exact second; such dates are not meaningful.
        (seconds.abs() < 9.0e15).then_some(seconds as i64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // OIDC Core §A.3 example: access token and its at_hash for an RS256 ID token.
    #[test]
    fn at_hash_matches_the_oidc_core_example() {
        assert_eq!(
            at_hash(Alg::RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn c_hash_matches_the_oidc_core_example() {
        // OIDC Core §A.4 example authorization code and c_hash.
        assert_eq!(
            c_hash(
                Alg::RS256,
                "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
            ),
            "LDktKdoQak3Pk0cnXxCltA"
        );
    }

    #[test]
    fn fractional_numeric_dates_are_truncated_to_seconds() {
        assert_eq!(
            numeric_date(Some(&serde_json::json!(1700000000.75))),
            Some(1700000000)
        );
        assert_eq!(numeric_date(Some(&serde_json::json!("1700000000"))), None);
    }
}
