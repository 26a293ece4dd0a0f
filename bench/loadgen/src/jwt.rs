//! What a relying party checks in the JWTs it receives: the `sid` of an ID token, the claims of
//! a back-channel logout token (OIDC Back-Channel Logout 1.0 §2.4, §2.6), and JWS signatures
//! (RS256, ES256) against the provider's JWKS.

use anyhow::{anyhow, bail, Context as _};
use aws_lc_rs::signature::{
    RsaPublicKeyComponents, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

/// The event a logout token carries (Back-Channel Logout §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The three base64url parts of a compact JWS.
fn parts(jwt: &str) -> anyhow::Result<[&str; 3]> {
    let mut it = jwt.split('.');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !p.is_empty() && !s.is_empty() => {
            Ok([h, p, s])
        }
        _ => bail!("not three base64url parts"),
    }
}

fn json_part(part: &str, what: &str) -> anyhow::Result<Value> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .with_context(|| format!("{what} is not base64url"))?;
    let value: Value = serde_json::from_slice(&bytes).with_context(|| format!("{what} JSON"))?;
    if !value.is_object() {
        bail!("{what} is not a JSON object");
    }
    Ok(value)
}

/// The `alg` of a JWS's protected header, unverified.
pub fn header_alg(jwt: &str) -> anyhow::Result<String> {
    json_part(parts(jwt)?[0], "header")?["alg"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("the header has no alg"))
}

/// The payload of a JWT, unverified (the client trusts its own token endpoint's answer).
pub fn claims(jwt: &str) -> anyhow::Result<Value> {
    json_part(parts(jwt)?[1], "payload")
}

/// The `sid` of an ID token.
pub fn sid_of_id_token(id_token: &str) -> anyhow::Result<String> {
    claims(id_token)?["sid"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("the ID token has no sid"))
}

