//! The resident's way through an authorization, decided here and only rendered by the web
//! layer: `/authorize`'s decision, the transaction bound to one browser, the card login's
//! completion, consent, and RP-initiated logout. Inputs are what the browser sent (parameters
//! and cookie values); outputs say where the person goes next.

pub mod authorize;
pub mod consent;
pub mod login;
pub mod logout;
pub mod pushed;
pub mod transaction;

pub use authorize::{authorize, AuthorizeInput, Authorized, Interaction};
pub use transaction::Transaction;

use crate::domain::Scope;

/// Where the person goes after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// To the consent page of the same transaction.
    Consent,
    /// Back to the client (a code or an error).
    ToClient(String),
}

/// Whether a stored consent (its scope) covers everything `scope` asks.
fn covers(consented_scope: Option<&str>, scope: &Scope) -> bool {
    consented_scope
        .and_then(Scope::parse)
        .is_some_and(|granted| scope.is_subset_of(&granted))
}
