//! The elementary files of the software card's JPKI application and who may use them.

use crate::card::jpki::{ef, Purpose};
use crate::testkit::card_file::{CardFile, CardFileError};

/// Size of the token-info EF. Real cards hold the label space-padded to 32 bytes (readers such
/// as jpki/myna read 0x20 bytes and trim the trailing spaces), so the software card does too.
pub const TOKEN_INFO_LEN: usize = 32;

/// Certificate EFs have a fixed size larger than the certificate, which is why readers decode
/// the DER header first. The unused tail reads as `FF`, like erased card memory.
pub const CERTIFICATE_EF_LEN: usize = 2048;

/// What an EF is, as far as the commands are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Transparent data; `guard` names the secret that must be verified before reading.
    Binary { guard: Option<Purpose> },
    /// A PIN or password: target of VERIFY, never readable.
    Secret(Purpose),
    /// A private key: target of COMPUTE DIGITAL SIGNATURE, never readable.
    Key(Purpose),
}

/// The kind of every EF of the JPKI application (reference/jpki.md), `None` for unknown ids.
pub fn kind_of(fid: u16) -> Option<FileKind> {
    Some(match fid {
        ef::AUTH_CERT | ef::AUTH_CA_CERT | ef::SIGN_CA_CERT | ef::TOKEN_INFO => {
            FileKind::Binary { guard: None }
        }
        // The signature certificate carries name, address, birth date and sex: password first.
        ef::SIGN_CERT => FileKind::Binary {
            guard: Some(Purpose::Sign),
        },
        ef::AUTH_PIN => FileKind::Secret(Purpose::Auth),
        ef::SIGN_PIN => FileKind::Secret(Purpose::Sign),
        ef::AUTH_KEY => FileKind::Key(Purpose::Auth),
        ef::SIGN_KEY => FileKind::Key(Purpose::Sign),
        _ => return None,
    })
}

/// Contents of the readable EFs, laid out as on a card.
#[derive(Clone)]
pub struct BinaryFiles {
    auth_cert: Vec<u8>,
    auth_ca_cert: Vec<u8>,
    sign_cert: Vec<u8>,
    sign_ca_cert: Vec<u8>,
    token_info: Vec<u8>,
}

impl BinaryFiles {
    pub fn from_card(card: &CardFile) -> Result<BinaryFiles, CardFileError> {
        let mut token_info = card.token_label.as_bytes().to_vec();
        token_info.resize(TOKEN_INFO_LEN.max(token_info.len()), b' ');
        Ok(BinaryFiles {
            auth_cert: certificate_ef(card.auth.certificate_der()?),
            auth_ca_cert: certificate_ef(card.auth.ca_certificate_der()?),
            sign_cert: certificate_ef(card.sign.certificate_der()?),
            sign_ca_cert: certificate_ef(card.sign.ca_certificate_der()?),
            token_info,
        })
    }

    pub fn content(&self, fid: u16) -> Option<&[u8]> {
        Some(match fid {
            ef::AUTH_CERT => &self.auth_cert,
            ef::AUTH_CA_CERT => &self.auth_ca_cert,
            ef::SIGN_CERT => &self.sign_cert,
            ef::SIGN_CA_CERT => &self.sign_ca_cert,
            ef::TOKEN_INFO => &self.token_info,
            _ => return None,
        })
    }
}

fn certificate_ef(mut der: Vec<u8>) -> Vec<u8> {
    der.resize(CERTIFICATE_EF_LEN.max(der.len()), 0xFF);
    der
}
