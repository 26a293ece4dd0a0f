//! `/authorize` (OIDC Core §3.1.2): after validation, single sign-on straight back to the
//! client, or a transaction for the login or consent page, or an error for the client.

use std::sync::Arc;

use super::super::grants::{self, CodeRequest};
use super::super::{sessions, Provider, ProviderError};
use super::covers;
use crate::domain::secret::random_b64;
use crate::domain::{Client, MyKeyId, Secret};
use crate::oidc::authorize::{
    login_is_fresh, validate, AuthorizeError, AuthorizeParams, AuthorizeRequest, Channel,
};
use crate::oidc::verified_claims::{requested_facts, FactRequest};
use crate::oidc::{ErrorCode, OAuthError};
use crate::store;
use crate::store::requests::AuthRequestRow;
use crate::store::sessions::{BrowserSessionRow, SsoView};

/// What the browser sent to `/authorize`.
pub struct AuthorizeInput<'a> {
    pub params: &'a AuthorizeParams,
    /// The single sign-on cookie's value, if any.
    pub session_cookie: Option<&'a str>,
    /// The browser binding cookie's value, if any.
    pub browser_binding: Option<&'a str>,
}

/// Which page the person continues on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Login,
    Consent,
}

/// The decision.
#[derive(Debug)]
pub enum Authorized {
    /// The client or its redirect URI is not known to be good: the error is shown to the
    /// person, never redirected (OIDC Core §3.1.2.6).
    Refused(OAuthError),
    /// Back to the client: a code (single sign-on) or an error it must see.
    ToClient(String),
    /// The person acts on the provider's page of the new transaction `transaction_id`;
    /// `new_binding`: a browser binding to set, when the browser had none.
    Interact {
        page: Interaction,
        transaction_id: String,
        new_binding: Option<Secret>,
    },
}

pub async fn authorize(
    p: &Provider,
    input: AuthorizeInput<'_>,
) -> Result<Authorized, ProviderError> {
    let pushed;
    let (params, channel) = match input.params.request_uri.as_deref() {
        None => (
            input.params,
            Channel::Front {
                par_required: p.settings.require_pushed_authorization_requests,
            },
        ),
        Some(uri) => {
            match super::pushed::redeem(p, input.params.client_id.as_deref(), uri).await? {
                Ok(params) => {
                    pushed = params;
                    (&pushed, Channel::Pushed)
                }
                Err(e) => return Ok(Authorized::Refused(e)),
            }
        }
    };
    let client = match params.client_id.as_deref() {
        Some(id) => p.clients.get(id).await?,
        None => None,
    };
    let request = match validate(params, client.as_deref(), channel) {
        Ok(r) => r,
        Err(AuthorizeError::Page(e)) => return Ok(Authorized::Refused(e)),
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state,
            error,
        }) => {
            return Ok(Authorized::ToClient(grants::error_redirect(
                p,
                &redirect_uri,
                state.as_deref(),
                &error,
            )))
        }
    };
    let Some(client) = client else {
        return Err(ProviderError::Internal("validated without a client".into()));
    };
    let now = p.clock.unix();
    // The session, the person's consent to this client and the session's `sid` there: one
    // read, all single sign-on needs.
    let view = match input.session_cookie {
        Some(v) => sessions::sso_view(p, v, client.id.as_str()).await?,
        None => None,
    };
    let usable = view.filter(|v| {
        !request.prompt.login && login_is_fresh(v.session.auth_time, request.max_age, now)
    });
    // Claim requests of a client not allowed facts are ignored (OIDC Core §5.5).
    let facts = if client.allow_verified_claims {
        requested_facts(&request.scope, request.claims.as_ref())
    } else {
        FactRequest::default()
    };
    let start = |session, reusable, page| Start {
        client: &client,
        request: &request,
        session,
        verification_id: reusable,
        page,
        binding: input.browser_binding,
    };
    let Some(SsoView {
        session,
        consented_scope,
        client_session_id,
    }) = usable
    else {
        if request.prompt.none {
            return Ok(refuse(
                p,
                &request,
                ErrorCode::LoginRequired,
                "the person must log in",
            ));
        }
        return start_transaction(p, start(None, None, Interaction::Login)).await;
    };
    if !facts.is_empty() {
        // Facts need the card's signature key (or retained facts) and the person's consent.
        if request.prompt.none {
            return Ok(refuse(
                p,
                &request,
                ErrorCode::InteractionRequired,
                "identity verification needs the person",
            ));
        }
        let reusable = reusable_verification(p, &session.person_id, now).await?;
        let page = if reusable.is_some() {
            Interaction::Consent
        } else {
            Interaction::Login
        };
        return start_transaction(p, start(Some(&session), reusable, page)).await;
    }
    if !request.prompt.consent && covers(consented_scope.as_deref(), &request.scope) {
        let request = code_request(&request);
        let location =
            grants::issue_code_in(p, &client, &session, client_session_id, request).await?;
        return Ok(Authorized::ToClient(location));
    }
    if request.prompt.none {
        return Ok(refuse(
            p,
            &request,
            ErrorCode::ConsentRequired,
            "consent is required",
        ));
    }
    start_transaction(p, start(Some(&session), None, Interaction::Consent)).await
}

/// Facts read earlier that may be shown again without a new signature: only when the operator
/// configured a retention, and never after the signature certificate was revoked.
async fn reusable_verification(
    p: &Provider,
    person_id: &MyKeyId,
    now: i64,
) -> Result<Option<String>, ProviderError> {
    if p.settings.verified_facts_retention.is_zero() {
        return Ok(None);
    }
    let person = person_id.clone();
    let row =
        p.db.read(move |c| store::identity::latest_live(c, &person, now))
            .await?;
    let keep = p.settings.verified_facts_retention.as_secs() as i64;
    Ok(row.filter(|v| v.verified_at + keep > now).map(|v| v.id))
}

fn refuse(p: &Provider, request: &AuthorizeRequest, code: ErrorCode, d: &str) -> Authorized {
    Authorized::ToClient(grants::error_redirect(
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

/// A transaction about to be stored.
struct Start<'a> {
    client: &'a Arc<Client>,
    request: &'a AuthorizeRequest,
    session: Option<&'a BrowserSessionRow>,
    verification_id: Option<String>,
    page: Interaction,
    binding: Option<&'a str>,
}

/// Stores the transaction, bound to this browser (a new binding when it had none).
async fn start_transaction(p: &Provider, s: Start<'_>) -> Result<Authorized, ProviderError> {
    let (binding, new_binding) = match s.binding {
        Some(v) => (Secret::new(v), false),
        None => (Secret::generate(32), true),
    };
    let (request, now) = (s.request, p.clock.unix());
    let row = AuthRequestRow {
        id: random_b64(16),
        cookie_hash: binding.hash(),
        client_id: s.client.id.as_str().to_owned(),
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
        session_id: s.session.map(|s| s.id.clone()),
        created_at: now,
        expires_at: now + p.settings.lifetimes.auth_request.as_secs() as i64,
        completed_at: None,
        verification_id: s.verification_id,
    };
    let transaction_id = row.id.clone();
    p.db.write(move |c| store::requests::insert_request(c, &row))
        .await?;
    Ok(Authorized::Interact {
        page: s.page,
        transaction_id,
        new_binding: new_binding.then_some(binding),
    })
}
