//! Consent: which client, which claims and — for identity verification — exactly which
//! verified facts; remembered per client for plain logins, asked every time for facts, and
//! facts not released deleted at once.

use super::super::identity::{self, SealedFacts};
use super::super::{sessions, Provider, ProviderError};
use super::transaction::Transaction;
use crate::oidc::verified_claims::FactRequest;
use crate::oidc::{ErrorCode, OAuthError};
use crate::store::sessions::BrowserSessionRow;
use crate::store::{self, DbConn};

/// What the consent page asks about.
#[derive(Debug)]
pub struct ConsentPrompt {
    pub requested: FactRequest,
    /// The facts read for this transaction, opened (when facts are requested and still live).
    pub facts: Option<SealedFacts>,
}

/// The person's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    /// Log in without releasing the facts; only when none is essential, else a refusal.
    ApproveWithoutFacts,
    Deny,
}

/// The session this transaction's login started; consent is given only inside it.
async fn consent_session(
    p: &Provider,
    tx: &Transaction,
    session_cookie: Option<&str>,
) -> Result<BrowserSessionRow, ProviderError> {
    let session = match session_cookie {
        Some(v) => sessions::current(p, v).await?,
        None => None,
    };
    session
        .filter(|s| tx.row.session_id.as_deref() == Some(s.id.as_str()))
        .ok_or_else(|| tx.refused("no live session cookie, or not the session this login started"))
}

pub async fn prompt(
    p: &Provider,
    tx: &Transaction,
    session_cookie: Option<&str>,
) -> Result<ConsentPrompt, ProviderError> {
    consent_session(p, tx, session_cookie).await?;
    let facts = match tx.row.verification_id.clone() {
        Some(id) => {
            let row = p.db.read(move |c| store::identity::get(c, &id)).await?;
            row.and_then(|r| identity::open(p, &r, p.clock.unix()))
        }
        None => None,
    };
    Ok(ConsentPrompt {
        requested: tx.facts(),
        facts,
    })
}

/// Records the decision and finishes the transaction; returns the redirect to the client (a
/// code, or `access_denied`).
pub async fn decide(
    p: &Provider,
    tx: &Transaction,
    session_cookie: Option<&str>,
    decision: Decision,
) -> Result<String, ProviderError> {
    let session = consent_session(p, tx, session_cookie).await?;
    let requested = tx.facts();
    let verification = tx.row.verification_id.clone();
    let (person, client_id, now) = (
        session.person_id.clone(),
        tx.client.id.as_str().to_owned(),
        p.clock.unix(),
    );
    let release = match decision {
        Decision::Approve => true,
        Decision::ApproveWithoutFacts if !requested.essential => false,
        _ => {
            forget(p, verification).await?;
            p.db.write(move |c| crate::audit::hooks::consent(c, &person, &client_id, None, now))
                .await?;
            return tx
                .finish_with_error(
                    p,
                    OAuthError::new(ErrorCode::AccessDenied, "the person did not consent"),
                )
                .await;
        }
    };
    let asked = tx.scope();
    let released = if release {
        verification
    } else {
        forget(p, verification).await?;
        None
    };
    // What was allowed before is widened in the same transaction that records it, and that
    // finishes this one.
    let record = move |c: &mut DbConn| {
        let previous = store::grants::consent(c, &person, &client_id)?;
        let granted = previous
            .as_deref()
            .and_then(crate::domain::Scope::parse)
            .map(|s| s.union(&asked))
            .unwrap_or(asked)
            .to_string();
        store::grants::save_consent(c, &person, &client_id, &granted, now)?;
        crate::audit::hooks::consent(c, &person, &client_id, Some(&granted), now)
    };
    tx.finish_with_code(p, &session, released, record).await
}

/// Storage minimisation: facts the person did not release are not kept.
async fn forget(p: &Provider, verification: Option<String>) -> Result<(), ProviderError> {
    if let Some(id) = verification {
        p.db.write(move |c| store::identity::delete(c, &id)).await?;
    }
    Ok(())
}
