//! The `ssf` access tokens of receivers: the client credentials grant (RFC 6749 §4.4) for a
//! client allowed to use Shared Signals, answered with a short-lived JWT access token
//! (RFC 9068, `typ` `at+jwt`) that the stream endpoints verify against the provider's keys.

use serde::{Deserialize, Serialize};

use super::super::Provider;
use super::SsfError;
use crate::domain::secret::random_b64;
use crate::domain::{Client, IdTokenAlg};
use crate::jose::Alg;
use crate::oidc::token::TokenForm;
use crate::oidc::{ErrorCode, OAuthError};

/// The one scope the client credentials grant issues.
pub const SCOPE: &str = "ssf";
/// Lifetime of an `ssf` access token: short, since it cannot be revoked.
pub const LIFETIME_SECS: i64 = 300;
/// RFC 9068 §2.1.
const TYP: &str = "at+jwt";

#[derive(Debug, Serialize, Deserialize)]
struct AccessClaims {
    iss: String,
    sub: String,
    aud: String,
    client_id: String,
    scope: String,
    iat: i64,
    exp: i64,
    jti: String,
}

/// The token response of the client credentials grant (RFC 6749 §4.4.3: no refresh token).
#[derive(Debug, Serialize)]
pub struct ClientCredentialsResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: &'static str,
}

/// The audience of `ssf` tokens: the stream endpoints, not the provider's other APIs.
fn audience(p: &Provider) -> String {
    format!("{}/ssf", p.settings.issuer_str())
}

/// RFC 6749 §4.4.2, for an authenticated client.
pub fn client_credentials(
    p: &Provider,
    client: &Client,
    form: &TokenForm,
) -> Result<ClientCredentialsResponse, OAuthError> {
    if !client.allow_shared_signals {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the client_credentials grant",
        ));
    }
    // RFC 6749 §3.3: the only scope on offer is `ssf`, also when none is asked for.
    if let Some(scope) = &form.scope {
        if scope.split(' ').any(|s| !s.is_empty() && s != SCOPE) {
            return Err(OAuthError::invalid_scope(
                "the client_credentials grant issues only the scope ssf",
            ));
        }
    }
    let now = p.clock.unix();
    let claims = AccessClaims {
        iss: p.settings.issuer_str().to_owned(),
        sub: client.id.as_str().to_owned(),
        aud: audience(p),
        client_id: client.id.as_str().to_owned(),
        scope: SCOPE.to_owned(),
        iat: now,
        exp: now + LIFETIME_SECS,
        jti: random_b64(16),
    };
    let keys = p.keys.snapshot();
    let key = keys
        .signing_key(IdTokenAlg::Rs256, now)
        .ok_or_else(OAuthError::server_error)?;
    let access_token =
        crate::jose::sign(key, Some(TYP), &claims).map_err(|_| OAuthError::server_error())?;
    Ok(ClientCredentialsResponse {
        access_token,
        token_type: "Bearer",
        expires_in: LIFETIME_SECS,
        scope: SCOPE,
    })
}

/// The receiver a bearer token stands for: a live `ssf` token of an enabled client that is
/// still allowed to use Shared Signals.
pub async fn receiver(p: &Provider, bearer: &str) -> Result<std::sync::Arc<Client>, SsfError> {
    let invalid = SsfError::Unauthorized("the access token is invalid or expired");
    let keys = p.keys.snapshot();
    let verified = crate::jose::verify(bearer, &keys.verifying, &[Alg::RS256])
        .map_err(|_| SsfError::Unauthorized("the access token is invalid or expired"))?;
    if verified.header.typ.as_deref() != Some(TYP) {
        return Err(invalid);
    }
    let claims: AccessClaims = verified
        .claims()
        .map_err(|_| SsfError::Unauthorized("the access token is invalid or expired"))?;
    let now = p.clock.unix();
    if claims.iss != p.settings.issuer_str()
        || claims.aud != audience(p)
        || claims.exp <= now
        || !claims.scope.split(' ').any(|s| s == SCOPE)
    {
        return Err(invalid);
    }
    let client = p
        .clients
        .get(&claims.client_id)
        .await
        .map_err(SsfError::Store)?
        .filter(|c| c.enabled)
        .ok_or(invalid)?;
    if !client.allow_shared_signals {
        return Err(SsfError::Forbidden(
            "this client may not use Shared Signals",
        ));
    }
    Ok(client)
}
