//! The login page's side of a card login: a challenge for the transaction (docs/card-login.md
//! §1), and once the helper has answered, the session that follows and where the person goes.

use super::super::login::{challenge_url, create_challenge, helper_link, state_of};
use super::super::{sessions, Provider, ProviderError};
use super::transaction::{Finishing, Transaction};
use super::{covers, Next};
use crate::card::protocol::{CardErrorCode, ChallengePurpose, ChallengeState, ChallengeStatus};
use crate::domain::{Scope, Secret};
use crate::oidc::discovery::{ACR_CARD, AMR_CARD};
use crate::store::sessions::BrowserSessionRow;
use crate::store::{self, DbConn};

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
/// existing session of the same person is refreshed; then consent, or the code when the
/// person allowed this client before. One database transaction does all of it.
pub async fn complete(
    p: &Provider,
    tx: &Transaction,
    challenge_id: &str,
    session_cookie: Option<&str>,
) -> Result<LoginOutcome, ProviderError> {
    let force_consent = tx
        .row
        .prompt
        .as_deref()
        .is_some_and(|p| p.contains("consent"));
    let now = p.clock.unix();
    let step = Completion {
        challenge_id: challenge_id.to_owned(),
        request_id: tx.row.id.clone(),
        client_id: tx.client.id.as_str().to_owned(),
        // Facts are never released on a remembered consent: the person sees them every time.
        ask_anyway: force_consent || !tx.facts().is_empty(),
        scope: tx.scope(),
        cookie_hash: session_cookie.map(|v| Secret::new(v).hash()),
        new_session: sessions::NewSession::new(p, &AMR_CARD.join(" "), ACR_CARD),
        finishing: tx.finishing(now),
        now,
    };
    let cookie = step.new_session.cookie.clone();
    let (session, started, replaced, then) = match p.db.write(move |c| step.run(c)).await? {
        Taken::Unknown => return Err(tx.refused("no such challenge for this transaction")),
        Taken::WithoutPerson => {
            return Err(ProviderError::Internal(
                "completed challenge without person".into(),
            ))
        }
        Taken::NotReady(status) if status.state == ChallengeState::Pending => {
            return Ok(LoginOutcome::Waiting);
        }
        Taken::NotReady(status) => {
            return Ok(LoginOutcome::Failed(
                status.error.unwrap_or(CardErrorCode::ExpiredChallenge),
            ))
        }
        Taken::LoggedIn {
            session,
            started,
            replaced,
            then,
        } => (session, started, replaced, then),
    };
    if replaced {
        sessions::told_ended(p, sessions::EndReason::Replaced);
    }
    let next = match then {
        Then::Consent => Next::Consent,
        Then::Code(client_session) => {
            Next::ToClient(tx.code(p, &session, client_session, None).await?)
        }
        Then::Finished => return Err(tx.refused("finished by another request")),
    };
    Ok(LoginOutcome::LoggedIn {
        next,
        new_session: started.then_some(cookie),
    })
}

/// What completing a card login writes, in one transaction ([`Completion::run`]).
struct Completion {
    challenge_id: String,
    request_id: String,
    client_id: String,
    /// Consent is asked whatever the person allowed before.
    ask_anyway: bool,
    scope: Scope,
    /// The hash of the browser's session cookie, if it sent one.
    cookie_hash: Option<String>,
    /// The session to start unless the browser's session is the same person's (whose
    /// session is refreshed to its times instead).
    new_session: sessions::NewSession,
    finishing: Finishing,
    now: i64,
}

/// How the completion's transaction ended.
enum Taken {
    /// No such challenge for this transaction: the transaction is over.
    Unknown,
    /// The challenge was completed without a person (never written so).
    WithoutPerson,
    /// The challenge is not (or no longer) there to take: where it stands.
    NotReady(ChallengeStatus),
    /// Logged in; `started`: a new session, `replaced`: another person's session was ended.
    LoggedIn {
        session: Box<BrowserSessionRow>,
        started: bool,
        replaced: bool,
        then: Then,
    },
}

/// Where a logged-in person goes from the completion.
enum Then {
    Consent,
    /// The transaction was finished here: the code is for this client session.
    Code(String),
    /// Another request finished the transaction first.
    Finished,
}

impl Completion {
    fn run(self, c: &mut DbConn) -> diesel::QueryResult<Taken> {
        let now = self.now;
        let Some(ch) = store::requests::get_challenge(c, &self.challenge_id)? else {
            return Ok(Taken::Unknown);
        };
        if ch.auth_request_id != self.request_id {
            return Ok(Taken::Unknown);
        }
        if !store::requests::consume_challenge(c, &ch.id, now)? {
            return Ok(Taken::NotReady(state_of(&ch, now)));
        }
        if ch.verification_id.is_some() {
            store::requests::attach_verification(
                c,
                &self.request_id,
                ch.verification_id.as_deref(),
            )?;
        }
        let Some(person_id) = ch.person_id else {
            return Ok(Taken::WithoutPerson);
        };
        let existing = match &self.cookie_hash {
            Some(hash) => store::sessions::active_by_cookie(c, hash, now)?,
            None => None,
        };
        let (session, started, replaced) = match existing {
            Some(mut s) if s.person_id == person_id => {
                let expires_at = self.new_session.expires_at();
                store::sessions::reauthenticate(c, &s.id, now, expires_at)?;
                s.auth_time = now;
                s.expires_at = expires_at;
                (s, false, false)
            }
            other => {
                if let Some(old) = &other {
                    sessions::end_in(c, &old.id, sessions::EndReason::Replaced, now)?;
                }
                let s = self.new_session.insert(c, person_id)?;
                (s, true, other.is_some())
            }
        };
        store::requests::attach_session(c, &self.request_id, &session.id)?;
        let ask = self.ask_anyway || {
            let allowed = store::grants::consent(c, &session.person_id, &self.client_id)?;
            !covers(allowed.as_deref(), &self.scope)
        };
        let then = if ask {
            Then::Consent
        } else {
            match self.finishing.run(c, &session)? {
                Some(client_session) => Then::Code(client_session),
                None => Then::Finished,
            }
        };
        Ok(Taken::LoggedIn {
            session: Box::new(session),
            started,
            replaced,
            then,
        })
    }
}
