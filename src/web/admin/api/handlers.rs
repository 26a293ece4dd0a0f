//! Admin API handlers for clients, sessions, persons and keys: extract, authorise, call the
//! shared operation, answer JSON.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{caller, json_body, ok, ApiError, Result};
use crate::admin::{self, persons};
use crate::domain::Client;
use crate::provider::clients::{spec_of, ClientSpec};
use crate::provider::Provider;

fn client_json(p: &Provider, c: &Client) -> Value {
    let issuer = p.settings.issuer_str();
    json!({
        "client_id": c.id.as_str(),
        "issuer": issuer,
        "discovery_url": format!("{issuer}/.well-known/openid-configuration"),
        "sector": c.sector,
        "spec": spec_of(c),
    })
}

#[derive(Deserialize)]
pub struct ClientSearch {
    #[serde(default)]
    q: Option<String>,
}

pub async fn list_clients(
    p: web::Data<Provider>,
    req: HttpRequest,
    q: web::Query<ClientSearch>,
) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    let clients = admin::clients::list(&p, q.q.as_deref()).await?;
    let list: Vec<Value> = clients.iter().map(|c| client_json(&p, c)).collect();
    Ok(ok(StatusCode::OK, json!({ "clients": list })))
}

pub async fn create_client(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let spec: ClientSpec = json_body(&req, payload).await?;
    let (client, secret) = admin::clients::create(&p, &who, &spec).await?;
    let mut body = client_json(&p, &client);
    body["client_secret"] = json!(secret.as_ref().map(|s| s.expose()));
    Ok(ok(StatusCode::CREATED, body))
}

async fn load(p: &Provider, id: &str) -> Result<Client> {
    Ok(admin::clients::load(p, id)
        .await?
        .ok_or(ApiError::NotFound)?
        .0)
}

pub async fn get_client(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    let client = load(&p, &id).await?;
    Ok(ok(StatusCode::OK, client_json(&p, &client)))
}

pub async fn update_client(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let spec: ClientSpec = json_body(&req, payload).await?;
    let client = admin::clients::update(&p, &who, &id, &spec).await?;
    Ok(ok(StatusCode::OK, client_json(&p, &client)))
}

pub async fn delete_client(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    admin::clients::delete(&p, &who, &id).await?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

pub async fn rotate_secret(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let secret = admin::clients::rotate_secret(&p, &who, &id).await?;
    Ok(ok(
        StatusCode::OK,
        json!({ "client_id": id.as_str(), "client_secret": secret.expose() }),
    ))
}

#[derive(Deserialize)]
pub struct SessionQuery {
    #[serde(default)]
    client_id: Option<String>,
}

pub async fn list_sessions(
    p: web::Data<Provider>,
    req: HttpRequest,
    q: web::Query<SessionQuery>,
) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    let sessions = persons::live_sessions(&p, q.client_id.as_deref()).await?;
    Ok(ok(StatusCode::OK, json!({ "sessions": sessions })))
}

pub async fn end_session(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let n = persons::end_session(&p, &who, &id).await?;
    Ok(ok(StatusCode::OK, json!({ "ended_client_sessions": n })))
}

#[derive(Deserialize)]
pub struct PersonQuery {
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    serial: Option<String>,
}

pub async fn find_persons(
    p: web::Data<Provider>,
    req: HttpRequest,
    q: web::Query<PersonQuery>,
) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    let found = match (&q.client_id, &q.sub, &q.serial) {
        (_, _, Some(serial)) => persons::by_serial(&p, serial).await?,
        (Some(client), Some(sub), None) => persons::by_sub(&p, client, sub)
            .await?
            .into_iter()
            .collect(),
        _ => {
            return Err(ApiError::Invalid(
                "give serial, or client_id and sub".into(),
            ))
        }
    };
    Ok(ok(StatusCode::OK, json!({ "persons": found })))
}

pub async fn get_person(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    let person = persons::get(&p, &id).await?.ok_or(ApiError::NotFound)?;
    Ok(ok(StatusCode::OK, json!(person)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    source: String,
    target: String,
    reason: String,
}

pub async fn merge_persons(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let body: MergeBody = json_body(&req, payload).await?;
    let moved = persons::merge(&p, &who, &body.source, &body.target, &body.reason).await?;
    Ok(ok(StatusCode::OK, json!({ "moved": moved })))
}

pub async fn list_keys(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    let keys = admin::keys::list(&p).await?;
    Ok(ok(StatusCode::OK, json!({ "keys": keys })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    alg: String,
    #[serde(default)]
    lead_time: Option<i64>,
}

pub async fn rotate_keys(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let body: RotateBody = json_body(&req, payload).await?;
    let provider = p.clone().into_inner();
    let rotated = admin::keys::rotate(&provider, &who, &body.alg, body.lead_time).await?;
    Ok(ok(StatusCode::CREATED, json!({ "kid": rotated.kid })))
}
