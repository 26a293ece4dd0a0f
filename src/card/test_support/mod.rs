//! Hand-made JPKI-shaped certificates and CRLs for the card module's unit tests.
//!
//! Deliberately explicit DER (every field visible and changeable) so tests can build the
//! malformed and borderline inputs the real test kit never issues.

use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::card::jpki::{self, Purpose};
use crate::card::oids;

mod crl;

use crate::card::trust::TrustStore;
pub(crate) use crl::CrlBuilder;

pub(crate) const NOW: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);

pub(crate) struct Key {
    pair: KeyPair,
    pub spki: Vec<u8>,
}

impl Key {
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .expect("sign");
        signature
    }
}

/// Five RSA-2048 keys generated once per test binary: 0–1 roots, 2 another CA, 3–4 cards.
pub(crate) fn key(index: usize) -> &'static Key {
    static KEYS: OnceLock<Vec<Key>> = OnceLock::new();
    &KEYS.get_or_init(|| {
        (0..5)
            .map(|_| {
                let pair = KeyPair::generate(KeySize::Rsa2048).expect("generate");
                let spki = pair.public_key().as_der().expect("spki").as_ref().to_vec();
                Key { pair, spki }
            })
            .collect()
    })[index]
}

pub(crate) fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
    out
}

pub(crate) fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

pub(crate) fn integer(magnitude: &[u8]) -> Vec<u8> {
    let mut value = magnitude.to_vec();
    if value.first().is_none_or(|b| b & 0x80 != 0) {
        value.insert(0, 0);
    }
    tlv(0x02, &value)
}

pub(crate) fn time(at: OffsetDateTime) -> Vec<u8> {
    let (y, m, d) = (at.year(), u8::from(at.month()), at.day());
    let hms = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        m,
        d,
        at.hour(),
        at.minute(),
        at.second()
    );
    if (1950..2050).contains(&y) {
        tlv(0x17, format!("{:02}{hms}", y % 100).as_bytes())
    } else {
        tlv(0x18, format!("{y:04}{hms}").as_bytes())
    }
}

pub(crate) fn extension(oid: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let critical = if critical {
        tlv(0x01, &[0xFF])
    } else {
        Vec::new()
    };
    seq(&[&tlv(0x06, oid), &critical, &tlv(0x04, value)])
}

pub(crate) fn sha256_with_rsa() -> Vec<u8> {
    seq(&[&tlv(0x06, oids::SHA256_WITH_RSA), &tlv(0x05, &[])])
}

fn name(attributes: &[(&[u8], &str)]) -> Vec<u8> {
    let rdns: Vec<Vec<u8>> = attributes
        .iter()
        .map(|(oid, value)| tlv(0x31, &seq(&[&tlv(0x06, oid), &tlv(0x0C, value.as_bytes())])))
        .collect();
    tlv(0x30, &rdns.concat())
}

const COUNTRY: &[u8] = &[0x55, 0x04, 0x06];
const ORG: &[u8] = &[0x55, 0x04, 0x0A];
const UNIT: &[u8] = &[0x55, 0x04, 0x0B];
const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
const SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1D, 0x0E];

pub(crate) fn authority_key_identifier(key_id: &[u8]) -> Vec<u8> {
    seq(&[&tlv(0x80, key_id)])
}

/// A self-signed root in the J-LIS shape.
pub(crate) struct Ca {
    pub purpose: Purpose,
    pub key: &'static Key,
    pub subject: Vec<u8>,
    pub key_identifier: Vec<u8>,
    pub cert_der: Vec<u8>,
}

impl Ca {
    pub fn new(purpose: Purpose, test: bool, key_index: usize) -> Ca {
        let key = self::key(key_index);
        let unit = match purpose {
            Purpose::Auth => jpki::ROOT_OU_AUTH,
            Purpose::Sign => jpki::ROOT_OU_SIGN,
        };
        let org = if test {
            jpki::TEST_ROOT_ORG
        } else {
            jpki::ROOT_ORG
        };
        let subject = name(&[
            (COUNTRY, "JP"),
            (ORG, org),
            (UNIT, unit),
            (UNIT, jpki::ROOT_OU_AGENCY),
        ]);
        let key_identifier = vec![key_index as u8; 20];
        let extensions = [
            extension(oids::KEY_USAGE, true, &tlv(0x03, &[0x01, 0x06])),
            extension(oids::BASIC_CONSTRAINTS, true, &seq(&[&tlv(0x01, &[0xFF])])),
            extension(SUBJECT_KEY_ID, false, &tlv(0x04, &key_identifier)),
        ];
        let tbs = seq(&[
            &tlv(0xA0, &integer(&[2])),
            &integer(&[key_index as u8 + 1]),
            &sha256_with_rsa(),
            &subject,
            &seq(&[
                &time(NOW - Duration::days(3650)),
                &time(NOW + Duration::days(3650)),
            ]),
            &subject,
            &key.spki,
            &tlv(
                0xA3,
                &seq(&extensions.iter().map(Vec::as_slice).collect::<Vec<_>>()),
            ),
        ]);
        let cert_der = signed(&tbs, key);
        Ca {
            purpose,
            key,
            subject,
            key_identifier,
            cert_der,
        }
    }

