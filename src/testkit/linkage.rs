//! Linkage files (`mykey-linkage/1`): the old→new certificate records a provider imports to
//! keep one identity across a renewal (J-LIS 新旧紐付け). Format: docs/linkage-format.md.

use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::card_file::{CardFile, KeySlot};
use super::error::TestkitError;
use super::state::write_atomic;
use super::validity::whole_seconds;
use crate::card::jpki::{self, Purpose};

pub const LINKAGE_FORMAT: &str = "mykey-linkage/1";

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
    pub fn from_json(bytes: &[u8]) -> Result<LinkageFile, TestkitError> {
        let file: LinkageFile =
            serde_json::from_slice(bytes).map_err(|e| TestkitError::Linkage(e.to_string()))?;
        if file.format != LINKAGE_FORMAT {
            return Err(TestkitError::Linkage(format!(
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

    pub fn load(path: &Path) -> Result<LinkageFile, TestkitError> {
        let bytes = std::fs::read(path).map_err(|e| TestkitError::io(path, e))?;
        LinkageFile::from_json(&bytes)
    }

    pub fn save(&self, path: &Path) -> Result<(), TestkitError> {
        write_atomic(path, &self.to_json(), false)
    }
}

fn check_reference(reference: &CertificateRef) -> Result<(), TestkitError> {
    let is_lower_hex = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if reference.issuer_key_id.len() != 64 || !is_lower_hex(&reference.issuer_key_id) {
        return Err(TestkitError::Linkage(format!(
            "issuer_key_id {:?} is not 64 lowercase hex digits",
            reference.issuer_key_id
        )));
    }
    let canonical = hex::decode(&reference.serial)
        .map(|bytes| jpki::serial_hex(&bytes))
        .ok();
    if !is_lower_hex(&reference.serial) || canonical.as_deref() != Some(&reference.serial) {
        return Err(TestkitError::Linkage(format!(
            "serial {:?} is not canonical lowercase hex",
            reference.serial
        )));
    }
    Ok(())
}

/// The linkage of a renewal: one record per purpose, old card's certificate to new card's.
pub fn linkage(
    old: &CardFile,
    new: &CardFile,
    at: OffsetDateTime,
) -> Result<LinkageFile, TestkitError> {
    let mut records = Vec::with_capacity(2);
    for purpose in [Purpose::Auth, Purpose::Sign] {
        let old_ref = certificate_ref(old.slot(purpose))?;
        let new_ref = certificate_ref(new.slot(purpose))?;
        if old_ref == new_ref {
            return Err(TestkitError::InvalidOptions(format!(
                "the old and new {purpose} certificates are the same"
            )));
        }
        records.push(LinkageRecord {
            purpose,
            old: old_ref,
            new: new_ref,
            linked_at: whole_seconds(at),
        });
    }
    Ok(LinkageFile {
        format: LINKAGE_FORMAT.to_owned(),
        records,
    })
}

fn certificate_ref(slot: &KeySlot) -> Result<CertificateRef, TestkitError> {
    let cert_der = slot.certificate_der()?;
    let ca_der = slot.ca_certificate_der()?;
    let parse = |der| {
        x509_parser::parse_x509_certificate(der)
            .map(|(_, cert)| cert)
            .map_err(|e| TestkitError::Certificate(e.to_string()))
    };
    let cert = parse(&cert_der)?;
    let ca = parse(&ca_der)?;
    if cert.issuer().as_raw() != ca.subject().as_raw() {
        return Err(TestkitError::Certificate(
            "the card's CA certificate is not the issuer of its certificate".to_owned(),
        ));
    }
    Ok(CertificateRef {
        issuer_key_id: jpki::key_id(ca.public_key().raw),
        serial: jpki::serial_hex(cert.raw_serial()),
    })
}
