//! Token issuance shared by the code exchange and refresh (with rotation and reuse detection).

use std::sync::Arc;

use super::super::identity;
use super::super::keyring::jose_alg;
use super::super::Provider;
use super::{db_error, subject};
use crate::audit;
use crate::audit::hooks::tokens_issued_event;
use crate::config::Lifetimes;
use crate::domain::secret::random_b64;
use crate::domain::MyKeyId;
use crate::domain::Scope;
use crate::domain::{Client, Secret};
use crate::jose;
use crate::oidc::id_token::{IdTokenClaims, TokenResponse};
use crate::oidc::token::TokenForm;
use crate::oidc::verified_claims::requested_facts;
use crate::oidc::OAuthError;
use crate::store::exchange::{Issue, Rotated};
use crate::store::grants::{AccessTokenRow, CodeRow, RefreshTokenRow};
use crate::store::identity::VerificationRow;
use crate::store::{self, DbConn, StoreError};
use diesel_async::AsyncPgConnection;

/// Everything tokens are issued from; shared by code exchange and refresh.
pub(super) struct Grant {
    pub grant_id: String,
    pub client_session_id: String,
    pub person_id: MyKeyId,
    pub scope: String,
    pub claims: Option<String>,
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub amr: String,
    pub acr: String,
    /// Facts read from the signature certificate for this grant, if any.
    pub verification_id: Option<String>,
}

impl Grant {
    /// The grant a redeemed code carries.
    pub(super) fn of_code(row: CodeRow) -> Grant {
        Grant {
            grant_id: row.grant_id,
            client_session_id: row.client_session_id,
            person_id: row.person_id,
            scope: row.scope,
            claims: row.claims,
            nonce: row.nonce,
            auth_time: row.auth_time,
            amr: row.amr,
            acr: row.acr,
            verification_id: row.verification_id,
        }
    }
}

impl Grant {
    /// The grant a refresh token continues, with the scope this refresh is for.
    fn of_refresh(row: RefreshTokenRow, scope: String) -> Grant {
        Grant {
            grant_id: row.grant_id,
            client_session_id: row.client_session_id,
            person_id: row.person_id,
            scope,
            claims: row.claims,
            nonce: None,
            auth_time: row.auth_time,
            amr: row.amr,
            acr: row.acr,
            verification_id: row.verification_id,
        }
    }
}

/// A new access/refresh pair for a grant, generated before the transaction that stores it.
pub(super) struct NewTokens {
    access: Secret,
    refresh: Secret,
    access_row: AccessTokenRow,
    refresh_row: RefreshTokenRow,
}

impl NewTokens {
    /// `dpop_jkt` binds both tokens to a DPoP key (RFC 9449 §5).
    pub(super) fn for_grant(
        grant: &Grant,
        client_id: &str,
        dpop_jkt: Option<String>,
        l: &Lifetimes,
        now: i64,
    ) -> NewTokens {
        let access = Secret::generate(32);
        let refresh = Secret::generate(32);
        let access_row = AccessTokenRow {
            token_hash: access.hash(),
            grant_id: grant.grant_id.clone(),
            client_id: client_id.to_owned(),
            client_session_id: grant.client_session_id.clone(),
            person_id: grant.person_id.clone(),
            scope: grant.scope.clone(),
            claims: grant.claims.clone(),
            created_at: now,
            expires_at: now + l.access_token.as_secs() as i64,
            revoked_at: None,
            verification_id: grant.verification_id.clone(),
            dpop_jkt: dpop_jkt.clone(),
        };
        let refresh_row = RefreshTokenRow {
            token_hash: refresh.hash(),
            grant_id: grant.grant_id.clone(),
            client_id: client_id.to_owned(),
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
            verification_id: grant.verification_id.clone(),
            dpop_jkt,
        };
        NewTokens {
            access,
            refresh,
            access_row,
            refresh_row,
        }
    }

