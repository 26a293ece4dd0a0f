//! A software JPKI card: answers the card's APDUs from a CARD file, retry counters included.
//!
//! The card keeps a session (selected application and EF, which secrets were verified) that a
//! power-off, a reset or a new SELECT of an application clears, and retry counters that
//! survive everything: when the card was opened from a path, each counter change is saved to
//! the file before the answer leaves.

mod commands;
mod files;
mod session;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use rsa::pkcs8::DecodePrivateKey as _;
use rsa::RsaPrivateKey;

use crate::card::jpki::{Purpose, AUTH_PIN_TRIES, SIGN_PASSWORD_TRIES};
use crate::helper::apdu::{Command, Response, StatusWord};
use crate::testkit::card_file::{CardFile, CardFileError, KeySlot};

pub use files::{CERTIFICATE_EF_LEN, TOKEN_INFO_LEN};

/// The ATR of a My Number Card in a contact reader (pcsc-tools `smartcard_list.txt`):
/// T=1 only, TCK valid, so pcscd accepts it and tools that know the card recognise it.
pub const ATR: [u8; 19] = [
    0x3B, 0xDA, 0x13, 0xFF, 0x81, 0x31, 0xFB, 0x46, 0x80, 0x12, 0x39, 0x2F, 0x31, 0xC1, 0x73, 0xC6,
    0x01, 0xC0, 0x3B,
];

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SoftCardError {
    #[error(transparent)]
    CardFile(#[from] CardFileError),
    #[error("the {purpose} private key of the card file is not an RSA PKCS#8 key: {reason}")]
    Key { purpose: Purpose, reason: String },
}

#[derive(Clone)]
pub struct SoftCard {
    card: CardFile,
    path: Option<PathBuf>,
    files: files::BinaryFiles,
    auth_key: RsaPrivateKey,
    sign_key: RsaPrivateKey,
    session: session::Session,
}

impl std::fmt::Debug for SoftCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftCard")
            .field("path", &self.path)
            .field("auth_tries_left", &self.card.auth.tries_left)
            .field("sign_tries_left", &self.card.sign.tries_left)
            .field("keys", &"[redacted]")
            .finish()
    }
}

impl SoftCard {
    /// A card held in memory only: its counters die with it.
    pub fn new(card: CardFile) -> Result<SoftCard, SoftCardError> {
        Ok(SoftCard {
            files: files::BinaryFiles::from_card(&card)?,
            auth_key: private_key(&card.auth, Purpose::Auth)?,
            sign_key: private_key(&card.sign, Purpose::Sign)?,
            card,
            path: None,
            session: session::Session::default(),
        })
    }

    /// A card loaded from a CARD file; every counter change is written back to it.
    pub fn open(path: &Path) -> Result<SoftCard, SoftCardError> {
        let mut card = SoftCard::new(CardFile::load(path)?)?;
        card.path = Some(path.to_path_buf());
        Ok(card)
    }

    /// The card's state as it would be saved now.
    pub fn card_file(&self) -> &CardFile {
        &self.card
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn atr(&self) -> &'static [u8] {
        &ATR
    }

    /// Cuts the power: the selection and every verified secret are forgotten.
    pub fn power_off(&mut self) {
        self.session = session::Session::default();
    }

    /// A warm reset forgets the same as a power cycle.
    pub fn reset(&mut self) {
        self.power_off();
    }

    /// Answers one command APDU with a response APDU (data and SW1 SW2).
    pub fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        match Command::parse(apdu) {
            Ok(command) => self.process(&command).to_bytes(),
            Err(_) => Response::status(StatusWord::WRONG_LENGTH).to_bytes(),
        }
    }

    /// Answers one parsed command.
    pub fn process(&mut self, command: &Command) -> Response {
        const KNOWN_INS: [u8; 4] = [0xA4, 0xB0, 0x20, 0x2A];
        match (command.cla, command.ins) {
            (0x00, 0xA4) => self.select(command),
            (0x00, 0xB0) => self.read_binary(command),
            (0x00, 0x20) => self.verify(command),
            // JPKI's signing command is proprietary, hence class 80.
            (0x80, 0x2A) => self.compute_signature(command),
            (0x00 | 0x80, ins) if KNOWN_INS.contains(&ins) => {
                Response::status(StatusWord::CLA_NOT_SUPPORTED)
            }
            (0x00 | 0x80, _) => Response::status(StatusWord::INS_NOT_SUPPORTED),
            _ => Response::status(StatusWord::CLA_NOT_SUPPORTED),
        }
    }

    fn slot_mut(&mut self, purpose: Purpose) -> &mut KeySlot {
        match purpose {
            Purpose::Auth => &mut self.card.auth,
            Purpose::Sign => &mut self.card.sign,
        }
    }

    fn key(&self, purpose: Purpose) -> &RsaPrivateKey {
        match purpose {
            Purpose::Auth => &self.auth_key,
            Purpose::Sign => &self.sign_key,
        }
    }

    /// Stores the counters; `false` when the file could not be written.
    fn persist(&self) -> bool {
        let Some(path) = &self.path else {
            return true;
        };
        match self.card.save(path) {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(%error, "the software card could not save its retry counters");
                false
            }
        }
    }
}

/// Tries a fresh secret allows (reference/jpki.md).
fn max_tries(purpose: Purpose) -> u8 {
    match purpose {
        Purpose::Auth => AUTH_PIN_TRIES,
        Purpose::Sign => SIGN_PASSWORD_TRIES,
    }
}

fn private_key(slot: &KeySlot, purpose: Purpose) -> Result<RsaPrivateKey, SoftCardError> {
    let der = slot.private_key_der()?;
    RsaPrivateKey::from_pkcs8_der(&der).map_err(|e| SoftCardError::Key {
        purpose,
        reason: e.to_string(),
    })
}
