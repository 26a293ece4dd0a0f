//! The provider layer's one error type: what its operations refuse or fail with. The web layer
//! maps it to HTTP in one place (`web::error`), the command line to a message.

use crate::card::protocol::CardErrorCode;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The database failed or is unreachable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A card login refused with a code of docs/card-login.md §5.
    #[error("card login refused: {0}")]
    Card(CardErrorCode),
    /// The authorization transaction is unknown, finished, expired or another browser's.
    /// `ui_locales`: the request's, when it was found, so the answer can be in its language.
    #[error("the authorization request has expired")]
    TransactionExpired { ui_locales: Option<String> },
    /// A request refused as sent, to be shown to the person (never redirected).
    #[error("{0}")]
    BadRequest(&'static str),
    /// Input from an operator or a file that does not parse or is not allowed.
    #[error("{0}")]
    Invalid(String),
    /// Sealing or signing failed (a key problem, not the caller's).
    #[error("cannot seal or sign: {0}")]
    Crypto(String),
    /// Something that cannot happen unless the code is wrong; logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<CardErrorCode> for ProviderError {
    fn from(c: CardErrorCode) -> ProviderError {
        ProviderError::Card(c)
    }
}

impl From<diesel::result::Error> for ProviderError {
    fn from(e: diesel::result::Error) -> ProviderError {
        ProviderError::Store(StoreError::from_query(e))
    }
}
