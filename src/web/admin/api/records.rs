//! Admin API handlers for the audit log, API keys and revocation data.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{caller, json_body, ok, ApiError, Result};
use crate::admin::audit::{self as trail, PATIENCE};
use crate::admin::{self, api_keys, Role};
use crate::audit::export::entry_json;
use crate::provider::Provider;
use crate::web::admin::records::{parse_time, AuditQuery};

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
    let filter = q.console()?.filter();
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = trail::search(&p, filter, limit, PATIENCE).await?;
    let entries: Vec<Value> = rows.iter().map(entry_json).collect();
    Ok(ok(StatusCode::OK, json!({ "entries": entries })))
}

pub async fn export_audit(
    p: web::Data<Provider>,
    req: HttpRequest,
    q: web::Query<AuditApiQuery>,
) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    let body = trail::export(&p, q.console()?.filter(), PATIENCE).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/jsonl")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

pub async fn verify_audit(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    let report = trail::verify(&p, PATIENCE).await?;
    Ok(ok(
        StatusCode::OK,
        json!({ "ok": report.ok(), "report": report }),
    ))
}

pub async fn list_api_keys(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    let keys = api_keys::list(&p).await?;
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
    payload: web::Payload,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let body: KeyBody = json_body(&req, payload).await?;
    let (key, secret) = api_keys::create(&p, &who, &body.name, body.role).await?;
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
    api_keys::revoke(&p, &who, &id).await?;
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
///
/// The key is checked before the body is read, so that no one without a writer's key makes the
/// provider hold megabytes (the same for `POST /linkage`).
pub async fn upload_crl(
    p: web::Data<Provider>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let body = crate::web::body::read(body, admin::revocation::UPLOAD_LIMIT, false).await?;
    let r = admin::revocation::upload_crl(&p, &who, "api", body).await?;
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
    body: web::Payload,
) -> Result<HttpResponse> {
    let who = caller(&p, &req, true).await?;
    let body = crate::web::body::read(body, admin::revocation::UPLOAD_LIMIT, false).await?;
    let r = admin::revocation::upload_linkage(&p, &who, &body).await?;
    Ok(ok(
        StatusCode::OK,
        json!({ "records": r.records, "linked": r.linked, "duplicates": r.duplicates, "unknown_old": r.unknown_old, "conflicts": r.conflicts }),
    ))
}
