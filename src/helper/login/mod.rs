//! The helper's side of the card login protocol (spec §2–4): fetch, check, ask, sign, post.

mod challenge;
mod http;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

pub use challenge::{challenge_url, check, is_loopback, CheckedChallenge, LINK_SCHEME};
pub use http::ProviderClient;

use crate::card::jpki::Purpose;
use crate::card::message::signed_message;
use crate::card::protocol::{CardErrorCode, ChallengePurpose, ChallengeResponse};
use crate::helper::jpki::{Jpki, JpkiError, SecretState};
use crate::helper::messages;
use crate::helper::prompt::{PromptError, Prompter};
use crate::helper::secret::Secret;
use crate::helper::transport::{CardTransport, TransportError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    #[error("{0:?} is neither a challenge URL nor a mykey://login link")]
    BadTarget(String),
    #[error("refusing plain http to a host that is not this machine: {0}")]
    InsecureUrl(String),
    #[error("cannot reach {url}: {reason}")]
    Network { url: String, reason: String },
    #[error("the provider answered HTTP {status} without a protocol error")]
    Http { status: u16 },
    #[error("the provider refused with {error}: {description}")]
    Provider {
        status: u16,
        /// The code when it is one of spec §5.
        code: Option<CardErrorCode>,
        error: String,
        description: String,
    },
    #[error("the challenge is not a card login challenge: {0}")]
    MalformedChallenge(String),
    #[error("the challenge speaks {0:?}, this helper speaks mykey-clp/1")]
    UnsupportedVersion(String),
    #[error("the challenge names the issuer {issuer} but came from {fetched}")]
    ForeignIssuer { issuer: String, fetched: String },
    #[error("the challenge wants the answer at {response_uri} but came from {fetched}")]
    ForeignResponseUri {
        response_uri: String,
        fetched: String,
    },
    #[error("the challenge expired at {expires_at} (now {now})")]
    Expired { expires_at: i64, now: i64 },
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Prompt(#[from] PromptError),
    #[error(transparent)]
    Card(#[from] JpkiError),
}

impl From<TransportError> for LoginError {
    fn from(error: TransportError) -> LoginError {
        LoginError::Card(JpkiError::Transport(error))
    }
}

#[derive(Debug, Clone, Default)]
pub struct LoginOptions {
    /// `--yes`: do not ask before using the card (the request is still shown).
    pub assume_yes: bool,
}

/// What the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginOutcome {
    pub client_name: String,
    pub issuer_origin: String,
    pub match_code: String,
    pub purpose: ChallengePurpose,
}

impl CheckedChallenge {
    /// The bytes the card signs (spec §3), built from the fetched fields.
    pub fn message(&self) -> Vec<u8> {
        let d = &self.document;
        signed_message(
            &d.issuer,
            &d.challenge_id,
            &d.nonce,
            d.purpose,
            d.expires_at,
        )
    }
}

/// Answers one challenge with the card behind `card`. `now` is Unix seconds.
pub fn login<T: CardTransport>(
    target: &str,
    card: T,
    prompter: &mut dyn Prompter,
    options: &LoginOptions,
    now: i64,
) -> Result<LoginOutcome, LoginError> {
    let url = challenge_url(target)?;
    let provider = ProviderClient::new()?;
    let challenge = check(&url, provider.fetch_challenge(&url)?, now)?;
    prompter.show_request(&challenge);
    if !options.assume_yes && !prompter.confirm()? {
        return Err(LoginError::Cancelled);
    }

    let mut jpki = Jpki::new(card);
    jpki.select_application()?;
    let message = challenge.message();
    let auth_certificate = jpki.read_certificate(Purpose::Auth)?;
    let auth_signature = with_unlocked(&mut jpki, prompter, Purpose::Auth, |card| {
        card.sign(Purpose::Auth, &message)
    })?;
    let mut answer = ChallengeResponse {
        auth_certificate: STANDARD.encode(auth_certificate),
        auth_signature: URL_SAFE_NO_PAD.encode(auth_signature),
        sign_certificate: None,
        sign_signature: None,
    };
    if challenge.purpose() == ChallengePurpose::Verify {
        // The signature certificate is readable only once the password is verified.
        let (sign_certificate, sign_signature) =
            with_unlocked(&mut jpki, prompter, Purpose::Sign, |card| {
                Ok((
                    card.read_certificate(Purpose::Sign)?,
                    card.sign(Purpose::Sign, &message)?,
                ))
            })?;
        answer.sign_certificate = Some(STANDARD.encode(sign_certificate));
        answer.sign_signature = Some(URL_SAFE_NO_PAD.encode(sign_signature));
    }

    provider.post_response(&challenge.response_uri, &answer)?;
    Ok(LoginOutcome {
        client_name: challenge.document.client_name.clone(),
        issuer_origin: challenge.issuer_origin.clone(),
        match_code: challenge.document.match_code.clone(),
        purpose: challenge.purpose(),
    })
}

/// Asks for the secret (unless this card session has it verified already), then presents it
/// and runs `work` with the card held: no other application's commands come between the
/// VERIFY and what it unlocks. The secret is asked for before the card is held, so that a
/// resident who walks away from the prompt keeps no other application from the card.
pub(crate) fn with_unlocked<T: CardTransport, R>(
    jpki: &mut Jpki<T>,
    prompter: &mut dyn Prompter,
    purpose: Purpose,
    work: impl for<'h> FnOnce(&mut Jpki<Box<dyn CardTransport + 'h>>) -> Result<R, JpkiError>,
) -> Result<R, LoginError> {
    let secret = ask(jpki, prompter, purpose)?;
    let mut held = Jpki::new(jpki.transport_mut().hold()?);
    if let Some(secret) = secret {
        held.verify(purpose, &secret)?;
    }
    Ok(work(&mut held)?)
}

/// Reads the counter first (never spending a try), warns before the last try and asks once;
/// a wrong secret is reported, never retried. `None` when the card session has the secret
/// verified already.
fn ask<T: CardTransport>(
    jpki: &mut Jpki<T>,
    prompter: &mut dyn Prompter,
    purpose: Purpose,
) -> Result<Option<Secret>, LoginError> {
    let tries_left = match jpki.secret_state(purpose)? {
        // Already verified in this card session: the card signs without asking again.
        SecretState::Verified => return Ok(None),
        SecretState::Blocked => return Err(JpkiError::Blocked { purpose }.into()),
        SecretState::TriesLeft(n) => n,
    };
    if tries_left == 1 {
        prompter.notice(&messages::last_try(purpose));
    }
    Ok(Some(prompter.ask_secret(purpose, tries_left)?))
}