/// Checks a logout token's form and claims for the client `client_id` of `issuer` and returns
/// its `sid`; the signature is checked separately (`Jwks::verify`).
pub fn check_logout_token(token: &str, issuer: &str, client_id: &str) -> anyhow::Result<String> {
    let [header, payload, _] = parts(token)?;
    let header = json_part(header, "header")?;
    if header["typ"].as_str() != Some("logout+jwt") {
        bail!("header typ is {}, not logout+jwt", header["typ"]);
    }
    let c = json_part(payload, "payload")?;
    if c["iss"].as_str() != Some(issuer) {
        bail!("iss is {}", c["iss"]);
    }
    let aud_ok = match &c["aud"] {
        Value::String(a) => a == client_id,
        Value::Array(a) => a.iter().any(|v| v.as_str() == Some(client_id)),
        _ => false,
    };
    if !aud_ok {
        bail!("aud {} is not this client", c["aud"]);
    }
    for claim in ["iat", "exp"] {
        if !c[claim].is_i64() {
            bail!("no numeric {claim}");
        }
    }
    if !c["jti"].is_string() {
        bail!("no jti");
    }
    if c.get("nonce").is_some() {
        bail!("a logout token must not carry a nonce");
    }
    if !c["events"][BACKCHANNEL_LOGOUT_EVENT].is_object() {
        bail!("events has no back-channel logout event");
    }
    if c["sub"].as_str().is_none_or(str::is_empty) {
        bail!("no sub");
    }
    c["sid"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no sid"))
}

/// The provider's public keys, by `kid`.
pub struct Jwks {
    keys: Vec<(String, PublicKey)>,
}

enum PublicKey {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    P256 { point: Vec<u8> },
}

impl Jwks {
    /// Reads an RFC 7517 JWK Set; keys of other types are skipped.
    pub fn parse(json: &[u8]) -> anyhow::Result<Jwks> {
        let doc: Value = serde_json::from_slice(json).context("JWKS JSON")?;
        let b64 = |v: &Value| -> anyhow::Result<Vec<u8>> {
            let text = v.as_str().ok_or_else(|| anyhow!("JWK member missing"))?;
            URL_SAFE_NO_PAD
                .decode(text)
                .context("JWK member not base64url")
        };
        let mut keys = Vec::new();
        for k in doc["keys"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let kid = k["kid"].as_str().unwrap_or_default().to_owned();
            let key = match (k["kty"].as_str(), k["crv"].as_str()) {
                (Some("RSA"), _) => PublicKey::Rsa {
                    n: b64(&k["n"])?,
                    e: b64(&k["e"])?,
                },
                (Some("EC"), Some("P-256")) => {
                    let mut point = vec![0x04];
                    point.extend(b64(&k["x"])?);
                    point.extend(b64(&k["y"])?);
                    PublicKey::P256 { point }
                }
                _ => continue,
            };
            keys.push((kid, key));
        }
        if keys.is_empty() {
            bail!("the JWKS has no RSA or P-256 key");
        }
        Ok(Jwks { keys })
    }

    /// Verifies a compact JWS signed with RS256 or ES256 by the key its `kid` names.
    pub fn verify(&self, jwt: &str) -> anyhow::Result<()> {
        let [h, p, s] = parts(jwt)?;
        let header = json_part(h, "header")?;
        let kid = header["kid"].as_str().unwrap_or_default();
        let signature = URL_SAFE_NO_PAD
            .decode(s)
            .context("signature not base64url")?;
        let input = &jwt.as_bytes()[..h.len() + 1 + p.len()];
        let key = self
            .keys
            .iter()
            .find(|(k, _)| k == kid)
            .map(|(_, key)| key)
            .ok_or_else(|| anyhow!("no key with kid {kid:?} in the JWKS"))?;
        let ok = match (header["alg"].as_str(), key) {
            (Some("RS256"), PublicKey::Rsa { n, e }) => RsaPublicKeyComponents { n, e }
                .verify(&RSA_PKCS1_2048_8192_SHA256, input, &signature)
                .is_ok(),
            (Some("ES256"), PublicKey::P256 { point }) => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                    .verify(input, &signature)
                    .is_ok()
            }
            (alg, _) => bail!("alg {alg:?} does not fit key {kid:?}"),
        };
        if !ok {
            bail!("bad signature");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwt(header: &Value, payload: &Value) -> String {
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", enc(header), enc(payload))
    }

    fn logout_claims() -> Value {
        json!({
            "iss": "http://127.0.0.1:1", "aud": "client-1", "sub": "pairwise", "sid": "cs-1",
            "iat": 1, "exp": 121, "jti": "j1",
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} }
        })
    }

    #[test]
    fn a_logout_token_gives_its_sid_when_every_claim_fits() {
        let header = json!({ "alg": "RS256", "typ": "logout+jwt", "kid": "k" });
        let token = jwt(&header, &logout_claims());
        let sid = check_logout_token(&token, "http://127.0.0.1:1", "client-1").expect("valid");
        assert_eq!(sid, "cs-1");
        // Another client's endpoint, another issuer.
        assert!(check_logout_token(&token, "http://127.0.0.1:1", "client-2").is_err());
        assert!(check_logout_token(&token, "http://127.0.0.1:2", "client-1").is_err());
    }

    #[test]
    fn tokens_without_the_event_a_sid_or_three_parts_are_refused() {
        let header = json!({ "alg": "RS256", "typ": "logout+jwt" });
        let check = |claims: &Value| {
            check_logout_token(&jwt(&header, claims), "http://127.0.0.1:1", "client-1")
        };
        let mut no_event = logout_claims();
        no_event["events"] = json!({ "other": {} });
        assert!(check(&no_event).is_err());
        let mut no_sid = logout_claims();
        no_sid.as_object_mut().expect("object").remove("sid");
        assert!(check(&no_sid).is_err());
        let mut with_nonce = logout_claims();
        with_nonce["nonce"] = json!("n");
        assert!(check(&with_nonce).is_err());
        assert!(check_logout_token("a.b", "x", "y").is_err());
        assert!(check_logout_token("not a token", "x", "y").is_err());
        let id_token_typ = jwt(&json!({ "alg": "RS256" }), &logout_claims());
        assert!(check_logout_token(&id_token_typ, "http://127.0.0.1:1", "client-1").is_err());
    }

    #[test]
    fn an_id_token_sid_is_read_from_its_payload() {
        let token = jwt(&json!({ "alg": "RS256" }), &json!({ "sid": "s9" }));
        assert_eq!(sid_of_id_token(&token).expect("sid"), "s9");
        assert!(sid_of_id_token(&jwt(&json!({}), &json!({ "sub": "x" }))).is_err());
    }

    #[test]
    fn signatures_are_checked_against_the_jwks() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .expect("key");
        let point = key.public_key().as_ref().to_vec();
        let jwks = json!({ "keys": [{
            "kty": "EC", "crv": "P-256", "kid": "e1",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        }]});
        let jwks = Jwks::parse(jwks.to_string().as_bytes()).expect("jwks");
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let input = format!(
            "{}.{}",
            enc(&json!({ "alg": "ES256", "kid": "e1" })),
            enc(&logout_claims())
        );
        let sig = key.sign(&rng, input.as_bytes()).expect("sign");
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()));
        jwks.verify(&token).expect("a good signature");
        let tampered = token.replacen(".", ".e30", 1);
        assert!(jwks.verify(&tampered).is_err());
        let unknown_kid = format!(
            "{}.{}.{}",
            enc(&json!({ "alg": "ES256", "kid": "other" })),
            enc(&logout_claims()),
            URL_SAFE_NO_PAD.encode(sig.as_ref())
        );
        assert!(jwks.verify(&unknown_kid).is_err());
    }
}
