//! Admin API handlers: extract, authorise, call the shared operation, answer JSON.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{caller, ok, ApiError, Result};
use crate::admin::{self, api_keys, persons, Role};
use crate::audit;
use crate::domain::Client;
use crate::provider::clients::{spec_of, ClientSpec};
use crate::provider::Provider;
use crate::web::admin::pages::{export_rows, parse_time, AuditQuery};
use crate::web::error::WebError;

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
    spec: web::Json<ClientSpec>,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
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
    spec: web::Json<ClientSpec>,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
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
    body: web::Json<MergeBody>,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let moved = persons::merge(&p, &who, &body.source, &body.target, &body.reason).await?;
    Ok(ok(StatusCode::OK, json!({ "moved": moved })))
}

pub async fn list_keys(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    let rows = p.db.read(crate::store::keys::all).await?;
    let now = p.clock.unix();
    let keys: Vec<Value> = rows
        .iter()
        .map(|r| {
            let state = match r.retired_at {
                Some(t) if t <= now => "retired",
                _ if r.activate_at > now => "next",
                Some(_) => "retiring",
                None => "current",
            };
            json!({ "kid": r.kid, "alg": r.alg, "state": state, "activate_at": r.activate_at, "retired_at": r.retired_at })
        })
        .collect();
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
    body: web::Json<RotateBody>,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let provider = p.clone().into_inner();
    let kid = admin::keys::rotate(&provider, &who, &body.alg, body.lead_time).await?;
    Ok(ok(StatusCode::CREATED, json!({ "kid": kid })))
}

#[derive(Deserialize)]
pub struct AuditApiQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    person_id: Option<String>,
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

impl AuditApiQuery {
    fn console(&self) -> Result<AuditQuery> {
        for t in [&self.from, &self.to].into_iter().flatten() {
            if parse_time(t).is_none() {
                return Err(ApiError::Invalid(format!("{t} is not a time")));
            }
        }
        Ok(AuditQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            actor: self.actor.clone(),
            kind: self.kind.clone(),
            client: self.client_id.clone(),
            person: self.person_id.clone(),
            before: self.before,
            verify: None,
        })
    }
}

pub async fn search_audit(
    p: web::Data<Provider>,
    req: HttpRequest,
    q: web::Query<AuditApiQuery>,
) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    audit::chain::drain(&p.db, std::time::Duration::from_secs(5))
        .await
        .map_err(|e| WebError::Unavailable(e.to_string()))?;
    let filter = q.console()?.filter();
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows =
        p.db.read(move |c| crate::store::audit::search(c, &filter, limit))
            .await?;
    let entries: Vec<Value> = rows.iter().map(audit::export::entry_json).collect();
    Ok(ok(StatusCode::OK, json!({ "entries": entries })))
}

pub async fn export_audit(
    p: web::Data<Provider>,
    req: HttpRequest,
    q: web::Query<AuditApiQuery>,
) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    let body = export_rows(&p, &q.console()?)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/jsonl")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

pub async fn verify_audit(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    audit::chain::drain(&p.db, std::time::Duration::from_secs(5))
        .await
        .map_err(|e| WebError::Unavailable(e.to_string()))?;
    let report =
        p.db.read(|c| {
            let keys = audit::verify::published_keys(c)?;
            audit::verify::verify(c, &keys)
        })
        .await?;
    Ok(ok(
        StatusCode::OK,
        json!({ "ok": report.ok(), "report": report }),
    ))
}

pub async fn list_api_keys(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    let db = p.db.clone();
    let keys = tokio::task::spawn_blocking(move || api_keys::list(&db))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    Ok(ok(StatusCode::OK, json!({ "api_keys": keys })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    name: String,
    role: Role,
}

pub async fn create_api_key(
    p: web::Data<Provider>,
    req: HttpRequest,
    body: web::Json<KeyBody>,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let (db, now, body) = (p.db.clone(), p.clock.unix(), body.into_inner());
    let (key, secret) = tokio::task::spawn_blocking(move || {
        api_keys::create(&db, &body.name, body.role, &who.actor, now)
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))??;
    Ok(ok(
        StatusCode::CREATED,
        json!({ "api_key": key, "secret": secret.expose() }),
    ))
}

pub async fn revoke_api_key(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let (db, now, id) = (p.db.clone(), p.clock.unix(), id.into_inner());
    tokio::task::spawn_blocking(move || api_keys::revoke(&db, &id, &who.actor, now))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    Ok(HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

pub async fn revocation_status(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    let status = admin::revocation::status(&p).await?;
    Ok(ok(StatusCode::OK, json!(status)))
}

/// `POST /crls`: the body is a CRL, DER or PEM.
pub async fn upload_crl(
    p: web::Data<Provider>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let r = admin::revocation::upload_crl(&p, &who, "api", &body)
        .await
        .map_err(ApiError::Invalid)?;
    Ok(ok(
        StatusCode::OK,
        json!({
            "root_key_id": r.root_key_id, "purpose": r.purpose, "crl_number": r.crl_number,
            "entries": r.entries, "newly_revoked": r.newly_revoked, "no_longer_listed": r.no_longer_listed,
            "terminated": r.terminated, "superseded": r.superseded, "sessions_ended": r.sessions_ended,
        }),
    ))
}

/// `POST /linkage`: the body is a `mykey-linkage/1` document.
pub async fn upload_linkage(
    p: web::Data<Provider>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse> {
    caller(&p, &req, true).await?;
    let r = admin::revocation::upload_linkage(&p, &body)
        .await
        .map_err(ApiError::Invalid)?;
    Ok(ok(
        StatusCode::OK,
        json!({ "records": r.records, "linked": r.linked, "duplicates": r.duplicates, "unknown_old": r.unknown_old, "conflicts": r.conflicts }),
    ))
}