    /// Stores the pair and `event` with one statement of `store::exchange` on PostgreSQL,
    /// handing the pair back with what the statement did. `None` when the transaction must
    /// run instead: on SQLite (no such statements), on a PostgreSQL URL only libpq
    /// understands (no asynchronous connections), or when the pooled connection was found
    /// dead (the transaction takes a live one).
    pub(super) async fn store_at_once<T>(
        self,
        p: &Provider,
        event: audit::Event,
        now: i64,
        statement: impl AsyncFnOnce(&mut AsyncPgConnection, &Issue<'_>) -> diesel::QueryResult<T>,
    ) -> Option<Result<(T, NewTokens), OAuthError>> {
        let pg = p.db.pg_async()?;
        let event = audit::Rendered::of(&event);
        let inbox = event.row(now);
        let issue = Issue {
            access: &self.access_row,
            refresh: &self.refresh_row,
            event: &inbox,
        };
        match pg.statement(async |c| statement(c, &issue).await).await {
            Ok(done) => Some(Ok((done, self))),
            Err(StoreError::Unavailable(_)) => None,
            Err(e) => Some(Err(db_error(e))),
        }
    }

    /// Stores the pair in the caller's transaction (the one that consumed the code or the
    /// refresh token, so both happen or neither), which has found the client session live.
    /// Returns the grant's verification, if any. `first` is the code exchange: facts released
    /// then are recorded, so a later change can be announced to this client.
    pub(super) fn store(
        &self,
        c: &mut DbConn,
        first: bool,
        now: i64,
    ) -> diesel::QueryResult<Option<VerificationRow>> {
        let a = &self.access_row;
        let verification = match &a.verification_id {
            Some(id) => store::identity::get(c, id)?,
            None => None,
        };
        if let (true, Some(v)) = (first, &verification) {
            store::identity::record_release(c, &random_b64(12), v, &a.client_id, now)?;
        }
        store::grants::insert_access_token(c, a)?;
        store::grants::insert_refresh_token(c, &self.refresh_row)?;
        let grant_type = if first {
            "authorization_code"
        } else {
            "refresh_token"
        };
        crate::audit::hooks::tokens_issued(
            c,
            &a.client_id,
            &a.person_id,
            grant_type,
            &a.scope,
            now,
        )?;
        Ok(verification)
    }
}

/// What the token transaction hands back to be answered.
pub(super) type Stored = (Grant, NewTokens, Option<VerificationRow>);

/// The token response for stored tokens: the ID token is signed outside the transaction.
pub(super) fn respond(
    p: &Provider,
    client: &Client,
    (grant, tokens, verification): Stored,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let l = &p.settings.lifetimes;
    let requested = requested_facts(
        &Scope::parse(&grant.scope).unwrap_or_default(),
        grant
            .claims
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .as_ref(),
    );
    let extra = verification
        .as_ref()
        .and_then(|v| identity::open(p, v, now))
        .map(|facts| {
            identity::release(
                &facts,
                &requested.id_token_verified,
                &requested.id_token_plain,
            )
        })
        .filter(|m| !m.is_empty());
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
            tokens.access.expose(),
        )),
        extra,
    };
    let id_token = sign(&key, &claims)?;
    Ok(TokenResponse {
        access_token: tokens.access.expose().to_owned(),
        // RFC 9449 §5.1: a bound token is of type DPoP.
        token_type: if tokens.access_row.dpop_jkt.is_some() {
            "DPoP"
        } else {
            "Bearer"
        },
        expires_in: l.access_token.as_secs() as i64,
        id_token,
        refresh_token: Some(tokens.refresh.expose().to_owned()),
        scope: grant.scope,
    })
}

fn sign(key: &Arc<jose::SigningKey>, claims: &IdTokenClaims<'_>) -> Result<String, OAuthError> {
    jose::sign(key, Some("JWT"), claims).map_err(|e| {
        tracing::error!(error = %e, "ID token signing failed");
        OAuthError::server_error()
    })
}

