//! An authorization transaction: what `/authorize` stored for the browser that started it,
//! opened only with that browser's binding (docs/card-login.md §1), finished once.

use std::sync::Arc;

use super::super::grants::{self, CodeRequest};
use super::super::{Provider, ProviderError};
use crate::domain::secret::constant_time_eq;
use crate::domain::{Client, RedirectUri, Scope, Secret};
use crate::oidc::verified_claims::{requested_facts, FactRequest};
use crate::oidc::OAuthError;
use crate::store;
use crate::store::requests::AuthRequestRow;
use crate::store::sessions::BrowserSessionRow;

/// An open transaction of this browser, with its client and its validated redirect URI.
pub struct Transaction {
    pub(super) row: AuthRequestRow,
    pub client: Arc<Client>,
    pub redirect_uri: RedirectUri,
}

fn expired(ui_locales: Option<String>) -> ProviderError {
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
            .ok_or_else(|| expired(None))?;
    let ours = binding.is_some_and(|b| {
        constant_time_eq(Secret::new(b).hash().as_bytes(), row.cookie_hash.as_bytes())
    });
    if !ours || row.completed_at.is_some() || row.expires_at <= p.clock.unix() {
        return Err(expired(row.ui_locales));
    }
    let Some(client) = p.clients.get(&row.client_id).await?.filter(|c| c.enabled) else {
        return Err(expired(row.ui_locales));
    };
    let Some(redirect_uri) = client.redirect_uri(&row.redirect_uri).cloned() else {
        return Err(expired(row.ui_locales));
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

    /// The refusal this transaction answers with once it is no longer usable.
    pub fn expired(&self) -> ProviderError {
        expired(self.row.ui_locales.clone())
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
    /// consented facts if any; returns the redirect to the client.
    pub(super) async fn finish_with_code(
        &self,
        p: &Provider,
        session: &BrowserSessionRow,
        verification_id: Option<String>,
    ) -> Result<String, ProviderError> {
        self.mark_complete(p).await?;
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
        Ok(grants::issue_code(p, &self.client, session, request).await?)
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
            Err(self.expired())
        }
    }
}
