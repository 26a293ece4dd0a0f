//! Shared Signals stream endpoints: the statuses SSF 1.0 §8.1 names, a JSON error body in the
//! OAuth shape, and a Bearer challenge on 401 (RFC 6750 §3).

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde_json::json;

use crate::provider::ssf::SsfError;

pub(super) fn status(e: &SsfError) -> StatusCode {
    match e {
        SsfError::BadRequest(_) => StatusCode::BAD_REQUEST,
        SsfError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        SsfError::Forbidden(_) => StatusCode::FORBIDDEN,
        SsfError::NotFound => StatusCode::NOT_FOUND,
        SsfError::Conflict(_) => StatusCode::CONFLICT,
        SsfError::TooSoon { .. } => StatusCode::TOO_MANY_REQUESTS,
        SsfError::Store(s) if s.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
        SsfError::Store(_) | SsfError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub(super) fn response(e: &SsfError) -> HttpResponse {
    let status = status(e);
    let code = match e {
        SsfError::BadRequest(_) => "invalid_request",
        SsfError::Unauthorized(_) => "invalid_token",
        SsfError::Forbidden(_) => "insufficient_scope",
        SsfError::NotFound => "not_found",
        SsfError::Conflict(_) => "conflict",
        SsfError::TooSoon { .. } => "too_many_requests",
        SsfError::Store(_) | SsfError::Internal(_) => {
            tracing::error!(error = %e, "shared signals endpoint failed");
            return HttpResponse::build(status)
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish();
        }
    };
    let description = e.to_string();
    let mut r = HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": code, "error_description": description }));
    if let &SsfError::TooSoon { retry_after } = e {
        if let Ok(v) = header::HeaderValue::from_str(&retry_after.max(1).to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        let challenge = format!(
            "Bearer realm=\"mykey-connect\", scope=\"ssf\", error=\"{code}\", error_description=\"{}\"",
            description.replace('"', "'")
        );
        if let Ok(v) = header::HeaderValue::from_str(&challenge) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    r
}
