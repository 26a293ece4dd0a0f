//! The relying party's side of OpenID Connect: discovery, PKCE, the authorization request, the
//! code redirect and the token endpoint with `client_secret_basic`.

use std::net::SocketAddr;

use anyhow::{anyhow, bail, Context as _};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hyper::header;
use hyper::Method;
use serde::Deserialize;

use crate::http::{location_path, Body, Conn, Response};

/// The endpoints a run uses, as paths on the server.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// The `issuer` of the discovery document (the `iss` of every token).
    pub issuer: String,
    pub authorization: String,
    pub token: String,
    pub userinfo: String,
    pub introspection: String,
    pub jwks: String,
}

/// The registered benchmark client.
#[derive(Debug, Clone)]
pub struct RpClient {
    pub client_id: String,
    /// `Authorization: Basic …` (RFC 6749 §2.3.1: id and secret form-encoded first).
    pub basic: String,
    pub redirect_uri: String,
}

impl RpClient {
    pub fn new(client_id: &str, secret: &str, redirect_uri: &str) -> RpClient {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", enc(client_id), enc(secret)))
        );
        RpClient {
            client_id: client_id.to_owned(),
            basic,
            redirect_uri: redirect_uri.to_owned(),
        }
    }
}

pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// Reads the discovery document (OIDC Discovery §4) and keeps the endpoint paths.
pub async fn discover(addr: SocketAddr) -> anyhow::Result<Endpoints> {
    let mut conn = Conn::new(addr, None);
    let r = conn.get(DISCOVERY_PATH, &[]).await?;
    if r.status != 200 {
        bail!("discovery answered {}: {}", r.status, r.excerpt());
    }
    let doc: serde_json::Value = serde_json::from_slice(&r.body).context("discovery JSON")?;
    let path = |key: &str| -> anyhow::Result<String> {
        let url = doc[key]
            .as_str()
            .ok_or_else(|| anyhow!("discovery has no {key}"))?;
        Ok(location_path(url))
    };
    Ok(Endpoints {
        issuer: doc["issuer"]
            .as_str()
            .ok_or_else(|| anyhow!("discovery has no issuer"))?
            .to_owned(),
        authorization: path("authorization_endpoint")?,
        token: path("token_endpoint")?,
        userinfo: path("userinfo_endpoint")?,
        introspection: path("introspection_endpoint")?,
        jwks: path("jwks_uri")?,
    })
}

/// `n` random bytes as base64url without padding.
pub fn random_b64(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // The system RNG only fails when the OS has no entropy source at all.
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        bytes.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7636 §4.2: the S256 challenge of a verifier.
pub fn s256_challenge(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// One authorization request's secrets, kept by the client until the callback.
pub struct Pending {
    pub path: String,
    pub state: String,
    pub verifier: String,
}

/// A code-flow authorization request with PKCE S256, state and nonce; `extra` is appended
/// as further `key=value` pairs (e.g. `prompt=consent`).
pub fn authorization_request(e: &Endpoints, c: &RpClient, extra: &[(&str, &str)]) -> Pending {
    // RFC 7636 §4.1: 32 random octets give a 43-character verifier.
    let verifier = random_b64(32);
    let state = random_b64(16);
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("response_type", "code")
        .append_pair("client_id", &c.client_id)
        .append_pair("redirect_uri", &c.redirect_uri)
        .append_pair("scope", "openid")
        .append_pair("state", &state)
        .append_pair("nonce", &random_b64(16))
        .append_pair("code_challenge", &s256_challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    Pending {
        path: format!("{}?{}", e.authorization, q.finish()),
        state,
        verifier,
    }
}

/// The `code` of a redirect back to the client, after checking where it goes and its state.
pub fn code_from_redirect(r: &Response, c: &RpClient, state: &str) -> anyhow::Result<String> {
    if r.status != 302 && r.status != 303 {
        bail!(
            "expected a redirect with a code, got {}: {}",
            r.status,
            r.excerpt()
        );
    }
    let location = r.location.as_deref().unwrap_or_default();
    if !location.starts_with(&c.redirect_uri) {
        bail!("redirect to {location:.80}, not the client");
    }
    let url = url::Url::parse(location).context("redirect URL")?;
    let mut code = None;
    let mut returned_state = None;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "code" => code = Some(v.into_owned()),
            "state" => returned_state = Some(v.into_owned()),
            "error" => bail!("the client got error={v}"),
            _ => {}
        }
    }
    if returned_state.as_deref() != Some(state) {
        bail!("state did not come back");
    }
    code.ok_or_else(|| anyhow!("no code in {location:.80}"))
}

/// The fields of a token response a client uses.
#[derive(Debug, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
}

