//! The JPKI client: the card's application spoken over any transport, status words made typed.

use zeroize::Zeroizing;

use crate::card::jpki::{ef, Purpose, JPKI_AID};
use crate::card::message::sha256_digest_info;
use crate::helper::apdu::{Command, Response, StatusWord, MAX_SHORT_DATA, MAX_SHORT_LE};
use crate::helper::secret::Secret;
use crate::helper::transport::{CardTransport, TransportError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JpkiError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("this card has no JPKI application: it is not a My Number Card")]
    NotJpki,
    #[error("the card has no file {0:04X}")]
    FileNotFound(u16),
    #[error("the card refused: the PIN or password has not been verified")]
    SecurityStatusNotSatisfied,
    #[error("wrong {}: {tries_left} tries left", secret_name(*purpose))]
    WrongPin { purpose: Purpose, tries_left: u8 },
    #[error("the {} is blocked", secret_name(*purpose))]
    Blocked { purpose: Purpose },
    #[error("the card answered {sw} to {command}")]
    Unexpected {
        command: &'static str,
        sw: StatusWord,
    },
    #[error("the card's answer to {command} is malformed: {reason}")]
    Malformed {
        command: &'static str,
        reason: String,
    },
}

fn secret_name(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Auth => "PIN",
        Purpose::Sign => "signature password",
    }
}

/// What a VERIFY without data says about a PIN or password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretState {
    /// The card says no verification is needed (`9000`, ISO/IEC 7816-4). A My Number Card
    /// never answers so: it gives the tries left even right after a correct VERIFY (a trace
    /// in OpenSC pull request 959; docs/softcard-fidelity.md).
    Verified,
    /// Not verified; this many tries before it blocks.
    TriesLeft(u8),
    Blocked,
}

/// The JPKI application of one card.
///
/// Selecting the application makes the card forget every verified secret, so a `Jpki` selects
/// it once, before its first command, and never again: a VERIFY and the signature or read it
/// unlocks must go through the same `Jpki`.
pub struct Jpki<T: CardTransport> {
    transport: T,
    application_selected: bool,
}

