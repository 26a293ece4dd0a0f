//! Card challenge endpoints (docs/card-login.md §2, §4, §6).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::body;
use super::cookies;
use super::error::{card_request_error, WebError};
use crate::card::protocol::{CardErrorCode, ChallengeResponse};
use crate::domain::Secret;
use crate::provider::login;
use crate::provider::Provider;

/// Spec §7: bodies over 16 KiB are refused.
const RESPONSE_LIMIT: usize = 16 * 1024;

/// Card endpoints answer 429 past the per-address limit (the resident's address, also behind
/// the configured proxies).
pub fn limited(p: &Provider, req: &HttpRequest) -> Option<HttpResponse> {
    let addr = super::client_address::of(req, &p.settings.trusted_proxies)?;
    if p.card_limiter.allow(addr, std::time::Instant::now()) {
        return None;
    }
    Some(
        HttpResponse::TooManyRequests()
            .insert_header((header::RETRY_AFTER, "5"))
            .json(json!({
                "error": "too_many_requests",
                "error_description": "Too many requests from this address; try again shortly."
            })),
    )
}

/// `GET /card/challenges/{id}` (spec §2).
pub async fn document(
    p: web::Data<Provider>,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let doc = login::document(&p, &id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(doc))
}

/// `POST /card/challenges/{id}/response` (spec §4).
pub async fn respond(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    if let Some(refused) = limited(&p, &req) {
        return Ok(refused);
    }
    if body::media_type(&req) != "application/json" {
        return Ok(card_request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The body must be application/json.",
        ));
    }
    let bytes = body::read(payload, RESPONSE_LIMIT, true).await?;
    let response: ChallengeResponse = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(_) => {
            return Ok(card_request_error(
                StatusCode::BAD_REQUEST,
                "The body is not a card-login response object.",
            ))
        }
    };
    login::answer(&p.into_inner(), &id, &response).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "status": "accepted" })))
}

/// `GET /card/challenges/{id}/status` (spec §6), only for the browser of the transaction.
pub async fn status(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let Some(binding) = cookies::value(&req, cookies::BROWSER) else {
        return Err(WebError::Card(CardErrorCode::UnknownChallenge));
    };
    match login::status(&p, &id, &Secret::new(binding).hash()).await? {
        Some(s) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(s)),
        None => Err(WebError::Card(CardErrorCode::UnknownChallenge)),
    }
}
