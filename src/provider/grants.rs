//! Codes and tokens: issuing a code after login, exchanging it, refreshing, userinfo,
//! introspection (RFC 7662) and revocation (RFC 7009).

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::keyring::jose_alg;
use super::Provider;
use crate::domain::secret::random_b64;
use crate::domain::{Client, MyKeyId, RedirectUri, Secret};
use crate::jose;
use crate::oidc::id_token::{IdTokenClaims, TokenResponse};
use crate::oidc::token::TokenForm;
use crate::oidc::{pairwise, pkce, ErrorCode, OAuthError};
use crate::store::grants::{AccessTokenRow, CodeRow, Redemption, RefreshTokenRow};
use crate::store::sessions::BrowserSessionRow;
use crate::store::{self, DbConn, StoreError};

/// What a code is issued for (from a validated request or a stored transaction).
#[derive(Debug, Clone)]
pub struct CodeRequest {
    pub redirect_uri: RedirectUri,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub claims: Option<String>,
}

/// Issues a code in the client session (`sid`) of this browser session and returns the
/// redirect URL with `code`, `state` and `iss` (RFC 9207).
pub async fn issue_code(
    p: &Provider,
    client: &Client,
    session: &BrowserSessionRow,
    request: CodeRequest,
) -> Result<String, StoreError> {
    let now = p.clock.unix();
    let code = Secret::generate(32);
    let mut row = CodeRow {
        code_hash: code.hash(),
        grant_id: random_b64(16),
        client_id: client.id.as_str().to_owned(),
        client_session_id: String::new(),
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
        expires_at: now + p.settings.lifetimes.code.as_secs() as i64,
        redeemed_at: None,
    };
    let session = session.clone();
    p.db.write(move |c| {
        let cs =
            store::sessions::client_session(c, &session, &row.client_id, &random_b64(16), now)?;
        row.client_session_id = cs.id;
        store::grants::insert_code(c, &row)
    })
    .await?;
    let mut params = vec![("code", code.expose()), ("iss", p.settings.issuer_str())];
    if let Some(state) = &request.state {
        params.push(("state", state));
    }
    Ok(request.redirect_uri.with_query(&params))
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

fn db_error(e: StoreError) -> OAuthError {
    tracing::error!(error = %e, "database error at the token endpoint");
    OAuthError::unavailable()
}

/// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6).
pub async fn exchange_code(
    p: &Provider,
    client: &Client,
    form: &TokenForm,
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
    let hash = code.hash();
    let redemption =
        p.db.write(move |c| {
            let r = store::grants::redeem_code(c, &hash, now)?;
            if let Redemption::Replayed(row) = &r {
                // RFC 6749 §4.1.2: a second use revokes what the first one issued.
                store::grants::revoke_grant(c, &row.grant_id, now)?;
                let kind = crate::audit::Kind::CodeReplayed;
                crate::audit::hooks::replay(c, kind, &row.client_id, &row.person_id, now)?;
            }
            Ok(r)
        })
        .await
        .map_err(db_error)?;
    let row = match redemption {
        Redemption::Redeemed(row) => row,
        Redemption::Replayed(row) => {
            tracing::warn!(client_id = %row.client_id, "authorization code replayed; grant revoked");
            return Err(OAuthError::invalid_grant("the code has already been used"));
        }
        Redemption::Expired => return Err(OAuthError::invalid_grant("the code has expired")),
        Redemption::Unknown => return Err(OAuthError::invalid_grant("unknown code")),
    };
    if row.client_id != client.id.as_str() {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if form.redirect_uri.as_deref() != Some(row.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request",
        ));
    }
    if !pkce::verify(&row.code_challenge, verifier.expose()) {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match (PKCE)",
        ));
    }
    let grant = Grant {
        grant_id: row.grant_id,
        client_session_id: row.client_session_id,
        person_id: row.person_id,
        scope: row.scope,
        claims: row.claims,
        nonce: row.nonce,
        auth_time: row.auth_time,
        amr: row.amr,
        acr: row.acr,
    };
    issue_tokens(p, client, grant, None).await
}

/// Everything tokens are issued from; shared by code exchange and refresh.
struct Grant {
    grant_id: String,
    client_session_id: String,
    person_id: String,
    scope: String,
    claims: Option<String>,
    nonce: Option<String>,
    auth_time: i64,
    amr: String,
    acr: String,
}

