//! What the host answers the extension: its version, or one card login for the page origin the
//! browser named, through the same steps as `mykey-helper login` (docs/card-login.md §8).

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use url::Url;

use super::{read_message, write_message, FramingError};
use crate::card::message::PROTOCOL_VERSION;
use crate::helper::jpki::JpkiError;
use crate::helper::login::{challenge_url, login, LoginError, LoginOptions, LoginOutcome};
use crate::helper::messages::{self, Bilingual};
use crate::helper::prompt::{PromptError, Prompter};
use crate::helper::transport::{CardTransport, TransportError};

/// A request from the extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HostRequest {
    /// Whether a helper answers, and which.
    Version,
    /// Answer `challenge` (its URL, or a `mykey://login` link) for the page at `origin`. The
    /// extension takes `origin` from the browser's record of the sender, never from the page.
    Login { challenge: String, origin: String },
}

/// The host's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HostReply {
    Version {
        version: String,
        protocol: String,
    },
    /// The provider accepted the card's answer; the page continues by itself (§6).
    Accepted {
        client_name: String,
        issuer: String,
        match_code: String,
    },
    /// Nothing was accepted. `message` is what the person is told, in both languages;
    /// `retry` says whether the same challenge can be tried again from the page.
    Refused {
        error: ReplyError,
        /// The provider's error code (§5) when `error` is `provider_refused`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider_error: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tries_left: Option<u8>,
        message: Bilingual,
        retry: bool,
    },
}

/// Why a request was refused (docs/card-login.md §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReplyError {
    /// Not a request of this protocol, or not a challenge URL.
    InvalidRequest,
    /// The challenge is not on the origin of the page that asked.
    OriginMismatch,
    /// The challenge failed the checks of §2 (plain http, foreign issuer, expired, version).
    ChallengeRefused,
    /// The person cancelled the PIN dialog.
    Cancelled,
    /// No way to ask the PIN: no pinentry program.
    PromptUnavailable,
    /// No PC/SC service, no reader, no card, or the card was removed.
    CardUnavailable,
    NotMyNumberCard,
    WrongPin,
    Blocked,
    /// The card answered something unexpected.
    CardError,
    /// The provider could not be reached or answered outside the protocol.
    Network,
    /// The provider refused the answer (`provider_error` says why).
    ProviderRefused,
}

/// What the host needs from the computer it runs on; tests supply their own.
pub trait HostContext {
    /// The person at this computer (a PIN dialog: standard input is the browser's pipe).
    fn prompter(&mut self) -> Result<Box<dyn Prompter>, PromptError>;
    /// The card to use.
    fn card(&mut self) -> Result<Box<dyn CardTransport>, TransportError>;
    /// Unix seconds.
    fn now(&self) -> i64;
}

/// Answers requests until the browser closes the pipe.
pub fn serve(
    input: &mut impl Read,
    output: &mut impl Write,
    context: &mut dyn HostContext,
) -> Result<(), FramingError> {
    loop {
        let reply = match read_message(input) {
            Ok(None) => return Ok(()),
            Ok(Some(message)) => match serde_json::from_slice::<HostRequest>(&message) {
                Ok(request) => answer(request, context),
                Err(_) => invalid_request(),
            },
            Err(FramingError::TooLarge(_)) => invalid_request(),
            Err(error) => return Err(error),
        };
        let bytes = serde_json::to_vec(&reply).map_err(std::io::Error::other)?;
        write_message(output, &bytes)?;
    }
}

fn answer(request: HostRequest, context: &mut dyn HostContext) -> HostReply {
    match request {
        HostRequest::Version => HostReply::Version {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol: PROTOCOL_VERSION.to_owned(),
        },
        HostRequest::Login { challenge, origin } => match log_in(&challenge, &origin, context) {
            Ok(outcome) => HostReply::Accepted {
                client_name: outcome.client_name,
                issuer: outcome.issuer_origin,
                match_code: outcome.match_code,
            },
            Err(refusal) => refusal,
        },
    }
}

