//! Issuing cards, revoking certificates, and renewing cards (new keys, old ones superseded).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use time::OffsetDateTime;

use super::ca::TestCa;
use super::card_file::{CardFile, KeySlot, CARD_FORMAT};
use super::error::TestkitError;
use super::keys::{random_bytes, random_string, RsaKey, UPPER_ALNUM};
use super::options::{random_password, random_pin, CardOptions};
use super::profile::{self, EndEntity};
use super::state::{IssuedCertificate, Revocation};
use super::validity::{fifth_birthday_after, whole_seconds};
use crate::card::jpki::{self, Purpose, RevocationReason};

/// Length of the opaque subject CNs, as on the surveyed test card (`997794E9AGCIEG13221003A`).
const SUBJECT_ID_LEN: usize = 23;

/// What may change when a card is renewed; everything unset is chosen afresh (random PIN and
/// password, validity from the time of renewal).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RenewOptions {
    pub pin: Option<String>,
    pub password: Option<String>,
    pub not_before: Option<OffsetDateTime>,
    pub not_after: Option<OffsetDateTime>,
}

impl std::fmt::Debug for RenewOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenewOptions")
            .field("pin", &self.pin.as_ref().map(|_| "[redacted]"))
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish()
    }
}

impl TestCa {
    /// Issues a card for a new holder: two keys and two certificates, each from its own root.
    pub fn issue_card(
        &mut self,
        opts: &CardOptions,
        now: OffsetDateTime,
    ) -> Result<CardFile, TestkitError> {
        let holder_id = hex::encode(random_bytes(16)?);
        let card = self.issue_for(opts, &holder_id, now)?;
        self.save()?;
        Ok(card)
    }

    /// Issues both certificates and records them; the caller saves the state.
    fn issue_for(
        &mut self,
        opts: &CardOptions,
        holder_id: &str,
        now: OffsetDateTime,
    ) -> Result<CardFile, TestkitError> {
        let date_of_birth = opts.validate()?;
        let not_before = whole_seconds(opts.not_before.unwrap_or(now));
        let not_after = match opts.not_after {
            Some(t) => whole_seconds(t),
            None => fifth_birthday_after(not_before, &date_of_birth)?,
        };
        if not_after <= not_before {
            return Err(TestkitError::InvalidOptions(format!(
                "the validity ends ({not_after}) before it starts ({not_before})"
            )));
        }
        // Both certificates share one validity, so the signature certificate never outlives
        // the user-authentication one (reference/jpki.md "Lifetimes").
        let validity = (not_before, not_after);
        let auth = self.issue_slot(Purpose::Auth, opts, holder_id, validity, &opts.pin)?;
        let sign = self.issue_slot(Purpose::Sign, opts, holder_id, validity, &opts.password)?;
        Ok(CardFile {
            format: CARD_FORMAT.to_owned(),
            token_label: jpki::TOKEN_LABEL.to_owned(),
            auth,
            sign,
            holder: opts.holder.clone(),
        })
    }

    fn issue_slot(
        &mut self,
        purpose: Purpose,
        opts: &CardOptions,
        holder_id: &str,
        (not_before, not_after): (OffsetDateTime, OffsetDateTime),
        secret: &str,
    ) -> Result<KeySlot, TestkitError> {
        let key = RsaKey::generate()?;
        let spki_der = key.spki_der()?;
        let serial = self.new_serial()?;
        let common_name = random_string(UPPER_ALNUM, SUBJECT_ID_LEN)?;
        let root = self.root(purpose);
        let certificate = profile::issue(
            root,
            &EndEntity {
                serial: &serial,
                common_name: &common_name,
                spki_der: &spki_der,
                not_before,
                not_after,
                holder: &opts.holder,
            },
        )?;
        let slot = KeySlot {
            certificate: STANDARD.encode(&certificate),
            ca_certificate: STANDARD.encode(&root.cert_der),
            private_key_pkcs8: STANDARD.encode(key.pkcs8_der()?),
            secret: secret.to_owned(),
            tries_left: match purpose {
                Purpose::Auth => jpki::AUTH_PIN_TRIES,
                Purpose::Sign => jpki::SIGN_PASSWORD_TRIES,
            },
        };
        self.state.issued.push(IssuedCertificate {
            serial: jpki::serial_hex(&serial),
            purpose,
            holder_id: holder_id.to_owned(),
            not_after,
        });
        Ok(slot)
    }

