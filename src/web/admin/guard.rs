//! What every console request passes: the session cookie, the role, the form token and the
//! Origin/Referer of POSTs. A refusal is a [`ConsoleError`], answered in `web::error`.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};

use crate::admin::sessions::{self, ConsoleSession};
use crate::provider::Provider;
pub use crate::web::error::{html_status, see_other, ConsoleError};
use crate::web::i18n::Lang;

/// The console's language cookie (set by the language link).
pub const LANG_COOKIE: &str = "mykey_admin_lang";

pub type Result<T> = std::result::Result<T, ConsoleError>;

pub fn html(body: String) -> HttpResponse {
    html_status(StatusCode::OK, body)
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
    sessions::current(p, &value)
        .await?
        .ok_or(ConsoleError::Login)
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
