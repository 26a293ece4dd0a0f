//! Console pages for the audit log (filter, verify, export) and admin API keys.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::CsrfForm;
use super::guard::{self, ConsoleError, Result};
use super::views::{self, ApiKeysPage, AuditLine, AuditPage, Chrome, MessagePage};
use crate::admin::audit::{self as trail, Filter, PATIENCE};
use crate::admin::{api_keys, Role};
use crate::audit::Kind;
use crate::provider::Provider;
use crate::web::views::render;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub client: Option<String>,
    #[serde(default)]
    pub person: Option<String>,
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub verify: Option<String>,
}

/// `datetime-local` values (taken as UTC) or RFC 3339 or Unix seconds.
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Some(n);
    }
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let with_seconds = if text.len() == 16 {
        format!("{text}:00Z")
    } else {
        format!("{text}Z")
    };
    time::OffsetDateTime::parse(&with_seconds, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

impl AuditQuery {
    pub fn filter(&self) -> Filter {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Filter {
            from: self.from.as_deref().and_then(parse_time),
            to: self.to.as_deref().and_then(parse_time),
            actor: text(&self.actor),
            kind: text(&self.kind),
            client_id: text(&self.client),
            person_id: text(&self.person),
            before_seq: self.before,
        }
    }

    fn query_string(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("from", &self.from),
            ("to", &self.to),
            ("actor", &self.actor),
            ("kind", &self.kind),
            ("client", &self.client),
            ("person", &self.person),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                q.append_pair(k, v);
            }
        }
        q.finish()
    }
}

const AUDIT_PAGE: i64 = 100;

/// `GET /admin/audit?…` (and `?verify=1` to check the chain).
pub async fn audit(
    p: web::Data<Provider>,
    req: HttpRequest,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse> {
    let s = guard::session(&p, &req).await?;
    let rows = trail::search(&p, q.filter(), AUDIT_PAGE, PATIENCE).await?;
    let report = match q.verify {
        Some(_) => Some(trail::verify(&p, PATIENCE).await?),
        None => None,
    };
    let query = q.query_string();
    let older = (rows.len() as i64 == AUDIT_PAGE)
        .then(|| {
            rows.last()
                .map(|r| format!("/admin/audit?{query}&before={}", r.seq))
        })
        .flatten();
    let page = AuditPage {
        c: Chrome::of(&s, guard::lang(&req), "/admin/audit"),
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        actor: q.actor.clone().unwrap_or_default(),
        kind: q.kind.clone().unwrap_or_default(),
        client: q.client.clone().unwrap_or_default(),
        person: q.person.clone().unwrap_or_default(),
        kinds: Kind::ALL.iter().map(|k| k.as_str()).collect(),
        entries: rows
            .into_iter()
            .map(|r| AuditLine {
                seq: r.seq,
                time: views::time(r.time),
                kind: r.kind,
                actor: r.actor,
                client: r.client_id.unwrap_or_default(),
                person: r.person_id.unwrap_or_default(),
                data: r.data,
            })
            .collect(),
        query,
        older,
        report,
    };
    Ok(guard::html(render(&page)?))
}

/// `GET /admin/audit/export?…`.
pub async fn export(
    p: web::Data<Provider>,
    req: HttpRequest,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse> {
    guard::session(&p, &req).await?;
    let body = trail::export(&p, q.filter(), PATIENCE).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/jsonl")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"audit.jsonl\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// `GET /admin/api-keys`.
pub async fn api_keys_page(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    let s = guard::session(&p, &req).await?;
    let keys = api_keys::list(&p).await?;
    let page = ApiKeysPage {
        c: Chrome::of(&s, guard::lang(&req), "/admin/api-keys"),
        keys,
    };
    Ok(guard::html(render(&page)?))
}

#[derive(Deserialize)]
pub struct KeyForm {
    name: String,
    role: String,
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /admin/api-keys`: creates a key and shows it once.
pub async fn create_api_key(
    p: web::Data<Provider>,
    req: HttpRequest,
    form: web::Form<KeyForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), true).await?;
    let lang = guard::lang(&req);
    let role = Role::parse(&form.role).unwrap_or(Role::Viewer);
    let created = api_keys::create(&p, &s.principal(), &form.name, role)
        .await
        .map_err(ConsoleError::from);
    let c = Chrome::of(&s, lang, "/admin/api-keys");
    let page = match created {
        Ok((key, secret)) => MessagePage {
            title: format!("{} — {}", c.t.api_keys_title, key.name),
            message: c.t.key_once.to_owned(),
            secret: Some(secret.expose().to_owned()),
            back: Some("/admin/api-keys".to_owned()),
            c,
        },
        Err(ConsoleError::Invalid(message)) => {
            let e = message;
            return Ok(guard::html_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&MessagePage {
                    title: c.t.api_keys_title.to_owned(),
                    message: e.to_string(),
                    secret: None,
                    back: Some("/admin/api-keys".into()),
                    c,
                })?,
            ));
        }
        Err(e) => return Err(e),
    };
    Ok(guard::html(render(&page)?))
}

/// `POST /admin/api-keys/{id}/revoke`.
pub async fn revoke_api_key(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse> {
    let s = guard::post(&p, &req, form.csrf.as_deref(), true).await?;
    api_keys::revoke(&p, &s.principal(), &id)
        .await
        .map_err(|_| ConsoleError::NotFound(guard::lang(&req)))?;
    Ok(guard::see_other("/admin/api-keys"))
}