impl<T: CardTransport> Jpki<T> {
    pub fn new(transport: T) -> Jpki<T> {
        Jpki {
            transport,
            application_selected: false,
        }
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    pub fn into_transport(self) -> T {
        self.transport
    }

    /// SELECT the JPKI application; a card without it is not a My Number Card. The card
    /// forgets what was verified before.
    pub fn select_application(&mut self) -> Result<(), JpkiError> {
        self.application_selected = false;
        let command = Command::new(0x00, 0xA4, 0x04, 0x0C).with_data(JPKI_AID.to_vec());
        match self.exchange(&command)?.sw {
            StatusWord::OK => {
                self.application_selected = true;
                Ok(())
            }
            _ => Err(JpkiError::NotJpki),
        }
    }

    /// Selects the application unless this `Jpki` already did, which would undo a VERIFY.
    fn enter_application(&mut self) -> Result<(), JpkiError> {
        match self.application_selected {
            true => Ok(()),
            false => self.select_application(),
        }
    }

    /// Reads a whole DER file (a certificate): its header first, then the rest, since the EF
    /// is larger than what it holds (reference/jpki.md).
    pub fn read_der_file(&mut self, fid: u16) -> Result<Vec<u8>, JpkiError> {
        self.select_ef(fid)?;
        let mut content = self.read_binary(0, 4)?;
        let total = der_length(&content).ok_or_else(|| JpkiError::Malformed {
            command: "READ BINARY",
            reason: "the file does not start with a DER header".to_owned(),
        })?;
        while content.len() < total {
            let piece = (total - content.len()).min(MAX_SHORT_DATA);
            let read = self.read_binary(content.len(), piece)?;
            if read.is_empty() {
                return Err(JpkiError::Malformed {
                    command: "READ BINARY",
                    reason: "the file ended before its DER length".to_owned(),
                });
            }
            content.extend_from_slice(&read);
        }
        content.truncate(total);
        Ok(content)
    }

    /// The end-entity certificate of one key. The signature certificate needs
    /// [`Jpki::verify`] with the signature password first, through this same `Jpki`.
    pub fn read_certificate(&mut self, purpose: Purpose) -> Result<Vec<u8>, JpkiError> {
        self.enter_application()?;
        self.read_der_file(match purpose {
            Purpose::Auth => ef::AUTH_CERT,
            Purpose::Sign => ef::SIGN_CERT,
        })
    }

    /// The certificate of the CA that issued one key's certificate.
    pub fn read_ca_certificate(&mut self, purpose: Purpose) -> Result<Vec<u8>, JpkiError> {
        self.enter_application()?;
        self.read_der_file(match purpose {
            Purpose::Auth => ef::AUTH_CA_CERT,
            Purpose::Sign => ef::SIGN_CA_CERT,
        })
    }

    /// The token label of EF 0006 without its padding (`JPKIAPICCTOKEN2` on a My Number Card).
    pub fn token_label(&mut self) -> Result<String, JpkiError> {
        self.enter_application()?;
        self.select_ef(ef::TOKEN_INFO)?;
        let raw = self.read_binary(0, 0x20)?;
        let text = String::from_utf8_lossy(&raw);
        Ok(text.trim_end_matches([' ', '\0']).to_owned())
    }

    /// Asks the card, without spending a try, how many tries a secret has left or whether it is
    /// blocked.
    pub fn secret_state(&mut self, purpose: Purpose) -> Result<SecretState, JpkiError> {
        self.enter_application()?;
        self.select_ef(secret_ef(purpose))?;
        let sw = self.exchange(&Command::new(0x00, 0x20, 0x00, 0x80))?.sw;
        match sw {
            StatusWord::OK => Ok(SecretState::Verified),
            sw if sw.is_blocked() || sw.tries_left() == Some(0) => Ok(SecretState::Blocked),
            sw => sw
                .tries_left()
                .map(SecretState::TriesLeft)
                .ok_or(JpkiError::Unexpected {
                    command: "VERIFY",
                    sw,
                }),
        }
    }

    /// Presents the PIN or password once. Never retried here: a wrong secret costs a try.
    pub fn verify(&mut self, purpose: Purpose, secret: &Secret) -> Result<(), JpkiError> {
        self.enter_application()?;
        self.select_ef(secret_ef(purpose))?;
        let command = Command::new(0x00, 0x20, 0x00, 0x80).with_data(secret.expose().as_bytes());
        let apdu = Zeroizing::new(command.to_bytes().map_err(|e| JpkiError::Malformed {
            command: "VERIFY",
            reason: e.to_string(),
        })?);
        drop(Zeroizing::new(command.data));
        let sw = self.transmit(&apdu, "VERIFY")?.sw;
        match sw {
            StatusWord::OK => Ok(()),
            sw if sw.is_blocked() => Err(JpkiError::Blocked { purpose }),
            sw => match sw.tries_left() {
                Some(0) => Err(JpkiError::Blocked { purpose }),
                Some(tries_left) => Err(JpkiError::WrongPin {
                    purpose,
                    tries_left,
                }),
                None => Err(JpkiError::Unexpected {
                    command: "VERIFY",
                    sw,
                }),
            },
        }
    }

    /// Signs `message` with one key: the card receives the DER DigestInfo of SHA-256(message)
    /// and returns the RSASSA-PKCS1-v1_5 signature (card-login spec §3).
    pub fn sign(&mut self, purpose: Purpose, message: &[u8]) -> Result<Vec<u8>, JpkiError> {
        self.enter_application()?;
        self.select_ef(match purpose {
            Purpose::Auth => ef::AUTH_KEY,
            Purpose::Sign => ef::SIGN_KEY,
        })?;
        let command = Command::new(0x80, 0x2A, 0x00, 0x80)
            .with_data(sha256_digest_info(message))
            .with_le(MAX_SHORT_LE);
        let response = self.exchange(&command)?;
        match response.sw {
            StatusWord::OK if !response.data.is_empty() => Ok(response.data),
            StatusWord::OK => Err(JpkiError::Malformed {
                command: "COMPUTE DIGITAL SIGNATURE",
                reason: "no signature in the answer".to_owned(),
            }),
            StatusWord::SECURITY_STATUS_NOT_SATISFIED => Err(JpkiError::SecurityStatusNotSatisfied),
            sw => Err(JpkiError::Unexpected {
                command: "COMPUTE DIGITAL SIGNATURE",
                sw,
            }),
        }
    }

    fn select_ef(&mut self, fid: u16) -> Result<(), JpkiError> {
        let command = Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(fid.to_be_bytes().to_vec());
        match self.exchange(&command)?.sw {
            StatusWord::OK => Ok(()),
            StatusWord::FILE_NOT_FOUND => Err(JpkiError::FileNotFound(fid)),
            sw => Err(JpkiError::Unexpected {
                command: "SELECT FILE",
                sw,
            }),
        }
    }

    fn read_binary(&mut self, offset: usize, len: usize) -> Result<Vec<u8>, JpkiError> {
        let offset = u16::try_from(offset)
            .ok()
            .filter(|o| o & 0x8000 == 0)
            .ok_or_else(|| JpkiError::Malformed {
                command: "READ BINARY",
                reason: format!("offset {offset} is past what READ BINARY can address"),
            })?;
        let [p1, p2] = offset.to_be_bytes();
        let response = self.exchange(&Command::new(0x00, 0xB0, p1, p2).with_le(len))?;
        match response.sw {
            StatusWord::OK => Ok(response.data),
            StatusWord::SECURITY_STATUS_NOT_SATISFIED => Err(JpkiError::SecurityStatusNotSatisfied),
            sw => Err(JpkiError::Unexpected {
                command: "READ BINARY",
                sw,
            }),
        }
    }

    fn exchange(&mut self, command: &Command) -> Result<Response, JpkiError> {
        let name = command_name(command.ins);
        let apdu = command.to_bytes().map_err(|e| JpkiError::Malformed {
            command: name,
            reason: e.to_string(),
        })?;
        self.transmit(&apdu, name)
    }

    fn transmit(&mut self, apdu: &[u8], name: &'static str) -> Result<Response, JpkiError> {
        let raw = self.transport.transmit(apdu)?;
        let response = Response::parse(&raw).map_err(|e| JpkiError::Malformed {
            command: name,
            reason: e.to_string(),
        })?;
        tracing::debug!(command = name, sw = %response.sw, len = response.data.len(), "card answered");
        Ok(response)
    }
}

fn secret_ef(purpose: Purpose) -> u16 {
    match purpose {
        Purpose::Auth => ef::AUTH_PIN,
        Purpose::Sign => ef::SIGN_PIN,
    }
}

fn command_name(ins: u8) -> &'static str {
    match ins {
        0xA4 => "SELECT FILE",
        0xB0 => "READ BINARY",
        0x20 => "VERIFY",
        0x2A => "COMPUTE DIGITAL SIGNATURE",
        _ => "a command",
    }
}

/// Total length (header included) of the DER element whose first bytes are `header`
/// (X.690 §8.1.3); `None` when the header is not a definite length this card could hold.
pub fn der_length(header: &[u8]) -> Option<usize> {
    match header {
        [_, len, ..] if *len < 0x80 => Some(2 + usize::from(*len)),
        [_, 0x81, len, ..] => Some(3 + usize::from(*len)),
        [_, 0x82, hi, lo, ..] => Some(4 + usize::from(u16::from_be_bytes([*hi, *lo]))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::der_length;

    #[test]
    fn der_lengths_of_short_and_long_forms_include_the_header() {
        assert_eq!(der_length(&[0x30, 0x03, 0, 0]), Some(5));
        assert_eq!(der_length(&[0x30, 0x81, 0x80, 0]), Some(131));
        assert_eq!(der_length(&[0x30, 0x82, 0x04, 0xD2]), Some(1238));
        assert_eq!(der_length(&[0x30, 0x83, 0, 0]), None);
        assert_eq!(der_length(&[0x30, 0x80, 0, 0]), None);
        assert_eq!(der_length(&[0x30]), None);
    }
}