    pub fn trust(cas: &[&Ca]) -> TrustStore {
        let mut store = TrustStore::new();
        for ca in cas {
            store
                .add_der(ca.purpose, &ca.cert_der, "test")
                .expect("root");
        }
        store
    }
}

/// `SEQUENCE { tbs, sha256WithRSAEncryption, BIT STRING signature }`.
pub(crate) fn signed(tbs: &[u8], key: &Key) -> Vec<u8> {
    let mut bits = vec![0];
    bits.extend(key.sign(tbs));
    seq(&[tbs, &sha256_with_rsa(), &tlv(0x03, &bits)])
}

/// subjectAltName with the basic facts as otherName { OID, [0] EXPLICIT UTF8String }.
pub(crate) fn facts_san(facts: &[(u8, &str)]) -> Vec<u8> {
    let names: Vec<Vec<u8>> = facts
        .iter()
        .map(|(arc, value)| {
            let mut oid = oids::FACT_PREFIX.to_vec();
            oid.push(*arc);
            tlv(
                0xA0,
                &[tlv(0x06, &oid), tlv(0xA0, &tlv(0x0C, value.as_bytes()))].concat(),
            )
        })
        .collect();
    tlv(0x30, &names.concat())
}

pub(crate) const EXAMPLE_FACTS: [(u8, &str); 4] = [
    (oids::FACT_NAME, "住基\u{3000}花子"),
    (oids::FACT_SEX, "2"),
    (oids::FACT_BIRTH, "319850401"),
    (oids::FACT_ADDRESS, "東京都千代田区永田町１丁目７番１号"),
];

/// A card certificate to issue; defaults follow the J-LIS profile of `purpose`.
pub(crate) struct Leaf {
    pub serial: Vec<u8>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// SubjectPublicKeyInfo of the card key; [`key`] 3 by default.
    pub spki: Vec<u8>,
    pub extensions: Vec<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
    pub signature_algorithm: Vec<u8>,
}

impl Leaf {
    pub fn new(ca: &Ca) -> Leaf {
        let (usage, policy) = match ca.purpose {
            Purpose::Auth => (0x80, oids::POLICY_AUTH),
            Purpose::Sign => (0xC0, oids::POLICY_SIGN),
        };
        let mut extensions = vec![
            extension(oids::KEY_USAGE, true, &tlv(0x03, &[0x06, usage])),
            extension(
                oids::CERTIFICATE_POLICIES,
                true,
                &seq(&[&seq(&[&tlv(0x06, policy)])]),
            ),
        ];
        if ca.purpose == Purpose::Sign {
            extensions.push(extension(
                oids::SUBJECT_ALT_NAME,
                false,
                &facts_san(&EXAMPLE_FACTS),
            ));
        }
        Leaf {
            serial: vec![0x8F, 0x01, 0x02, 0x03],
            not_before: NOW - Duration::days(30),
            not_after: NOW + Duration::days(365),
            spki: key(3).spki.clone(),
            extensions,
            authority_key_id: Some(ca.key_identifier.clone()),
            signature_algorithm: sha256_with_rsa(),
        }
    }

    pub fn issue(&self, ca: &Ca) -> Vec<u8> {
        let mut extensions = self.extensions.clone();
        if let Some(aki) = &self.authority_key_id {
            extensions.push(extension(
                oids::AUTHORITY_KEY_IDENTIFIER,
                false,
                &authority_key_identifier(aki),
            ));
        }
        let subject = name(&[(COUNTRY, "JP"), (COMMON_NAME, "TEST0001")]);
        let tbs = seq(&[
            &tlv(0xA0, &integer(&[2])),
            &integer(&self.serial),
            &self.signature_algorithm,
            &ca.subject,
            &seq(&[&time(self.not_before), &time(self.not_after)]),
            &subject,
            &self.spki,
            &tlv(
                0xA3,
                &seq(&extensions.iter().map(Vec::as_slice).collect::<Vec<_>>()),
            ),
        ]);
        let mut bits = vec![0];
        bits.extend(ca.key.sign(&tbs));
        seq(&[&tbs, &self.signature_algorithm, &tlv(0x03, &bits)])
    }
}
