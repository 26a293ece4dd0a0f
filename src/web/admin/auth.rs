//! Console login and logout, the language switch, and the operator's own account (TOTP).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::guard::{self, ConsoleError, Result, LANG_COOKIE};
use super::texts::texts;
use super::views::{AccountPage, Chrome, LoginPage};
use crate::admin::accounts::{self, AccountView, Refusal};
use crate::admin::password::Password;
use crate::admin::sessions;
use crate::domain::secret::{constant_time_eq, hash_str};
use crate::domain::Secret;
use crate::provider::Provider;
use crate::web::i18n::Lang;
use crate::web::views::render;

/// The pre-login cookie whose hash the login form carries (login CSRF, double submit).
const LOGIN_COOKIE: &str = "mykey_admin_login";

fn login_csrf(value: &str) -> String {
    hash_str(&format!("admin-login\0{value}"))
}

fn login_page(
    p: &Provider,
    lang: Lang,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> Result<HttpResponse> {
    let value = Secret::generate(32);
    let page = LoginPage {
        c: Chrome::anonymous(lang, "/admin/login"),
        login_csrf: login_csrf(value.expose()),
        username: username.to_owned(),
        error: error.map(str::to_owned),
    };
    let mut response = guard::html_status(status, render(&page)?);
    response
        .add_cookie(&guard::cookie(p, LOGIN_COOKIE, value.expose().to_owned()))
        .map_err(|e| crate::web::error::WebError::Internal(e.to_string()))?;
    Ok(response)
}

/// `GET /admin/login`.
pub async fn login_form(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    login_page(&p, guard::lang(&req), StatusCode::OK, "", None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /admin/login`: the account's password (and code), then a new session cookie.
pub async fn login(
    p: web::Data<Provider>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse> {
    let lang = guard::lang(&req);
    let expected = req.cookie(LOGIN_COOKIE).map(|c| login_csrf(c.value()));
    let token_ok = match (&expected, &form.csrf) {
        (Some(e), Some(g)) => constant_time_eq(e.as_bytes(), g.as_bytes()),
        _ => false,
    };
    if !token_ok || !guard::same_origin(&p, &req) {
        return Err(ConsoleError::Csrf(lang));
    }
    let form = form.into_inner();
    let address = crate::web::client_address::of(&req, &p.settings.trusted_proxies)
        .map(|a| a.to_string())
        .unwrap_or_default();
    let username = form.username.trim().to_owned();
    let checked = accounts::authenticate(
        &p,
        &username,
        &Password::new(form.password),
        form.code.as_deref().filter(|c| !c.trim().is_empty()),
        &address,
    )
    .await?;
    let outcome = match checked {
        Ok(row) => Ok(sessions::start(&p, &row).await?),
        Err(refusal) => Err(refusal),
    };
    let t = texts(lang);
    let cookie = match outcome {
        Ok(cookie) => cookie,
        Err(refusal) => {
            let (status, message) = match refusal {
                Refusal::BadCredentials => (StatusCode::UNAUTHORIZED, t.login_failed),
                Refusal::Locked { .. } => (StatusCode::UNAUTHORIZED, t.login_locked),
                Refusal::AddressLimited => (StatusCode::TOO_MANY_REQUESTS, t.login_limited),
            };
            return login_page(&p, lang, status, &username, Some(message));
        }
    };
    let mut response = guard::see_other("/admin/clients");
    response
        .add_cookie(&guard::cookie(
            &p,
            sessions::COOKIE,
            cookie.expose().to_owned(),
        ))
        .map_err(|e| crate::web::error::WebError::Internal(e.to_string()))?;
    response
        .add_cookie(&guard::removal(&p, LOGIN_COOKIE))
        .map_err(|e| crate::web::error::WebError::Internal(e.to_string()))?;
    Ok(response)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: Option<String>,
}

/// `POST /admin/logout`.
pub async fn logout(
    p: web::Data<Provider>,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), false).await?;
    sessions::end(&p, &s).await?;
    let mut response = guard::see_other("/admin/login");
    response
        .add_cookie(&guard::removal(&p, sessions::COOKIE))
        .map_err(|e| crate::web::error::WebError::Internal(e.to_string()))?;
    Ok(response)
}

#[derive(Deserialize)]
pub struct LangQuery {
    to: String,
    #[serde(default)]
    back: Option<String>,
}

/// `GET /admin/lang?to=en&back=/admin/…`: remembers the console language.
pub async fn switch_lang(p: web::Data<Provider>, q: web::Query<LangQuery>) -> Result<HttpResponse> {
    let lang = Lang::parse(&q.to).unwrap_or_default();
    // Only console paths, so the link cannot send anyone elsewhere.
    let back = q
        .back
        .as_deref()
        .filter(|b| b.starts_with("/admin") && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or("/admin/clients");
    let mut response = guard::see_other(back);
    let mut cookie = guard::cookie(&p, LANG_COOKIE, lang.code().to_owned());
    cookie.set_max_age(actix_web::cookie::time::Duration::days(365));
    response
        .add_cookie(&cookie)
        .map_err(|e| crate::web::error::WebError::Internal(e.to_string()))?;
    Ok(response)
}

/// `GET /admin` → the client list.
pub async fn home() -> HttpResponse {
    guard::see_other("/admin/clients")
}

fn account_view(s: &sessions::ConsoleSession) -> AccountView {
    AccountView::from(&s.account)
}

/// `GET /admin/account`.
pub async fn account(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    let s = guard::session(&p, &req).await?;
    let page = AccountPage {
        c: Chrome::of(&s, guard::lang(&req), "/admin/account"),
        account: account_view(&s),
        qr: None,
        key: None,
        error: None,
    };
    Ok(guard::html(render(&page)?))
}

/// `POST /admin/account/totp`: a new pending key, shown as a QR code.
pub async fn totp_begin(
    p: web::Data<Provider>,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), false).await?;
    let issuer = format!(
        "mykey-connect {}",
        p.settings.issuer.host_str().unwrap_or_default()
    );
    let (uri, key) = accounts::begin_totp(&p, &s.account, &issuer).await?;
    let page = AccountPage {
        c: Chrome::of(&s, guard::lang(&req), "/admin/account"),
        account: account_view(&s),
        qr: crate::admin::totp::qr_data_uri(&uri),
        key: Some(key),
        error: None,
    };
    Ok(guard::html(render(&page)?))
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /admin/account/totp/confirm`.
pub async fn totp_confirm(
    p: web::Data<Provider>,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), false).await?;
    let ok = accounts::confirm_totp(&p, &s.account.id, &form.code).await?;
    if ok {
        return Ok(guard::see_other("/admin/account"));
    }
    let lang = guard::lang(&req);
    let page = AccountPage {
        c: Chrome::of(&s, lang, "/admin/account"),
        account: account_view(&s),
        qr: None,
        key: None,
        error: Some(texts(lang).totp_wrong.to_owned()),
    };
    Ok(guard::html_status(StatusCode::BAD_REQUEST, render(&page)?))
}
