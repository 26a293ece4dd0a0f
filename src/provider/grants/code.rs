//! Authorization codes: issued in the client session after login, redeemed exactly once.

use super::super::Provider;
use super::db_error;
use super::sealed::CodeSeal;
use super::tokens::{respond, Grant, NewTokens};
use crate::audit::hooks::tokens_issued_event;
use crate::domain::secret::random_b64;
use crate::domain::{Client, RedirectUri, Secret};
use crate::oidc::id_token::TokenResponse;
use crate::oidc::token::TokenForm;
use crate::oidc::{pkce, OAuthError};
use crate::store::exchange::{AtOnce, Issue};
use crate::store::grants::{CodeRow, Redemption};
use crate::store::sessions::BrowserSessionRow;
use crate::store::{self, StoreError};
use diesel_async::AsyncPgConnection;

/// What a code is issued for (from a validated request or a stored transaction).
#[derive(Debug, Clone)]
pub struct CodeRequest {
    pub redirect_uri: RedirectUri,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub claims: Option<String>,
    /// Facts read from the signature certificate and consented to, for this code.
    pub verification_id: Option<String>,
}

/// Issues a code in the client session (`sid`) of this browser session and returns the
/// redirect URL with `code`, `state` and `iss` (RFC 9207). The grant is sealed into the code
/// (see [`super::sealed`]), so single sign-on at a client the session has seen before writes
/// nothing; only a grant too large to seal is stored. `known`: the client session when the
/// caller has it already (single sign-on reads it together with the browser session, a
/// finished transaction made it); looked up or created when `None`.
pub async fn issue_code_in(
    p: &Provider,
    client: &Client,
    session: &BrowserSessionRow,
    known: Option<String>,
    request: CodeRequest,
) -> Result<String, StoreError> {
    let now = p.clock.unix();
    let client_session_id = match known {
        Some(id) => id,
        None => client_session(p, session, client.id.as_str(), now).await?,
    };
    let mut row = CodeRow {
        code_hash: String::new(),
        grant_id: random_b64(16),
        client_id: client.id.as_str().to_owned(),
        client_session_id,
        person_id: session.person_id.clone(),
        redirect_uri: request.redirect_uri.as_str().to_owned(),
        scope: request.scope,
        nonce: request.nonce,
        code_challenge: request.code_challenge,
        auth_time: session.auth_time,
        amr: session.amr.clone(),
        acr: session.acr.clone(),
        claims: request.claims,
        created_at: now,
        expires_at: now + client.code_lifetime(p.settings.lifetimes.code).as_secs() as i64,
        redeemed_at: None,
        verification_id: request.verification_id,
    };
    let code = match p.codes.seal(&row) {
        Some(code) => code,
        None => {
            let code = Secret::generate(32);
            row.code_hash = code.hash();
            p.db.write(move |c| store::grants::insert_code(c, &row))
                .await?;
            code
        }
    };
    let mut params = vec![("code", code.expose()), ("iss", p.settings.issuer_str())];
    if let Some(state) = &request.state {
        params.push(("state", state));
    }
    Ok(request.redirect_uri.with_query(&params))
}

/// The id of the client session of `client_id` in this browser session: read when the session
/// has one already, created otherwise.
async fn client_session(
    p: &Provider,
    session: &BrowserSessionRow,
    client_id: &str,
    now: i64,
) -> Result<String, StoreError> {
    let (session_id, id) = (session.id.clone(), client_id.to_owned());
    let existing =
        p.db.read(move |c| store::sessions::find_client_session(c, &session_id, &id))
            .await?;
    if let Some(cs) = existing {
        return Ok(cs.id);
    }
    let (session, id) = (session.clone(), client_id.to_owned());
    p.db.write(move |c| {
        store::sessions::client_session(c, &session, &id, &random_b64(16), now).map(|cs| cs.id)
    })
    .await
}

/// The redirect for an error once the redirect URI is known good (OIDC Core §3.1.2.6).
pub fn error_redirect(
    p: &Provider,
    redirect_uri: &RedirectUri,
    state: Option<&str>,
    error: &OAuthError,
) -> String {
    let mut params = vec![
        ("error", error.error.as_str()),
        ("error_description", error.error_description.as_str()),
        ("iss", p.settings.issuer_str()),
    ];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect_uri.with_query(&params)
}

/// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6).
/// With `dpop_jkt` (a proof came with the request) the tokens are bound to that key.
pub async fn exchange_code(
    p: &Provider,
    client: &Client,
    form: &TokenForm,
    dpop_jkt: Option<String>,
) -> Result<TokenResponse, OAuthError> {
    let code = form
        .code
        .as_ref()
        .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
    let verifier = form
        .code_verifier
        .as_ref()
        .ok_or_else(|| OAuthError::invalid_request("code_verifier is missing (PKCE)"))?;
    let now = p.clock.unix();
    let sealed = p.codes.open(code.expose());
    if sealed.is_none() && CodeSeal::is_sealed_form(code.expose()) {
        // Altered, forged, or sealed under another deployment's key: nothing to look up.
        return Err(OAuthError::invalid_grant("unknown code"));
    }
    if let Some(row) = sealed
        .as_ref()
        .filter(|row| p.db.pg_async().is_some() && row.verification_id.is_none())
    {
        let request = (form.redirect_uri.as_deref(), verifier.expose());
        let at_once = exchange_at_once(p, client, row.clone(), request, dpop_jkt.clone(), now);
        if let Some(answer) = at_once.await {
            return answer;
        }
    }
    let hash = code.hash();
    let (client_id, redirect_uri) = (client.id.as_str().to_owned(), form.redirect_uri.clone());
    let verifier = verifier.expose().to_owned();
    let lifetimes = p.settings.lifetimes.clone();
    // One transaction: the code is spent and the tokens stored together, or neither.
    let outcome = p
        .db
        .write(move |c| {
            let redemption = match sealed {
                Some(sealed) => store::grants::redeem_sealed_code(c, sealed, now)?,
                None => store::grants::redeem_code(c, &hash, now)?,
            };
            let row = match redemption {
                Redemption::Redeemed(row) => row,
                Redemption::Replayed(row) => {
                    // RFC 6749 §4.1.2: a second use revokes what the first one issued.
                    store::grants::revoke_grant(c, &row.client_session_id, &row.grant_id, now)?;
                    let kind = crate::audit::Kind::CodeReplayed;
                    crate::audit::hooks::replay(c, kind, &row.client_id, &row.person_id, now)?;
                    tracing::warn!(client_id = %row.client_id, "authorization code replayed; grant revoked");
                    return Ok(Err(OAuthError::invalid_grant("the code has already been used")));
                }
                Redemption::Expired => return Ok(Err(OAuthError::invalid_grant("the code has expired"))),
                Redemption::Unknown => return Ok(Err(OAuthError::invalid_grant("unknown code"))),
                Redemption::SessionEnded => {
                    return Ok(Err(OAuthError::invalid_grant("the login session has ended")))
                }
            };
            // A failed check still spends the code: it is good for one attempt only.
            if let Err(e) = check(&row, &client_id, redirect_uri.as_deref(), &verifier) {
                return Ok(Err(e));
            }
            let grant = Grant::of_code(row);
            let tokens = NewTokens::for_grant(&grant, &client_id, dpop_jkt, &lifetimes, now);
            let verification = tokens.store(c, true, now)?;
            Ok(Ok((grant, tokens, verification)))
        })
        .await
        .map_err(db_error)?;
    respond(p, client, outcome?, now)
}

/// The exchange of a sealed code without facts to release, on PostgreSQL, in one statement
/// ([`store::exchange`]): the code spent, the tokens and the audit event stored. `None` when
/// the statement leaves the decision to the transaction (the code was spent before or has
/// expired, nothing written) or found its pooled connection dead: the transaction then runs
/// on a live one. (Should a statement have committed and only its answer been lost, the
/// transaction finds the code spent and revokes its grant: the client gets `invalid_grant`,
/// never a second set of tokens.)
async fn exchange_at_once(
    p: &Provider,
    client: &Client,
    row: CodeRow,
    (redirect_uri, verifier): (Option<&str>, &str),
    dpop_jkt: Option<String>,
    now: i64,
) -> Option<Result<TokenResponse, OAuthError>> {
    let checked = check(&row, client.id.as_str(), redirect_uri, verifier);
    let mut grant = Grant::of_code(row.clone());
    let lifetimes = &p.settings.lifetimes;
    let tokens = NewTokens::for_grant(&grant, client.id.as_str(), dpop_jkt, lifetimes, now);
    let event = tokens_issued_event(client.id.as_str(), "authorization_code", &grant.scope);
    let checks_passed = checked.is_ok();
    let redeem = async move |pg: &mut AsyncPgConnection, issue: &Issue<'_>| {
        store::exchange::redeem_sealed_and_issue(pg, &row, checks_passed, issue).await
    };
    let (done, tokens) = match tokens.store_at_once(p, event, now, redeem).await? {
        Ok(stored) => stored,
        Err(e) => return Some(Err(e)),
    };
    Some(match done {
        AtOnce::Spent(person) => checked.and_then(|()| {
            grant.person_id = person;
            respond(p, client, (grant, tokens, None), now)
        }),
        AtOnce::SessionEnded => Err(OAuthError::invalid_grant("the login session has ended")),
        AtOnce::Unknown => Err(OAuthError::invalid_grant("unknown code")),
        AtOnce::Undecided => return None,
    })
}

/// The redeemed code belongs to this client, this redirect URI and this PKCE verifier.
fn check(
    row: &CodeRow,
    client_id: &str,
    redirect_uri: Option<&str>,
    verifier: &str,
) -> Result<(), OAuthError> {
    if row.client_id != client_id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if redirect_uri != Some(row.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request",
        ));
    }
    if !pkce::verify(&row.code_challenge, verifier) {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match (PKCE)",
        ));
    }
    Ok(())
}
