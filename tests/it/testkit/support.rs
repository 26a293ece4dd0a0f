//! Shared set-up for the test kit tests: a fixed clock, one shared CA and card, openssl.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use mykey_connect::card::jpki::Purpose;
use mykey_connect::testkit::{CardFile, CardOptions, TestCa};
use time::macros::datetime;
use time::OffsetDateTime;
use x509_parser::prelude::X509Certificate;

/// The time every test issues at; openssl checks run with `-attime` so the clock never matters.
pub const ISSUED_AT: OffsetDateTime = datetime!(2025-11-25 10:00 UTC);

/// A CA and a card issued once for the read-only tests (RSA key generation is the slow part).
pub struct Shared {
    pub ca: TestCa,
    pub card: CardFile,
}

pub fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let mut ca = TestCa::ephemeral(ISSUED_AT).expect("ephemeral CA");
        let mut options = CardOptions::example();
        options.holder.name_substitute_map = Some("00100".to_owned());
        let card = ca.issue_card(&options, ISSUED_AT).expect("card");
        Shared { ca, card }
    })
}

pub fn certificate_der(card: &CardFile, purpose: Purpose) -> Vec<u8> {
    card.slot(purpose)
        .certificate_der()
        .expect("base64 certificate")
}

pub fn parse(der: &[u8]) -> X509Certificate<'_> {
    x509_parser::parse_x509_certificate(der)
        .expect("x509-parser reads it")
        .1
}

pub fn pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// Runs the system `openssl`; returns whether it succeeded and everything it printed.
pub fn openssl(args: &[&str]) -> (bool, String) {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl binary is installed (.ci/run installs it)");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// `-attime` value: seconds since the epoch.
pub fn at(t: OffsetDateTime) -> String {
    t.unix_timestamp().to_string()
}

pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a temporary file");
    path.to_str().expect("utf-8 temp path").to_owned()
}

/// The UTF8String inside an otherName value (`[0] EXPLICIT UTF8String`).
pub fn other_name_text(value: &[u8]) -> String {
    yasna::parse_der(value, |r| {
        r.read_tagged(yasna::Tag::context(0), |r| r.read_utf8string())
    })
    .expect("[0] EXPLICIT UTF8String")
}
