//! What every console request passes: the session cookie, the role, the form token and the
//! Origin/Referer of POSTs; and how a refusal looks (the console's own error mapping, which
//! hands everything else to [`WebError`]).

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use super::texts::texts;
use super::views::{Chrome, MessagePage};
use crate::admin::sessions::{self, ConsoleSession};
use crate::admin::AdminError;
use crate::provider::Provider;
use crate::store::StoreError;
use crate::web::error::WebError;
use crate::web::i18n::Lang;
use crate::web::views::render;

/// The console's language cookie (set by the language link).
pub const LANG_COOKIE: &str = "mykey_admin_lang";

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

impl From<AdminError> for ConsoleError {
    fn from(e: AdminError) -> ConsoleError {
        match e {
            AdminError::Store(s) => ConsoleError::Web(s.into()),
            AdminError::Hash(_) | AdminError::Seal(_) => {
                ConsoleError::Web(WebError::Internal(e.to_string()))
            }
            AdminError::NotFound(_) => ConsoleError::NotFound(Lang::default()),
            other => ConsoleError::Invalid(other.to_string()),
        }
    }
}

impl From<StoreError> for ConsoleError {
    fn from(e: StoreError) -> ConsoleError {
        ConsoleError::Web(e.into())
    }
}

impl From<askama::Error> for ConsoleError {
    fn from(e: askama::Error) -> ConsoleError {
        ConsoleError::Web(e.into())
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::Web(e) => e.status_code(),
            ConsoleError::Login => StatusCode::SEE_OTHER,
            ConsoleError::Forbidden(_) | ConsoleError::Csrf(_) => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (lang, message) = match self {
            ConsoleError::Web(e) => return e.error_response(),
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
            Ok(body) => html_status(self.status_code(), body),
            Err(_) => HttpResponse::build(self.status_code()).finish(),
        }
    }
}

pub type Result<T> = std::result::Result<T, ConsoleError>;

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

pub fn html(body: String) -> HttpResponse {
    html_status(StatusCode::OK, body)
}

/// 303 after a POST (RFC 9110 §15.4.4), so reloading does not repeat it.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The console language: the language cookie, then Accept-Language, then Japanese.
pub fn lang(req: &HttpRequest) -> Lang {
    req.cookie(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .unwrap_or_else(|| {
            Lang::negotiate(
                None,
                req.headers()
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        })
}

/// A console cookie: HttpOnly, SameSite=Strict, Path=/admin, Secure when the issuer is https.
pub fn cookie(p: &Provider, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(p.settings.secure_cookies())
        .finish()
}

pub fn removal(p: &Provider, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(p, name, String::new());
    c.make_removal();
    c
}

/// The live console session of this request, or a redirect to the login page.
pub async fn session(p: &Provider, req: &HttpRequest) -> Result<ConsoleSession> {
    let Some(value) = req
        .cookie(sessions::COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
    else {
        return Err(ConsoleError::Login);
    };
    let now = p.clock.unix();
    let db = p.db.clone();
    let found = tokio::task::spawn_blocking(move || sessions::current(&db, &value, now))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    found.ok_or(ConsoleError::Login)
}

/// Same-origin check for state-changing requests (defence in depth behind the form token):
/// a browser's Origin, or failing that its Referer, must be the issuer's origin.
pub fn same_origin(p: &Provider, req: &HttpRequest) -> bool {
    let issuer = p.settings.issuer.origin().ascii_serialization();
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = header(header::ORIGIN) {
        return origin == issuer;
    }
    match header(header::REFERER) {
        Some(referer) => {
            url::Url::parse(referer).is_ok_and(|u| u.origin().ascii_serialization() == issuer)
        }
        None => true,
    }
}

/// A POST by a logged-in operator: same origin and the session's form token.
pub async fn post(
    p: &Provider,
    req: &HttpRequest,
    csrf: Option<&str>,
    need_admin: bool,
) -> Result<ConsoleSession> {
    let s = session(p, req).await?;
    let lang = lang(req);
    if !same_origin(p, req) || !s.csrf_ok(csrf) {
        return Err(ConsoleError::Csrf(lang));
    }
    if need_admin && !s.principal().role.can_write() {
        return Err(ConsoleError::Forbidden(lang));
    }
    Ok(s)
}

/// For a form whose body may be large (the revocation uploads): the checks of [`post`] that
/// need no body, made before the body is read, so that only a signed-in writer on this origin
/// makes the provider read megabytes. The form's CSRF token follows with [`upload_csrf`].
pub async fn before_upload(p: &Provider, req: &HttpRequest) -> Result<ConsoleSession> {
    let s = session(p, req).await?;
    let lang = lang(req);
    if !same_origin(p, req) {
        return Err(ConsoleError::Csrf(lang));
    }
    if !s.principal().role.can_write() {
        return Err(ConsoleError::Forbidden(lang));
    }
    Ok(s)
}

/// The CSRF token of an upload whose sender [`before_upload`] let in.
pub fn upload_csrf(s: &ConsoleSession, req: &HttpRequest, csrf: Option<&str>) -> Result<()> {
    if s.csrf_ok(csrf) {
        Ok(())
    } else {
        Err(ConsoleError::Csrf(lang(req)))
    }
}

/// Runs blocking admin work (Argon2, the CLI-shared operations) off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, AdminError> + Send + 'static,
) -> Result<T> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??)
}
