//! Console pages for clients: list with search, the one-form registration, details with the
//! RP snippet, edit, secret rotation (shown once), enable/disable, delete with confirmation.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::CsrfForm;
use super::client_form::{form_of, spec_from};
use super::guard::{self, ConsoleError, Result};
use super::views::{
    Chrome, ClientForm, ClientFormPage, ClientLine, ClientPage, ClientsPage, DeletePage,
    MessagePage,
};
use crate::admin::clients as ops;
use crate::admin::sessions::ConsoleSession;
use crate::admin::AdminError;
use crate::domain::Client;
use crate::provider::clients::FieldError;
use crate::provider::Provider;
use crate::web::i18n::Lang;
use crate::web::views::render;

const METHODS: [&str; 3] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];

fn form_page(
    s: &ConsoleSession,
    lang: Lang,
    here: &str,
    action: String,
    f: ClientForm,
    errors: Vec<FieldError>,
) -> ClientFormPage {
    let c = Chrome::of(s, lang, here);
    let (title, submit) = if action == "/admin/clients" {
        (c.t.new_client, c.t.create)
    } else {
        (c.t.edit_client, c.t.save)
    };
    ClientFormPage {
        c,
        title: title.to_owned(),
        action,
        f,
        errors,
        methods: METHODS,
        submit,
    }
}

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: Option<String>,
}

/// `GET /admin/clients?q=`.
pub async fn list(
    p: web::Data<Provider>,
    req: HttpRequest,
    q: web::Query<Search>,
) -> Result<HttpResponse> {
    let s = guard::session(&p, &req).await?;
    let clients = ops::list(&p, q.q.as_deref()).await?;
    let page = ClientsPage {
        c: Chrome::of(&s, guard::lang(&req), "/admin/clients"),
        q: q.q.clone().unwrap_or_default(),
        clients: clients
            .iter()
            .map(|c| ClientLine {
                id: c.id.to_string(),
                name: c.name.clone(),
                enabled: c.enabled,
                auth_method: c.auth_method.as_str().to_owned(),
                redirect_uris: c
                    .redirect_uris
                    .iter()
                    .map(|u| u.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            })
            .collect(),
    };
    Ok(guard::html(render(&page)?))
}

/// `GET /admin/clients/new`.
pub async fn new(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    let s = guard::session(&p, &req).await?;
    let lang = guard::lang(&req);
    if !s.principal().role.can_write() {
        return Err(ConsoleError::Forbidden(lang));
    }
    let f = ClientForm {
        scopes: "openid".to_owned(),
        auth_method: METHODS[0].to_owned(),
        ..ClientForm::default()
    };
    let page = form_page(
        &s,
        lang,
        "/admin/clients/new",
        "/admin/clients".into(),
        f,
        vec![],
    );
    Ok(guard::html(render(&page)?))
}

fn secret_page(
    s: &ConsoleSession,
    lang: Lang,
    client: &Client,
    secret: &str,
) -> Result<HttpResponse> {
    let c = Chrome::of(s, lang, "/admin/clients");
    let page = MessagePage {
        title: format!("{} — {}", c.t.secret_title, client.name),
        message: c.t.secret_once.to_owned(),
        secret: Some(secret.to_owned()),
        back: Some(format!("/admin/clients/{}", client.id)),
        c,
    };
    Ok(guard::html(render(&page)?))
}

fn refused(
    s: &ConsoleSession,
    lang: Lang,
    action: String,
    f: ClientForm,
    e: AdminError,
) -> Result<HttpResponse> {
    match e {
        AdminError::Fields(errors) => {
            let page = form_page(s, lang, &action, action.clone(), f, errors);
            Ok(guard::html_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&page)?,
            ))
        }
        AdminError::NotFound(_) => Err(ConsoleError::NotFound(lang)),
        e => Err(e.into()),
    }
}

