//! The login page's side of a card login: a challenge for the transaction (docs/card-login.md
//! §1), and once the helper has answered, the session that follows and where the person goes.

use super::super::login::{challenge_url, create_challenge, helper_link, state_of};
use super::super::{sessions, Provider, ProviderError};
use super::transaction::Transaction;
use super::{consented, Next};
use crate::card::protocol::{CardErrorCode, ChallengePurpose, ChallengeState};
use crate::domain::Secret;
use crate::oidc::discovery::{ACR_CARD, AMR_CARD};
use crate::store;

/// A challenge waiting for the helper, as the login page shows it.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub id: String,
    pub match_code: String,
    pub expires_at: i64,
    /// The helper must also sign with the signature key (identity verification).
    pub verify: bool,
    /// Where the helper fetches it (docs/card-login.md §2).
    pub url: String,
    /// The `mykey://` link that starts the helper (docs/card-login.md §1).
    pub helper_link: String,
}

/// A new challenge for the transaction. Identity verification needs the signature key too,
/// unless facts were already read for this transaction.
pub async fn start(p: &Provider, tx: &Transaction) -> Result<Challenge, ProviderError> {
    let verify = !tx.facts().is_empty() && tx.row.verification_id.is_none();
    let purpose = if verify {
        ChallengePurpose::Verify
    } else {
        ChallengePurpose::Login
    };
    let row = create_challenge(p, &tx.row.id, purpose).await?;
    let url = challenge_url(p, &row.id);
    Ok(Challenge {
        helper_link: helper_link(&url),
        url,
        id: row.id,
        match_code: row.match_code,
        expires_at: row.expires_at,
        verify,
    })
}

/// How a press on "continue" ends.
#[derive(Debug)]
pub enum LoginOutcome {
    /// The helper has not answered yet: back to the waiting page.
    Waiting,
    /// The card login failed (docs/card-login.md §5): the failure page for this code.
    Failed(CardErrorCode),
    /// The person is logged in. `new_session`: the cookie value of a session started now.
    LoggedIn {
        next: Next,
        new_session: Option<Secret>,
    },
}

/// The browser takes the answered challenge (once) and the person's session starts, or the
/// existing session of the same person is refreshed; then consent or the code.
pub async fn complete(
    p: &Provider,
    tx: &Transaction,
    challenge_id: &str,
    session_cookie: Option<&str>,
) -> Result<LoginOutcome, ProviderError> {
    let (challenge_id, request_id, now) =
        (challenge_id.to_owned(), tx.row.id.clone(), p.clock.unix());
    let taken =
        p.db.write(move |c| {
            let Some(ch) = store::requests::get_challenge(c, &challenge_id)? else {
                return Ok(Err(None));
            };
            if ch.auth_request_id != request_id {
                return Ok(Err(None));
            }
            if store::requests::consume_challenge(c, &ch.id, now)? {
                if ch.verification_id.is_some() {
                    store::requests::attach_verification(
                        c,
                        &request_id,
                        ch.verification_id.as_deref(),
                    )?;
                }
                return Ok(Ok(ch.person_id));
            }
            Ok(Err(Some(state_of(&ch, now))))
        })
        .await?;
    let person_id = match taken {
        Ok(Some(person)) => person,
        Ok(None) => {
            return Err(ProviderError::Internal(
                "completed challenge without person".into(),
            ))
        }
        Err(Some(status)) if status.state == ChallengeState::Pending => {
            return Ok(LoginOutcome::Waiting);
        }
        Err(Some(status)) => {
            return Ok(LoginOutcome::Failed(
                status.error.unwrap_or(CardErrorCode::ExpiredChallenge),
            ))
        }
        Err(None) => return Err(tx.expired()),
    };
    let amr = AMR_CARD.join(" ");
    let existing = match session_cookie {
        Some(v) => sessions::current(p, v).await?,
        None => None,
    };
    let mut new_session = None;
    let session = match existing {
        Some(mut s) if s.person_id == person_id => {
            let (sid, exp) = (
                s.id.clone(),
                now + p.settings.lifetimes.session.as_secs() as i64,
            );
            p.db.write(move |c| store::sessions::reauthenticate(c, &sid, now, exp))
                .await?;
            s.auth_time = now;
            s
        }
        other => {
            if let Some(old) = other {
                sessions::end(p, &old.id, sessions::EndReason::Replaced).await?;
            }
            let (cookie, s) = sessions::start(p, person_id, &amr, ACR_CARD).await?;
            new_session = Some(cookie);
            s
        }
    };
    let (rid, sid) = (tx.row.id.clone(), session.id.clone());
    p.db.write(move |c| store::requests::attach_session(c, &rid, &sid))
        .await?;
    let force_consent = tx
        .row
        .prompt
        .as_deref()
        .is_some_and(|p| p.contains("consent"));
    // Facts are never released on a remembered consent: the person sees them every time.
    let ask = force_consent
        || !tx.facts().is_empty()
        || !consented(p, &session.person_id, &tx.client, &tx.scope()).await?;
    let next = if ask {
        Next::Consent
    } else {
        Next::ToClient(tx.finish_with_code(p, &session, None).await?)
    };
    Ok(LoginOutcome::LoggedIn { next, new_session })
}
