//! Whole logins as a browser, a resident and a client site do them: the card login of
//! mykey-connect (card-login spec §1–§6) and the development login of node-oidc-provider.

use std::path::Path;

use anyhow::{anyhow, bail, Context as _};
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hyper::header::{self, HeaderName};
use hyper::Method;
use mykey_connect::card::jpki::Purpose;
use mykey_connect::card::message::signed_message;
use mykey_connect::card::protocol::{ChallengeDocument, ChallengeResponse};
use mykey_connect::testkit::card_file::CardFile;

use crate::http::{location_path, Body, Conn, Jar, Response};
use crate::oidc::{self, Endpoints, RpClient, Tokens};

/// The user-authentication key and certificate of a software card, used directly: the load
/// side signs as the card would, with the same RSASSA-PKCS1-v1_5 SHA-256 (spec §3).
pub struct Card {
    key: RsaKeyPair,
    certificate_b64: String,
    rng: aws_lc_rs::rand::SystemRandom,
}

impl Card {
    pub fn load(path: &Path) -> anyhow::Result<Card> {
        let file = CardFile::load(path)?;
        let slot = file.slot(Purpose::Auth);
        let key = RsaKeyPair::from_pkcs8(&slot.private_key_der()?)
            .map_err(|e| anyhow!("the card's PKCS#8 key: {e}"))?;
        Ok(Card {
            key,
            certificate_b64: slot.certificate.clone(),
            rng: aws_lc_rs::rand::SystemRandom::new(),
        })
    }

    pub fn sign(&self, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
            .map_err(|e| anyhow!("signing: {e}"))?;
        Ok(signature)
    }
}

/// Which server the run talks to, and so which login it performs.
pub enum Login {
    /// mykey-connect: the card login with a software card's key.
    Card(Card),
    /// node-oidc-provider with devInteractions: any login name, then consent.
    Dev { account: String },
}

/// The server, its endpoints and the registered client.
pub struct Site {
    pub endpoints: Endpoints,
    pub client: RpClient,
    /// A second client of the same site with ES256 ID tokens (S5E), when given.
    pub es256_client: Option<RpClient>,
    pub login: Login,
}

/// What a finished login leaves: the browser's cookies (its session) and the client's tokens.
pub struct LoggedIn {
    pub jar: Jar,
    pub tokens: Tokens,
}

fn expect(r: &Response, status: u16, step: &str) -> anyhow::Result<()> {
    if r.status != status {
        bail!(
            "{step}: expected {status}, got {}: {}",
            r.status,
            r.excerpt()
        );
    }
    Ok(())
}

fn redirect_of(r: &Response, step: &str) -> anyhow::Result<String> {
    if r.status != 302 && r.status != 303 {
        bail!(
            "{step}: expected a redirect, got {}: {}",
            r.status,
            r.excerpt()
        );
    }
    r.location
        .clone()
        .ok_or_else(|| anyhow!("{step}: redirect without Location"))
}

/// A request as the browser sends it: with its cookies, keeping the ones set in the answer.
async fn browse(
    conn: &mut Conn,
    jar: &mut Jar,
    method: Method,
    path: &str,
    body: Body,
) -> anyhow::Result<Response> {
    let cookie = jar.header();
    let mut headers: Vec<(HeaderName, &str)> = vec![(header::ACCEPT_LANGUAGE, "ja")];
    if !cookie.is_empty() {
        headers.push((header::COOKIE, cookie.as_str()));
    }
    let r = conn.send(method, path, &headers, body).await?;
    jar.absorb(&r);
    Ok(r)
}

