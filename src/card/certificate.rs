//! Reads a card certificate once: the X.509 fields and the extensions verification checks.
//!
//! x509-parser splits the certificate; the five extensions we act on are read here with the
//! DER reader in a single pass, without allocating, because this runs on every login.

use x509_parser::certificate::{X509Certificate, X509CertificateParser};
use x509_parser::nom::Parser as _;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::der::{self, Reader, TAG_BIT_STRING, TAG_BOOLEAN, TAG_INTEGER, TAG_OID, TAG_SEQUENCE};
use super::oids;
use super::verify::VerifyError;

/// Smallest RSA modulus accepted for roots and card keys (JPKI uses RSA-2048).
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// RFC 5280 §4.1.2.2: serials are at most 20 octets (after the sign byte).
pub(crate) const MAX_SERIAL_OCTETS: usize = 20;

/// Which J-LIS certificate policies a certificate asserts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Policies {
    pub auth: bool,
    pub sign: bool,
    pub sign_test: bool,
}

/// keyUsage bits verification cares about (RFC 5280 §4.2.1.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct KeyUsage {
    pub digital_signature: bool,
    pub non_repudiation: bool,
}

/// A parsed card certificate.
pub(crate) struct CardCertificate<'a> {
    pub x509: X509Certificate<'a>,
    /// keyIdentifier of the authorityKeyIdentifier extension.
    pub authority_key_id: Option<&'a [u8]>,
    pub key_usage: Option<KeyUsage>,
    pub is_ca: bool,
    pub policies: Policies,
    /// extnValue of subjectAltName: a GeneralNames SEQUENCE (the basic facts live there).
    pub subject_alt_name: Option<&'a [u8]>,
}

impl<'a> CardCertificate<'a> {
    /// Parses `der`, which must be exactly one certificate.
    pub fn parse(der: &'a [u8]) -> Result<CardCertificate<'a>, VerifyError> {
        let (rest, x509) = X509CertificateParser::new()
            .with_deep_parse_extensions(false)
            .parse(der)
            .map_err(|_| VerifyError::Unparsable)?;
        if !rest.is_empty() {
            return Err(VerifyError::Unparsable);
        }
        let mut cert = CardCertificate {
            x509,
            authority_key_id: None,
            key_usage: None,
            is_ca: false,
            policies: Policies::default(),
            subject_alt_name: None,
        };
        let mut seen = [false; 5];
        for ext in cert.x509.extensions() {
            let oid = ext.oid.as_bytes();
            let index = [
                oids::AUTHORITY_KEY_IDENTIFIER,
                oids::KEY_USAGE,
                oids::BASIC_CONSTRAINTS,
                oids::CERTIFICATE_POLICIES,
                oids::SUBJECT_ALT_NAME,
            ]
            .iter()
            .position(|known| *known == oid);
            let Some(index) = index else {
                // RFC 5280 §4.2: a critical extension we do not process makes the
                // certificate unusable.
                if ext.critical {
                    return Err(VerifyError::UnknownCriticalExtension);
                }
                continue;
            };
            // RFC 5280 §4.2: at most one instance of a given extension.
            if std::mem::replace(&mut seen[index], true) {
                return Err(VerifyError::MalformedExtension);
            }
            let value = ext.value;
            let malformed = |_| VerifyError::MalformedExtension;
            match index {
                0 => cert.authority_key_id = authority_key_id(value).map_err(malformed)?,
                1 => cert.key_usage = Some(key_usage(value).map_err(malformed)?),
                2 => cert.is_ca = is_ca(value).map_err(malformed)?,
                3 => cert.policies = policies(value).map_err(malformed)?,
                _ => cert.subject_alt_name = Some(value),
            }
        }
        Ok(cert)
    }
}

/// Bits of an RSA SubjectPublicKeyInfo's modulus; `None` for other keys or malformed ones.
pub(crate) fn rsa_modulus_bits(spki: &SubjectPublicKeyInfo<'_>) -> Option<usize> {
    if spki.algorithm.algorithm.as_bytes() != oids::RSA_ENCRYPTION
        || spki.subject_public_key.unused_bits != 0
    {
        return None;
    }
    // RFC 8017 §A.1.1: RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
    let mut outer = Reader::new(&spki.subject_public_key.data);
    let key = outer.expect(TAG_SEQUENCE, "RSAPublicKey").ok()?;
    outer.finish("trailing bytes").ok()?;
    let mut fields = key.reader();
    let modulus = fields.expect(TAG_INTEGER, "modulus").ok()?;
    let magnitude = der::unsigned_integer(&modulus)?;
    let (&first, _) = magnitude.split_first()?;
    Some(magnitude.len() * 8 - first.leading_zeros() as usize)
}

pub(crate) fn authority_key_id(value: &[u8]) -> Result<Option<&[u8]>, der::DerError> {
    // RFC 5280 §4.2.1.1: SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, … }
    let mut outer = Reader::new(value);
    let seq = outer.expect(TAG_SEQUENCE, "AuthorityKeyIdentifier")?;
    outer.finish("trailing bytes")?;
    Ok(seq.reader().optional(0x80)?.map(|tlv| tlv.value))
}

fn key_usage(value: &[u8]) -> Result<KeyUsage, der::DerError> {
    let mut outer = Reader::new(value);
    let bits = outer.expect(TAG_BIT_STRING, "KeyUsage")?;
    outer.finish("trailing bytes")?;
    // The first contents octet counts unused bits; bit 0 is the most significant bit of the
    // next octet (X.690 §8.6.2).
    let first = match bits.value {
        [unused, first, ..] if *unused < 8 => *first,
        [0] => 0,
        _ => return Err(outer.error("KeyUsage bits")),
    };
    Ok(KeyUsage {
        digital_signature: first & 0x80 != 0,
        non_repudiation: first & 0x40 != 0,
    })
}

fn is_ca(value: &[u8]) -> Result<bool, der::DerError> {
    // RFC 5280 §4.2.1.9: SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
    let mut outer = Reader::new(value);
    let seq = outer.expect(TAG_SEQUENCE, "BasicConstraints")?;
    outer.finish("trailing bytes")?;
    Ok(seq
        .reader()
        .optional(TAG_BOOLEAN)?
        .is_some_and(|b| b.value != [0]))
}

fn policies(value: &[u8]) -> Result<Policies, der::DerError> {
    // RFC 5280 §4.2.1.4: SEQUENCE OF SEQUENCE { policyIdentifier OID, qualifiers OPTIONAL }
    let mut outer = Reader::new(value);
    let seq = outer.expect(TAG_SEQUENCE, "certificatePolicies")?;
    outer.finish("trailing bytes")?;
    let mut found = Policies::default();
    let mut list = seq.reader();
    while !list.is_empty() {
        let info = list.expect(TAG_SEQUENCE, "PolicyInformation")?;
        let id = info.reader().expect(TAG_OID, "policyIdentifier")?.value;
        found.auth |= id == oids::POLICY_AUTH;
        found.sign |= id == oids::POLICY_SIGN;
        found.sign_test |= id == oids::POLICY_SIGN_TEST;
    }
    Ok(found)
}

/// Whether the certificate serial fits RFC 5280's 20 octets.
pub(crate) fn serial_fits(raw_serial: &[u8]) -> bool {
    let start = raw_serial
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(raw_serial.len());
    raw_serial.len() - start <= MAX_SERIAL_OCTETS
}