async fn issue_tokens(
    p: &Provider,
    client: &Client,
    grant: Grant,
    rotated_from: Option<String>,
) -> Result<TokenResponse, OAuthError> {
    let now = p.clock.unix();
    let l = &p.settings.lifetimes;
    let access = Secret::generate(32);
    let refresh = Secret::generate(32);
    let grant_type = match rotated_from {
        Some(_) => "refresh_token",
        None => "authorization_code",
    };
    let access_row = AccessTokenRow {
        token_hash: access.hash(),
        grant_id: grant.grant_id.clone(),
        client_id: client.id.as_str().to_owned(),
        client_session_id: grant.client_session_id.clone(),
        person_id: grant.person_id.clone(),
        scope: grant.scope.clone(),
        claims: grant.claims.clone(),
        created_at: now,
        expires_at: now + l.access_token.as_secs() as i64,
        revoked_at: None,
    };
    let refresh_row = RefreshTokenRow {
        token_hash: refresh.hash(),
        grant_id: grant.grant_id.clone(),
        client_id: client.id.as_str().to_owned(),
        client_session_id: grant.client_session_id.clone(),
        person_id: grant.person_id.clone(),
        scope: grant.scope.clone(),
        claims: grant.claims.clone(),
        auth_time: grant.auth_time,
        amr: grant.amr.clone(),
        acr: grant.acr.clone(),
        created_at: now,
        expires_at: now + l.refresh_token.as_secs() as i64,
        used_at: None,
        revoked_at: None,
    };
    let session_live =
        p.db.write(move |c| {
            if !client_session_live(c, &access_row.client_session_id)? {
                return Ok(false);
            }
            store::grants::insert_access_token(c, &access_row)?;
            store::grants::insert_refresh_token(c, &refresh_row)?;
            let a = &access_row;
            crate::audit::hooks::tokens_issued(
                c,
                &a.client_id,
                &a.person_id,
                grant_type,
                &a.scope,
                now,
            )?;
            Ok(true)
        })
        .await
        .map_err(db_error)?;
    if !session_live {
        if let Some(old) = rotated_from {
            tracing::debug!(refresh = %old.len(), "refresh refused: session ended");
        }
        return Err(OAuthError::invalid_grant("the login session has ended"));
    }
    let sub = subject(p, client, &grant.person_id);
    let keys = p.keys.snapshot();
    let key = keys
        .signing_key(client.id_token_alg, now)
        .ok_or_else(|| {
            tracing::error!(alg = client.id_token_alg.as_str(), "no signing key");
            OAuthError::server_error()
        })?
        .clone();
    let claims = IdTokenClaims {
        iss: p.settings.issuer_str(),
        sub: sub.as_str(),
        aud: client.id.as_str(),
        exp: now + l.id_token.as_secs() as i64,
        iat: now,
        auth_time: grant.auth_time,
        nonce: grant.nonce.as_deref(),
        acr: &grant.acr,
        amr: grant.amr.split(' ').filter(|s| !s.is_empty()).collect(),
        sid: &grant.client_session_id,
        at_hash: Some(jose::at_hash(
            jose_alg(client.id_token_alg),
            access.expose(),
        )),
        extra: None,
    };
    let id_token = sign(&key, &claims)?;
    Ok(TokenResponse {
        access_token: access.expose().to_owned(),
        token_type: "Bearer",
        expires_in: l.access_token.as_secs() as i64,
        id_token,
        refresh_token: Some(refresh.expose().to_owned()),
        scope: grant.scope,
    })
}

fn sign(key: &Arc<jose::SigningKey>, claims: &IdTokenClaims<'_>) -> Result<String, OAuthError> {
    jose::sign(key, Some("JWT"), claims).map_err(|e| {
        tracing::error!(error = %e, "ID token signing failed");
        OAuthError::server_error()
    })
}

fn client_session_live(c: &mut DbConn, id: &str) -> diesel::QueryResult<bool> {
    Ok(store::sessions::get_client_session(c, id)?.is_some_and(|s| s.ended_at.is_none()))
}

