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

use super::{Provider, ProviderError};
use crate::domain::{Client, MyKeyId, Scope};
use crate::store;

/// Where the person goes after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// To the consent page of the same transaction.
    Consent,
    /// Back to the client (a code or an error).
    ToClient(String),
}

/// Whether the person already allowed this client everything requested.
async fn consented(
    p: &Provider,
    person_id: &MyKeyId,
    client: &Client,
    scope: &Scope,
) -> Result<bool, ProviderError> {
    let (person, cid) = (person_id.clone(), client.id.as_str().to_owned());
    let stored =
        p.db.read(move |c| store::grants::consent(c, &person, &cid))
            .await?;
    Ok(covers(stored.as_deref(), scope))
}

/// Whether a stored consent (its scope) covers everything `scope` asks.
fn covers(consented_scope: Option<&str>, scope: &Scope) -> bool {
    consented_scope
        .and_then(Scope::parse)
        .is_some_and(|granted| scope.is_subset_of(&granted))
}
