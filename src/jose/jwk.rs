//! Public JWK and JWKS documents (RFC 7517): serde types, client JWKS intake, thumbprints.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{b64url, Alg, JoseError, VerifyingKey};

/// The key-type-specific members of a public JWK (RFC 7518 §6.2.1, §6.3.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kty")]
pub enum JwkKey {
    /// An RSA public key: modulus and exponent as base64url unsigned big-endian integers.
    #[serde(rename = "RSA")]
    Rsa {
        /// Modulus.
        n: String,
        /// Public exponent.
        e: String,
    },
    /// An elliptic-curve public key: curve name and affine coordinates, base64url.
    #[serde(rename = "EC")]
    Ec {
        /// Curve name; only `P-256` can be used for verification here.
        crv: String,
        /// x coordinate.
        x: String,
        /// y coordinate.
        y: String,
    },
}

/// A public JWK with the optional members the provider publishes and reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `kty` and the key material.
    #[serde(flatten)]
    pub key: JwkKey,
    /// Key id, matched against a JWS header's `kid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Intended use (`sig` or `enc`, RFC 7517 §4.2).
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// The one algorithm this key is meant for (RFC 7517 §4.4), kept as text because a client
    /// may publish algorithms this crate does not implement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

/// A JWK Set (RFC 7517 §5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys, in document order.
    pub keys: Vec<Jwk>,
}

/// JWK members that only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

impl Jwk {
    /// RFC 7638 thumbprint: base64url SHA-256 of the required members, in lexicographic order,
    /// without whitespace. The provider uses it as its `kid`.
    pub fn thumbprint(&self) -> String {
        let canonical = match &self.key {
            JwkKey::Rsa { n, e } => format!(
                r#"{{"e":{},"kty":"RSA","n":{}}}"#,
                json_string(e),
                json_string(n)
            ),
            JwkKey::Ec { crv, x, y } => format!(
                r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
                json_string(crv),
                json_string(x),
                json_string(y)
            ),
        };
        b64url(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()).as_ref())
    }

    /// Whether verification should consider this key at all: a signature key (or one without
    /// `use`), of a curve and algorithm implemented here.
    fn is_usable_for_signatures(&self) -> bool {
        let sig_use = self.use_.as_deref().is_none_or(|u| u == "sig");
        let known_alg = self.alg.as_deref().is_none_or(|a| a.parse::<Alg>().is_ok());
        let known_curve = match &self.key {
            JwkKey::Rsa { .. } => true,
            JwkKey::Ec { crv, .. } => crv == "P-256",
        };
        sig_use && known_alg && known_curve
    }
}

/// Escapes a member value as a JSON string; JWK values are base64url or curve names, but a
/// hostile client JWKS can hold anything.
fn json_string(value: &str) -> String {
    Value::String(value.to_owned()).to_string()
}

impl Jwks {
    /// Parses a client's JWKS (registered inline or fetched from its `jwks_uri`).
    ///
    /// Keys of other types (`OKP`, `oct`, ...) are skipped; any private member (`d`, `k`, ...)
    /// refuses the whole document, since a client that published its private key must not be
    /// trusted with it (RFC 7517 §9.2).
    pub fn parse_public(json: &str) -> Result<Jwks, JoseError> {
        let document: Value =
            serde_json::from_str(json).map_err(|err| JoseError::json("JWKS", &err))?;
        let Some(Value::Array(entries)) = document.get("keys") else {
            return Err(JoseError::InvalidJwk(
                "a JWKS is an object with a \"keys\" array",
            ));
        };
        let mut keys = Vec::with_capacity(entries.len());
        for entry in entries {
            let Value::Object(members) = entry else {
                return Err(JoseError::InvalidJwk("every JWKS entry must be an object"));
            };
            refuse_private_members(members)?;
            match members.get("kty").and_then(Value::as_str) {
                Some("RSA") | Some("EC") => {}
                Some(_) => continue,
                None => return Err(JoseError::InvalidJwk("\"kty\" is missing")),
            }
            let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|_| {
                JoseError::InvalidJwk("an RSA or EC key lacks a member or has a non-string one")
            })?;
            keys.push(jwk);
        }
        Ok(Jwks { keys })
    }

    /// Verification keys for every usable signature key, each parsed once; keys meant for
    /// encryption, other curves or other algorithms are left out. A malformed or weak key of a
    /// supported kind is an error rather than silently dropped.
    pub fn verifying_keys(&self) -> Result<Vec<VerifyingKey>, JoseError> {
        self.keys
            .iter()
            .filter(|jwk| jwk.is_usable_for_signatures())
            .map(VerifyingKey::from_jwk)
            .collect()
    }

    /// The key with this `kid`, if any.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|jwk| jwk.kid.as_deref() == Some(kid))
    }
}