/// `grant_type=refresh_token` with rotation (OAuth 2.0 Security BCP §4.14.2): the old token is
/// spent and the new pair stored in one transaction.
///
/// A refresh token bound to a DPoP key needs a proof by that key (RFC 9449 §5); the check comes
/// before the token is spent, so a thief without the key cannot burn it. A proof with an unbound
/// refresh token binds the new pair.
pub async fn refresh(
    p: &Provider,
    client: &Client,
    form: &TokenForm,
    dpop_jkt: Option<String>,
) -> Result<TokenResponse, OAuthError> {
    let token = form
        .refresh_token
        .as_ref()
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    let now = p.clock.unix();
    let hash = token.hash();
    if p.db.pg_async().is_some() {
        let wanted = form.scope.as_deref();
        let at_once = refresh_at_once(p, client, &hash, wanted, dpop_jkt.clone(), now);
        if let Some(answer) = at_once.await {
            return answer;
        }
    }
    let client_id = client.id.as_str().to_owned();
    let wanted = form.scope.clone();
    let lifetimes = p.settings.lifetimes.clone();
    let outcome =
        p.db.write(move |c| {
            let Some(row) = store::grants::refresh_token(c, &hash)? else {
                return Ok(Err(OAuthError::invalid_grant("unknown refresh token")));
            };
            if row.client_id != client_id {
                return Ok(Err(OAuthError::invalid_grant(
                    "the refresh token was issued to another client",
                )));
            }
            match (&row.dpop_jkt, &dpop_jkt) {
                (Some(_), None) => {
                    return Ok(Err(OAuthError::invalid_dpop_proof(
                        "the refresh token is DPoP-bound: send a DPoP proof by its key",
                    )))
                }
                (Some(bound), Some(proved)) if bound != proved => {
                    return Ok(Err(OAuthError::invalid_dpop_proof(
                        "the DPoP proof is not made with the key the refresh token is bound to",
                    )))
                }
                _ => {}
            }
            let scope = match wanted.as_deref() {
                None => row.scope.clone(),
                Some(requested) => match narrower_scope(requested, &row.scope) {
                    Ok(s) => s,
                    Err(e) => return Ok(Err(e)),
                },
            };
            if !store::grants::use_refresh_token(c, &hash, now)? {
                if row.used_at.is_some() && row.revoked_at.is_none() {
                    // Reuse of a rotated token: someone else holds the family. Kill it.
                    store::grants::revoke_grant(c, &row.client_session_id, &row.grant_id, now)?;
                    let kind = crate::audit::Kind::RefreshReused;
                    crate::audit::hooks::replay(c, kind, &row.client_id, &row.person_id, now)?;
                    return Ok(Err(OAuthError::invalid_grant(
                        "refresh token reused; its whole family is revoked",
                    )));
                }
                return Ok(Err(OAuthError::invalid_grant(
                    "the refresh token is expired or revoked",
                )));
            }
            let grant = Grant::of_refresh(row, scope);
            if !store::sessions::client_session_live(c, &grant.client_session_id)? {
                return Ok(Err(OAuthError::invalid_grant(
                    "the login session has ended",
                )));
            }
            let tokens = NewTokens::for_grant(&grant, &client_id, dpop_jkt, &lifetimes, now);
            let verification = tokens.store(c, false, now)?;
            Ok(Ok((grant, tokens, verification)))
        })
        .await
        .map_err(db_error)?;
    respond(p, client, outcome?, now)
}

/// A refresh on PostgreSQL in two round trips instead of a transaction of eight: the token is
/// read and checked here, then one statement ([`store::exchange::rotate_refresh_token`])
/// spends it, if still unused, and stores the new pair and the audit event. Only the plain
/// case goes this way: this client's live token, a proof by its key when it is bound, a scope
/// it covers, no facts to release. `None` leaves everything else (unknown, foreign, bound
/// without the key, reused, expired, a wider scope, a connection found dead, a token spent
/// by another request in between) to the transaction, which answers and revokes as before.
/// (Should the statement have committed and only its answer been lost, the transaction finds
/// the token used and revokes its family: the site must sign the person in again, and never
/// holds two live pairs.)
async fn refresh_at_once(
    p: &Provider,
    client: &Client,
    hash: &str,
    wanted: Option<&str>,
    dpop_jkt: Option<String>,
    now: i64,
) -> Option<Result<TokenResponse, OAuthError>> {
    let row = super::access::refresh_token_row(p, hash).await.ok()??;
    let key_matches = match (&row.dpop_jkt, &dpop_jkt) {
        (Some(bound), Some(proved)) => bound == proved,
        (Some(_), None) => false,
        (None, _) => true,
    };
    let plain = row.client_id == client.id.as_str()
        && row.used_at.is_none()
        && row.revoked_at.is_none()
        && row.expires_at > now
        && row.verification_id.is_none()
        && key_matches;
    if !plain {
        return None;
    }
    let scope = match wanted {
        None => row.scope.clone(),
        Some(requested) => narrower_scope(requested, &row.scope).ok()?,
    };
    let grant = Grant::of_refresh(row, scope);
    let lifetimes = &p.settings.lifetimes;
    let tokens = NewTokens::for_grant(&grant, client.id.as_str(), dpop_jkt, lifetimes, now);
    let event = tokens_issued_event(client.id.as_str(), "refresh_token", &grant.scope)
        .person(grant.person_id.as_str());
    let old_hash = hash.to_owned();
    let rotate = async move |pg: &mut AsyncPgConnection, issue: &Issue<'_>| {
        store::exchange::rotate_refresh_token(pg, &old_hash, issue).await
    };
    let (done, tokens) = match tokens.store_at_once(p, event, now, rotate).await? {
        Ok(stored) => stored,
        Err(e) => return Some(Err(e)),
    };
    match done {
        Rotated::Issued => Some(respond(p, client, (grant, tokens, None), now)),
        Rotated::SessionEnded => Some(Err(OAuthError::invalid_grant(
            "the login session has ended",
        ))),
        Rotated::Undecided => None,
    }
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
