//! Live access tokens: userinfo, introspection (RFC 7662) and revocation (RFC 7009).

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::super::{identity, Provider, ProviderError};
use super::{db_error, subject};
use crate::domain::{Client, MyKeyId, Scope, Secret};
use crate::oidc::token::TokenForm;
use crate::oidc::verified_claims::requested_facts;
use crate::oidc::{ErrorCode, OAuthError};
use crate::store;
use crate::store::grants::{AccessTokenRow, RefreshTokenRow};

/// A live access token and its client.
pub struct LiveAccessToken {
    pub row: AccessTokenRow,
    pub client: Arc<Client>,
}

/// Looks up a bearer token; `None` for unknown, expired, revoked, or of a disabled client.
pub async fn live_access_token(
    p: &Provider,
    token: &str,
) -> Result<Option<LiveAccessToken>, ProviderError> {
    let row = access_token_row(p, &Secret::new(token).hash()).await?;
    let now = p.clock.unix();
    let Some(row) = row.filter(|r| r.revoked_at.is_none() && r.expires_at > now) else {
        return Ok(None);
    };
    let Some(client) = p.clients.get(&row.client_id).await?.filter(|c| c.enabled) else {
        return Ok(None);
    };
    Ok(Some(LiveAccessToken { row, client }))
}

/// Userinfo claims (OIDC Core §5.3.2) for a live token: the pairwise `sub`, and the
/// consented facts as `verified_claims` (and plain claims where asked) while the
/// verification is live — after its signature certificate is revoked they are gone.
pub async fn userinfo_claims(
    p: &Provider,
    token: &LiveAccessToken,
) -> Result<Value, ProviderError> {
    let sub = subject(p, &token.client, &token.row.person_id);
    let mut out = Map::new();
    out.insert("sub".to_owned(), json!(sub.as_str()));
    if let Some(id) = token.row.verification_id.clone() {
        let row = p.db.read(move |c| store::identity::get(c, &id)).await?;
        if let Some(facts) = row.and_then(|r| identity::open(p, &r, p.clock.unix())) {
            let claims = token
                .row
                .claims
                .as_deref()
                .and_then(|c| serde_json::from_str::<Value>(c).ok());
            let wanted = requested_facts(
                &Scope::parse(&token.row.scope).unwrap_or_default(),
                claims.as_ref(),
            );
            out.extend(identity::release(
                &facts,
                &wanted.userinfo_verified,
                &wanted.userinfo_plain,
            ));
        }
    }
    Ok(Value::Object(out))
}

/// The parts of an access or refresh token that introspection reports.
struct TokenView {
    client_id: String,
    person_id: MyKeyId,
    scope: String,
    sid: String,
    iat: i64,
    exp: i64,
    live: bool,
    token_type: &'static str,
    /// The DPoP key thumbprint the token is bound to, reported as `cnf.jkt` (RFC 9449 §6.2).
    jkt: Option<String>,
}

impl From<AccessTokenRow> for TokenView {
    fn from(a: AccessTokenRow) -> TokenView {
        TokenView {
            live: a.revoked_at.is_none(),
            client_id: a.client_id,
            person_id: a.person_id,
            scope: a.scope,
            sid: a.client_session_id,
            iat: a.created_at,
            exp: a.expires_at,
            token_type: if a.dpop_jkt.is_some() {
                "DPoP"
            } else {
                "Bearer"
            },
            jkt: a.dpop_jkt,
        }
    }
}

impl From<RefreshTokenRow> for TokenView {
    fn from(r: RefreshTokenRow) -> TokenView {
        TokenView {
            live: r.revoked_at.is_none() && r.used_at.is_none(),
            client_id: r.client_id,
            person_id: r.person_id,
            scope: r.scope,
            sid: r.client_session_id,
            iat: r.created_at,
            exp: r.expires_at,
            token_type: "refresh_token",
            jkt: r.dpop_jkt,
        }
    }
}

/// The access token stored under `hash`: on PostgreSQL on the asynchronous connection.
async fn access_token_row(
    p: &Provider,
    hash: &str,
) -> Result<Option<AccessTokenRow>, store::StoreError> {
    let owned = hash.to_owned();
    p.db.read_hot(
        async |c| store::grants::access_token_async(c, hash).await,
        move |c| store::grants::access_token(c, &owned),
    )
    .await
}

