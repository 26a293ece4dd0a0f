//! The revokedCertificates of a CRL, decoded one entry at a time (RFC 5280 §5.1.2.6).

use time::OffsetDateTime;

use super::{dotted, CrlError, Extension};
use crate::card::certificate::MAX_SERIAL_OCTETS;
use crate::card::der::{self, DerError, Reader, TAG_ENUMERATED, TAG_INTEGER, TAG_SEQUENCE};
use crate::card::jpki::{self, RevocationReason};
use crate::card::oids;

/// One revoked certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrlEntry<'a> {
    /// Unsigned big-endian serial without leading zeros, as [`jpki::serial_hex`] reads it.
    pub serial: &'a [u8],
    pub revoked_at: OffsetDateTime,
    /// reasonCode; an absent one is `unspecified` (RFC 5280 §5.3.1).
    pub reason: RevocationReason,
}

impl CrlEntry<'_> {
    /// The serial as [`jpki::serial_hex`] text.
    pub fn serial_hex(&self) -> String {
        jpki::serial_hex(self.serial)
    }
}

/// Iterator over a CRL's entries; yields one error and stops at the first malformed entry.
#[derive(Debug, Clone)]
pub struct CrlEntries<'a> {
    list: Reader<'a>,
    index: usize,
    failed: bool,
}

impl<'a> CrlEntries<'a> {
    pub(crate) fn new(list: Reader<'a>) -> CrlEntries<'a> {
        CrlEntries {
            list,
            index: 0,
            failed: false,
        }
    }

    fn entry(&mut self) -> Result<CrlEntry<'a>, CrlError> {
        let index = self.index;
        let bad = |e: DerError| CrlError::BadEntry {
            index,
            what: e.what,
        };
        let seq = self
            .list
            .expect(TAG_SEQUENCE, "revokedCertificate")
            .map_err(bad)?;
        let mut fields = seq.reader();
        let serial = fields.expect(TAG_INTEGER, "userCertificate").map_err(bad)?;
        if serial.value.is_empty() {
            return Err(CrlError::BadEntry {
                index,
                what: "empty userCertificate",
            });
        }
        // Serials are read as unsigned bytes, like `jpki::serial_hex` reads certificates,
        // so a (non-conforming) negative serial still matches its certificate.
        let start = serial
            .value
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(serial.value.len());
        let serial = &serial.value[start..];
        if serial.len() > MAX_SERIAL_OCTETS {
            return Err(CrlError::SerialTooLong { index });
        }
        let date = fields.read().map_err(bad)?;
        let revoked_at = der::time(&date).ok_or(CrlError::BadEntry {
            index,
            what: "revocationDate is not an RFC 5280 time",
        })?;
        let mut reason = RevocationReason::Unspecified;
        if let Some(extensions) = fields.optional(TAG_SEQUENCE).map_err(bad)? {
            reason = entry_reason(extensions.reader(), index)?;
        }
        fields
            .finish("bytes after crlEntryExtensions")
            .map_err(bad)?;
        Ok(CrlEntry {
            serial,
            revoked_at,
            reason,
        })
    }
}

fn entry_reason(mut list: Reader<'_>, index: usize) -> Result<RevocationReason, CrlError> {
    let bad = |e: DerError| CrlError::BadEntry {
        index,
        what: e.what,
    };
    let mut reason = None;
    while !list.is_empty() {
        let ext = Extension::read(&mut list).map_err(bad)?;
        if ext.oid == oids::REASON_CODE {
            let mut value = Reader::new(ext.value);
            let code = value.expect(TAG_ENUMERATED, "reasonCode").map_err(bad)?;
            value.finish("bytes after reasonCode").map_err(bad)?;
            let code = der::small_unsigned(&code).ok_or(CrlError::BadEntry {
                index,
                what: "reasonCode out of range",
            })?;
            if reason.replace(reason_of(code, index)?).is_some() {
                return Err(CrlError::BadEntry {
                    index,
                    what: "reasonCode twice",
                });
            }
        } else if ext.critical && ext.oid != oids::INVALIDITY_DATE {
            // RFC 5280 §5.3: e.g. certificateIssuer (indirect CRLs), which we do not support.
            return Err(CrlError::UnsupportedCriticalExtension {
                oid: dotted(ext.oid),
            });
        }
    }
    Ok(reason.unwrap_or(RevocationReason::Unspecified))
}

/// RFC 5280 §5.3.1 CRLReason. Codes J-LIS does not use (privilegeWithdrawn 9,
/// aACompromise 10) still revoke; they are kept as `unspecified`.
fn reason_of(code: u32, index: usize) -> Result<RevocationReason, CrlError> {
    match code {
        // removeFromCRL (8) only has meaning in a delta CRL; 7 is unassigned.
        8 => Err(CrlError::BadEntry {
            index,
            what: "removeFromCRL in a full CRL",
        }),
        9 | 10 => Ok(RevocationReason::Unspecified),
        _ => u8::try_from(code)
            .ok()
            .and_then(RevocationReason::from_code)
            .ok_or(CrlError::BadEntry {
                index,
                what: "unknown reasonCode",
            }),
    }
}

impl<'a> Iterator for CrlEntries<'a> {
    type Item = Result<CrlEntry<'a>, CrlError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.list.is_empty() {
            return None;
        }
        let entry = self.entry();
        self.failed = entry.is_err();
        self.index += 1;
        Some(entry)
    }
}
