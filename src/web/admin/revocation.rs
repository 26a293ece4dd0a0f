//! The console's revocation page: CRL freshness, imports, terminations, delivery status, and
//! pasting a CRL (PEM) or a linkage file.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::guard::{self, Result};
use super::views::{Chrome, RevocationPage};
use crate::admin::revocation;
use crate::admin::sessions::ConsoleSession;
use crate::provider::Provider;
use crate::web::views::render;

async fn page(
    p: &Provider,
    req: &HttpRequest,
    s: &ConsoleSession,
    status: StatusCode,
    message: Option<String>,
) -> Result<HttpResponse> {
    let view = RevocationPage {
        c: Chrome::of(s, guard::lang(req), "/admin/revocation"),
        status: revocation::status(p).await?,
        failed: !status.is_success(),
        message,
    };
    Ok(guard::html_status(status, render(&view)?))
}

/// `GET /admin/revocation`.
pub async fn show(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    let s = guard::session(&p, &req).await?;
    page(&p, &req, &s, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct CrlForm {
    crl: String,
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /admin/revocation/crl`.
pub async fn upload_crl(
    p: web::Data<Provider>,
    req: HttpRequest,
    form: web::Form<CrlForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), true).await?;
    match revocation::upload_crl(&p, &s.principal(), "console", form.crl.as_bytes()).await {
        Ok(r) => {
            let m = format!(
                "CRL {} imported: {} entries, {} newly revoked, {} persons logged out ({} sessions), {} renewals",
                r.crl_number, r.entries, r.newly_revoked, r.terminated, r.sessions_ended, r.superseded
            );
            page(&p, &req, &s, StatusCode::OK, Some(m)).await
        }
        Err(e) => page(&p, &req, &s, StatusCode::UNPROCESSABLE_ENTITY, Some(e)).await,
    }
}

#[derive(Deserialize)]
pub struct LinkageForm {
    linkage: String,
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /admin/revocation/linkage`.
pub async fn upload_linkage(
    p: web::Data<Provider>,
    req: HttpRequest,
    form: web::Form<LinkageForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), true).await?;
    match revocation::upload_linkage(&p, form.linkage.as_bytes()).await {
        Ok(r) => {
            let m = format!(
                "{} records: {} linked, {} already known, {} for certificates never used here, {} conflicts (merge those persons)",
                r.records, r.linked, r.duplicates, r.unknown_old, r.conflicts
            );
            page(&p, &req, &s, StatusCode::OK, Some(m)).await
        }
        Err(e) => page(&p, &req, &s, StatusCode::UNPROCESSABLE_ENTITY, Some(e)).await,
    }
}
