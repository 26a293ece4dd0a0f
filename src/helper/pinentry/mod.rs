//! Asking the PIN without a terminal: the pinentry dialog of GnuPG, spoken to over Assuan.
//!
//! Each dialog is one pinentry process, started with no arguments and closed with `BYE`; the
//! PIN travels only over its standard output, into buffers that are wiped when dropped.

pub mod assuan;
mod dialog;
pub mod locate;
mod wire;

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::card::jpki::Purpose;
use crate::helper::login::CheckedChallenge;
use crate::helper::messages::{self, Bilingual};
use crate::helper::prompt::{PromptError, Prompter, FORMAT_ATTEMPTS};
use crate::helper::secret::{Secret, SecretError};

pub use assuan::AssuanError;
pub use dialog::failure;
pub use locate::{locate, Platform};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PinentryError {
    #[error("no pinentry program found")]
    NotFound(Platform),
    #[error("MYKEY_PINENTRY names {0}, which is not a program")]
    Configured(PathBuf),
    #[error("cannot start {program}: {reason}")]
    Start { program: PathBuf, reason: String },
    #[error(transparent)]
    Assuan(#[from] AssuanError),
}

/// The person at the PC, asked through pinentry dialogs.
pub struct PinentryPrompter {
    program: PathBuf,
    request: Option<dialog::Request>,
    /// Notices not shown yet; they go into the next dialog.
    notices: Vec<Bilingual>,
}

impl PinentryPrompter {
    /// Asks through `program`, a pinentry that speaks Assuan on its standard input and output.
    pub fn new(program: impl Into<PathBuf>) -> PinentryPrompter {
        PinentryPrompter {
            program: program.into(),
            request: None,
            notices: Vec::new(),
        }
    }

    /// Asks through the pinentry that [`locate`] finds.
    pub fn locate() -> Result<PinentryPrompter, PinentryError> {
        Ok(PinentryPrompter::new(locate()?))
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Shows `message` (and any notice not shown yet) in a dialog with one button, and
    /// returns when the person closes it.
    pub fn show_message(&mut self, message: &Bilingual) -> Result<(), PinentryError> {
        let mut shown = std::mem::take(&mut self.notices);
        shown.push(message.clone());
        let text = shown
            .iter()
            .map(|m| format!("{}\n\n{}", m.ja, m.en))
            .collect::<Vec<_>>()
            .join("\n\n");
        let mut session = Session::start(&self.program)?;
        let assuan = session.assuan()?;
        assuan.set("SETTITLE", dialog::TITLE)?;
        assuan.set("SETDESC", &dialog::fit(&text))?;
        assuan.set("SETOK", dialog::CLOSE_BUTTON)?;
        assuan.message()?;
        Ok(())
    }
}

impl Prompter for PinentryPrompter {
    fn show_request(&mut self, challenge: &CheckedChallenge) {
        self.request = Some(dialog::Request::of(challenge));
    }

    /// The PIN dialog, with its Cancel button, is the confirmation: no dialog before it.
    fn confirm(&mut self) -> Result<bool, PromptError> {
        Ok(true)
    }

    fn notice(&mut self, message: &Bilingual) {
        self.notices.push(message.clone());
    }

    fn ask_secret(&mut self, purpose: Purpose, tries_left: u8) -> Result<Secret, PromptError> {
        match self.ask(purpose, tries_left)? {
            Answer::Given(secret) => Ok(secret),
            Answer::Cancelled => Err(PromptError::Cancelled),
            Answer::Mistaken(error) => Err(PromptError::Format(error)),
        }
    }

    fn show_failure(&mut self, message: &Bilingual) {
        if let Err(error) = self.show_message(message) {
            tracing::warn!(%error, "cannot show the failure in a dialog");
        }
    }
}

enum Answer {
    Given(Secret),
    Cancelled,
    Mistaken(SecretError),
}

impl PinentryPrompter {
    /// One dialog; a secret in the wrong format is asked again in it, with the reason, up to
    /// [`FORMAT_ATTEMPTS`] times (a format mistake costs no card try).
    fn ask(&mut self, purpose: Purpose, tries_left: u8) -> Result<Answer, PinentryError> {
        let notices = std::mem::take(&mut self.notices);
        let mut session = Session::start(&self.program)?;
        let assuan = session.assuan()?;
        assuan.set("SETTITLE", dialog::TITLE)?;
        assuan.set(
            "SETDESC",
            &dialog::description(self.request.as_ref(), purpose),
        )?;
        assuan.set("SETPROMPT", &dialog::prompt(purpose, tries_left))?;
        assuan.set("SETOK", dialog::OK_BUTTON)?;
        assuan.set("SETCANCEL", dialog::CANCEL_BUTTON)?;
        let mut mistake = format_error(purpose);
        for attempt in 0..FORMAT_ATTEMPTS {
            let shown: Vec<Bilingual> = (attempt > 0)
                .then(|| messages::secret_format(mistake))
                .into_iter()
                .chain(notices.iter().cloned())
                .collect();
            if !shown.is_empty() {
                assuan.set("SETERROR", &dialog::joined(&shown))?;
            }
            let Some(mut typed) = assuan.get_pin()? else {
                return Ok(Answer::Cancelled);
            };
            let checked = match String::from_utf8(std::mem::take(&mut *typed)) {
                Ok(text) => Secret::for_purpose(purpose, text),
                Err(not_text) => {
                    drop(Zeroizing::new(not_text.into_bytes()));
                    Err(format_error(purpose))
                }
            };
            match checked {
                Ok(secret) => return Ok(Answer::Given(secret)),
                Err(error) => mistake = error,
            }
        }
        Ok(Answer::Mistaken(mistake))
    }
}

fn format_error(purpose: Purpose) -> SecretError {
    match purpose {
        Purpose::Auth => SecretError::PinFormat,
        Purpose::Sign => SecretError::PasswordFormat,
    }
}

/// One running pinentry; `BYE` and a wait (or a kill, for one that hangs) when dropped.
struct Session {
    child: Child,
    assuan: Option<assuan::Assuan<ChildStdout, ChildStdin>>,
}

/// How long a pinentry may take to exit after `BYE`.
const EXIT_GRACE: Duration = Duration::from_secs(2);

impl Session {
    fn start(program: &Path) -> Result<Session, PinentryError> {
        let start_error = |reason: String| PinentryError::Start {
            program: program.to_owned(),
            reason,
        };
        // No arguments; the environment it inherits (DISPLAY, WAYLAND_DISPLAY, the D-Bus
        // session) holds nothing secret. Its standard error stays the helper's.
        let mut child = Command::new(program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| start_error(e.to_string()))?;
        let pipes = child.stdout.take().zip(child.stdin.take());
        let mut session = Session {
            child,
            assuan: None,
        };
        let (stdout, stdin) = pipes.ok_or_else(|| start_error("no pipes".to_owned()))?;
        session.assuan = Some(assuan::Assuan::connect(stdout, stdin)?);
        Ok(session)
    }

    fn assuan(&mut self) -> Result<&mut assuan::Assuan<ChildStdout, ChildStdin>, PinentryError> {
        self.assuan
            .as_mut()
            .ok_or(PinentryError::Assuan(AssuanError::Closed))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(mut assuan) = self.assuan.take() {
            if let Err(error) = assuan.bye() {
                tracing::debug!(%error, "pinentry BYE");
            }
        }
        let deadline = Instant::now() + EXIT_GRACE;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return;
                }
            }
        }
    }
}