/// `POST /admin/clients`: registers and shows the secret once.
pub async fn create(
    p: web::Data<Provider>,
    req: HttpRequest,
    form: web::Form<ClientForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), true).await?;
    let lang = guard::lang(&req);
    let f = form.into_inner();
    match ops::create(&p, &s.principal(), &spec_from(&f, true)).await {
        Ok((client, Some(secret))) => secret_page(&s, lang, &client, secret.expose()),
        Ok((client, None)) => Ok(guard::see_other(&format!("/admin/clients/{}", client.id))),
        Err(e) => refused(&s, lang, "/admin/clients".into(), f, e),
    }
}

async fn load(p: &Provider, id: &str, lang: Lang) -> Result<Client> {
    Ok(ops::load(p, id)
        .await?
        .ok_or(ConsoleError::NotFound(lang))?
        .0)
}

/// `GET /admin/clients/{id}`.
pub async fn show(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let s = guard::session(&p, &req).await?;
    let lang = guard::lang(&req);
    let client = load(&p, &id, lang).await?;
    let here = format!("/admin/clients/{}", client.id);
    let issuer = p.settings.issuer_str().to_owned();
    let page = ClientPage {
        c: Chrome::of(&s, lang, &here),
        id: client.id.to_string(),
        name: client.name.clone(),
        enabled: client.enabled,
        auth_method: client.auth_method.as_str().to_owned(),
        uses_secret: client.auth_method.uses_secret(),
        redirect_uris: client
            .redirect_uris
            .iter()
            .map(|u| u.as_str().to_owned())
            .collect(),
        scopes: client.scopes.to_string(),
        sector: client.sector.clone(),
        discovery_url: format!("{issuer}/.well-known/openid-configuration"),
        issuer,
        edit: form_page(&s, lang, &here, here.clone(), form_of(&client), vec![]),
    };
    Ok(guard::html(render(&page)?))
}

/// `POST /admin/clients/{id}`: saves the edit form.
pub async fn update(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<ClientForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), true).await?;
    let lang = guard::lang(&req);
    let existing = load(&p, &id, lang).await?;
    let f = form.into_inner();
    let action = format!("/admin/clients/{}", existing.id);
    match ops::update(&p, &s.principal(), &id, &spec_from(&f, existing.enabled)).await {
        Ok(_) => Ok(guard::see_other(&action)),
        Err(e) => refused(&s, lang, action, f, e),
    }
}

/// `POST /admin/clients/{id}/secret`.
pub async fn rotate_secret(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), true).await?;
    let lang = guard::lang(&req);
    let client = load(&p, &id, lang).await?;
    match ops::rotate_secret(&p, &s.principal(), &id).await {
        Ok(secret) => secret_page(&s, lang, &client, secret.expose()),
        Err(AdminError::NotFound(_)) => Err(ConsoleError::NotFound(lang)),
        Err(AdminError::Fields(_)) => Ok(guard::see_other(&format!("/admin/clients/{id}"))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct EnabledForm {
    enabled: String,
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /admin/clients/{id}/enabled`.
pub async fn set_enabled(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<EnabledForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), true).await?;
    let lang = guard::lang(&req);
    match ops::set_enabled(&p, &s.principal(), &id, form.enabled == "true").await {
        Ok(_) => Ok(guard::see_other(&format!("/admin/clients/{id}"))),
        Err(AdminError::NotFound(_)) => Err(ConsoleError::NotFound(lang)),
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/clients/{id}/delete`: asks first.
pub async fn confirm_delete(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let s = guard::session(&p, &req).await?;
    let lang = guard::lang(&req);
    if !s.principal().role.can_write() {
        return Err(ConsoleError::Forbidden(lang));
    }
    let client = load(&p, &id, lang).await?;
    let page = DeletePage {
        c: Chrome::of(&s, lang, &format!("/admin/clients/{id}")),
        id: client.id.to_string(),
        name: client.name,
    };
    Ok(guard::html(render(&page)?))
}

/// `POST /admin/clients/{id}/delete`.
pub async fn delete(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), true).await?;
    let lang = guard::lang(&req);
    match ops::delete(&p, &s.principal(), &id).await {
        Ok(_) => Ok(guard::see_other("/admin/clients")),
        Err(AdminError::NotFound(_)) => Err(ConsoleError::NotFound(lang)),
        Err(e) => Err(e.into()),
    }
}
