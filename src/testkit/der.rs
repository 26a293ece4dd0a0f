//! DER building blocks shared by the certificate and CRL profiles (X.690, RFC 5280).

use time::OffsetDateTime;
use yasna::models::ObjectIdentifier;
use yasna::{DERWriter, Tag};

use super::error::TestkitError;
use super::keys::RsaKey;

/// Standard object identifiers the profiles use.
pub(crate) mod oids {
    pub const SHA256_WITH_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
    pub const COUNTRY: &[u64] = &[2, 5, 4, 6];
    pub const LOCALITY: &[u64] = &[2, 5, 4, 7];
    pub const ORGANIZATION: &[u64] = &[2, 5, 4, 10];
    pub const ORGANIZATIONAL_UNIT: &[u64] = &[2, 5, 4, 11];
    pub const COMMON_NAME: &[u64] = &[2, 5, 4, 3];
    pub const SUBJECT_KEY_IDENTIFIER: &[u64] = &[2, 5, 29, 14];
    pub const KEY_USAGE: &[u64] = &[2, 5, 29, 15];
    pub const SUBJECT_ALT_NAME: &[u64] = &[2, 5, 29, 17];
    pub const ISSUER_ALT_NAME: &[u64] = &[2, 5, 29, 18];
    pub const BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
    pub const CRL_NUMBER: &[u64] = &[2, 5, 29, 20];
    #[cfg(test)]
    pub const REASON_CODE: &[u64] = &[2, 5, 29, 21];
    pub const CRL_DISTRIBUTION_POINTS: &[u64] = &[2, 5, 29, 31];
    pub const CERTIFICATE_POLICIES: &[u64] = &[2, 5, 29, 32];
    pub const AUTHORITY_KEY_IDENTIFIER: &[u64] = &[2, 5, 29, 35];
    pub const EXTENDED_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
    pub const CPS_QUALIFIER: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 2, 1];
    pub const KP_CLIENT_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 2];
    pub const KP_PKINIT_CLIENT_AUTH: &[u64] = &[1, 3, 6, 1, 5, 2, 3, 4];
    pub const KP_MS_SMARTCARD_LOGON: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 20, 2, 2];
}

pub(crate) fn oid(components: &[u64]) -> ObjectIdentifier {
    ObjectIdentifier::from_slice(components)
}

/// Parses a dotted OID such as the J-LIS constants in `card::jpki::oid`.
pub(crate) fn dotted(text: &str) -> Result<ObjectIdentifier, TestkitError> {
    text.parse()
        .map_err(|_| TestkitError::InvalidOptions(format!("{text:?} is not an object identifier")))
}

/// Attribute types of the J-LIS distinguished names.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Attr {
    Country,
    Organization,
    OrganizationalUnit,
    Locality,
    CommonName,
}

/// A Name with one attribute per RDN, in the order given. countryName is a PrintableString
/// (RFC 5280 §A.1); every other value is a UTF8String, as in the J-LIS roots.
pub(crate) fn name(attributes: &[(Attr, &str)]) -> Vec<u8> {
    yasna::construct_der(|w| write_name(w, attributes))
}

pub(crate) fn write_name(w: DERWriter, attributes: &[(Attr, &str)]) {
    w.write_sequence(|w| {
        for (attr, value) in attributes {
            w.next().write_set(|w| {
                w.next().write_sequence(|w| {
                    let type_oid = match attr {
                        Attr::Country => oids::COUNTRY,
                        Attr::Organization => oids::ORGANIZATION,
                        Attr::OrganizationalUnit => oids::ORGANIZATIONAL_UNIT,
                        Attr::Locality => oids::LOCALITY,
                        Attr::CommonName => oids::COMMON_NAME,
                    };
                    w.next().write_oid(&oid(type_oid));
                    match attr {
                        Attr::Country => w.next().write_printable_string(value),
                        _ => w.next().write_utf8_string(value),
                    }
                });
            });
        }
    });
}

/// A Time as RFC 5280 §4.1.2.5 wants it: UTCTime through 2049, GeneralizedTime from 2050,
/// always UTC with whole seconds.
pub(crate) fn time(t: OffsetDateTime) -> Result<Vec<u8>, TestkitError> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let (tag, text) = match t.year() {
        1950..=2049 => (0x17, format!("{:02}", t.year() % 100)),
        2050..=9999 => (0x18, format!("{:04}", t.year())),
        _ => return Err(TestkitError::Time(t.to_string())),
    };
    let text = format!(
        "{text}{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let mut out = Vec::with_capacity(text.len() + 2);
    header(tag, text.len(), &mut out);
    out.extend_from_slice(text.as_bytes());
    Ok(out)
}

