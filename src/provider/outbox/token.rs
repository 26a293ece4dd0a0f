//! Logout tokens (Back-Channel Logout 1.0 §2.4), signed when they are delivered; for a client
//! removed since, from what its outbox row kept.

use serde::Serialize;
use serde_json::json;

use super::super::grants::subject;
use super::super::{Provider, ProviderError};
use crate::domain::{IdTokenAlg, PairwiseSub};
use crate::jose;
use crate::store::outbox::OutboxRow;

/// The event type of a logout token (Back-Channel Logout §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The `event` of a logout owed by a client that has since been removed: what the token needs
/// and the client no longer holds.
#[derive(Serialize, serde::Deserialize)]
pub(super) struct RemovedClient {
    pub(super) sub: String,
    pub(super) alg: String,
}

pub fn removed_client_event(sub: &PairwiseSub, alg: IdTokenAlg) -> String {
    json!(RemovedClient {
        sub: sub.as_str().to_owned(),
        alg: alg.as_str().to_owned(),
    })
    .to_string()
}

#[derive(Serialize)]
struct LogoutToken<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    events: serde_json::Value,
}

/// A logout token (Back-Channel Logout §2.4) for one client session, signed now.
pub fn logout_token(
    p: &Provider,
    row: &OutboxRow,
    client: &crate::domain::Client,
) -> Result<String, ProviderError> {
    let sub = subject(p, client, &row.person_id);
    signed_logout_token(
        p,
        row,
        client.id.as_str(),
        sub.as_str(),
        client.id_token_alg,
    )
}

pub(super) fn signed_logout_token(
    p: &Provider,
    row: &OutboxRow,
    aud: &str,
    sub: &str,
    alg: IdTokenAlg,
) -> Result<String, ProviderError> {
    let now = p.clock.unix();
    let claims = LogoutToken {
        iss: p.settings.issuer_str(),
        sub,
        aud,
        iat: now,
        exp: now + 120,
        jti: &row.jti,
        sid: row.client_session_id.as_deref(),
        events: json!({ BACKCHANNEL_LOGOUT_EVENT: {} }),
    };
    let keys = p.keys.snapshot();
    let key = keys
        .signing_key(alg, now)
        .ok_or_else(|| ProviderError::Crypto(format!("no {} signing key", alg.as_str())))?;
    jose::sign(key, Some("logout+jwt"), &claims).map_err(|e| ProviderError::Crypto(e.to_string()))
}
