//! `/authorize` (OIDC Core §3.1.2): validate, then single sign-on, consent or the login page.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::cookies;
use super::error::{PageError, WebError};
use super::i18n::Lang;
use crate::domain::{Client, Scope};
use crate::oidc::authorize::{
    login_is_fresh, validate, AuthorizeError, AuthorizeParams, AuthorizeRequest,
};
use crate::oidc::verified_claims::{requested_facts, FactRequest};
use crate::oidc::{ErrorCode, OAuthError};
use crate::provider::grants::{self, CodeRequest};
use crate::provider::{sessions, Provider};
use crate::store;
use crate::store::requests::AuthRequestRow;
use crate::store::sessions::BrowserSessionRow;

pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

pub fn accept_language(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

fn parse_params(pairs: Vec<(String, String)>) -> AuthorizeParams {
    let mut p = AuthorizeParams::default();
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in pairs {
        if seen.contains(&key) {
            if !p.duplicated.contains(&key) {
                p.duplicated.push(key.clone());
            }
            continue;
        }
        seen.push(key.clone());
        let v = Some(value);
        match key.as_str() {
            "client_id" => p.client_id = v,
            "redirect_uri" => p.redirect_uri = v,
            "response_type" => p.response_type = v,
            "response_mode" => p.response_mode = v,
            "scope" => p.scope = v,
            "state" => p.state = v,
            "nonce" => p.nonce = v,
            "code_challenge" => p.code_challenge = v,
            "code_challenge_method" => p.code_challenge_method = v,
            "prompt" => p.prompt = v,
            "max_age" => p.max_age = v,
            "ui_locales" => p.ui_locales = v,
            "acr_values" => p.acr_values = v,
            "claims" => p.claims = v,
            "request" => p.request = v,
            "request_uri" => p.request_uri = v,
            "registration" => p.registration = v,
            _ => {}
        }
    }
    p
}

pub async fn authorize(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let pairs: Vec<(String, String)> = if req.method() == actix_web::http::Method::POST {
        let bytes = super::body::read(payload, 64 * 1024, false).await?;
        url::form_urlencoded::parse(&bytes).into_owned().collect()
    } else {
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect()
    };
    let params = parse_params(pairs);
    let lang = Lang::negotiate(params.ui_locales.as_deref(), accept_language(&req));
    let client = match params.client_id.as_deref() {
        Some(id) => p.clients.get(id).await?,
        None => None,
    };
    let request = match validate(&params, client.as_deref()) {
        Ok(r) => r,
        Err(AuthorizeError::Page(e)) => {
            return Err(WebError::Page(Box::new(PageError {
                status: StatusCode::BAD_REQUEST,
                lang,
                message: e.error_description,
                hint: None,
                code: Some(e.error.as_str().to_owned()),
                retry_url: None,
                back_url: None,
            })))
        }
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state,
            error,
        }) => {
            return Ok(redirect(&grants::error_redirect(
                &p,
                &redirect_uri,
                state.as_deref(),
                &error,
            )))
        }
    };
    let Some(client) = client else {
        return Err(WebError::Internal("validated without a client".into()));
    };
    let now = p.clock.unix();
    let session = match cookies::value(&req, cookies::SESSION) {
        Some(v) => sessions::current(&p, &v).await?,
        None => None,
    };
    let usable = session
        .filter(|s| !request.prompt.login && login_is_fresh(s.auth_time, request.max_age, now));
    // Claim requests of a client not allowed facts are ignored (OIDC Core §5.5).
    let facts = if client.allow_verified_claims {
        requested_facts(&request.scope, request.claims.as_ref())
    } else {
        FactRequest::default()
    };
    let Some(session) = usable else {
        if request.prompt.none {
            return Ok(refuse(
                &p,
                &request,
                ErrorCode::LoginRequired,
                "the person must log in",
            ));
        }
        return start_transaction(&p, &req, &client, &request, None, None, "login").await;
    };
    if !facts.is_empty() {
        // Facts need the card's signature key (or retained facts) and the person's consent.
        if request.prompt.none {
            return Ok(refuse(
                &p,
                &request,
                ErrorCode::InteractionRequired,
                "identity verification needs the person",
            ));
        }
        let reusable = reusable_verification(&p, &session.person_id, now).await?;
        let page = if reusable.is_some() {
            "consent"
        } else {
            "login"
        };
        return start_transaction(&p, &req, &client, &request, Some(&session), reusable, page)
            .await;
    }
    if !request.prompt.consent && consented(&p, &session.person_id, &client, &request.scope).await?
    {
        let location = grants::issue_code(&p, &client, &session, code_request(&request)).await?;
        return Ok(redirect(&location));
    }
    if request.prompt.none {
        return Ok(refuse(
            &p,
            &request,
            ErrorCode::ConsentRequired,
            "consent is required",
        ));
    }
    start_transaction(&p, &req, &client, &request, Some(&session), None, "consent").await
}

