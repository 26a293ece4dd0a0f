//! Pushed authorization requests (RFC 9126): checked and stored at `/par` for the
//! authenticated client, read back once at `/authorize` through the `request_uri` returned.

use crate::domain::secret::{hash_str, random_b64};
use crate::domain::Client;
use crate::oidc::authorize::{
    validate, AuthorizeError, AuthorizeParams, Channel, CLIENT_AUTH_PARAMS,
};
use crate::oidc::{ErrorCode, OAuthError};
use crate::store;
use crate::store::pushed::PushedRequestRow;

use super::super::{Provider, ProviderError};

/// RFC 9126 §2.2: the URN namespace of the `request_uri` values issued here.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// The answer to a successful push (RFC 9126 §2.2).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pushed {
    pub request_uri: String,
    pub expires_in: i64,
}

/// `/par`: the pushed form (client authentication already checked and removed) is validated as
/// `/authorize` would validate it, then stored for one use by `client`.
pub async fn push(
    p: &Provider,
    client: &Client,
    pairs: Vec<(String, String)>,
) -> Result<Pushed, OAuthError> {
    let mut pairs: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, _)| !CLIENT_AUTH_PARAMS.contains(&k.as_str()))
        .collect();
    let mut params = AuthorizeParams::from_pairs(pairs.clone());
    match params.client_id.as_deref() {
        // The authenticated client is the one asking (RFC 9126 §2.1).
        None => {
            pairs.push(("client_id".to_owned(), client.id.as_str().to_owned()));
            params.client_id = Some(client.id.as_str().to_owned());
        }
        Some(id) if id != client.id.as_str() => {
            return Err(OAuthError::invalid_request(
                "client_id differs from the authenticated client",
            ));
        }
        Some(_) => {}
    }
    // RFC 9126 §2.1: a request_uri cannot itself be pushed.
    if params.request_uri.is_some() {
        return Err(OAuthError::invalid_request(
            "request_uri must not be pushed",
        ));
    }
    // RFC 9126 §2.3: the errors of an authorization request, as a JSON answer.
    match validate(&params, Some(client), Channel::Pushed) {
        Ok(_) => {}
        Err(AuthorizeError::Page(error) | AuthorizeError::Redirect { error, .. }) => {
            return Err(error)
        }
    }
    let reference = random_b64(32);
    let ttl = p.settings.pushed_request_ttl.as_secs() as i64;
    let now = p.clock.unix();
    let row = PushedRequestRow {
        uri_hash: hash_str(&reference),
        client_id: client.id.as_str().to_owned(),
        params: serde_json::to_string(&pairs).map_err(|e| {
            tracing::error!(error = %e, "cannot serialise pushed parameters");
            OAuthError::server_error()
        })?,
        created_at: now,
        expires_at: now + ttl,
        used_at: None,
    };
    p.db.write(move |c| store::pushed::insert(c, &row))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "database error at the PAR endpoint");
            OAuthError::unavailable()
        })?;
    Ok(Pushed {
        request_uri: format!("{REQUEST_URI_PREFIX}{reference}"),
        expires_in: ttl,
    })
}

/// `/authorize` with a `request_uri`: the parameters pushed by `client_id`, taken once. Every
/// other parameter of the front-channel request is ignored (RFC 9126 §4). `Err` is what the
/// person is shown: the redirect URI is not known before the pushed request is.
pub async fn redeem(
    p: &Provider,
    client_id: Option<&str>,
    request_uri: &str,
) -> Result<Result<AuthorizeParams, OAuthError>, ProviderError> {
    let invalid = |d: &str| Ok(Err(OAuthError::new(ErrorCode::InvalidRequestUri, d)));
    let Some(client_id) = client_id else {
        return Ok(Err(OAuthError::invalid_request(
            "client_id is missing (RFC 9126 §4)",
        )));
    };
    let Some(reference) = request_uri.strip_prefix(REQUEST_URI_PREFIX) else {
        return Ok(Err(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "only request_uri values from the PAR endpoint are supported",
        )));
    };
    let uri_hash = hash_str(reference);
    let now = p.clock.unix();
    let key = uri_hash.clone();
    let Some(row) = p.db.read(move |c| store::pushed::get(c, &key)).await? else {
        return invalid("this request_uri is unknown or has expired");
    };
    if row.client_id != client_id {
        return invalid("this request_uri was not issued to this client_id");
    }
    if row.used_at.is_some() {
        return invalid("this request_uri has been used already");
    }
    if row.expires_at <= now {
        return invalid("this request_uri has expired");
    }
    let cid = client_id.to_owned();
    let taken =
        p.db.write(move |c| store::pushed::take(c, &uri_hash, &cid, now))
            .await?;
    if !taken {
        return invalid("this request_uri has been used already");
    }
    let pairs: Vec<(String, String)> = serde_json::from_str(&row.params)
        .map_err(|e| ProviderError::Internal(format!("stored pushed request: {e}")))?;
    Ok(Ok(AuthorizeParams::from_pairs(pairs)))
}
