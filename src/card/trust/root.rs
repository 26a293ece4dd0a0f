//! One trusted root certificate: its key parsed once, and what verification asks of it.

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

use super::TrustError;
use crate::card::certificate::{rsa_modulus_bits, MIN_RSA_BITS};
use crate::card::jpki::{self, Purpose};

/// One trusted root: its key parsed once and the facts verification needs.
pub struct Root {
    purpose: Purpose,
    key_id: String,
    test: bool,
    subject: String,
    subject_der: Vec<u8>,
    key_identifier: Option<Vec<u8>>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    spki_der: Vec<u8>,
    certificate_der: Vec<u8>,
    key: ParsedPublicKey,
}

impl std::fmt::Debug for Root {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Root")
            .field("purpose", &self.purpose)
            .field("key_id", &self.key_id)
            .field("test", &self.test)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl Root {
    pub(super) fn from_der(purpose: Purpose, der: &[u8], origin: &str) -> Result<Root, TrustError> {
        let not_a_certificate = || TrustError::NotACertificate {
            origin: origin.to_owned(),
        };
        let unsuitable = || TrustError::UnsuitableRoot {
            origin: origin.to_owned(),
        };
        let (rest, cert) = X509Certificate::from_der(der).map_err(|_| not_a_certificate())?;
        if !rest.is_empty() {
            return Err(not_a_certificate());
        }
        let spki = cert.public_key();
        let bits = rsa_modulus_bits(spki).ok_or_else(unsuitable)?;
        if bits < MIN_RSA_BITS || !cert.is_ca() {
            return Err(unsuitable());
        }
        let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki.raw)
            .map_err(|_| unsuitable())?;
        let subject = cert.subject();
        let has_ou = |ou: &str| {
            subject
                .iter_organizational_unit()
                .any(|a| a.as_str().ok() == Some(ou))
        };
        // The J-LIS DNs say which purpose a root serves; a root dropped into the other
        // folder would otherwise silently accept the wrong kind of certificate.
        for (named, ou) in [
            (Purpose::Auth, jpki::ROOT_OU_AUTH),
            (Purpose::Sign, jpki::ROOT_OU_SIGN),
        ] {
            if named != purpose && has_ou(ou) {
                return Err(TrustError::WrongPurpose {
                    origin: origin.to_owned(),
                    named,
                    given: purpose,
                });
            }
        }
        let test = subject
            .iter_organization()
            .any(|a| a.as_str().ok() == Some(jpki::TEST_ROOT_ORG));
        let key_identifier = cert
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(ki) => Some(ki.0.to_vec()),
                _ => None,
            });
        Ok(Root {
            purpose,
            key_id: jpki::key_id(spki.raw),
            test,
            subject: subject.to_string(),
            subject_der: subject.as_raw().to_vec(),
            key_identifier,
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            spki_der: spki.raw.to_vec(),
            certificate_der: der.to_vec(),
            key,
        })
    }

    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// [`jpki::key_id`] of the root's SubjectPublicKeyInfo: how bindings and CRLs name it.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Whether this is a J-LIS test root (`O=JPKI-TEST`), refused unless test cards are allowed.
    pub fn is_test(&self) -> bool {
        self.test
    }

    /// The subject DN as text (the same for every generation of a purpose).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The subject Name, DER, which a CRL's issuer must equal.
    pub fn subject_der(&self) -> &[u8] {
        &self.subject_der
    }

    /// subjectKeyIdentifier, which authorityKeyIdentifier of what it signs repeats.
    pub fn key_identifier(&self) -> Option<&[u8]> {
        self.key_identifier.as_deref()
    }

    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// Whether this root's key made `signature` (RSA PKCS#1 v1.5, SHA-256) over `signed`.
    pub(crate) fn signed(&self, signed: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(signed, signature).is_ok()
    }
}
