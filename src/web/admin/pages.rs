//! Console pages for sessions, persons (search, merge) and signing keys.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::CsrfForm;
use super::guard::{self, ConsoleError, Result};
use super::views::{self, Chrome, KeyLine, KeysPage, PersonsPage, SessionsPage};
use crate::admin::persons;
use crate::provider::Provider;
use crate::web::views::render;

async fn client_names(p: &Provider) -> Result<Vec<(String, String)>> {
    Ok(crate::admin::clients::list(p, None)
        .await?
        .into_iter()
        .map(|c| (c.id.to_string(), c.name))
        .collect())
}

#[derive(Deserialize)]
pub struct SessionQuery {
    #[serde(default)]
    client: Option<String>,
}

/// `GET /admin/sessions?client=`.
pub async fn sessions(
    p: web::Data<Provider>,
    req: HttpRequest,
    q: web::Query<SessionQuery>,
) -> Result<HttpResponse> {
    let s = guard::session(&p, &req).await?;
    let client = q.client.clone().filter(|c| !c.is_empty());
    let page = SessionsPage {
        c: Chrome::of(&s, guard::lang(&req), "/admin/sessions"),
        sessions: persons::live_sessions(&p, client.as_deref()).await?,
        client: client.unwrap_or_default(),
        clients: client_names(&p).await?,
    };
    Ok(guard::html(render(&page)?))
}

/// `POST /admin/sessions/{id}/end`.
pub async fn end_session(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), true).await?;
    persons::end_session(&p, &s.principal(), &id).await?;
    Ok(guard::see_other("/admin/sessions"))
}

#[derive(Deserialize, Default)]
pub struct PersonQuery {
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    serial: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

async fn persons_page(
    p: &Provider,
    req: &HttpRequest,
    q: &PersonQuery,
    found: Option<Vec<persons::PersonView>>,
    message: Option<String>,
) -> Result<HttpResponse> {
    let s = guard::session(p, req).await?;
    let results = match found {
        Some(r) => r,
        None => match (nonempty(&q.client), nonempty(&q.sub), nonempty(&q.serial)) {
            (_, _, Some(serial)) => persons::by_serial(p, serial).await?,
            (Some(client), Some(sub), None) => {
                persons::by_sub(p, client, sub).await?.into_iter().collect()
            }
            _ => Vec::new(),
        },
    };
    let searched =
        nonempty(&q.serial).is_some() || nonempty(&q.sub).is_some() || !results.is_empty();
    let page = PersonsPage {
        c: Chrome::of(&s, guard::lang(req), "/admin/persons"),
        client: q.client.clone().unwrap_or_default(),
        sub: q.sub.clone().unwrap_or_default(),
        serial: q.serial.clone().unwrap_or_default(),
        clients: client_names(p).await?,
        searched,
        results,
        message,
    };
    Ok(guard::html(render(&page)?))
}

/// `GET /admin/persons?client=&sub=` or `?serial=`.
pub async fn persons(
    p: web::Data<Provider>,
    req: HttpRequest,
    q: web::Query<PersonQuery>,
) -> Result<HttpResponse> {
    persons_page(&p, &req, &q, None, None).await
}

/// `GET /admin/persons/{id}`.
pub async fn person(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    guard::session(&p, &req).await?;
    let found = persons::get(&p, &id)
        .await?
        .ok_or(ConsoleError::NotFound(guard::lang(&req)))?;
    persons_page(&p, &req, &PersonQuery::default(), Some(vec![found]), None).await
}

#[derive(Deserialize)]
pub struct MergeForm {
    source: String,
    target: String,
    reason: String,
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /admin/persons/merge`.
pub async fn merge(
    p: web::Data<Provider>,
    req: HttpRequest,
    form: web::Form<MergeForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), true).await?;
    let (source, target) = (form.source.trim(), form.target.trim());
    match persons::merge(&p, &s.principal(), source, target, &form.reason).await {
        Ok(_) => {
            let found = persons::get(&p, target).await?.into_iter().collect();
            persons_page(
                &p,
                &req,
                &PersonQuery::default(),
                Some(found),
                Some(guard_saved(&req)),
            )
            .await
        }
        Err(crate::admin::AdminError::Invalid(m)) => {
            persons_page(&p, &req, &PersonQuery::default(), Some(vec![]), Some(m)).await
        }
        Err(crate::admin::AdminError::NotFound(_)) => {
            Err(ConsoleError::NotFound(guard::lang(&req)))
        }
        Err(e) => Err(e.into()),
    }
}

fn guard_saved(req: &HttpRequest) -> String {
    super::texts::texts(guard::lang(req)).saved.to_owned()
}

/// `GET /admin/keys`.
pub async fn keys(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    let s = guard::session(&p, &req).await?;
    let keys = crate::admin::keys::list(&p).await?;
    let page = KeysPage {
        c: Chrome::of(&s, guard::lang(&req), "/admin/keys"),
        keys: keys
            .into_iter()
            .rev()
            .map(|r| KeyLine {
                state: r.state,
                activate_at: views::time(r.activate_at),
                retired_at: r.retired_at.map(views::time).unwrap_or_default(),
                kid: r.kid,
                alg: r.alg,
            })
            .collect(),
        lead: p.settings.lifetimes.key_rotation_lead.as_secs() as i64,
    };
    Ok(guard::html(render(&page)?))
}

#[derive(Deserialize)]
pub struct RotateForm {
    alg: String,
    #[serde(default)]
    lead: Option<String>,
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /admin/keys/rotate`.
pub async fn rotate_keys(
    p: web::Data<Provider>,
    req: HttpRequest,
    form: web::Form<RotateForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), true).await?;
    let lead = form
        .lead
        .as_deref()
        .and_then(|l| l.trim().parse::<i64>().ok());
    let provider = p.clone().into_inner();
    crate::admin::keys::rotate(&provider, &s.principal(), &form.alg, lead).await?;
    Ok(guard::see_other("/admin/keys"))
}
