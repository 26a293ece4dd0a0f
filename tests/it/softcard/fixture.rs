//! Test-only CARD files: fresh RSA keys and minimal self-signed certificates, no CA involved.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use mykey_connect::card::jpki::{AUTH_PIN_TRIES, SIGN_PASSWORD_TRIES, TOKEN_LABEL};
use mykey_connect::testkit::card_file::{CardFile, Holder, KeySlot, CARD_FORMAT};
use time::macros::datetime;
use yasna::models::{ObjectIdentifier, UTCTime};

pub const PIN: &str = "1234";
pub const PASSWORD: &str = "ABC123";

const SHA256_WITH_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
const COUNTRY: &[u64] = &[2, 5, 4, 6];
const LOCALITY: &[u64] = &[2, 5, 4, 7];
const ORGANIZATION: &[u64] = &[2, 5, 4, 10];
const COMMON_NAME: &[u64] = &[2, 5, 4, 3];

struct Material {
    auth_key: Vec<u8>,
    sign_key: Vec<u8>,
    auth_cert: Vec<u8>,
    sign_cert: Vec<u8>,
    auth_ca: Vec<u8>,
    sign_ca: Vec<u8>,
}

/// Keys are generated once per test process: RSA key generation is the slow part.
fn material() -> &'static Material {
    static MATERIAL: OnceLock<Material> = OnceLock::new();
    MATERIAL.get_or_init(|| {
        let auth = KeyPair::generate(KeySize::Rsa2048).expect("auth key");
        let sign = KeyPair::generate(KeySize::Rsa2048).expect("sign key");
        let ca = KeyPair::generate(KeySize::Rsa2048).expect("ca key");
        let auth_dn: &[(&[u64], &str)] = &[(COUNTRY, "JP"), (COMMON_NAME, "TESTAUTH0001")];
        let sign_dn: &[(&[u64], &str)] = &[
            (COUNTRY, "JP"),
            (LOCALITY, "Tokyo-to"),
            (LOCALITY, "Chiyoda-ku"),
            (COMMON_NAME, "TESTSIGN0001"),
        ];
        let ca_dn: &[(&[u64], &str)] = &[(COUNTRY, "JP"), (ORGANIZATION, "JPKI-TEST")];
        Material {
            auth_cert: certificate(&auth, auth_dn, &ca, ca_dn, 2),
            sign_cert: certificate(&sign, sign_dn, &ca, ca_dn, 3),
            auth_ca: certificate(&ca, ca_dn, &ca, ca_dn, 1),
            sign_ca: certificate(&ca, ca_dn, &ca, ca_dn, 1),
            auth_key: pkcs8(&auth),
            sign_key: pkcs8(&sign),
        }
    })
}

fn pkcs8(key: &KeyPair) -> Vec<u8> {
    key.as_der().expect("pkcs8").as_ref().to_vec()
}

fn name(w: yasna::DERWriter, dn: &[(&[u64], &str)]) {
    w.write_sequence(|w| {
        for (oid, value) in dn {
            w.next().write_set(|w| {
                w.next().write_sequence(|w| {
                    w.next().write_oid(&ObjectIdentifier::from_slice(oid));
                    w.next().write_printable_string(value);
                })
            });
        }
    })
}

fn algorithm(w: yasna::DERWriter) {
    w.write_sequence(|w| {
        w.next()
            .write_oid(&ObjectIdentifier::from_slice(SHA256_WITH_RSA));
        w.next().write_null();
    })
}

/// A minimal X.509 v3 certificate (RFC 5280 §4.1) of `key`, signed by `issuer_key`.
fn certificate(
    key: &KeyPair,
    subject: &[(&[u64], &str)],
    issuer_key: &KeyPair,
    issuer: &[(&[u64], &str)],
    serial: i64,
) -> Vec<u8> {
    let spki = key.public_key().as_der().expect("spki").as_ref().to_vec();
    let tbs = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next()
                .write_tagged(yasna::Tag::context(0), |w| w.write_i64(2));
            w.next().write_i64(serial);
            algorithm(w.next());
            name(w.next(), issuer);
            w.next().write_sequence(|w| {
                let from = UTCTime::from_datetime(datetime!(2025-01-01 0:00 UTC));
                let until = UTCTime::from_datetime(datetime!(2035-01-01 0:00 UTC));
                w.next().write_utctime(&from);
                w.next().write_utctime(&until);
            });
            name(w.next(), subject);
            w.next().write_der(&spki);
        })
    });
    let mut signature = vec![0; issuer_key.public_modulus_len()];
    issuer_key
        .sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            &tbs,
            &mut signature,
        )
        .expect("sign certificate");
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_der(&tbs);
            algorithm(w.next());
            w.next().write_bitvec_bytes(&signature, signature.len() * 8);
        })
    })
}

/// A fresh card: PIN `1234` with 3 tries, password `ABC123` with 5 tries.
pub fn card() -> CardFile {
    let m = material();
    let slot = |cert: &[u8], ca: &[u8], key: &[u8], secret: &str, tries: u8| KeySlot {
        certificate: STANDARD.encode(cert),
        ca_certificate: STANDARD.encode(ca),
        private_key_pkcs8: STANDARD.encode(key),
        secret: secret.to_owned(),
        tries_left: tries,
    };
    CardFile {
        format: CARD_FORMAT.to_owned(),
        token_label: TOKEN_LABEL.to_owned(),
        auth: slot(&m.auth_cert, &m.auth_ca, &m.auth_key, PIN, AUTH_PIN_TRIES),
        sign: slot(
            &m.sign_cert,
            &m.sign_ca,
            &m.sign_key,
            PASSWORD,
            SIGN_PASSWORD_TRIES,
        ),
        holder: Holder {
            name: "試験\u{3000}花子".to_owned(),
            name_substitute_map: None,
            address: "東京都千代田区永田町一丁目1番1号".to_owned(),
            address_substitute_map: None,
            date_of_birth: "419900101".to_owned(),
            sex: 2,
            prefecture: "東京都".to_owned(),
            city: "千代田区".to_owned(),
        },
    }
}

/// Writes a fresh card to `dir/card.json` and returns its path.
pub fn card_in(dir: &Path) -> PathBuf {
    let path = dir.join("card.json");
    card().save(&path).expect("write card file");
    path
}

/// Whether `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of `message` by the key
/// of `certificate_der`.
pub fn signature_verifies(certificate_der: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let (_, certificate) =
        x509_parser::parse_x509_certificate(certificate_der).expect("parse certificate");
    let public_key = certificate.public_key().subject_public_key.data.to_vec();
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key)
        .verify(message, signature)
        .is_ok()
}
