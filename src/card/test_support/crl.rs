//! Hand-made CRLs for unit tests (RFC 5280 §5), every field changeable.

use time::{Duration, OffsetDateTime};

use super::{
    authority_key_identifier, extension, integer, seq, sha256_with_rsa, signed, time, tlv, Ca, Key,
    NOW,
};
use crate::card::oids;

pub(crate) fn crl_entry(serial: &[u8], at: OffsetDateTime, reason: Option<u8>) -> Vec<u8> {
    let extensions = match reason {
        Some(code) => seq(&[&extension(oids::REASON_CODE, false, &tlv(0x0A, &[code]))]),
        None => Vec::new(),
    };
    seq(&[&integer(serial), &time(at), &extensions])
}

/// A CRL to sign; defaults follow RFC 5280 §5 as J-LIS roots issue them.
pub(crate) struct CrlBuilder {
    pub version: Vec<u8>,
    pub issuer: Vec<u8>,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    pub entries: Vec<Vec<u8>>,
    pub extensions: Vec<Vec<u8>>,
}

impl CrlBuilder {
    pub fn new(ca: &Ca, number: u64) -> CrlBuilder {
        let number = number.to_be_bytes();
        let start = number.iter().position(|b| *b != 0).unwrap_or(7);
        CrlBuilder {
            version: integer(&[1]),
            issuer: ca.subject.clone(),
            this_update: NOW - Duration::hours(1),
            next_update: Some(NOW + Duration::days(1)),
            entries: Vec::new(),
            extensions: vec![
                extension(
                    oids::AUTHORITY_KEY_IDENTIFIER,
                    false,
                    &authority_key_identifier(&ca.key_identifier),
                ),
                extension(oids::CRL_NUMBER, false, &integer(&number[start..])),
            ],
        }
    }

    pub fn revoke(mut self, serial: &[u8], at: OffsetDateTime, reason: Option<u8>) -> CrlBuilder {
        self.entries.push(crl_entry(serial, at, reason));
        self
    }

    pub fn sign(&self, key: &Key) -> Vec<u8> {
        let next = self.next_update.map(time).unwrap_or_default();
        let revoked = if self.entries.is_empty() {
            Vec::new()
        } else {
            tlv(0x30, &self.entries.concat())
        };
        let extensions = if self.extensions.is_empty() {
            Vec::new()
        } else {
            tlv(0xA0, &tlv(0x30, &self.extensions.concat()))
        };
        let tbs = seq(&[
            &self.version,
            &sha256_with_rsa(),
            &self.issuer,
            &time(self.this_update),
            &next,
            &revoked,
            &extensions,
        ]);
        signed(&tbs, key)
    }
}