/// `grant_type=refresh_token` with rotation (OAuth 2.0 Security BCP §4.14.2).
pub async fn refresh(
    p: &Provider,
    client: &Client,
    form: &TokenForm,
) -> Result<TokenResponse, OAuthError> {
    let token = form
        .refresh_token
        .as_ref()
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    let now = p.clock.unix();
    let hash = token.hash();
    let client_id = client.id.as_str().to_owned();
    let outcome =
        p.db.write(move |c| {
            let Some(row) = store::grants::refresh_token(c, &hash)? else {
                return Ok(Err("unknown refresh token"));
            };
            if row.client_id != client_id {
                return Ok(Err("the refresh token was issued to another client"));
            }
            if store::grants::use_refresh_token(c, &hash, now)? {
                return Ok(Ok(row));
            }
            if row.used_at.is_some() && row.revoked_at.is_none() {
                // Reuse of a rotated token: someone else holds the family. Kill it.
                store::grants::revoke_grant(c, &row.grant_id, now)?;
                let kind = crate::audit::Kind::RefreshReused;
                crate::audit::hooks::replay(c, kind, &row.client_id, &row.person_id, now)?;
                return Ok(Err("refresh token reused; its whole family is revoked"));
            }
            Ok(Err("the refresh token is expired or revoked"))
        })
        .await
        .map_err(db_error)?;
    let row = outcome.map_err(OAuthError::invalid_grant)?;
    let scope = match form.scope.as_deref() {
        None => row.scope.clone(),
        Some(requested) => narrower_scope(requested, &row.scope)?,
    };
    let grant = Grant {
        grant_id: row.grant_id,
        client_session_id: row.client_session_id,
        person_id: row.person_id,
        scope,
        claims: row.claims,
        nonce: None,
        auth_time: row.auth_time,
        amr: row.amr,
        acr: row.acr,
    };
    issue_tokens(p, client, grant, Some(row.token_hash)).await
}

/// RFC 6749 §6: a refresh may ask for less, never more.
fn narrower_scope(requested: &str, granted: &str) -> Result<String, OAuthError> {
    use crate::domain::Scope;
    let (Some(req), Some(had)) = (Scope::parse(requested), Scope::parse(granted)) else {
        return Err(OAuthError::invalid_scope("malformed scope"));
    };
    if !req.is_subset_of(&had) {
        return Err(OAuthError::invalid_scope(
            "a refresh cannot widen the scope",
        ));
    }
    Ok(req.to_string())
}

pub fn subject(p: &Provider, client: &Client, person_id: &str) -> crate::domain::PairwiseSub {
    pairwise::subject(
        &p.pairwise,
        &client.sector,
        &MyKeyId::from_stored(person_id.to_owned()),
    )
}

/// A live access token and its client.
pub struct LiveAccessToken {
    pub row: AccessTokenRow,
    pub client: Arc<Client>,
}

/// Looks up a bearer token; `None` for unknown, expired, revoked, or of a disabled client.
pub async fn live_access_token(
    p: &Provider,
    token: &str,
) -> Result<Option<LiveAccessToken>, StoreError> {
    let hash = Secret::new(token).hash();
    let row =
        p.db.read(move |c| store::grants::access_token(c, &hash))
            .await?;
    let now = p.clock.unix();
    let Some(row) = row.filter(|r| r.revoked_at.is_none() && r.expires_at > now) else {
        return Ok(None);
    };
    let Some(client) = p.clients.get(&row.client_id).await?.filter(|c| c.enabled) else {
        return Ok(None);
    };
    Ok(Some(LiveAccessToken { row, client }))
}

/// Userinfo claims (OIDC Core §5.3.2) for a live token.
pub fn userinfo_claims(p: &Provider, token: &LiveAccessToken) -> Value {
    let sub = subject(p, &token.client, &token.row.person_id);
    json!({ "sub": sub.as_str() })
}

/// The parts of an access or refresh token that introspection reports.
struct TokenView {
    client_id: String,
    person_id: String,
    scope: String,
    sid: String,
    iat: i64,
    exp: i64,
    live: bool,
    token_type: &'static str,
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
            token_type: "Bearer",
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
        }
    }
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
    let found =
        p.db.read(move |c| {
            let access = |c: &mut DbConn| -> diesel::QueryResult<Option<TokenView>> {
                Ok(store::grants::access_token(c, &hash)?.map(TokenView::from))
            };
            let refresh = |c: &mut DbConn| -> diesel::QueryResult<Option<TokenView>> {
                Ok(store::grants::refresh_token(c, &hash)?.map(TokenView::from))
            };
            if refresh_first {
                Ok(refresh(c)?.or(access(c)?))
            } else {
                Ok(access(c)?.or(refresh(c)?))
            }
        })
        .await
        .map_err(db_error)?;
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
                store::grants::revoke_grant(c, &r.grant_id, now)?;
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