/// Appends a DER tag and definite length (X.690 §8.1.3).
pub(crate) fn header(tag: u8, len: usize, out: &mut Vec<u8>) {
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// AlgorithmIdentifier sha256WithRSAEncryption with NULL parameters (RFC 4055 §5).
pub(crate) fn write_sha256_with_rsa(w: DERWriter) {
    w.write_sequence(|w| {
        w.next().write_oid(&oid(oids::SHA256_WITH_RSA));
        w.next().write_null();
    });
}

pub(crate) struct Extension {
    pub oid: ObjectIdentifier,
    pub critical: bool,
    pub value: Vec<u8>,
}

impl Extension {
    pub(crate) fn new(components: &[u64], critical: bool, value: Vec<u8>) -> Extension {
        Extension {
            oid: oid(components),
            critical,
            value,
        }
    }
}

/// Extensions ::= SEQUENCE OF Extension; `critical` is omitted when false (DER default).
pub(crate) fn write_extensions(w: DERWriter, extensions: &[Extension]) {
    w.write_sequence(|w| {
        for extension in extensions {
            w.next().write_sequence(|w| {
                w.next().write_oid(&extension.oid);
                if extension.critical {
                    w.next().write_bool(true);
                }
                w.next().write_bytes(&extension.value);
            });
        }
    });
}

/// Wraps a to-be-signed structure: SEQUENCE { tbs, sha256WithRSAEncryption, BIT STRING sig }
/// (RFC 5280 §4.1.1 for certificates, §5.1.1 for CRLs).
pub(crate) fn sign(tbs: &[u8], key: &RsaKey) -> Result<Vec<u8>, TestkitError> {
    let signature = key.sign_sha256(tbs)?;
    let mut body = Vec::with_capacity(tbs.len() + signature.len() + 32);
    body.extend_from_slice(tbs);
    body.extend(yasna::construct_der(write_sha256_with_rsa));
    body.extend(yasna::construct_der(|w| {
        w.write_bitvec_bytes(&signature, signature.len() * 8)
    }));
    let mut out = Vec::with_capacity(body.len() + 6);
    header(0x30, body.len(), &mut out);
    out.extend(body);
    Ok(out)
}

/// A positive INTEGER from big-endian magnitude bytes (leading zeros dropped, sign byte added).
pub(crate) fn write_serial(w: DERWriter, magnitude: &[u8]) {
    w.write_bigint_bytes(magnitude, true);
}

/// GeneralNames holding one directoryName: `[4] EXPLICIT Name` (RFC 5280 §4.2.1.6).
pub(crate) fn write_directory_general_names(w: DERWriter, name_der: &[u8]) {
    w.write_sequence(|w| {
        w.next()
            .write_tagged(Tag::context(4), |w| w.write_der(name_der));
    });
}

/// AuthorityKeyIdentifier { keyIdentifier [0] IMPLICIT OCTET STRING } (RFC 5280 §4.2.1.1).
pub(crate) fn authority_key_identifier(key_identifier: &[u8]) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next()
                .write_tagged_implicit(Tag::context(0), |w| w.write_bytes(key_identifier));
        })
    })
}

/// Key identifier of RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
pub(crate) fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>, TestkitError> {
    use x509_parser::prelude::FromDer as _;
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|e| TestkitError::Certificate(e.to_string()))?;
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        &spki.subject_public_key.data,
    );
    Ok(digest.as_ref().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_switch_to_generalized_time_in_2050() {
        assert_eq!(
            time(datetime!(2049-12-31 23:59:59 UTC)).expect("time"),
            b"\x17\x0d491231235959Z".to_vec()
        );
        assert_eq!(
            time(datetime!(2050-01-01 00:00:00 UTC)).expect("time"),
            b"\x18\x0f20500101000000Z".to_vec()
        );
        assert!(time(datetime!(1949-12-31 23:59:59 UTC)).is_err());
    }

    #[test]
    fn times_are_written_in_utc() {
        assert_eq!(
            time(datetime!(2030-02-17 23:59:59 +9)).expect("time"),
            b"\x17\x0d300217145959Z".to_vec()
        );
    }

    #[test]
    fn long_lengths_use_the_minimal_number_of_bytes() {
        let mut out = Vec::new();
        header(0x30, 0x7f, &mut out);
        header(0x30, 0x80, &mut out);
        header(0x30, 0x01_00_00, &mut out);
        assert_eq!(
            out,
            [0x30, 0x7f, 0x30, 0x81, 0x80, 0x30, 0x83, 0x01, 0x00, 0x00]
        );
    }
}
