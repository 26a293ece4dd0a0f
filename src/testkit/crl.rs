//! Certificate revocation lists: DER v2 CRLs signed by a root (RFC 5280 §5), optionally padded
//! with synthetic entries for load tests.

use time::{Duration, OffsetDateTime};
use yasna::Tag;

use super::ca::TestCa;
use super::der::{self, oids, Extension};
use super::error::TestkitError;
use super::state::Revocation;
use super::validity::whole_seconds;
use crate::card::jpki::{Purpose, RevocationReason};

/// Synthetic serials are `SYNTHETIC_SERIAL_BASE + i`: below 2^63, so they never meet a real
/// serial of this CA (those have 121–127 bits), and the same `i` gives the same serial in every
/// CRL, so diffs between padded CRLs stay small.
pub const SYNTHETIC_SERIAL_BASE: u64 = 0x7e00_0000_0000_0000;

/// Reasons cycled through by synthetic entries: a realistic mix, `unspecified` included.
const SYNTHETIC_REASONS: [RevocationReason; 5] = [
    RevocationReason::Unspecified,
    RevocationReason::KeyCompromise,
    RevocationReason::AffiliationChanged,
    RevocationReason::Superseded,
    RevocationReason::CessationOfOperation,
];

impl TestCa {
    /// The CRL of `purpose` as of `this_update`: every revocation dated at or before it.
    pub fn crl(
        &mut self,
        purpose: Purpose,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>, TestkitError> {
        self.crl_padded(purpose, this_update, next_update, 0)
    }

    /// `crl` plus `synthetic_entries` made-up revoked serials, encoded straight into one buffer.
    pub fn crl_padded(
        &mut self,
        purpose: Purpose,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
        synthetic_entries: usize,
    ) -> Result<Vec<u8>, TestkitError> {
        let this_update = whole_seconds(this_update);
        let next_update = whole_seconds(next_update);
        if next_update <= this_update {
            return Err(TestkitError::InvalidOptions(
                "nextUpdate must be later than thisUpdate".to_owned(),
            ));
        }
        let this_update_der = der::time(this_update)?;
        let next_update_der = der::time(next_update)?;
        let synthetic_date = der::time(this_update - Duration::days(1))?;
        // RFC 5280 §5.2.3: the number strictly increases. It is saved before the CRL leaves,
        // so a crash can skip a number but never reuse one.
        let number = {
            let slot = self.state.crl_numbers.get_mut(purpose);
            *slot += 1;
            *slot
        };
        self.save()?;

        let revoked: Vec<&Revocation> = self
            .state
            .revoked
            .iter()
            .filter(|r| r.purpose == purpose && r.revoked_at <= this_update)
            .collect();
        let mut entries = Vec::with_capacity(revoked.len() * 48 + synthetic_entries * 44);
        for revocation in revoked {
            let serial = hex::decode(&revocation.serial)
                .map_err(|_| TestkitError::UnknownSerial(revocation.serial.clone()))?;
            let date = der::time(revocation.revoked_at)?;
            push_entry(&mut entries, &serial, &date, revocation.reason);
        }
        for i in 0..synthetic_entries as u64 {
            let serial = (SYNTHETIC_SERIAL_BASE + i).to_be_bytes();
            let reason = SYNTHETIC_REASONS[(i % SYNTHETIC_REASONS.len() as u64) as usize];
            push_entry(&mut entries, &serial, &synthetic_date, reason);
        }

        let root = self.root(purpose);
        let mut revoked_header = Vec::with_capacity(6);
        der::header(0x30, entries.len(), &mut revoked_header);
        let extensions = [
            Extension::new(
                oids::AUTHORITY_KEY_IDENTIFIER,
                false,
                der::authority_key_identifier(&root.key_identifier),
            ),
            Extension::new(
                oids::CRL_NUMBER,
                false,
                yasna::construct_der(|w| w.write_u64(number)),
            ),
        ];
        let tbs = yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_u8(1); // v2, RFC 5280 §5.1.2.1
                der::write_sha256_with_rsa(w.next());
                w.next().write_der(&root.subject_der);
                w.next().write_der(&this_update_der);
                w.next().write_der(&next_update_der);
                // §5.1.2.6: with nothing revoked the list is absent, not empty.
                if !entries.is_empty() {
                    w.next().write_der(&revoked_header);
                    w.next().write_der(&entries);
                }
                w.next()
                    .write_tagged(Tag::context(0), |w| der::write_extensions(w, &extensions));
            })
        });
        der::sign(&tbs, &root.key)
    }
}

/// Appends one revokedCertificates entry, written by hand so a million of them cost one
/// buffer and no per-entry allocation: SEQUENCE { INTEGER serial, Time, [reasonCode] }.
fn push_entry(out: &mut Vec<u8>, serial: &[u8], date_der: &[u8], reason: RevocationReason) {
    let magnitude = match serial.iter().position(|b| *b != 0) {
        Some(start) => &serial[start..],
        None => &[0u8][..],
    };
    let sign_byte = usize::from(magnitude[0] & 0x80 != 0);
    let integer_len = 2 + sign_byte + magnitude.len();
    // RFC 5280 §5.3.1: reasonCode is omitted rather than written as unspecified.
    let code = reason.code();
    let extensions_len = if code == 0 { 0 } else { 14 };
    der::header(0x30, integer_len + date_der.len() + extensions_len, out);
    out.extend_from_slice(&[0x02, (sign_byte + magnitude.len()) as u8]);
    if sign_byte == 1 {
        out.push(0);
    }
    out.extend_from_slice(magnitude);
    out.extend_from_slice(date_der);
    if code != 0 {
        // SEQUENCE { SEQUENCE { OID 2.5.29.21, OCTET STRING { ENUMERATED code } } }
        out.extend_from_slice(&[
            0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, code,
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_written_entries_match_the_structured_encoding() {
        let date = der::time(time::macros::datetime!(2025-01-02 03:04:05 UTC)).expect("time");
        let mut hand = Vec::new();
        push_entry(
            &mut hand,
            &[0x00, 0x8f, 0x01],
            &date,
            RevocationReason::Superseded,
        );
        let structured = yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_bigint_bytes(&[0x8f, 0x01], true);
                w.next().write_der(&date);
                w.next().write_sequence(|w| {
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&der::oid(oids::REASON_CODE));
                        w.next()
                            .write_bytes(&yasna::construct_der(|w| w.write_enum(4)));
                    });
                });
            })
        });
        assert_eq!(hand, structured);
    }

    #[test]
    fn unspecified_entries_carry_no_reason_code() {
        let date = der::time(time::macros::datetime!(2025-01-02 03:04:05 UTC)).expect("time");
        let mut hand = Vec::new();
        push_entry(&mut hand, &[0x01], &date, RevocationReason::Unspecified);
        assert_eq!(hand.len(), 2 + 3 + date.len());
    }
}