fn log_in(
    challenge: &str,
    origin: &str,
    context: &mut dyn HostContext,
) -> Result<LoginOutcome, HostReply> {
    let page = Url::parse(origin).map_err(|_| invalid_request())?;
    if !matches!(page.scheme(), "https" | "http") || page.host().is_none() {
        return Err(invalid_request());
    }
    let url = challenge_url(challenge).map_err(|e| refusal(&e))?;
    // §8.2: the challenge (and so, by §2, its issuer) must be on the page's own origin, so a
    // page cannot have the card answer another site's login. Checked before any request.
    if url.origin() != page.origin() {
        return Err(HostReply::Refused {
            error: ReplyError::OriginMismatch,
            provider_error: None,
            tries_left: None,
            message: messages::origin_mismatch(
                &page.origin().unicode_serialization(),
                &url.origin().unicode_serialization(),
            ),
            retry: false,
        });
    }
    let mut prompter = context.prompter().map_err(|e| refusal(&e.into()))?;
    let result = context.card().map_err(LoginError::from).and_then(|card| {
        login(
            url.as_str(),
            card,
            prompter.as_mut(),
            &LoginOptions::default(),
            context.now(),
        )
    });
    result.map_err(|error| {
        let reply = refusal(&error);
        if !matches!(error, LoginError::Cancelled | LoginError::Prompt(_)) {
            // Wrong PIN, last try, blocked, refused: told in a dialog as the PIN was asked.
            prompter.show_failure(&messages::login(&error));
        }
        reply
    })
}

fn invalid_request() -> HostReply {
    HostReply::Refused {
        error: ReplyError::InvalidRequest,
        provider_error: None,
        tries_left: None,
        message: messages::invalid_host_request(),
        retry: false,
    }
}

fn refusal(error: &LoginError) -> HostReply {
    let (code, retry) = reply_error(error);
    HostReply::Refused {
        error: code,
        provider_error: match error {
            LoginError::Provider { error, .. } => Some(error.clone()),
            _ => None,
        },
        tries_left: match error {
            LoginError::Card(JpkiError::WrongPin { tries_left, .. }) => Some(*tries_left),
            _ => None,
        },
        message: messages::login(error),
        retry,
    }
}

/// The reply code for a failed login, and whether the same challenge can be tried again:
/// only when nothing reached the provider and the card can still be used.
fn reply_error(error: &LoginError) -> (ReplyError, bool) {
    match error {
        LoginError::BadTarget(_) => (ReplyError::InvalidRequest, false),
        LoginError::InsecureUrl(_)
        | LoginError::ForeignIssuer { .. }
        | LoginError::ForeignResponseUri { .. }
        | LoginError::Expired { .. }
        | LoginError::UnsupportedVersion(_)
        | LoginError::MalformedChallenge(_) => (ReplyError::ChallengeRefused, false),
        LoginError::Cancelled => (ReplyError::Cancelled, true),
        LoginError::Prompt(PromptError::Format(_)) => (ReplyError::WrongPin, true),
        LoginError::Prompt(PromptError::EndOfInput | PromptError::Cancelled) => {
            (ReplyError::Cancelled, true)
        }
        LoginError::Prompt(_) => (ReplyError::PromptUnavailable, true),
        LoginError::Card(JpkiError::Transport(TransportError::SoftCard(_))) => {
            (ReplyError::CardError, true)
        }
        LoginError::Card(JpkiError::Transport(_)) => (ReplyError::CardUnavailable, true),
        LoginError::Card(JpkiError::NotJpki) => (ReplyError::NotMyNumberCard, true),
        LoginError::Card(JpkiError::WrongPin { .. }) => (ReplyError::WrongPin, true),
        LoginError::Card(JpkiError::Blocked { .. }) => (ReplyError::Blocked, false),
        LoginError::Card(_) => (ReplyError::CardError, true),
        LoginError::Network { .. } | LoginError::Http { .. } => (ReplyError::Network, true),
        LoginError::Provider { .. } => (ReplyError::ProviderRefused, false),
    }
}