/// A full login in the browser `jar` (fresh for a new visitor), then the code exchange.
pub async fn log_in(
    conn: &mut Conn,
    site: &Site,
    jar: Jar,
    extra: &[(&str, &str)],
) -> anyhow::Result<LoggedIn> {
    let mut jar = jar;
    let pending = oidc::authorization_request(&site.endpoints, &site.client, extra);
    let first = browse(conn, &mut jar, Method::GET, &pending.path, Body::Empty).await?;
    let single_sign_on = first
        .location
        .as_deref()
        .is_some_and(|l| l.starts_with(&site.client.redirect_uri));
    let back = match &site.login {
        _ if single_sign_on => first,
        Login::Card(card) => card_login(conn, &mut jar, first, card).await?,
        Login::Dev { account } => dev_login(conn, &mut jar, first, site, account).await?,
    };
    let code = oidc::code_from_redirect(&back, &site.client, &pending.state)?;
    let tokens = oidc::redeem(
        conn,
        &site.endpoints,
        &site.client,
        &code,
        &pending.verifier,
    )
    .await?;
    Ok(LoggedIn { jar, tokens })
}

/// The text after `marker` up to `end`, with askama's HTML escapes undone.
fn between(html: &str, marker: &str, end: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let len = html[start..].find(end)?;
    Some(
        html[start..start + len]
            .replace("&#x2f;", "/")
            .replace("&#47;", "/")
            .replace("&amp;", "&"),
    )
}

fn hidden(html: &str, name: &str) -> anyhow::Result<String> {
    between(html, &format!("name=\"{name}\" value=\""), "\"")
        .ok_or_else(|| anyhow!("no hidden field {name} on the page"))
}

/// Login page → challenge → card signature → response → status → Continue → consent when
/// asked; returns the redirect back to the client.
async fn card_login(
    conn: &mut Conn,
    jar: &mut Jar,
    first: Response,
    card: &Card,
) -> anyhow::Result<Response> {
    let login_path = location_path(&redirect_of(&first, "authorize")?);
    if !login_path.starts_with("/login/") {
        bail!("authorize sent the browser to {login_path:.60}, not the login page");
    }
    let page = browse(conn, jar, Method::GET, &login_path, Body::Empty).await?;
    expect(&page, 200, "login page")?;
    let html = page.text();
    let challenge = hidden(html, "challenge")?;
    let csrf = hidden(html, "csrf")?;
    let status_path = between(html, "data-status-url=\"", "\"")
        .ok_or_else(|| anyhow!("no status URL on the login page"))?;

    // The helper: a separate program without the browser's cookies (spec §2–§4).
    let doc_path = format!("/card/challenges/{challenge}");
    let r = conn
        .get(&doc_path, &[(header::ACCEPT, "application/json")])
        .await?;
    expect(&r, 200, "challenge document")?;
    let doc: ChallengeDocument = serde_json::from_slice(&r.body).context("challenge JSON")?;
    let message = signed_message(
        &doc.issuer,
        &doc.challenge_id,
        &doc.nonce,
        doc.purpose,
        doc.expires_at,
    );
    let answer = ChallengeResponse {
        auth_certificate: card.certificate_b64.clone(),
        auth_signature: URL_SAFE_NO_PAD.encode(card.sign(&message)?),
        sign_certificate: None,
        sign_signature: None,
    };
    let r = conn
        .send(
            Method::POST,
            &location_path(&doc.response_uri),
            &[],
            Body::Json(serde_json::to_vec(&answer)?),
        )
        .await?;
    expect(&r, 200, "challenge response")?;

    let status = browse(conn, jar, Method::GET, &status_path, Body::Empty).await?;
    expect(&status, 200, "challenge status")?;
    if !status.text().contains("\"completed\"") {
        bail!("challenge status is {}", status.excerpt());
    }
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("challenge", &challenge)
        .append_pair("csrf", &csrf)
        .finish();
    let complete_path = format!("{login_path}/complete");
    let done = browse(conn, jar, Method::POST, &complete_path, Body::Form(form)).await?;
    let next = location_path(&redirect_of(&done, "complete")?);
    if !next.starts_with("/consent/") {
        return Ok(done);
    }
    approve_consent(conn, jar, &next).await
}

