//! Writing linkage files (`mykey-linkage/1`, the format in `card::linkage`) for a renewal the
//! test CA made, and reading and saving them as files.

use std::path::Path;

use time::OffsetDateTime;

use super::card_file::{CardFile, KeySlot};
use super::error::TestkitError;
use super::state::write_atomic;
use super::validity::whole_seconds;
use crate::card::jpki::{self, Purpose};
pub use crate::card::linkage::{CertificateRef, LinkageFile, LinkageRecord, LINKAGE_FORMAT};

impl LinkageFile {
    pub fn load(path: &Path) -> Result<LinkageFile, TestkitError> {
        let bytes = std::fs::read(path).map_err(|e| TestkitError::io(path, e))?;
        LinkageFile::from_json(&bytes).map_err(TestkitError::Linkage)
    }

    pub fn save(&self, path: &Path) -> Result<(), TestkitError> {
        write_atomic(path, &self.to_json(), false)
    }
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