    /// A fresh serial: positive (RFC 5280 §4.1.2.2), 121–127 random bits, unique in this CA.
    fn new_serial(&self) -> Result<Vec<u8>, TestkitError> {
        loop {
            let mut serial = random_bytes(16)?;
            serial[0] = (serial[0] & 0x7f).max(1);
            if self.state.find_issued(&jpki::serial_hex(&serial)).is_none() {
                return Ok(serial);
            }
        }
    }

    /// Revokes the certificate with this serial (hex, any case, leading zeros allowed) as of
    /// `at`, and says which root had issued it.
    pub fn revoke(
        &mut self,
        serial_hex: &str,
        reason: RevocationReason,
        at: OffsetDateTime,
    ) -> Result<Purpose, TestkitError> {
        let serial = canonical_serial(serial_hex)?;
        let purpose = self
            .state
            .find_issued(&serial)
            .ok_or_else(|| TestkitError::UnknownSerial(serial.clone()))?
            .purpose;
        if self.state.is_revoked(&serial) {
            return Err(TestkitError::AlreadyRevoked(serial));
        }
        self.state.revoked.push(Revocation {
            serial,
            purpose,
            reason,
            revoked_at: whole_seconds(at),
        });
        self.save()?;
        Ok(purpose)
    }

    /// Renews a card this CA issued: same holder and facts, new keys, serials, PIN and password;
    /// the old two certificates are revoked as `superseded` at `now`.
    pub fn renew(&mut self, old: &CardFile, now: OffsetDateTime) -> Result<CardFile, TestkitError> {
        self.renew_with(old, &RenewOptions::default(), now)
    }

    pub fn renew_with(
        &mut self,
        old: &CardFile,
        opts: &RenewOptions,
        now: OffsetDateTime,
    ) -> Result<CardFile, TestkitError> {
        let mut old_certificates = Vec::with_capacity(2);
        for purpose in [Purpose::Auth, Purpose::Sign] {
            let serial = old.serial_hex(purpose)?;
            let issued = self
                .state
                .find_issued(&serial)
                .ok_or(TestkitError::UnknownSerial(serial))?;
            old_certificates.push(issued.clone());
        }
        let holder_id = old_certificates
            .first()
            .map(|c| c.holder_id.clone())
            .unwrap_or_default();
        let options = CardOptions {
            holder: old.holder.clone(),
            pin: opts.pin.clone().map_or_else(random_pin, Ok)?,
            password: opts.password.clone().map_or_else(random_password, Ok)?,
            not_before: opts.not_before,
            not_after: opts.not_after,
        };
        let card = self.issue_for(&options, &holder_id, now)?;
        for old_certificate in old_certificates {
            // A certificate already revoked (e.g. the signature one after a move) stays as is.
            if !self.state.is_revoked(&old_certificate.serial) {
                self.state.revoked.push(Revocation {
                    serial: old_certificate.serial,
                    purpose: old_certificate.purpose,
                    reason: RevocationReason::Superseded,
                    revoked_at: whole_seconds(now),
                });
            }
        }
        self.save()?;
        Ok(card)
    }
}

/// `card::jpki::serial_hex` of a serial typed by a person: any case, optional `0x`, colons.
fn canonical_serial(text: &str) -> Result<String, TestkitError> {
    let digits: String = text
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| *c != ':')
        .collect();
    let padded = if digits.len() % 2 == 1 {
        format!("0{digits}")
    } else {
        digits
    };
    let bytes = hex::decode(&padded)
        .map_err(|_| TestkitError::UnknownSerial(format!("{text} (not hexadecimal)")))?;
    Ok(jpki::serial_hex(&bytes))
}

#[cfg(test)]
mod tests {
    use super::canonical_serial;

    #[test]
    fn typed_serials_are_read_in_canonical_form() {
        for typed in ["0x00AB01", "ab01", "AB:01", "0ab01"] {
            assert_eq!(canonical_serial(typed).expect(typed), "ab01");
        }
        assert!(canonical_serial("xyz").is_err());
    }
}
