//! The admin JSON API (`/admin/api/v1`): bearer API keys with a role, the same operations as
//! the console, JSON errors, and the OpenAPI document that describes it.

mod handlers;
pub mod openapi;
mod records;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::admin::{api_keys, Principal};
use crate::provider::Provider;
pub use crate::web::error::ApiError;

pub type Result<T> = std::result::Result<T, ApiError>;

/// The caller of this request, from its bearer key.
pub async fn caller(p: &Provider, req: &HttpRequest, need_admin: bool) -> Result<Principal> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|v| v.trim().to_owned())
        .ok_or(ApiError::Unauthorized)?;
    let principal = api_keys::authenticate(p, &bearer)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if need_admin && !principal.role.can_write() {
        return Err(ApiError::Forbidden);
    }
    Ok(principal)
}

pub fn ok(status: StatusCode, body: serde_json::Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// JSON bodies over this size are refused (a client with a large JWKS stays well below).
pub const BODY_LIMIT: usize = 256 * 1024;

/// The JSON body of a request whose caller [`caller`] has already accepted: handlers take the
/// raw payload and read it only then, so nobody without a key makes the provider hold a body.
pub async fn json_body<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    body: web::Payload,
) -> Result<T> {
    let media = crate::web::body::media_type(req);
    if media != "application/json" && !media.ends_with("+json") {
        return Err(ApiError::Invalid(
            "the body must be JSON (Content-Type: application/json)".to_owned(),
        ));
    }
    let bytes = crate::web::body::read(body, BODY_LIMIT, false).await?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::Invalid(format!("malformed JSON: {e}")))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    use handlers as h;
    cfg.app_data(
        web::QueryConfig::default().error_handler(|e, _| ApiError::Invalid(e.to_string()).into()),
    )
    .route("/openapi.json", web::get().to(openapi::serve))
    .route("/clients", web::get().to(h::list_clients))
    .route("/clients", web::post().to(h::create_client))
    .route("/clients/{id}", web::get().to(h::get_client))
    .route("/clients/{id}", web::put().to(h::update_client))
    .route("/clients/{id}", web::delete().to(h::delete_client))
    .route("/clients/{id}/secret", web::post().to(h::rotate_secret))
    .route("/sessions", web::get().to(h::list_sessions))
    .route("/sessions/{id}", web::delete().to(h::end_session))
    .route("/persons", web::get().to(h::find_persons))
    .route("/persons/merge", web::post().to(h::merge_persons))
    .route("/persons/{id}", web::get().to(h::get_person))
    .route("/keys", web::get().to(h::list_keys))
    .route("/keys/rotate", web::post().to(h::rotate_keys))
    .route("/revocation", web::get().to(records::revocation_status))
    .route("/crls", web::post().to(records::upload_crl))
    .route("/linkage", web::post().to(records::upload_linkage))
    .route("/audit", web::get().to(records::search_audit))
    .route("/audit/export", web::get().to(records::export_audit))
    .route("/audit/verify", web::get().to(records::verify_audit))
    .route("/api-keys", web::get().to(records::list_api_keys))
    .route("/api-keys", web::post().to(records::create_api_key))
    .route("/api-keys/{id}", web::delete().to(records::revoke_api_key));
}
