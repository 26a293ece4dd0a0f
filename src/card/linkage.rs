//! Linkage files (`mykey-linkage/1`): the old→new certificate records a provider imports to
//! keep one identity across a renewal (J-LIS 新旧紐付け). Format: docs/linkage-format.md.
//!
//! The format lives here, beside the other JPKI facts, because both sides use it: the provider
//! imports it and the test kit writes it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::jpki::{self, Purpose};

pub const LINKAGE_FORMAT: &str = "mykey-linkage/1";

/// Why bytes are not a linkage file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the linkage file is not valid JSON of format mykey-linkage/1: {0}")]
pub struct LinkageFormatError(pub String);

/// A certificate named the way bindings name it: issuer key id and canonical serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRef {
    /// `card::jpki::key_id` of the issuing root's SubjectPublicKeyInfo.
    pub issuer_key_id: String,
    /// `card::jpki::serial_hex` of the certificate serial.
    pub serial: String,
}

/// One link: the certificate `old` of `purpose` was succeeded by `new` at `linked_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkageRecord {
    pub purpose: Purpose,
    pub old: CertificateRef,
    pub new: CertificateRef,
    #[serde(with = "time::serde::rfc3339")]
    pub linked_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkageFile {
    pub format: String,
    pub records: Vec<LinkageRecord>,
}

impl LinkageFile {
    pub fn to_json(&self) -> Vec<u8> {
        // Strings, enums and times always serialise.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Parses and checks a linkage file: known format, well-formed key ids and serials.
    pub fn from_json(bytes: &[u8]) -> Result<LinkageFile, LinkageFormatError> {
        let file: LinkageFile =
            serde_json::from_slice(bytes).map_err(|e| LinkageFormatError(e.to_string()))?;
        if file.format != LINKAGE_FORMAT {
            return Err(LinkageFormatError(format!(
                "unsupported format {:?}",
                file.format
            )));
        }
        for record in &file.records {
            for reference in [&record.old, &record.new] {
                check_reference(reference)?;
            }
        }
        Ok(file)
    }
}

fn check_reference(reference: &CertificateRef) -> Result<(), LinkageFormatError> {
    let is_lower_hex = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if reference.issuer_key_id.len() != 64 || !is_lower_hex(&reference.issuer_key_id) {
        return Err(LinkageFormatError(format!(
            "issuer_key_id {:?} is not 64 lowercase hex digits",
            reference.issuer_key_id
        )));
    }
    let canonical = hex::decode(&reference.serial)
        .map(|bytes| jpki::serial_hex(&bytes))
        .ok();
    if !is_lower_hex(&reference.serial) || canonical.as_deref() != Some(&reference.serial) {
        return Err(LinkageFormatError(format!(
            "serial {:?} is not canonical lowercase hex",
            reference.serial
        )));
    }
    Ok(())
}
