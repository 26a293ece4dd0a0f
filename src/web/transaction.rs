//! Loading an authorization transaction for the browser that started it, and finishing it.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::HttpRequest;

use super::authorize::accept_language;
use super::cookies;
use super::error::{PageError, WebError};
use super::i18n::Lang;
use crate::domain::{Client, RedirectUri, Scope, Secret};
use crate::oidc::verified_claims::{requested_facts, FactRequest};
use crate::oidc::OAuthError;
use crate::provider::grants::{self, CodeRequest};
use crate::provider::Provider;
use crate::store;
use crate::store::requests::AuthRequestRow;
use crate::store::sessions::BrowserSessionRow;

pub struct Transaction {
    pub row: AuthRequestRow,
    pub client: Arc<Client>,
    pub binding: Secret,
    pub lang: Lang,
    pub redirect_uri: RedirectUri,
}

/// Page language: `?lang=` (the switch link), then the request's ui_locales, then the browser.
pub fn page_lang(req: &HttpRequest, ui_locales: Option<&str>) -> Lang {
    let query_lang = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(&v));
    query_lang.unwrap_or_else(|| Lang::negotiate(ui_locales, accept_language(req)))
}

/// The open transaction `id`, only for the browser holding its binding cookie.
pub async fn load(p: &Provider, req: &HttpRequest, id: &str) -> Result<Transaction, WebError> {
    let fallback = page_lang(req, None);
    let expired = |lang: Lang| {
        WebError::Page(Box::new(PageError {
            status: StatusCode::BAD_REQUEST,
            lang,
            message: lang.texts().request_expired.to_owned(),
            hint: None,
            code: None,
            retry_url: None,
            back_url: None,
        }))
    };
    let owned = id.to_owned();
    let row =
        p.db.read(move |c| store::requests::get_request(c, &owned))
            .await?
            .ok_or_else(|| expired(fallback))?;
    let lang = page_lang(req, row.ui_locales.as_deref());
    let binding = cookies::value(req, cookies::BROWSER)
        .map(Secret::new)
        .filter(|b| {
            crate::domain::secret::constant_time_eq(b.hash().as_bytes(), row.cookie_hash.as_bytes())
        })
        .ok_or_else(|| expired(lang))?;
    if row.completed_at.is_some() || row.expires_at <= p.clock.unix() {
        return Err(expired(lang));
    }
    let client = p
        .clients
        .get(&row.client_id)
        .await?
        .filter(|c| c.enabled)
        .ok_or_else(|| expired(lang))?;
    let redirect_uri = client
        .redirect_uri(&row.redirect_uri)
        .cloned()
        .ok_or_else(|| expired(lang))?;
    Ok(Transaction {
        row,
        client,
        binding,
        lang,
        redirect_uri,
    })
}

impl Transaction {
    pub fn csrf(&self) -> String {
        cookies::csrf_token(&self.binding, &self.row.id)
    }

    pub fn check_csrf(&self, presented: Option<&str>) -> Result<(), WebError> {
        let ok = presented.is_some_and(|v| {
            crate::domain::secret::constant_time_eq(v.as_bytes(), self.csrf().as_bytes())
        });
        if ok {
            Ok(())
        } else {
            Err(WebError::page(
                StatusCode::FORBIDDEN,
                self.lang,
                self.lang.texts().request_expired,
            ))
        }
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
        requested_facts(
            &Scope::parse(&self.row.scope).unwrap_or_default(),
            claims.as_ref(),
        )
    }

    /// Marks the transaction finished (once) and issues the code for the client, carrying the
    /// consented facts if any.
    pub async fn finish_with_code(
        &self,
        p: &Provider,
        session: &BrowserSessionRow,
        verification_id: Option<String>,
    ) -> Result<String, WebError> {
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
    ) -> Result<String, WebError> {
        self.mark_complete(p).await?;
        Ok(grants::error_redirect(
            p,
            &self.redirect_uri,
            self.row.state.as_deref(),
            &error,
        ))
    }

    async fn mark_complete(&self, p: &Provider) -> Result<(), WebError> {
        let (id, now) = (self.row.id.clone(), p.clock.unix());
        let first =
            p.db.write(move |c| store::requests::complete_request(c, &id, now))
                .await?;
        if first {
            Ok(())
        } else {
            Err(WebError::page(
                StatusCode::BAD_REQUEST,
                self.lang,
                self.lang.texts().request_expired,
            ))
        }
    }
}
