//! An authorization transaction: what `/authorize` stored for the browser that started it,
//! opened only with that browser's binding (docs/card-login.md §1), finished once.

use std::sync::Arc;

use diesel::QueryResult;

use super::super::grants::{self, CodeRequest};
use super::super::{Provider, ProviderError};

use crate::domain::secret::{constant_time_eq, random_b64};
use crate::domain::{Client, RedirectUri, Scope, Secret};
use crate::oidc::verified_claims::{requested_facts, FactRequest};
use crate::oidc::OAuthError;
use crate::store::requests::AuthRequestRow;
use crate::store::sessions::BrowserSessionRow;
use crate::store::{self, DbConn};

/// An open transaction of this browser, with its client and its validated redirect URI.
pub struct Transaction {
    pub(super) row: AuthRequestRow,
    pub client: Arc<Client>,
    pub redirect_uri: RedirectUri,
}

/// The refusal of transaction `id` for `why`, which the person never sees (every refusal reads
/// "expired") but an operator can, at debug level, when a resident reports one.
fn refused(id: &str, why: &'static str, ui_locales: Option<String>) -> ProviderError {
    tracing::debug!(transaction = id, why, "authorization transaction refused");
    ProviderError::TransactionExpired { ui_locales }
}

/// The open transaction `id`, only for the browser whose binding cookie (`binding`) started
/// it; expired, finished, or another browser's are all the same refusal.
pub async fn open(
    p: &Provider,
    id: &str,
    binding: Option<&str>,
) -> Result<Transaction, ProviderError> {
    let owned = id.to_owned();
    let row =
        p.db.read(move |c| store::requests::get_request(c, &owned))
            .await?
            .ok_or_else(|| refused(id, "unknown or purged", None))?;
    let ours = binding.is_some_and(|b| {
        constant_time_eq(Secret::new(b).hash().as_bytes(), row.cookie_hash.as_bytes())
    });
    if !ours {
        let why = "another browser's (binding cookie missing or different)";
        return Err(refused(id, why, row.ui_locales));
    }
    if row.completed_at.is_some() {
        return Err(refused(id, "already finished", row.ui_locales));
    }
    if row.expires_at <= p.clock.unix() {
        return Err(refused(id, "past its lifetime", row.ui_locales));
    }
    let Some(client) = p.clients.get(&row.client_id).await?.filter(|c| c.enabled) else {
        return Err(refused(id, "client disabled or deleted", row.ui_locales));
    };
    let Some(redirect_uri) = client.redirect_uri(&row.redirect_uri).cloned() else {
        return Err(refused(
            id,
            "redirect URI no longer registered",
            row.ui_locales,
        ));
    };
    Ok(Transaction {
        row,
        client,
        redirect_uri,
    })
}

impl Transaction {
    pub fn id(&self) -> &str {
        &self.row.id
    }

    /// The request's `ui_locales` (OIDC Core §3.1.2.1), for the pages' language.
    pub fn ui_locales(&self) -> Option<&str> {
        self.row.ui_locales.as_deref()
    }

    /// The refusal this transaction answers with once it is no longer usable, for `why`
    /// (logged at debug level, see [`refused`]).
    pub fn refused(&self, why: &'static str) -> ProviderError {
        refused(&self.row.id, why, self.row.ui_locales.clone())
    }

    pub(super) fn scope(&self) -> Scope {
        Scope::parse(&self.row.scope).unwrap_or_default()
    }

    /// The facts this request asks for; nothing when the client may not ask (OIDC Core §5.5:
    /// unsupported claim requests are ignored, scopes were refused at `/authorize`).
    pub fn facts(&self) -> FactRequest {
        if !self.client.allow_verified_claims {
            return FactRequest::default();
        }
        let claims = self
            .row
            .claims
            .as_deref()
            .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok());
        requested_facts(&self.scope(), claims.as_ref())
    }

    /// Marks the transaction finished (once) and issues the code for the client, carrying the
    /// consented facts if any; returns the redirect to the client. `also`: what the same step
    /// records (the consent), written in the one transaction that finishes it, and not at all
    /// when the transaction was finished already.
    pub(super) async fn finish_with_code(
        &self,
        p: &Provider,
        session: &BrowserSessionRow,
        verification_id: Option<String>,
        also: impl FnOnce(&mut DbConn) -> QueryResult<()> + Send + 'static,
    ) -> Result<String, ProviderError> {
        let (finish, in_session) = (self.finishing(p.clock.unix()), session.clone());
        let client_session =
            p.db.write(move |c| {
                let Some(client_session) = finish.run(c, &in_session)? else {
                    return Ok(None);
                };
                also(c)?;
                Ok(Some(client_session))
            })
            .await?
            .ok_or_else(|| self.refused("finished by another request"))?;
        self.code(p, session, client_session, verification_id).await
    }

    /// What finishing this transaction with a code writes, to run inside a caller's
    /// transaction ([`Finishing::run`]); then [`Transaction::code`] with its client session.
    pub(super) fn finishing(&self, now: i64) -> Finishing {
        Finishing {
            request_id: self.row.id.clone(),
            client_id: self.client.id.as_str().to_owned(),
            new_client_session_id: random_b64(16),
            now,
        }
    }

    /// The code for the client in `client_session` (see [`Transaction::finishing`]), carrying
    /// the consented facts if any; returns the redirect to the client.
    pub(super) async fn code(
        &self,
        p: &Provider,
        session: &BrowserSessionRow,
        client_session: String,
        verification_id: Option<String>,
    ) -> Result<String, ProviderError> {
        let r = &self.row;
        let request = CodeRequest {
            redirect_uri: self.redirect_uri.clone(),
            scope: r.scope.clone(),
            state: r.state.clone(),
            nonce: r.nonce.clone(),
            code_challenge: r.code_challenge.clone(),
            claims: r.claims.clone(),
            verification_id,
        };
        Ok(grants::issue_code_in(p, &self.client, session, Some(client_session), request).await?)
    }

    /// Marks the transaction finished and returns the error redirect to the client.
    pub async fn finish_with_error(
        &self,
        p: &Provider,
        error: OAuthError,
    ) -> Result<String, ProviderError> {
        self.mark_complete(p).await?;
        Ok(grants::error_redirect(
            p,
            &self.redirect_uri,
            self.row.state.as_deref(),
            &error,
        ))
    }

    /// Only the first caller finishes a transaction: a back button cannot replay it.
    async fn mark_complete(&self, p: &Provider) -> Result<(), ProviderError> {
        let (id, now) = (self.row.id.clone(), p.clock.unix());
        let first =
            p.db.write(move |c| store::requests::complete_request(c, &id, now))
                .await?;
        if first {
            Ok(())
        } else {
            Err(self.refused("finished by another request"))
        }
    }
}

/// The writes that finish a transaction with a code: marked finished (only the first caller
/// wins, so a back button cannot replay it) and the client session (`sid`) of its client in
/// the person's browser session, found or created.
pub(super) struct Finishing {
    request_id: String,
    client_id: String,
    new_client_session_id: String,
    now: i64,
}

impl Finishing {
    /// The client session's id; `None` when the transaction was finished already (nothing
    /// written).
    pub(super) fn run(
        &self,
        c: &mut DbConn,
        session: &BrowserSessionRow,
    ) -> QueryResult<Option<String>> {
        if !store::requests::complete_request(c, &self.request_id, self.now)? {
            return Ok(None);
        }
        let client_session = store::sessions::client_session(
            c,
            session,
            &self.client_id,
            &self.new_client_session_id,
            self.now,
        )?;
        Ok(Some(client_session.id))
    }
}
