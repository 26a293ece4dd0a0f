//! The authorization transaction as the resident's pages see it: opened for the browser that
//! started it (the provider checks the binding), in the page's language, with its form token.

use actix_web::http::StatusCode;
use actix_web::HttpRequest;

use super::authorize::accept_language;
use super::cookies;
use super::error::WebError;
use super::i18n::Lang;
use crate::domain::Secret;
use crate::provider::flow::{self, Transaction};
use crate::provider::{Provider, ProviderError};

/// An open transaction, the page language, and the browser binding its form tokens derive from.
pub struct Page {
    pub tx: Transaction,
    pub lang: Lang,
    binding: Secret,
}

/// Page language: `?lang=` (the switch link), then the request's ui_locales, then the browser.
pub fn page_lang(req: &HttpRequest, ui_locales: Option<&str>) -> Lang {
    let query_lang = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(&v));
    query_lang.unwrap_or_else(|| Lang::negotiate(ui_locales, accept_language(req)))
}

/// A provider refusal on a transaction's page, in the language the transaction asked for.
pub fn refusal(req: &HttpRequest, e: ProviderError) -> WebError {
    let lang = match &e {
        ProviderError::TransactionExpired { ui_locales } => page_lang(req, ui_locales.as_deref()),
        _ => page_lang(req, None),
    };
    WebError::from_provider(e, lang)
}

/// The open transaction `id`, only for the browser holding its binding cookie.
pub async fn load(p: &Provider, req: &HttpRequest, id: &str) -> Result<Page, WebError> {
    let binding = cookies::value(req, cookies::BROWSER);
    let tx = flow::transaction::open(p, id, binding.as_deref())
        .await
        .map_err(|e| refusal(req, e))?;
    Ok(Page {
        lang: page_lang(req, tx.ui_locales()),
        binding: Secret::new(binding.unwrap_or_default()),
        tx,
    })
}

/// A page reads the transaction it shows.
impl std::ops::Deref for Page {
    type Target = Transaction;

    fn deref(&self) -> &Transaction {
        &self.tx
    }
}

impl Page {
    pub fn csrf(&self) -> String {
        cookies::csrf_token(&self.binding, self.tx.id())
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

    /// A provider refusal on this page, in its language.
    pub fn refusal(&self, e: ProviderError) -> WebError {
        WebError::from_provider(e, self.lang)
    }
}
