//! CARD files for the helper tests, issued once by the test kit's `TestCa`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use mykey_connect::card::jpki::Purpose;
use mykey_connect::testkit::{CardFile, CardOptions, TestCa};
use time::macros::datetime;
use time::OffsetDateTime;

/// The secrets of `CardOptions::example()`.
pub const PIN: &str = "1234";
pub const PASSWORD: &str = "ABC123";

/// When the shared card was issued; the helper never checks validity, the provider does.
pub const ISSUED_AT: OffsetDateTime = datetime!(2025-11-25 10:00 UTC);

/// One card per test process, cloned for each test: RSA key generation is the slow part.
pub fn card() -> CardFile {
    static CARD: OnceLock<CardFile> = OnceLock::new();
    CARD.get_or_init(|| {
        let mut ca = TestCa::ephemeral(ISSUED_AT).expect("ephemeral test CA");
        ca.issue_card(&CardOptions::example(), ISSUED_AT)
            .expect("issue a card")
    })
    .clone()
}

/// Writes a fresh card to `dir/card.json` and returns its path.
pub fn card_in(dir: &Path) -> PathBuf {
    let path = dir.join("card.json");
    card().save(&path).expect("write card file");
    path
}

pub fn certificate(purpose: Purpose) -> Vec<u8> {
    card()
        .slot(purpose)
        .certificate_der()
        .expect("base64 certificate")
}

/// Subject and last day of validity (`YYYY-MM-DD`) as x509-parser reads them.
pub fn subject_and_expiry(purpose: Purpose) -> (String, String) {
    let der = certificate(purpose);
    let (_, parsed) = x509_parser::parse_x509_certificate(&der).expect("parse certificate");
    let date = parsed.validity().not_after.to_datetime().date();
    (
        parsed.subject().to_string(),
        format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        ),
    )
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
