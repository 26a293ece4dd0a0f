//! The helper end to end: login against a real HTTP server, the CLI binary, vpcd and PC/SC.

mod cli;
// The package depends on libpcsclite: built from the helper with the pcsc feature.
#[cfg(feature = "pcsc")]
mod deb;
pub(crate) mod dialogs;
mod install;
mod login;
mod native;
#[cfg(feature = "pcsc")]
mod opensc;
#[cfg(feature = "pcsc")]
pub(crate) mod pcsc;
mod pinentry;
mod provider;
mod refusals;
mod vpcd;

use std::collections::VecDeque;

use mykey_connect::card::jpki::Purpose;
use mykey_connect::helper::login::CheckedChallenge;
use mykey_connect::helper::messages::Bilingual;
use mykey_connect::helper::prompt::{PromptError, Prompter};
use mykey_connect::helper::secret::Secret;

/// A person who answers from a script, and what they were shown.
#[derive(Default)]
pub struct ScriptedPerson {
    pub confirms: bool,
    pub answers: VecDeque<&'static str>,
    pub shown: Vec<CheckedChallenge>,
    pub notices: Vec<Bilingual>,
    pub asked: Vec<(Purpose, u8)>,
    /// What the person was told when the login failed.
    pub failures: Vec<Bilingual>,
}

impl ScriptedPerson {
    pub fn typing(answers: &[&'static str]) -> ScriptedPerson {
        ScriptedPerson {
            confirms: true,
            answers: answers.iter().copied().collect(),
            ..ScriptedPerson::default()
        }
    }
}

impl Prompter for ScriptedPerson {
    fn show_request(&mut self, challenge: &CheckedChallenge) {
        self.shown.push(challenge.clone());
    }

    fn confirm(&mut self) -> Result<bool, PromptError> {
        Ok(self.confirms)
    }

    fn notice(&mut self, message: &Bilingual) {
        self.notices.push(message.clone());
    }

    fn ask_secret(&mut self, purpose: Purpose, tries_left: u8) -> Result<Secret, PromptError> {
        self.asked.push((purpose, tries_left));
        let answer = self.answers.pop_front().ok_or(PromptError::EndOfInput)?;
        Ok(Secret::for_purpose(purpose, answer.to_owned())?)
    }

    fn show_failure(&mut self, message: &Bilingual) {
        self.failures.push(message.clone());
    }
}
