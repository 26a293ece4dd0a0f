//! The consent page: which site, which claims, and — for identity verification — exactly which
//! verified facts; remembered per client for plain logins, asked every time for facts.

use std::collections::BTreeSet;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::assets::assets;
use super::authorize::redirect;
use super::cookies;
use super::error::WebError;
use super::i18n::Texts;
use super::login::in_lang;
use super::transaction;
use super::views::{render, ConsentPage};
use crate::oidc::verified_claims::{Fact, FactValues};
use crate::provider::flow::consent::{self as flow, Decision};
use crate::provider::Provider;

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
    let session = cookies::value(&req, cookies::SESSION);
    let prompt = flow::prompt(&p, &tx, session.as_deref())
        .await
        .map_err(|e| tx.refusal(e))?;
    let t = tx.lang.texts();
    let lines = match &prompt.facts {
        Some(f) => fact_lines(t, &f.facts, &prompt.requested.all()),
        None => Vec::new(),
    };
    let path = format!("/consent/{}", tx.id());
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
        allow_without_facts: !lines.is_empty() && !prompt.requested.essential,
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
/// `deny`.
pub async fn decide(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<ConsentForm>,
) -> Result<HttpResponse, WebError> {
    let tx = transaction::load(&p, &req, &id).await?;
    tx.check_csrf(form.csrf.as_deref())?;
    let decision = match form.decision.as_str() {
        "approve" => Decision::Approve,
        "approve_without_facts" => Decision::ApproveWithoutFacts,
        _ => Decision::Deny,
    };
    let session = cookies::value(&req, cookies::SESSION);
    let location = flow::decide(&p, &tx, session.as_deref(), decision)
        .await
        .map_err(|e| tx.refusal(e))?;
    Ok(redirect(&location))
}
