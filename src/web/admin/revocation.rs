//! The console's revocation page: CRL freshness, imports, terminations, delivery status, and
//! uploading a CRL (a DER or PEM file, or pasted PEM) or a linkage file (or pasted text).

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;

use super::guard::{self, ConsoleError, Result};
use super::views::{Chrome, RevocationPage};
use crate::admin::revocation::{self, UPLOAD_LIMIT};
use crate::admin::sessions::ConsoleSession;
use crate::admin::AdminError;
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

/// What an upload form (`multipart/form-data`) sent: the CSRF token, and the chosen file's
/// content or, when no file was chosen, the pasted text.
struct Upload {
    csrf: Option<String>,
    content: Vec<u8>,
    /// Why the rest of the form was not read, if it was not.
    error: Option<UploadError>,
}

enum UploadError {
    TooLarge,
    Unreadable(String),
}

async fn read_upload(mut form: Multipart, file: &str, text: &str) -> Upload {
    let mut upload = Upload {
        csrf: None,
        content: Vec::new(),
        error: None,
    };
    let (mut from_file, mut pasted, mut total) = (Vec::new(), Vec::new(), 0usize);
    'fields: while let Some(field) = form.next().await {
        let mut field = match field {
            Ok(field) => field,
            Err(e) => {
                upload.error = Some(UploadError::Unreadable(e.to_string()));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    upload.error = Some(UploadError::Unreadable(e.to_string()));
                    break 'fields;
                }
            };
            total += chunk.len();
            if total > UPLOAD_LIMIT {
                upload.error = Some(UploadError::TooLarge);
                break 'fields;
            }
            value.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" => upload.csrf = String::from_utf8(value).ok(),
            n if n == file => from_file = value,
            n if n == text => pasted = value,
            _ => {}
        }
    }
    upload.content = if from_file.is_empty() {
        pasted
    } else {
        from_file
    };
    upload
}

/// `POST /admin/revocation/crl`: a CRL file (DER or PEM) in `crl_file`, or PEM pasted in `crl`.
pub async fn upload_crl(
    p: web::Data<Provider>,
    req: HttpRequest,
    form: Multipart,
) -> Result<HttpResponse> {
    let s = guard::before_upload(&p, &req).await?;
    let upload = read_upload(form, "crl_file", "crl").await;
    guard::upload_csrf(&s, &req, upload.csrf.as_deref())?;
    if let Some((status, message)) = refusal(&upload, "CRL") {
        return page(&p, &req, &s, status, Some(message)).await;
    }
    match revocation::upload_crl(&p, &s.principal(), "console", upload.content).await {
        Ok(r) => {
            let m = format!(
                "CRL {} imported: {} entries, {} newly revoked, {} persons logged out ({} sessions), {} renewals",
                r.crl_number, r.entries, r.newly_revoked, r.terminated, r.sessions_ended, r.superseded
            );
            page(&p, &req, &s, StatusCode::OK, Some(m)).await
        }
        Err(e) => refused(&p, &req, &s, e).await,
    }
}

/// `POST /admin/revocation/linkage`: a linkage file in `linkage_file`, or pasted in `linkage`.
pub async fn upload_linkage(
    p: web::Data<Provider>,
    req: HttpRequest,
    form: Multipart,
) -> Result<HttpResponse> {
    let s = guard::before_upload(&p, &req).await?;
    let upload = read_upload(form, "linkage_file", "linkage").await;
    guard::upload_csrf(&s, &req, upload.csrf.as_deref())?;
    if let Some((status, message)) = refusal(&upload, "linkage file") {
        return page(&p, &req, &s, status, Some(message)).await;
    }
    match revocation::upload_linkage(&p, &s.principal(), &upload.content).await {
        Ok(r) => {
            let m = format!(
                "{} records: {} linked, {} already known, {} for certificates never used here, {} conflicts (merge those persons)",
                r.records, r.linked, r.duplicates, r.unknown_old, r.conflicts
            );
            page(&p, &req, &s, StatusCode::OK, Some(m)).await
        }
        Err(e) => refused(&p, &req, &s, e).await,
    }
}

/// The page after a refused import: the reason, unless the provider could not decide (the
/// database), which is answered as any failure is.
async fn refused(
    p: &Provider,
    req: &HttpRequest,
    s: &ConsoleSession,
    e: AdminError,
) -> Result<HttpResponse> {
    match ConsoleError::from(e) {
        ConsoleError::Invalid(message) => {
            page(p, req, s, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await
        }
        other => Err(other),
    }
}

/// An upload that cannot be imported: unreadable or too large, or empty.
fn refusal(upload: &Upload, what: &str) -> Option<(StatusCode, String)> {
    match &upload.error {
        Some(UploadError::TooLarge) => Some((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the upload is larger than {} MB", UPLOAD_LIMIT >> 20),
        )),
        Some(UploadError::Unreadable(e)) => Some((
            StatusCode::BAD_REQUEST,
            format!("the upload could not be read: {e}"),
        )),
        None if upload.content.is_empty() => Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("choose a {what} or paste one"),
        )),
        None => None,
    }
}
