//! Discovery, JWKS, token, userinfo, revocation and introspection endpoints.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::body;
use super::error::WebError;
use crate::domain::Client;
use crate::oidc::token::TokenForm;
use crate::oidc::{ErrorCode, OAuthError};
use crate::provider::client_auth::{authenticate, AuthFailure};
use crate::provider::{grants, Provider};

const FORM_LIMIT: usize = 64 * 1024;

pub async fn discovery(p: web::Data<Provider>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(p.discovery_json.clone())
}

pub async fn jwks(p: web::Data<Provider>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(p.keys.snapshot().jwks_json.clone())
}

/// Reads a form body of an authenticated endpoint and authenticates the client.
async fn client_form(
    p: &Provider,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(TokenForm, std::sync::Arc<Client>), WebError> {
    if body::media_type(req) != "application/x-www-form-urlencoded" {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )
        .into());
    }
    let bytes = body::read(payload, FORM_LIMIT, false).await?;
    let form = TokenForm::parse(&bytes)?;
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match authenticate(p, authorization, &form).await {
        Ok(client) => Ok((form, client)),
        Err(AuthFailure { error, basic }) if basic && error.error == ErrorCode::InvalidClient => {
            Err(WebError::ClientBasic(error))
        }
        Err(AuthFailure { error, .. }) => Err(WebError::OAuth(error)),
    }
}

fn no_store_json(body: &impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

/// RFC 6749 §3.2.
pub async fn token(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let result = async {
        let (form, client) = client_form(&p, &req, payload).await?;
        let grant_type = form.grant_type.clone();
        let response =
            match grant_type.as_deref() {
                Some("authorization_code") => grants::exchange_code(&p, &client, &form).await?,
                Some("refresh_token") => grants::refresh(&p, &client, &form).await?,
                // RFC 6749 §4.4, for Shared Signals receivers only (scope `ssf`).
                Some("client_credentials") => {
                    let r = crate::provider::ssf::token::client_credentials(&p, &client, &form)?;
                    p.metrics
                        .tokens_issued
                        .with_label_values(&["client_credentials"])
                        .inc();
                    return Ok(no_store_json(&r));
                }
                None => return Err(OAuthError::invalid_request("grant_type is missing").into()),
                Some(_) => return Err(OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    "grant_type must be authorization_code, refresh_token or client_credentials",
                )
                .into()),
            };
        p.metrics
            .tokens_issued
            .with_label_values(&[grant_type.as_deref().unwrap_or("")])
            .inc();
        Ok(no_store_json(&response))
    }
    .await;
    if let Err(WebError::OAuth(e) | WebError::ClientBasic(e)) = &result {
        p.metrics
            .token_errors
            .with_label_values(&[e.error.as_str()])
            .inc();
    }
    result
}

/// OIDC Core §5.3, bearer per RFC 6750 §2.1 (header) or §2.2 (form body on POST).
pub async fn userinfo(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let header_token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        });
    let mut form_token = None;
    if req.method() == actix_web::http::Method::POST
        && body::media_type(&req) == "application/x-www-form-urlencoded"
    {
        let bytes = body::read(payload, FORM_LIMIT, false).await?;
        form_token = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned());
    }
    let token = match (header_token, form_token) {
        (Some(_), Some(_)) => {
            return Err(WebError::Bearer(OAuthError::invalid_request(
                "send the access token in one place only",
            )))
        }
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return Err(WebError::BearerMissing),
    };
    match grants::live_access_token(&p, &token).await? {
        Some(live) => Ok(no_store_json(&grants::userinfo_claims(&p, &live).await?)),
        None => Err(WebError::Bearer(OAuthError::invalid_token(
            "the access token is unknown, expired or revoked",
        ))),
    }
}

/// RFC 7009.
pub async fn revoke(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let (form, client) = client_form(&p, &req, payload).await?;
    grants::revoke(&p, &client, &form).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// RFC 7662.
pub async fn introspect(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let (form, client) = client_form(&p, &req, payload).await?;
    let answer = grants::introspect(&p, &client, &form).await?;
    Ok(no_store_json(&answer))
}
