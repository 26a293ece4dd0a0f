//! The resident's pages: card login (challenge, match code, extension and helper link), completion,
//! failures with what to do, and consent.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::assets::assets;
use super::authorize::redirect;
use super::cookies;
use super::error::{PageError, WebError};
use super::i18n::Lang;
use super::transaction;
use super::views::{render, LoginPage};
use crate::card::protocol::CardErrorCode;
use crate::oidc::{ErrorCode, OAuthError};
use crate::provider::flow::login::{self as flow, LoginOutcome};
use crate::provider::flow::Next;
use crate::provider::Provider;

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn other_lang_url(path: &str, lang: Lang) -> Option<String> {
    Some(format!("{path}?lang={}", lang.other().code()))
}

/// `path` with `lang=`, so a language chosen with the switch link follows the resident to the
/// next page instead of falling back to Accept-Language.
pub(super) fn in_lang(path: &str, lang: Lang) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={}", lang.code())
}

/// `GET /login/{id}`: a new challenge for this transaction and the page that follows it.
pub async fn page(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let tx = transaction::load(&p, &req, &id).await?;
    if let Some(refused) = super::card::limited(&p, &req) {
        return Ok(refused);
    }
    let challenge = flow::start(&p, &tx).await.map_err(|e| tx.refusal(e))?;
    let (verify, challenge_url, helper_link) = (
        challenge.verify,
        challenge.url.clone(),
        challenge.helper_link.clone(),
    );
    let expires = time::OffsetDateTime::from_unix_timestamp(challenge.expires_at)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let jst = expires.to_offset(time::macros::offset!(+9));
    let path = format!("/login/{}", tx.id());
    let view = LoginPage {
        t: tx.lang.texts(),
        assets: assets(),
        other_lang_url: other_lang_url(&path, tx.lang),
        client_name: tx.client.name.clone(),
        logo_uri: tx.client.logo_uri.clone(),
        match_code: challenge.match_code.clone(),
        helper_link,
        challenge_url,
        status_url: format!("/card/challenges/{}/status", challenge.id),
        complete_url: in_lang(&format!("{path}/complete"), tx.lang),
        failed_url: format!("{}&code=", in_lang(&format!("{path}/failed"), tx.lang)),
        challenge_id: challenge.id,
        csrf: tx.csrf(),
        expires_iso: expires
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        verify,
        expires_local: format!(
            "{:02}:{:02}:{:02} JST",
            jst.hour(),
            jst.minute(),
            jst.second()
        ),
    };
    Ok(html(render(&view)?))
}

#[derive(Deserialize)]
pub struct CompleteForm {
    challenge: String,
    csrf: Option<String>,
}

/// `POST /login/{id}/complete`: the helper has answered; start (or refresh) the session.
pub async fn complete(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<CompleteForm>,
) -> Result<HttpResponse, WebError> {
    let tx = transaction::load(&p, &req, &id).await?;
    tx.check_csrf(form.csrf.as_deref())?;
    let session = cookies::value(&req, cookies::SESSION);
    let outcome = flow::complete(&p, &tx, &form.challenge, session.as_deref())
        .await
        .map_err(|e| tx.refusal(e))?;
    let (next, new_session) = match outcome {
        // Pressed Continue before the helper answered: back to the waiting page.
        LoginOutcome::Waiting => {
            return Ok(redirect(&in_lang(&format!("/login/{}", tx.id()), tx.lang)))
        }
        LoginOutcome::Failed(code) => {
            let failed = in_lang(&format!("/login/{}/failed", tx.id()), tx.lang);
            return Ok(redirect(&format!("{failed}&code={}", code.as_str())));
        }
        LoginOutcome::LoggedIn { next, new_session } => (next, new_session),
    };
    let mut response = match next {
        Next::Consent => redirect(&in_lang(&format!("/consent/{}", tx.id()), tx.lang)),
        Next::ToClient(location) => redirect(&location),
    };
    if let Some(cookie) = new_session {
        response
            .add_cookie(&cookies::build(
                cookies::SESSION,
                cookie.expose().to_owned(),
                p.settings.secure_cookies(),
            ))
            .map_err(|e| WebError::Internal(e.to_string()))?;
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct FailedQuery {
    code: Option<String>,
}

/// `GET /login/{id}/failed?code=…`: what went wrong and what to do.
pub async fn failed(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<FailedQuery>,
) -> Result<HttpResponse, WebError> {
    let tx = transaction::load(&p, &req, &id).await?;
    let t = tx.lang.texts();
    let code = q.code.as_deref().and_then(CardErrorCode::parse);
    let message = match code {
        Some(CardErrorCode::ExpiredChallenge) | None => t.failed_expired,
        Some(CardErrorCode::CertificateRevoked) => t.failed_revoked,
        Some(CardErrorCode::UntrustedCertificate | CardErrorCode::WrongCertificatePurpose) => {
            t.failed_untrusted
        }
        Some(CardErrorCode::CertificateExpired) => t.failed_cert_expired,
        Some(CardErrorCode::RevocationDataStale) => t.failed_stale,
        Some(_) => t.failed_other,
    };
    Err(WebError::Page(Box::new(PageError {
        status: StatusCode::OK,
        lang: tx.lang,
        message: message.to_owned(),
        // The PIN advice helps after a card refusal, not after a wait that ran out.
        hint: (!matches!(code, Some(CardErrorCode::ExpiredChallenge) | None))
            .then(|| t.blocked_pin_help.to_owned()),
        code: code.map(|c| c.as_str().to_owned()),
        retry_url: Some(in_lang(&format!("/login/{}", tx.id()), tx.lang)),
        back_url: Some(format!("/login/{}/cancel", tx.id())),
    })))
}

/// `GET /login/{id}/cancel`: back to the client with `access_denied`.
pub async fn cancel(
    p: web::Data<Provider>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let tx = transaction::load(&p, &req, &id).await?;
    let location = tx
        .finish_with_error(
            &p,
            OAuthError::new(ErrorCode::AccessDenied, "the person cancelled the login"),
        )
        .await
        .map_err(|e| tx.refusal(e))?;
    Ok(redirect(&location))
}
