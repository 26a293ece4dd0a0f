//! Shared Signals Framework endpoints: the transmitter configuration (SSF §7.1), stream
//! management (§8.1) and the poll endpoint (RFC 8936), each for the receiver named by its
//! `ssf` bearer token.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::body;
use super::error::WebError;
use crate::domain::Client;
use crate::provider::ssf::{self, poll, SsfError};
use crate::provider::Provider;

const BODY_LIMIT: usize = 64 * 1024;
pub const CONFIGURATION_DOCUMENT: &str = "/.well-known/ssf-configuration";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(CONFIGURATION_DOCUMENT, web::get().to(configuration))
        .service(
            web::resource(ssf::CONFIGURATION_PATH)
                .route(web::post().to(create))
                .route(web::get().to(read))
                .route(web::patch().to(update))
                .route(web::put().to(replace))
                .route(web::delete().to(delete)),
        )
        .service(
            web::resource(ssf::STATUS_PATH)
                .route(web::get().to(status))
                .route(web::post().to(set_status)),
        )
        .route(ssf::VERIFICATION_PATH, web::post().to(verify))
        .route(
            &format!("{}/{{stream_id}}", ssf::POLL_PATH),
            web::post().to(poll_events),
        );
}

/// SSF §7.1.
async fn configuration(p: web::Data<Provider>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(ssf::configuration_document(p.settings.issuer_str()))
}

/// The receiver of the request's `Authorization: Bearer` token (RFC 6750 §2.1).
async fn receiver(p: &Provider, req: &HttpRequest) -> Result<Arc<Client>, SsfError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(SsfError::Unauthorized("an ssf bearer token is required"))?;
    ssf::token::receiver(p, token).await
}

async fn json_body<T: DeserializeOwned>(payload: web::Payload) -> Result<T, SsfError> {
    let bytes = body::read(payload, BODY_LIMIT, false)
        .await
        .map_err(|e| match e {
            WebError::TooLarge { .. } => SsfError::BadRequest("the body is too large".into()),
            other => SsfError::Internal(other.to_string()),
        })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| SsfError::BadRequest(format!("the body is not the expected JSON: {e}")))
}

fn ok(v: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(v)
}

#[derive(Deserialize)]
struct StreamQuery {
    stream_id: Option<String>,
}

fn required(q: &StreamQuery) -> Result<&str, SsfError> {
    q.stream_id
        .as_deref()
        .ok_or_else(|| SsfError::BadRequest("stream_id is missing".into()))
}

/// The query of a request; a malformed one is a 400 like any other bad input.
fn query(req: &HttpRequest) -> Result<StreamQuery, SsfError> {
    web::Query::<StreamQuery>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| SsfError::BadRequest(e.to_string()))
}

async fn create(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, SsfError> {
    let client = receiver(&p, &req).await?;
    let stream = ssf::create(&p, &client, json_body(payload).await?).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(stream))
}

async fn read(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse, SsfError> {
    let client = receiver(&p, &req).await?;
    let q = query(&req)?;
    Ok(ok(ssf::read(&p, &client, q.stream_id.as_deref()).await?))
}

async fn update(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, SsfError> {
    let client = receiver(&p, &req).await?;
    Ok(ok(ssf::update(
        &p,
        &client,
        json_body(payload).await?,
        false,
    )
    .await?))
}

async fn replace(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, SsfError> {
    let client = receiver(&p, &req).await?;
    Ok(ok(ssf::update(
        &p,
        &client,
        json_body(payload).await?,
        true,
    )
    .await?))
}

async fn delete(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse, SsfError> {
    let client = receiver(&p, &req).await?;
    let q = query(&req)?;
    ssf::delete(&p, &client, required(&q)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn status(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse, SsfError> {
    let client = receiver(&p, &req).await?;
    let q = query(&req)?;
    Ok(ok(ssf::status(&p, &client, required(&q)?).await?))
}

async fn set_status(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, SsfError> {
    let client = receiver(&p, &req).await?;
    Ok(ok(
        ssf::set_status(&p, &client, json_body(payload).await?).await?
    ))
}

async fn verify(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, SsfError> {
    let client = receiver(&p, &req).await?;
    ssf::verify(&p, &client, json_body(payload).await?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// RFC 8936 §2.
async fn poll_events(
    p: web::Data<Provider>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, SsfError> {
    let client = receiver(&p, &req).await?;
    let request: poll::PollRequest = json_body(payload).await?;
    Ok(ok(poll::poll(&p, &client, &path, request).await?))
}