/// The consent page at `path`, approved; returns the redirect back to the client.
async fn approve_consent(conn: &mut Conn, jar: &mut Jar, path: &str) -> anyhow::Result<Response> {
    let page = browse(conn, jar, Method::GET, path, Body::Empty).await?;
    expect(&page, 200, "consent page")?;
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("decision", "approve")
        .append_pair("csrf", &hidden(page.text(), "csrf")?)
        .finish();
    browse(conn, jar, Method::POST, path, Body::Form(form)).await
}

/// A code flow to `client` in a browser that is logged in already (mykey-connect): single
/// sign-on, with the consent page approved when the person meets this site for the first time.
pub async fn sso_with_consent(
    conn: &mut Conn,
    endpoints: &Endpoints,
    client: &RpClient,
    jar: &mut Jar,
) -> anyhow::Result<Tokens> {
    let pending = oidc::authorization_request(endpoints, client, &[]);
    let mut r = browse(conn, jar, Method::GET, &pending.path, Body::Empty).await?;
    if let Some(next) = r
        .location
        .as_deref()
        .map(location_path)
        .filter(|p| p.starts_with("/consent/"))
    {
        r = approve_consent(conn, jar, &next).await?;
    }
    let code = oidc::code_from_redirect(&r, client, &pending.state)?;
    oidc::redeem(conn, endpoints, client, &code, &pending.verifier).await
}

/// The first code flow to another `client` in the logged-in browser `jar`: single sign-on
/// after consent on mykey-connect, or node-oidc-provider's consent interaction.
pub async fn sso_first_time(
    conn: &mut Conn,
    site: &Site,
    client: &RpClient,
    jar: &mut Jar,
) -> anyhow::Result<Tokens> {
    if matches!(site.login, Login::Card(_)) {
        return sso_with_consent(conn, &site.endpoints, client, jar).await;
    }
    let Login::Dev { account } = &site.login else {
        unreachable!("the card login is handled above")
    };
    let pending = oidc::authorization_request(&site.endpoints, client, &[]);
    let first = browse(conn, jar, Method::GET, &pending.path, Body::Empty).await?;
    let back = dev_login(conn, jar, first, site, account).await?;
    let code = oidc::code_from_redirect(&back, client, &pending.state)?;
    oidc::redeem(conn, &site.endpoints, client, &code, &pending.verifier).await
}

/// node-oidc-provider's devInteractions: follow `/interaction/…` and `/auth/…` redirects,
/// submitting the login form and then the consent form, until the redirect to the client.
async fn dev_login(
    conn: &mut Conn,
    jar: &mut Jar,
    first: Response,
    site: &Site,
    account: &str,
) -> anyhow::Result<Response> {
    let mut current = first;
    // authorize → login → resume → consent → resume: at most a handful of hops.
    for _ in 0..8 {
        let location = redirect_of(&current, "dev interaction")?;
        if location.starts_with(&site.client.redirect_uri) {
            return Ok(current);
        }
        let path = location_path(&location);
        if !path.starts_with("/interaction/") {
            current = browse(conn, jar, Method::GET, &path, Body::Empty).await?;
            continue;
        }
        let page = browse(conn, jar, Method::GET, &path, Body::Empty).await?;
        expect(&page, 200, "interaction page")?;
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            if page.text().contains("name=\"prompt\" value=\"login\"") {
                form.append_pair("prompt", "login")
                    .append_pair("login", account)
                    .append_pair("password", "bench");
            } else {
                form.append_pair("prompt", "consent");
            }
            form.finish()
        };
        current = browse(conn, jar, Method::POST, &path, Body::Form(form)).await?;
    }
    bail!("the dev interactions did not reach the client")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_fields_and_escaped_urls_are_read_from_a_page() {
        let html = r#"<input type="hidden" name="csrf" value="c1">
            <p data-status-url="&#x2f;card&#x2f;challenges&#x2f;x&#x2f;status">"#;
        assert_eq!(hidden(html, "csrf").expect("csrf"), "c1");
        assert!(hidden(html, "challenge").is_err());
        assert_eq!(
            between(html, "data-status-url=\"", "\"").expect("url"),
            "/card/challenges/x/status"
        );
    }
}
