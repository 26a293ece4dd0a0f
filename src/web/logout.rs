//! `/end_session`: OpenID Connect RP-Initiated Logout 1.0.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::assets::assets;
use super::authorize::{accept_language, redirect};
use super::cookies;
use super::error::WebError;
use super::i18n::Lang;
use super::views::{render, LoggedOutPage, LogoutPage};
use crate::domain::{Client, Secret};
use crate::jose::{self, Alg};
use crate::provider::{grants, sessions, Provider};
use crate::store::sessions::BrowserSessionRow;

#[derive(Debug, Default, Deserialize)]
pub struct LogoutParams {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    ui_locales: Option<String>,
    logout_hint: Option<String>,
    csrf: Option<String>,
    confirm: Option<String>,
}

#[derive(Deserialize)]
struct HintClaims {
    iss: String,
    aud: serde_json::Value,
    sub: String,
    sid: Option<String>,
}

/// `GET` and `POST /end_session`.
pub async fn end_session(
    p: web::Data<Provider>,
    req: HttpRequest,
    query: web::Query<LogoutParams>,
    form: Option<web::Form<LogoutParams>>,
) -> Result<HttpResponse, WebError> {
    let params = match form {
        Some(f) => f.into_inner(),
        None => query.into_inner(),
    };
    let lang = Lang::negotiate(params.ui_locales.as_deref(), accept_language(&req));
    let bad = |m: &str| WebError::page(StatusCode::BAD_REQUEST, lang, m);
    let _ = &params.logout_hint;

    // The client: from the ID token hint (signature checked, expiry ignored: §2) or client_id.
    let mut hinted: Option<HintClaims> = None;
    if let Some(hint) = params.id_token_hint.as_deref() {
        let keys = p.keys.snapshot();
        let verified = jose::verify(hint, &keys.verifying, &[Alg::RS256, Alg::ES256])
            .map_err(|_| bad("id_token_hint is not an ID token issued here"))?;
        let claims: HintClaims = serde_json::from_slice(&verified.payload)
            .map_err(|_| bad("id_token_hint is not an ID token issued here"))?;
        if claims.iss != p.settings.issuer_str() {
            return Err(bad("id_token_hint was issued by another provider"));
        }
        hinted = Some(claims);
    }
    let hint_client = hinted.as_ref().and_then(|h| match &h.aud {
        serde_json::Value::String(a) => Some(a.clone()),
        serde_json::Value::Array(a) => a.first().and_then(|v| v.as_str()).map(str::to_owned),
        _ => None,
    });
    if let (Some(a), Some(b)) = (&hint_client, &params.client_id) {
        if a != b {
            return Err(bad("client_id does not match the id_token_hint"));
        }
    }
    let client: Option<Arc<Client>> = match hint_client.or(params.client_id.clone()) {
        Some(id) => p.clients.get(&id).await?,
        None => None,
    };
    // §3: a post-logout URI is used only when registered for the identified client.
    let target = match params.post_logout_redirect_uri.as_deref() {
        None => None,
        Some(uri) => {
            let client = client
                .as_ref()
                .ok_or_else(|| bad("post_logout_redirect_uri needs id_token_hint or client_id"))?;
            Some(
                client
                    .post_logout_redirect_uri(uri)
                    .cloned()
                    .ok_or_else(|| bad("post_logout_redirect_uri is not registered"))?,
            )
        }
    };

    let cookie = cookies::value(&req, cookies::SESSION);
    let session = match &cookie {
        Some(v) => sessions::current(&p, v).await?,
        None => None,
    };
    if let Some(session) = &session {
        let csrf = cookies::csrf_token(&Secret::new(cookie.clone().unwrap_or_default()), "logout");
        let confirmed = params.confirm.as_deref() == Some("yes")
            && params.csrf.as_deref().is_some_and(|c| {
                crate::domain::secret::constant_time_eq(c.as_bytes(), csrf.as_bytes())
            });
        let hint_matches = match (&hinted, &client) {
            (Some(h), Some(c)) => hint_names_session(&p, h, c, session).await?,
            _ => false,
        };
        if !confirmed && !hint_matches {
            // Nothing proves the RP's request comes from this person's session: ask (§2).
            let mut carried = Vec::new();
            for (name, value) in [
                (
                    "client_id",
                    client.as_ref().map(|c| c.id.as_str().to_owned()),
                ),
                (
                    "post_logout_redirect_uri",
                    params.post_logout_redirect_uri.clone(),
                ),
                ("state", params.state.clone()),
                ("ui_locales", params.ui_locales.clone()),
            ] {
                if let Some(v) = value {
                    carried.push((name.to_owned(), v));
                }
            }
            let page = LogoutPage {
                t: lang.texts(),
                assets: assets(),
                other_lang_url: None,
                action: "/end_session".to_owned(),
                csrf,
                carried,
            };
            return Ok(HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(render(&page)?));
        }
        sessions::end(&p, &session.id, sessions::EndReason::Logout).await?;
    }
    let mut response = match target {
        Some(uri) => {
            let mut params_out = Vec::new();
            if let Some(state) = params.state.as_deref() {
                params_out.push(("state", state));
            }
            redirect(&uri.with_query(&params_out))
        }
        None => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(render(&LoggedOutPage {
                t: lang.texts(),
                assets: assets(),
                other_lang_url: None,
            })?),
    };
    if cookie.is_some() {
        response
            .add_removal_cookie(&cookies::removal(
                cookies::SESSION,
                p.settings.secure_cookies(),
            ))
            .map_err(|e| WebError::Internal(e.to_string()))?;
    }
    Ok(response)
}

/// Whether the hint's `sid` (or else its `sub`) belongs to the browser's current session.
async fn hint_names_session(
    p: &Provider,
    hint: &HintClaims,
    client: &Client,
    session: &BrowserSessionRow,
) -> Result<bool, WebError> {
    if let Some(sid) = &hint.sid {
        let owned = sid.clone();
        let cs =
            p.db.read(move |c| crate::store::sessions::get_client_session(c, &owned))
                .await?;
        return Ok(cs.is_some_and(|cs| cs.session_id == session.id));
    }
    Ok(grants::subject(p, client, &session.person_id).as_str() == hint.sub)
}
