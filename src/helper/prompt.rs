//! Talking to the person at the PC: showing who asks, confirming, reading the PIN unseen.

use std::io::{BufRead, IsTerminal, Write};

use zeroize::Zeroizing;

use crate::card::jpki::Purpose;
use crate::card::protocol::ChallengePurpose;
use crate::helper::login::CheckedChallenge;
use crate::helper::messages::{self, Bilingual};
use crate::helper::pinentry::{PinentryError, PinentryPrompter};
use crate::helper::secret::{Secret, SecretError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    #[error("there is no terminal to type the PIN on; use --pin-stdin")]
    NoTerminal,
    #[error("the input ended before the PIN or password was given")]
    EndOfInput,
    #[error(transparent)]
    Format(#[from] SecretError),
    #[error("cannot read the answer: {0}")]
    Io(String),
    #[error("the PIN dialog was cancelled")]
    Cancelled,
    #[error(transparent)]
    Pinentry(#[from] PinentryError),
}

/// What the login flow needs from the person; tests answer through their own implementation.
pub trait Prompter {
    /// Shows the site, the provider origin and the match code (spec §2), before any PIN.
    fn show_request(&mut self, challenge: &CheckedChallenge);
    /// Asks whether to go on; not called with `--yes`.
    fn confirm(&mut self) -> Result<bool, PromptError>;
    /// Shows a notice, such as the warning before the last try.
    fn notice(&mut self, message: &Bilingual);
    /// Asks for the PIN (`Auth`) or the signature password (`Sign`).
    fn ask_secret(&mut self, purpose: Purpose, tries_left: u8) -> Result<Secret, PromptError>;
    /// Shows why the helper stopped (wrong PIN, blocked, refused) where the person sees
    /// nothing else: a dialog. On a terminal the helper prints it anyway, so by default no-op.
    fn show_failure(&mut self, _message: &Bilingual) {}
}

/// The prompter for this process: lines on standard input with `--pin-stdin`, the terminal
/// when standard input is one, and otherwise (started by the desktop for a `mykey://` link,
/// or by a browser) the pinentry dialog.
pub fn for_this_process(pin_stdin: bool) -> Result<Box<dyn Prompter>, PromptError> {
    if pin_stdin {
        Ok(Box::new(TerminalPrompter::new(SecretSource::StdinLines)))
    } else if std::io::stdin().is_terminal() {
        Ok(Box::new(TerminalPrompter::new(SecretSource::Terminal)))
    } else {
        Ok(Box::new(PinentryPrompter::locate()?))
    }
}

/// Where the PIN comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    /// Typed on the terminal without echo.
    Terminal,
    /// One line per secret on standard input, for scripts (`--pin-stdin`).
    StdinLines,
}

/// The terminal: messages on standard error, answers from the keyboard or standard input.
pub struct TerminalPrompter {
    source: SecretSource,
}

/// Typing mistakes in the format cost no card try; after this many the helper gives up.
pub(crate) const FORMAT_ATTEMPTS: usize = 3;

impl TerminalPrompter {
    pub fn new(source: SecretSource) -> TerminalPrompter {
        TerminalPrompter { source }
    }

    fn read_line(&self) -> Result<Zeroizing<String>, PromptError> {
        let mut line = Zeroizing::new(String::new());
        let read = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| PromptError::Io(e.to_string()))?;
        if read == 0 {
            return Err(PromptError::EndOfInput);
        }
        Ok(line)
    }
}

impl Prompter for TerminalPrompter {
    fn show_request(&mut self, challenge: &CheckedChallenge) {
        let document = &challenge.document;
        let purpose = match document.purpose {
            ChallengePurpose::Login => "ログイン / log in",
            ChallengePurpose::Verify => {
                "本人確認（署名用電子証明書も使います）/ identity verification (also uses the signature certificate)"
            }
        };
        eprintln!("ログインの要求 / Login request");
        eprintln!("  サイト / Site:             {}", document.client_name);
        eprintln!("  ログイン先 / Provider:     {}", challenge.issuer_origin);
        eprintln!(
            "  照合番号 / Match code:    {}  ← ブラウザの表示と同じか確かめてください / check that your browser shows the same",
            document.match_code
        );
        eprintln!("  用途 / Purpose:            {purpose}");
    }

    fn confirm(&mut self) -> Result<bool, PromptError> {
        eprint!("続けますか / Continue? [y/N]: ");
        let _ = std::io::stderr().flush();
        let line = self.read_line()?;
        let answer = line.trim().to_lowercase();
        Ok(matches!(answer.as_str(), "y" | "yes" | "はい"))
    }

    fn notice(&mut self, message: &Bilingual) {
        eprintln!("{message}");
    }

    fn ask_secret(&mut self, purpose: Purpose, tries_left: u8) -> Result<Secret, PromptError> {
        match self.source {
            SecretSource::StdinLines => {
                let line = self.read_line()?;
                Ok(Secret::for_purpose(purpose, line.to_string())?)
            }
            SecretSource::Terminal => {
                let prompt = messages::secret_prompt(purpose, tries_left);
                let mut last = PromptError::EndOfInput;
                for _ in 0..FORMAT_ATTEMPTS {
                    let typed =
                        rpassword::prompt_password(&prompt).map_err(|e| match e.kind() {
                            std::io::ErrorKind::UnexpectedEof => PromptError::EndOfInput,
                            _ => PromptError::NoTerminal,
                        })?;
                    match Secret::for_purpose(purpose, typed) {
                        Ok(secret) => return Ok(secret),
                        Err(format) => {
                            eprintln!("{}", messages::secret_format(format));
                            last = PromptError::Format(format);
                        }
                    }
                }
                Err(last)
            }
        }
    }
}
