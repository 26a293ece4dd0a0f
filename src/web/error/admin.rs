//! How the two operator surfaces answer: the console with a page in the operator's language,
//! the admin API with `{"error", "error_description"[, "fields"]}` JSON. Both read an
//! [`AdminError`] the same way ([`classify`]).

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde_json::json;

use super::WebError;
use crate::admin::AdminError;
use crate::audit::AuditError;
use crate::provider::clients::FieldError;
use crate::provider::revocation::ImportError;
use crate::provider::ProviderError;
use crate::web::admin::texts::texts;
use crate::web::admin::views::{Chrome, MessagePage};
use crate::web::i18n::Lang;
use crate::web::views::render;

/// A console refusal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    #[error(transparent)]
    Web(#[from] WebError),
    #[error("login required")]
    Login,
    #[error("the admin role is required")]
    Forbidden(Lang),
    #[error("missing or wrong form token, or a cross-site request")]
    Csrf(Lang),
    #[error("not found")]
    NotFound(Lang),
    /// A refused input (shown as it is: these messages name fields, not internals).
    #[error("{0}")]
    Invalid(String),
}

/// An admin API refusal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    #[error("a valid bearer API key is required")]
    Unauthorized,
    #[error("this key's role may not do that")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("invalid fields")]
    Fields(Vec<FieldError>),
    #[error(transparent)]
    Web(#[from] WebError),
}

/// What an operation's failure means to an operator, whichever surface they used.
enum Failure {
    /// The provider could not do it (database down, a bug): the general answers.
    Web(WebError),
    NotFound,
    Fields(Vec<FieldError>),
    /// The request was refused; the message says why and names no internals.
    Invalid(String),
}

fn classify(e: AdminError) -> Failure {
    match e {
        AdminError::Store(s) => Failure::Web(ProviderError::Store(s).into()),
        AdminError::Hash(_) | AdminError::Seal(_) => {
            Failure::Web(WebError::Internal(e.to_string()))
        }
        AdminError::NotFound(_) => Failure::NotFound,
        AdminError::Fields(f) => Failure::Fields(f),
        AdminError::Crl(ImportError::Store(s)) | AdminError::Audit(AuditError::Store(s)) => {
            Failure::Web(ProviderError::Store(s).into())
        }
        AdminError::Audit(e @ AuditError::Busy) => {
            Failure::Web(WebError::Unavailable(e.to_string()))
        }
        AdminError::Audit(e) => Failure::Web(WebError::Internal(e.to_string())),
        AdminError::Provider(p) => match WebError::from(p) {
            WebError::Page(page) => Failure::Invalid(page.message),
            other => Failure::Web(other),
        },
        other => Failure::Invalid(other.to_string()),
    }
}

impl From<AdminError> for ConsoleError {
    fn from(e: AdminError) -> ConsoleError {
        match classify(e) {
            Failure::Web(w) => ConsoleError::Web(w),
            Failure::NotFound => ConsoleError::NotFound(Lang::default()),
            Failure::Fields(f) => ConsoleError::Invalid(AdminError::Fields(f).to_string()),
            Failure::Invalid(m) => ConsoleError::Invalid(m),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> ApiError {
        match classify(e) {
            Failure::Web(w) => ApiError::Web(w),
            Failure::NotFound => ApiError::NotFound,
            Failure::Fields(f) => ApiError::Fields(f),
            Failure::Invalid(m) => ApiError::Invalid(m),
        }
    }
}

impl From<askama::Error> for ConsoleError {
    fn from(e: askama::Error) -> ConsoleError {
        ConsoleError::Web(e.into())
    }
}

/// 303 after a POST (RFC 9110 §15.4.4), so reloading does not repeat it.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Console pages are never cached (they show secrets once and per-operator data), and send a
/// same-origin Referer so POSTs carry a real Origin (with `no-referrer` browsers send
/// `Origin: null`, Fetch §3.2.5).
pub fn html_status(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .body(body)
}

impl ConsoleError {
    pub(super) fn status(&self) -> StatusCode {
        match self {
            ConsoleError::Web(e) => e.status(),
            ConsoleError::Login => StatusCode::SEE_OTHER,
            ConsoleError::Forbidden(_) | ConsoleError::Csrf(_) => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    pub(super) fn response(&self) -> HttpResponse {
        let (lang, message) = match self {
            ConsoleError::Web(e) => return e.response(),
            ConsoleError::Login => return see_other("/admin/login"),
            ConsoleError::Forbidden(l) => (*l, texts(*l).forbidden),
            ConsoleError::Csrf(l) => (*l, texts(*l).csrf_refused),
            ConsoleError::NotFound(l) => (*l, texts(*l).not_found),
            ConsoleError::Invalid(m) => (Lang::default(), m.as_str()),
        };
        let page = MessagePage {
            c: Chrome::anonymous(lang, "/admin"),
            title: texts(lang).title.to_owned(),
            message: message.to_owned(),
            secret: None,
            back: Some("/admin/clients".to_owned()),
        };
        match render(&page) {
            Ok(body) => html_status(self.status(), body),
            Err(_) => HttpResponse::build(self.status()).finish(),
        }
    }
}

impl ApiError {
    pub(super) fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Invalid(_) | ApiError::Fields(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Web(e) => e.status(),
        }
    }

    pub(super) fn response(&self) -> HttpResponse {
        let (code, fields) = match self {
            ApiError::Web(WebError::Internal(cause)) => {
                tracing::error!(%cause, "admin API internal error");
                ("server_error", None)
            }
            ApiError::Web(e) => return e.response(),
            ApiError::Unauthorized => ("unauthorized", None),
            ApiError::Forbidden => ("forbidden", None),
            ApiError::NotFound => ("not_found", None),
            ApiError::Invalid(_) => ("invalid_request", None),
            ApiError::Fields(f) => ("invalid_fields", Some(f)),
        };
        let description = match self {
            ApiError::Web(_) => String::new(),
            other => other.to_string(),
        };
        let mut body = json!({ "error": code, "error_description": description });
        if let Some(f) = fields {
            body["fields"] = json!(f);
        }
        let mut r = HttpResponse::build(self.status());
        r.insert_header((header::CACHE_CONTROL, "no-store"));
        if matches!(self, ApiError::Unauthorized) {
            // RFC 6750 §3.
            r.insert_header((
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"mykey-connect admin\"",
            ));
        }
        r.json(body)
    }
}