/// The refresh token stored under `hash`, as [`access_token_row`].
pub(super) async fn refresh_token_row(
    p: &Provider,
    hash: &str,
) -> Result<Option<RefreshTokenRow>, store::StoreError> {
    let owned = hash.to_owned();
    p.db.read_hot(
        async |c| store::grants::refresh_token_async(c, hash).await,
        move |c| store::grants::refresh_token(c, &owned),
    )
    .await
}

/// RFC 7662 §2.2. A client sees only its own tokens; anything else is inactive.
pub async fn introspect(
    p: &Provider,
    client: &Client,
    form: &TokenForm,
) -> Result<Value, OAuthError> {
    let token = form
        .token
        .as_ref()
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let hash = token.hash();
    let now = p.clock.unix();
    // The hint only orders the look-ups (RFC 7662 §2.1).
    let refresh_first = form.token_type_hint.as_deref() == Some("refresh_token");
    let access = async || {
        access_token_row(p, &hash)
            .await
            .map(|r| r.map(TokenView::from))
    };
    let refresh = async || {
        refresh_token_row(p, &hash)
            .await
            .map(|r| r.map(TokenView::from))
    };
    let found = if refresh_first {
        match refresh().await.map_err(db_error)? {
            Some(t) => Some(t),
            None => access().await.map_err(db_error)?,
        }
    } else {
        match access().await.map_err(db_error)? {
            Some(t) => Some(t),
            None => refresh().await.map_err(db_error)?,
        }
    };
    let inactive = json!({ "active": false });
    let Some(t) = found else {
        return Ok(inactive);
    };
    if !t.live || t.exp <= now || t.client_id != client.id.as_str() {
        return Ok(inactive);
    }
    let mut out = Map::new();
    out.insert("active".into(), json!(true));
    out.insert("scope".into(), json!(t.scope));
    out.insert("client_id".into(), json!(t.client_id));
    out.insert(
        "sub".into(),
        json!(subject(p, client, &t.person_id).as_str()),
    );
    out.insert("aud".into(), json!(t.client_id));
    out.insert("iss".into(), json!(p.settings.issuer_str()));
    out.insert("exp".into(), json!(t.exp));
    out.insert("iat".into(), json!(t.iat));
    out.insert("sid".into(), json!(t.sid));
    out.insert("token_type".into(), json!(t.token_type));
    if let Some(jkt) = t.jkt {
        out.insert("cnf".into(), json!({ "jkt": jkt }));
    }
    Ok(Value::Object(out))
}

/// RFC 7009 §2.1: revokes an access token, or a refresh token with its whole grant.
pub async fn revoke(p: &Provider, client: &Client, form: &TokenForm) -> Result<(), OAuthError> {
    let token = form
        .token
        .as_ref()
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    if let Some(hint) = form.token_type_hint.as_deref() {
        if hint != "access_token" && hint != "refresh_token" {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedTokenType,
                "token_type_hint must be access_token or refresh_token",
            ));
        }
    }
    let hash = token.hash();
    let now = p.clock.unix();
    let client_id = client.id.as_str().to_owned();
    let outcome =
        p.db.write(move |c| {
            if let Some(r) = store::grants::refresh_token(c, &hash)? {
                if r.client_id != client_id {
                    return Ok(false);
                }
                store::grants::revoke_grant(c, &r.client_session_id, &r.grant_id, now)?;
                crate::audit::hooks::revoked(c, &client_id, "refresh_token", now)?;
                return Ok(true);
            }
            if let Some(a) = store::grants::access_token(c, &hash)? {
                if a.client_id != client_id {
                    return Ok(false);
                }
                store::grants::revoke_access_token(c, &hash, now)?;
                crate::audit::hooks::revoked(c, &client_id, "access_token", now)?;
            }
            // Unknown tokens are not an error (RFC 7009 §2.2).
            Ok(true)
        })
        .await
        .map_err(db_error)?;
    if !outcome {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the token was issued to another client",
        ));
    }
    Ok(())
}
