//! `/end_session`: OpenID Connect RP-Initiated Logout 1.0.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::assets::assets;
use super::authorize::{accept_language, redirect};
use super::cookies;
use super::error::WebError;
use super::i18n::Lang;
use super::views::{render, LoggedOutPage, LogoutPage};
use crate::domain::Secret;
use crate::provider::flow::logout::{self as flow, LogoutOutcome, LogoutRequest};
use crate::provider::Provider;

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
    let _ = &params.logout_hint;
    let cookie = cookies::value(&req, cookies::SESSION);
    // The form token of the provider's own confirmation page, tied to the session cookie.
    let csrf = cookies::csrf_token(&Secret::new(cookie.clone().unwrap_or_default()), "logout");
    let confirmed = params.confirm.as_deref() == Some("yes")
        && params.csrf.as_deref().is_some_and(|c| {
            crate::domain::secret::constant_time_eq(c.as_bytes(), csrf.as_bytes())
        });
    let outcome = flow::end_session(
        &p,
        LogoutRequest {
            id_token_hint: params.id_token_hint.as_deref(),
            client_id: params.client_id.as_deref(),
            post_logout_redirect_uri: params.post_logout_redirect_uri.as_deref(),
            state: params.state.as_deref(),
            session_cookie: cookie.as_deref(),
            confirmed,
        },
    )
    .await
    .map_err(|e| WebError::from_provider(e, lang))?;
    let mut response = match outcome {
        LogoutOutcome::Confirm { client_id } => {
            let mut carried = Vec::new();
            for (name, value) in [
                ("client_id", client_id),
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
        LogoutOutcome::Done {
            redirect_to: Some(location),
        } => redirect(&location),
        LogoutOutcome::Done { redirect_to: None } => HttpResponse::Ok()
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
