//! The consent page: which site, which claims, and — for identity verification — exactly which
//! verified facts; remembered per client for plain logins, asked every time for facts.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::assets::assets;
use super::authorize::redirect;
use super::cookies;
use super::error::WebError;
use super::i18n::Texts;
use super::login::in_lang;
use super::transaction::{self, Transaction};
use super::views::{render, ConsentPage};
use crate::domain::Scope;
use crate::oidc::verified_claims::{Fact, FactValues};
use crate::oidc::{ErrorCode, OAuthError};
use crate::provider::{identity, sessions, Provider};
use crate::store;
use crate::store::sessions::BrowserSessionRow;

async fn consent_session(
    p: &Provider,
    req: &HttpRequest,
    tx: &Transaction,
) -> Result<BrowserSessionRow, WebError> {
    let session = match cookies::value(req, cookies::SESSION) {
        Some(v) => sessions::current(p, &v).await?,
        None => None,
    };
    session
        .filter(|s| tx.row.session_id.as_deref() == Some(s.id.as_str()))
        .ok_or_else(|| {
            WebError::page(
                StatusCode::BAD_REQUEST,
                tx.lang,
                tx.lang.texts().request_expired,
            )
        })
}

/// The facts of this transaction's verification, opened (only when facts are requested).
async fn facts(p: &Provider, tx: &Transaction) -> Result<Option<identity::SealedFacts>, WebError> {
    let Some(id) = tx.row.verification_id.clone() else {
        return Ok(None);
    };
    let row = p.db.read(move |c| store::identity::get(c, &id)).await?;
    Ok(row.and_then(|r| identity::open(p, &r, p.clock.unix())))
}

/// Each requested fact with its value as the person will see it.
fn fact_lines(t: &Texts, values: &FactValues, wanted: &BTreeSet<Fact>) -> Vec<(String, String)> {
    let mark = |sub: bool| if sub { t.fact_substitutes } else { "" };
    let mut lines = Vec::new();
    if wanted
        .iter()
        .any(|f| matches!(f, Fact::Name | Fact::FamilyName | Fact::GivenName))
    {
        lines.push((
            t.fact_name.to_owned(),
            format!("{}{}", values.name, mark(values.name_uses_substitutes)),
        ));
    }
    if wanted.contains(&Fact::Address) {
        lines.push((
            t.fact_address.to_owned(),
            format!(
                "{}{}",
                values.address,
                mark(values.address_uses_substitutes)
            ),
        ));
    }
    if wanted.contains(&Fact::Birthdate) {
        let shown = values
            .birthdate
            .clone()
            .unwrap_or_else(|| t.gender_unknown.to_owned());
        lines.push((t.fact_birthdate.to_owned(), shown));
    }
    if wanted.contains(&Fact::Gender) {
        let shown = match values.gender.as_str() {
            "male" => t.gender_male,
            "female" => t.gender_female,
            _ => t.gender_unknown,
        };
        lines.push((t.fact_gender.to_owned(), shown.to_owned()));
    }
    lines
}

/// `GET /consent/{id}`.
pub async fn page(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let tx = transaction::load(&p, &req, &id).await?;
    consent_session(&p, &req, &tx).await?;
    let t = tx.lang.texts();
    let requested = tx.facts();
    let lines = match facts(&p, &tx).await? {
        Some(f) => fact_lines(t, &f.facts, &requested.all()),
        None => Vec::new(),
    };
    let path = format!("/consent/{}", tx.row.id);
    let view = ConsentPage {
        t,
        assets: assets(),
        other_lang_url: Some(format!("{path}?lang={}", tx.lang.other().code())),
        client_name: tx.client.name.clone(),
        client_host: tx.redirect_uri.host().unwrap_or_default(),
        logo_uri: tx.client.logo_uri.clone(),
        tos_uri: tx.client.tos_uri.clone(),
        policy_uri: tx.client.policy_uri.clone(),
        items: vec![t.consent_sub.to_owned(), t.consent_card_login.to_owned()],
        allow_without_facts: !lines.is_empty() && !requested.essential,
        facts: lines,
        csrf: tx.csrf(),
        action: in_lang(&path, tx.lang),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(render(&view)?))
}

#[derive(Deserialize)]
pub struct ConsentForm {
    decision: String,
    csrf: Option<String>,
}

/// `POST /consent/{id}`: `approve`, `approve_without_facts` (when no fact is essential) or
/// `deny`. Facts not released are deleted at once.
pub async fn decide(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<ConsentForm>,
) -> Result<HttpResponse, WebError> {
    let tx = transaction::load(&p, &req, &id).await?;
    tx.check_csrf(form.csrf.as_deref())?;
    let session = consent_session(&p, &req, &tx).await?;
    let requested = tx.facts();
    let verification = tx.row.verification_id.clone();
    let release = match form.decision.as_str() {
        "approve" => true,
        "approve_without_facts" if !requested.essential => false,
        _ => {
            forget(&p, verification).await?;
            let (person, client_id, now) = (
                session.person_id.clone(),
                tx.client.id.to_string(),
                p.clock.unix(),
            );
            p.db.write(move |c| crate::audit::hooks::consent(c, &person, &client_id, None, now))
                .await?;
            let location = tx
                .finish_with_error(
                    &p,
                    OAuthError::new(ErrorCode::AccessDenied, "the person did not consent"),
                )
                .await?;
            return Ok(redirect(&location));
        }
    };
    let (person, client_id, now) = (
        session.person_id.clone(),
        tx.client.id.as_str().to_owned(),
        p.clock.unix(),
    );
    let asked = Scope::parse(&tx.row.scope).unwrap_or_default();
    let previous = {
        let (person, client_id) = (person.clone(), client_id.clone());
        p.db.read(move |c| store::grants::consent(c, &person, &client_id))
            .await?
    };
    let granted = previous
        .as_deref()
        .and_then(Scope::parse)
        .map(|s| s.union(&asked))
        .unwrap_or(asked)
        .to_string();
    p.db.write(move |c| {
        store::grants::save_consent(c, &person, &client_id, &granted, now)?;
        crate::audit::hooks::consent(c, &person, &client_id, Some(&granted), now)
    })
    .await?;
    let released = if release {
        verification
    } else {
        forget(&p, verification).await?;
        None
    };
    Ok(redirect(
        &tx.finish_with_code(&p, &session, released).await?,
    ))
}

/// Storage minimisation: facts the person did not release are not kept.
async fn forget(p: &Provider, verification: Option<String>) -> Result<(), WebError> {
    if let Some(id) = verification {
        p.db.write(move |c| store::identity::delete(c, &id)).await?;
    }
    Ok(())
}
