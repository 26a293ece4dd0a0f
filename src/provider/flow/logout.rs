//! RP-Initiated Logout 1.0 (`/end_session`): which client asks, where the person may be sent
//! afterwards, and whether the request may end the session without asking the person.

use std::sync::Arc;

use serde::Deserialize;

use super::super::{grants, sessions, Provider, ProviderError};
use crate::domain::Client;
use crate::jose::{self, Alg};
use crate::store::sessions::BrowserSessionRow;

/// What the RP and the browser sent.
#[derive(Debug, Default)]
pub struct LogoutRequest<'a> {
    pub id_token_hint: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
    /// The single sign-on cookie's value, if any.
    pub session_cookie: Option<&'a str>,
    /// The person confirmed on the provider's own logout page (its form token checked).
    pub confirmed: bool,
}

/// The decision.
#[derive(Debug)]
pub enum LogoutOutcome {
    /// Nothing proves the request comes from this person's session: ask them first (§2).
    /// `client_id`: the client identified, to carry through the confirmation.
    Confirm { client_id: Option<String> },
    /// Logged out (or there was no session): to the registered post-logout URI with `state`,
    /// or, with none, the provider's own page.
    Done { redirect_to: Option<String> },
}

#[derive(Deserialize)]
struct HintClaims {
    iss: String,
    aud: serde_json::Value,
    sub: String,
    sid: Option<String>,
}

const NOT_OURS: &str = "id_token_hint is not an ID token issued here";

pub async fn end_session(
    p: &Provider,
    r: LogoutRequest<'_>,
) -> Result<LogoutOutcome, ProviderError> {
    // The client: from the ID token hint (signature checked, expiry ignored: §2) or client_id.
    let mut hinted: Option<HintClaims> = None;
    if let Some(hint) = r.id_token_hint {
        let keys = p.keys.snapshot();
        let verified = jose::verify(hint, &keys.verifying, &[Alg::RS256, Alg::PS256, Alg::ES256])
            .map_err(|_| ProviderError::BadRequest(NOT_OURS))?;
        let claims: HintClaims = serde_json::from_slice(&verified.payload)
            .map_err(|_| ProviderError::BadRequest(NOT_OURS))?;
        if claims.iss != p.settings.issuer_str() {
            return Err(ProviderError::BadRequest(
                "id_token_hint was issued by another provider",
            ));
        }
        hinted = Some(claims);
    }
    let hint_client = hinted.as_ref().and_then(|h| match &h.aud {
        serde_json::Value::String(a) => Some(a.clone()),
        serde_json::Value::Array(a) => a.first().and_then(|v| v.as_str()).map(str::to_owned),
        _ => None,
    });
    if let (Some(a), Some(b)) = (&hint_client, r.client_id) {
        if a != b {
            return Err(ProviderError::BadRequest(
                "client_id does not match the id_token_hint",
            ));
        }
    }
    let client: Option<Arc<Client>> = match hint_client.or(r.client_id.map(str::to_owned)) {
        Some(id) => p.clients.get(&id).await?,
        None => None,
    };
    // §3: a post-logout URI is used only when registered for the identified client.
    let target =
        match r.post_logout_redirect_uri {
            None => None,
            Some(uri) => {
                let client = client.as_ref().ok_or(ProviderError::BadRequest(
                    "post_logout_redirect_uri needs id_token_hint or client_id",
                ))?;
                Some(client.post_logout_redirect_uri(uri).cloned().ok_or(
                    ProviderError::BadRequest("post_logout_redirect_uri is not registered"),
                )?)
            }
        };
    let session = match r.session_cookie {
        Some(v) => sessions::current(p, v).await?,
        None => None,
    };
    if let Some(session) = &session {
        let hint_matches = match (&hinted, &client) {
            (Some(h), Some(c)) => hint_names_session(p, h, c, session).await?,
            _ => false,
        };
        if !r.confirmed && !hint_matches {
            return Ok(LogoutOutcome::Confirm {
                client_id: client.as_ref().map(|c| c.id.as_str().to_owned()),
            });
        }
        sessions::end(p, &session.id, sessions::EndReason::Logout).await?;
    }
    let redirect_to = target.map(|uri| {
        let mut params = Vec::new();
        if let Some(state) = r.state {
            params.push(("state", state));
        }
        uri.with_query(&params)
    });
    Ok(LogoutOutcome::Done { redirect_to })
}

/// Whether the hint's `sid` (or else its `sub`) belongs to the browser's current session.
async fn hint_names_session(
    p: &Provider,
    hint: &HintClaims,
    client: &Client,
    session: &BrowserSessionRow,
) -> Result<bool, ProviderError> {
    if let Some(sid) = &hint.sid {
        let owned = sid.clone();
        let cs =
            p.db.read(move |c| crate::store::sessions::get_client_session(c, &owned))
                .await?;
        return Ok(cs.is_some_and(|cs| cs.session_id == session.id));
    }
    Ok(grants::subject(p, client, &session.person_id).as_str() == hint.sub)
}