pub(super) fn refuse_private_members(members: &Map<String, Value>) -> Result<(), JoseError> {
    match PRIVATE_MEMBERS
        .iter()
        .find(|name| members.contains_key(**name))
    {
        Some(name) => Err(JoseError::PrivateKeyMaterial(name)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7638 §3.1: the example RSA key and its thumbprint.
    const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    fn rfc7638_key() -> Jwk {
        Jwk {
            key: JwkKey::Rsa {
                n: RFC7638_N.to_owned(),
                e: "AQAB".to_owned(),
            },
            kid: Some("2011-04-29".to_owned()),
            use_: None,
            alg: Some("RS256".to_owned()),
        }
    }

    #[test]
    fn thumbprint_matches_the_rfc_7638_example() {
        assert_eq!(
            rfc7638_key().thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn published_jwk_serializes_with_kty_and_use() {
        let json = serde_json::to_value(rfc7638_key()).expect("serializes");
        assert_eq!(json["kty"], "RSA");
        assert_eq!(json["alg"], "RS256");
        assert!(json.get("use").is_none());
    }

    #[test]
    fn client_jwks_skips_unknown_key_types_and_keeps_rsa_and_ec() {
        let json = format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}},
                {{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB","kid":"r"}},
                {{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}]}}"#
        );
        let jwks = Jwks::parse_public(&json).expect("public JWKS parses");
        assert_eq!(jwks.keys.len(), 2);
        assert!(jwks.find("r").is_some());
    }

    #[test]
    fn client_jwks_holding_a_private_exponent_is_refused() {
        let json = format!(r#"{{"keys":[{{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB","d":"AQ"}}]}}"#);
        assert_eq!(
            Jwks::parse_public(&json),
            Err(JoseError::PrivateKeyMaterial("d"))
        );
    }

    #[test]
    fn client_jwks_holding_a_symmetric_key_is_refused() {
        let json = r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#;
        assert_eq!(
            Jwks::parse_public(json),
            Err(JoseError::PrivateKeyMaterial("k"))
        );
    }

    #[test]
    fn jwks_errors_report_position_not_content() {
        let err = Jwks::parse_public(r#"{"keys": [ secret-looking-text ]}"#).expect_err("bad JSON");
        let message = err.to_string();
        assert!(message.contains("line 1"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }

    #[test]
    fn jwks_without_keys_array_is_refused() {
        assert!(matches!(
            Jwks::parse_public(r#"{"key":[]}"#),
            Err(JoseError::InvalidJwk(_))
        ));
    }

    #[test]
    fn encryption_keys_and_other_curves_yield_no_verifying_key() {
        let json = format!(
            r#"{{"keys":[{{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB","use":"enc"}},
                {{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}},
                {{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB","alg":"RS512"}}]}}"#
        );
        let jwks = Jwks::parse_public(&json).expect("parses");
        assert_eq!(jwks.keys.len(), 3);
        assert!(jwks.verifying_keys().expect("nothing malformed").is_empty());
    }
}
