//! The CARD file: everything a software JPKI card needs, as one JSON document.
//!
//! Format `mykey-testkit-card/1`. Certificates and keys are standard base64 of DER (keys as
//! PKCS#8). The PIN and password are stored in clear: this is a test card. The retry counters
//! are part of the file so that they persist across uses; writers replace the file atomically.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::card::jpki::{self, Purpose};

pub const CARD_FORMAT: &str = "mykey-testkit-card/1";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardFileError {
    #[error("cannot read or write the card file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the card file is not valid JSON of format {CARD_FORMAT}: {0}")]
    Format(String),
}

/// One key slot of the card: the certificate, its CA, the key and the secret guarding it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySlot {
    /// base64 DER X.509 certificate.
    pub certificate: String,
    /// base64 DER certificate of the issuing CA (EF 000B / 0002).
    pub ca_certificate: String,
    /// base64 DER PKCS#8 RSA private key.
    pub private_key_pkcs8: String,
    /// The PIN (auth, 4 digits) or password (sign, 6–16 of A–Z 0–9).
    pub secret: String,
    /// Tries left before the secret blocks; 0 means blocked.
    pub tries_left: u8,
}

impl std::fmt::Debug for KeySlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySlot")
            .field(
                "certificate",
                &format_args!("{} base64 chars", self.certificate.len()),
            )
            .field("private_key_pkcs8", &"[redacted]")
            .field("secret", &"[redacted]")
            .field("tries_left", &self.tries_left)
            .finish()
    }
}

impl KeySlot {
    pub fn certificate_der(&self) -> Result<Vec<u8>, CardFileError> {
        decode(&self.certificate, "certificate")
    }
    pub fn ca_certificate_der(&self) -> Result<Vec<u8>, CardFileError> {
        decode(&self.ca_certificate, "ca_certificate")
    }
    pub fn private_key_der(&self) -> Result<Vec<u8>, CardFileError> {
        decode(&self.private_key_pkcs8, "private_key_pkcs8")
    }

    /// Subject, issuer, serial and validity of the slot's certificate.
    pub fn summary(&self) -> Result<CertificateSummary, CardFileError> {
        let der = self.certificate_der()?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| CardFileError::Format(format!("certificate does not parse: {e}")))?;
        Ok(CertificateSummary {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            serial: jpki::serial_hex(cert.raw_serial()),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
        })
    }
}

/// What a person (or a test) wants to know about a slot's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    /// RFC 4514 text, e.g. `C=JP, CN=…`.
    pub subject: String,
    pub issuer: String,
    /// `card::jpki::serial_hex` of the serial.
    pub serial: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

/// The facts the card was issued with, kept so `renew` can issue a successor card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Full name, family and given name separated by U+3000 when both are known.
    pub name: String,
    /// `0`/`1` per character of `name`; `1` marks a substitute glyph (外字).
    #[serde(default)]
    pub name_substitute_map: Option<String>,
    /// Address from the prefecture on, no postcode.
    pub address: String,
    #[serde(default)]
    pub address_substitute_map: Option<String>,
    /// Date of birth as on the card: era digit + YYYYMMDD, zeros for unknown parts.
    pub date_of_birth: String,
    /// 1 male, 2 female, 3 unknown.
    pub sex: u8,
    /// Subject `L=` values of the signature certificate: prefecture then city.
    pub prefecture: String,
    pub city: String,
}

/// A software JPKI card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardFile {
    pub format: String,
    /// EF 0006 label, `JPKIAPICCTOKEN2` on a My Number Card.
    pub token_label: String,
    pub auth: KeySlot,
    pub sign: KeySlot,
    pub holder: Holder,
}

impl CardFile {
    pub fn load(path: &Path) -> Result<CardFile, CardFileError> {
        let bytes = std::fs::read(path).map_err(|source| CardFileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&bytes)
    }

    pub fn from_json(bytes: &[u8]) -> Result<CardFile, CardFileError> {
        let card: CardFile =
            serde_json::from_slice(bytes).map_err(|e| CardFileError::Format(e.to_string()))?;
        if card.format != CARD_FORMAT {
            return Err(CardFileError::Format(format!(
                "unsupported format {:?}",
                card.format
            )));
        }
        Ok(card)
    }

    pub fn slot(&self, purpose: Purpose) -> &KeySlot {
        match purpose {
            Purpose::Auth => &self.auth,
            Purpose::Sign => &self.sign,
        }
    }

    /// `card::jpki::serial_hex` of the certificate in the `purpose` slot.
    pub fn serial_hex(&self, purpose: Purpose) -> Result<String, CardFileError> {
        Ok(self.slot(purpose).summary()?.serial)
    }

    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings and integers always serialises.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Writes the file atomically (temporary file in the same folder, then rename), so a
    /// crash never leaves a half-written card or a lost retry counter.
    pub fn save(&self, path: &Path) -> Result<(), CardFileError> {
        let io = |source| CardFileError::Io {
            path: path.display().to_string(),
            source,
        };
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
        let dir = dir.unwrap_or_else(|| Path::new("."));
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "card".to_owned());
        let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, self.to_json()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}

fn decode(value: &str, field: &str) -> Result<Vec<u8>, CardFileError> {
    STANDARD
        .decode(value)
        .map_err(|e| CardFileError::Format(format!("{field} is not base64: {e}")))
}
