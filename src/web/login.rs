//! The resident's pages: card login (challenge, match code, extension and helper link), completion,
//! failures with what to do, and consent.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::assets::assets;
use super::authorize::{consented, redirect};
use super::cookies;
use super::error::{PageError, WebError};
use super::i18n::Lang;
use super::transaction;
use super::views::{render, LoginPage};
use crate::card::protocol::{CardErrorCode, ChallengePurpose};
use crate::domain::Scope;
use crate::oidc::discovery::{ACR_CARD, AMR_CARD};
use crate::oidc::{ErrorCode, OAuthError};
use crate::provider::{login, sessions, Provider};
use crate::store;

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
    // Identity verification needs the signature key too, unless facts were already read.
    let verify = !tx.facts().is_empty() && tx.row.verification_id.is_none();
    let purpose = if verify {
        ChallengePurpose::Verify
    } else {
        ChallengePurpose::Login
    };
    let challenge = login::create_challenge(&p, &tx.row.id, purpose).await?;
    let challenge_url = login::challenge_url(&p, &challenge.id);
    let helper_link = login::helper_link(&challenge_url);
    let expires = time::OffsetDateTime::from_unix_timestamp(challenge.expires_at)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let jst = expires.to_offset(time::macros::offset!(+9));
    let path = format!("/login/{}", tx.row.id);
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
    let (challenge_id, request_id, now) =
        (form.challenge.clone(), tx.row.id.clone(), p.clock.unix());
    let taken =
        p.db.write(move |c| {
            let Some(ch) = store::requests::get_challenge(c, &challenge_id)? else {
                return Ok(Err(None));
            };
            if ch.auth_request_id != request_id {
                return Ok(Err(None));
            }
            if store::requests::consume_challenge(c, &ch.id, now)? {
                if ch.verification_id.is_some() {
                    store::requests::attach_verification(
                        c,
                        &request_id,
                        ch.verification_id.as_deref(),
                    )?;
                }
                return Ok(Ok(ch.person_id));
            }
            Ok(Err(Some(crate::provider::login::state_of(&ch, now))))
        })
        .await?;
    let person_id = match taken {
        Ok(Some(person)) => person,
        Ok(None) => {
            return Err(WebError::Internal(
                "completed challenge without person".into(),
            ))
        }
        Err(Some(status)) if status.state == crate::card::protocol::ChallengeState::Pending => {
            // Pressed Continue before the helper answered: back to the waiting page.
            return Ok(redirect(&in_lang(
                &format!("/login/{}", tx.row.id),
                tx.lang,
            )));
        }
        Err(Some(status)) => {
            let code = status
                .error
                .map(|c| c.as_str())
                .unwrap_or("expired_challenge");
            let failed = in_lang(&format!("/login/{}/failed", tx.row.id), tx.lang);
            return Ok(redirect(&format!("{failed}&code={code}")));
        }
        Err(None) => {
            return Err(WebError::page(
                StatusCode::BAD_REQUEST,
                tx.lang,
                tx.lang.texts().request_expired,
            ))
        }
    };
    let amr = AMR_CARD.join(" ");
    let existing = match cookies::value(&req, cookies::SESSION) {
        Some(v) => sessions::current(&p, &v).await?,
        None => None,
    };
    let mut new_cookie = None;
    let session = match existing {
        Some(mut s) if s.person_id == person_id => {
            let (sid, exp) = (
                s.id.clone(),
                now + p.settings.lifetimes.session.as_secs() as i64,
            );
            p.db.write(move |c| store::sessions::reauthenticate(c, &sid, now, exp))
                .await?;
            s.auth_time = now;
            s
        }
        other => {
            if let Some(old) = other {
                sessions::end(&p, &old.id, sessions::EndReason::Replaced).await?;
            }
            let (cookie, s) = sessions::start(&p, person_id, &amr, ACR_CARD).await?;
            new_cookie = Some(cookie);
            s
        }
    };
    let (rid, sid) = (tx.row.id.clone(), session.id.clone());
    p.db.write(move |c| store::requests::attach_session(c, &rid, &sid))
        .await?;
    let scope = Scope::parse(&tx.row.scope).unwrap_or_default();
    let force_consent = tx
        .row
        .prompt
        .as_deref()
        .is_some_and(|p| p.contains("consent"));
    // Facts are never released on a remembered consent: the person sees them every time.
    let ask = force_consent
        || !tx.facts().is_empty()
        || !consented(&p, &session.person_id, &tx.client, &scope).await?;
    let mut response = if ask {
        redirect(&in_lang(&format!("/consent/{}", tx.row.id), tx.lang))
    } else {
        redirect(&tx.finish_with_code(&p, &session, None).await?)
    };
    if let Some(cookie) = new_cookie {
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
        retry_url: Some(in_lang(&format!("/login/{}", tx.row.id), tx.lang)),
        back_url: Some(format!("/login/{}/cancel", tx.row.id)),
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
        .await?;
    Ok(redirect(&location))
}