/// Facts read earlier that may be shown again without a new signature: only when the operator
/// configured a retention, and never after the signature certificate was revoked.
async fn reusable_verification(
    p: &Provider,
    person_id: &str,
    now: i64,
) -> Result<Option<String>, WebError> {
    if p.settings.verified_facts_retention.is_zero() {
        return Ok(None);
    }
    let person = person_id.to_owned();
    let row =
        p.db.read(move |c| store::identity::latest_live(c, &person, now))
            .await?;
    let keep = p.settings.verified_facts_retention.as_secs() as i64;
    Ok(row.filter(|v| v.verified_at + keep > now).map(|v| v.id))
}

fn refuse(p: &Provider, request: &AuthorizeRequest, code: ErrorCode, d: &str) -> HttpResponse {
    redirect(&grants::error_redirect(
        p,
        &request.redirect_uri,
        request.state.as_deref(),
        &OAuthError::new(code, d),
    ))
}

fn code_request(r: &AuthorizeRequest) -> CodeRequest {
    CodeRequest {
        redirect_uri: r.redirect_uri.clone(),
        scope: r.scope.to_string(),
        state: r.state.clone(),
        nonce: r.nonce.clone(),
        code_challenge: r.code_challenge.clone(),
        claims: r.claims.as_ref().map(|c| c.to_string()),
        verification_id: None,
    }
}

/// Whether the person already allowed this client everything requested.
pub async fn consented(
    p: &Provider,
    person_id: &str,
    client: &Client,
    scope: &Scope,
) -> Result<bool, WebError> {
    let (person, cid) = (person_id.to_owned(), client.id.as_str().to_owned());
    let stored =
        p.db.read(move |c| store::grants::consent(c, &person, &cid))
            .await?;
    Ok(stored
        .as_deref()
        .and_then(Scope::parse)
        .is_some_and(|granted| scope.is_subset_of(&granted)))
}

/// Stores the transaction bound to this browser and sends it to the login or consent page.
async fn start_transaction(
    p: &Provider,
    req: &HttpRequest,
    client: &Arc<Client>,
    request: &AuthorizeRequest,
    session: Option<&BrowserSessionRow>,
    verification_id: Option<String>,
    page: &str,
) -> Result<HttpResponse, WebError> {
    let (binding, new_binding) = cookies::browser_binding(req);
    let now = p.clock.unix();
    let row = AuthRequestRow {
        id: crate::domain::secret::random_b64(16),
        cookie_hash: binding.hash(),
        client_id: client.id.as_str().to_owned(),
        redirect_uri: request.redirect_uri.as_str().to_owned(),
        scope: request.scope.to_string(),
        state: request.state.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        prompt: request.prompt.to_param(),
        max_age: request.max_age,
        ui_locales: request.ui_locales.clone(),
        acr_values: request.acr_values.clone(),
        claims: request.claims.as_ref().map(|c| c.to_string()),
        session_id: session.map(|s| s.id.clone()),
        created_at: now,
        expires_at: now + p.settings.lifetimes.auth_request.as_secs() as i64,
        completed_at: None,
        verification_id,
    };
    let id = row.id.clone();
    p.db.write(move |c| store::requests::insert_request(c, &row))
        .await?;
    let mut response = redirect(&format!("/{page}/{id}"));
    if new_binding {
        response
            .add_cookie(&cookies::build(
                cookies::BROWSER,
                binding.expose().to_owned(),
                p.settings.secure_cookies(),
            ))
            .map_err(|e| WebError::Internal(e.to_string()))?;
    }
    Ok(response)
}