async fn token_request(
    conn: &mut Conn,
    e: &Endpoints,
    c: &RpClient,
    form: String,
) -> anyhow::Result<Tokens> {
    let r = conn
        .send(
            Method::POST,
            &e.token,
            &[(header::AUTHORIZATION, c.basic.as_str())],
            Body::Form(form),
        )
        .await?;
    if r.status != 200 {
        bail!("token endpoint answered {}: {}", r.status, r.excerpt());
    }
    let tokens: Tokens = serde_json::from_slice(&r.body).context("token response JSON")?;
    if tokens.id_token.is_none() {
        bail!("token response without an ID token");
    }
    Ok(tokens)
}

/// RFC 7662 introspection of an access token, authenticated with `client_secret_basic`.
pub async fn introspect(
    conn: &mut Conn,
    e: &Endpoints,
    c: &RpClient,
    token: &str,
) -> anyhow::Result<Response> {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token)
        .append_pair("token_type_hint", "access_token")
        .finish();
    conn.send(
        Method::POST,
        &e.introspection,
        &[(header::AUTHORIZATION, c.basic.as_str())],
        Body::Form(form),
    )
    .await
}

/// RFC 6749 §4.1.3 with the PKCE verifier (RFC 7636 §4.5).
pub async fn redeem(
    conn: &mut Conn,
    e: &Endpoints,
    c: &RpClient,
    code: &str,
    verifier: &str,
) -> anyhow::Result<Tokens> {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", &c.redirect_uri)
        .append_pair("code_verifier", verifier)
        .finish();
    token_request(conn, e, c, form).await
}

/// RFC 6749 §6.
pub async fn refresh(
    conn: &mut Conn,
    e: &Endpoints,
    c: &RpClient,
    refresh_token: &str,
) -> anyhow::Result<Tokens> {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", refresh_token)
        .finish();
    token_request(conn, e, c, form).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn the_s256_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn basic_credentials_are_form_encoded_before_base64() {
        let c = RpClient::new("id:1", "s e/cret", "http://127.0.0.1:9/cb");
        let decoded = STANDARD
            .decode(c.basic.trim_start_matches("Basic "))
            .expect("base64");
        assert_eq!(decoded, b"id%3A1:s+e%2Fcret");
    }

    #[test]
    fn a_redirect_to_another_place_or_with_another_state_has_no_code() {
        let c = RpClient::new("id", "secret", "http://127.0.0.1:9/cb");
        let redirect = |location: &str| Response {
            status: 302,
            location: Some(location.to_owned()),
            set_cookies: vec![],
            body: Bytes::new(),
        };
        let ok = redirect("http://127.0.0.1:9/cb?code=abc&state=s1&iss=x");
        assert_eq!(code_from_redirect(&ok, &c, "s1").expect("code"), "abc");
        assert!(code_from_redirect(&ok, &c, "s2").is_err());
        let elsewhere = redirect("/login/xyz");
        assert!(code_from_redirect(&elsewhere, &c, "s1").is_err());
        let denied = redirect("http://127.0.0.1:9/cb?error=access_denied&state=s1");
        assert!(code_from_redirect(&denied, &c, "s1").is_err());
    }
}
