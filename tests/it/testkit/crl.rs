//! CRLs: signed by the right root, entries with reason codes, numbers that only go up.

use std::time::Instant;

use mykey_connect::card::jpki::{Purpose, RevocationReason};
use mykey_connect::testkit::{CardOptions, TestCa, SYNTHETIC_SERIAL_BASE};
use time::Duration;
use x509_parser::prelude::{CertificateRevocationList, FromDer as _, ParsedExtension};
use x509_parser::x509::ReasonCode;

use super::support::{openssl, write, ISSUED_AT};

fn parse_crl(der: &[u8]) -> CertificateRevocationList<'_> {
    let (rest, crl) = CertificateRevocationList::from_der(der).expect("x509-parser reads the CRL");
    assert!(rest.is_empty());
    crl
}

fn crl_number(der: &[u8]) -> u64 {
    let number = parse_crl(der).crl_number().expect("cRLNumber").clone();
    u64::try_from(number).expect("small number")
}

fn day_crl(ca: &mut TestCa, purpose: Purpose) -> Vec<u8> {
    let this_update = ISSUED_AT + Duration::hours(1);
    ca.crl(purpose, this_update, this_update + Duration::days(1))
        .expect("CRL")
}

#[test]
fn openssl_verifies_the_crls_and_shows_each_entry_with_its_reason() {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let card = ca
        .issue_card(&CardOptions::example(), ISSUED_AT)
        .expect("card");
    let auth_serial = card.serial_hex(Purpose::Auth).expect("serial");
    let sign_serial = card.serial_hex(Purpose::Sign).expect("serial");
    let revoked_at = ISSUED_AT + Duration::minutes(5);
    let purpose = ca
        .revoke(&auth_serial, RevocationReason::KeyCompromise, revoked_at)
        .expect("revoke");
    assert_eq!(purpose, Purpose::Auth, "the CA finds which root issued it");
    ca.revoke(&sign_serial, RevocationReason::Unspecified, revoked_at)
        .expect("revoke");

    let dir = tempfile::tempdir().expect("temp dir");
    for (purpose, serial, reason) in [
        (Purpose::Auth, &auth_serial, Some(ReasonCode::KeyCompromise)),
        (Purpose::Sign, &sign_serial, None),
    ] {
        let der = day_crl(&mut ca, purpose);
        let root = write(dir.path(), "root.pem", ca.root_pem(purpose));
        let file = write(dir.path(), "list.crl", &der);
        let (ok, out) = openssl(&[
            "crl", "-inform", "DER", "-in", &file, "-CAfile", &root, "-verify", "-noout", "-text",
        ]);
        assert!(ok && out.contains("verify OK"), "{purpose}: {out}");
        assert!(out.contains(&serial.to_uppercase()), "{out}");
        assert_eq!(out.contains("Key Compromise"), reason.is_some(), "{out}");
        // RFC 5280 §5.3.1: no reasonCode entry extension for unspecified.
        assert_eq!(out.contains("CRL Reason Code"), reason.is_some(), "{out}");

        let crl = parse_crl(&der);
        assert_eq!(
            crl.issuer().as_raw(),
            x509_parser::parse_x509_certificate(ca.root_der(purpose))
                .expect("root")
                .1
                .subject()
                .as_raw()
        );
        let entries: Vec<_> = crl.iter_revoked_certificates().collect();
        assert_eq!(entries.len(), 1);
        assert_eq!(hex::encode(entries[0].raw_serial()), *serial);
        assert_eq!(entries[0].reason_code().map(|(_, r)| r), reason);
        assert_eq!(entries[0].revocation_date.to_datetime(), revoked_at);
        assert!(crl.extensions().iter().any(|e| matches!(
            e.parsed_extension(),
            ParsedExtension::AuthorityKeyIdentifier(aki) if aki.key_identifier.is_some()
        )));
    }
}

#[test]
fn crl_numbers_increase_per_purpose_across_calls_and_across_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ca = TestCa::init(dir.path(), ISSUED_AT).expect("CA");
    assert_eq!(crl_number(&day_crl(&mut ca, Purpose::Auth)), 1);
    assert_eq!(crl_number(&day_crl(&mut ca, Purpose::Auth)), 2);
    assert_eq!(crl_number(&day_crl(&mut ca, Purpose::Sign)), 1);
    drop(ca);
    let mut reopened = TestCa::open(dir.path()).expect("open");
    assert_eq!(crl_number(&day_crl(&mut reopened, Purpose::Auth)), 3);
    assert_eq!(crl_number(&day_crl(&mut reopened, Purpose::Sign)), 2);
}

#[test]
fn an_empty_crl_has_no_revoked_list_and_still_verifies() {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let der = day_crl(&mut ca, Purpose::Auth);
    assert_eq!(parse_crl(&der).iter_revoked_certificates().count(), 0);
    let dir = tempfile::tempdir().expect("temp dir");
    let root = write(dir.path(), "root.pem", ca.root_pem(Purpose::Auth));
    let file = write(dir.path(), "empty.crl", &der);
    let (ok, out) = openssl(&[
        "crl", "-inform", "DER", "-in", &file, "-CAfile", &root, "-verify", "-noout",
    ]);
    assert!(ok && out.contains("verify OK"), "{out}");
    assert!(
        ca.crl(Purpose::Auth, ISSUED_AT, ISSUED_AT).is_err(),
        "nextUpdate after thisUpdate"
    );
}

#[test]
fn a_crl_lists_only_revocations_dated_at_or_before_its_this_update() {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let card = ca
        .issue_card(&CardOptions::example(), ISSUED_AT)
        .expect("card");
    let serial = card.serial_hex(Purpose::Auth).expect("serial");
    let revoked_at = ISSUED_AT + Duration::hours(2);
    ca.revoke(&serial, RevocationReason::CessationOfOperation, revoked_at)
        .expect("revoke");
    let before = ca
        .crl(
            Purpose::Auth,
            revoked_at - Duration::seconds(1),
            revoked_at + Duration::days(1),
        )
        .expect("CRL");
    let after = ca
        .crl(Purpose::Auth, revoked_at, revoked_at + Duration::days(1))
        .expect("CRL");
    assert_eq!(parse_crl(&before).iter_revoked_certificates().count(), 0);
    assert_eq!(parse_crl(&after).iter_revoked_certificates().count(), 1);
}

#[test]
fn a_padded_crl_carries_the_synthetic_serials_after_the_real_ones() {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let this_update = ISSUED_AT + Duration::hours(1);
    let der = ca
        .crl_padded(
            Purpose::Sign,
            this_update,
            this_update + Duration::days(1),
            10_000,
        )
        .expect("CRL");
    let crl = parse_crl(&der);
    let serials: Vec<u64> = crl
        .iter_revoked_certificates()
        .map(|e| u64::try_from(e.serial().clone()).expect("64-bit"))
        .collect();
    assert_eq!(serials.len(), 10_000);
    assert_eq!(serials[0], SYNTHETIC_SERIAL_BASE);
    assert_eq!(serials[9_999], SYNTHETIC_SERIAL_BASE + 9_999);
    let dir = tempfile::tempdir().expect("temp dir");
    let root = write(dir.path(), "root.pem", ca.root_pem(Purpose::Sign));
    let file = write(dir.path(), "padded.crl", &der);
    let (ok, out) = openssl(&[
        "crl", "-inform", "DER", "-in", &file, "-CAfile", &root, "-verify", "-noout",
    ]);
    assert!(ok && out.contains("verify OK"), "{out}");
}

/// The 1,000,000-entry benchmark CRL. Slow to parse back, so run on demand:
/// `cargo test --test it million -- --ignored --nocapture`.
#[test]
#[ignore = "builds and parses a 38 MB CRL; run on demand"]
fn a_million_entry_crl_is_built_in_seconds() {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let this_update = ISSUED_AT + Duration::hours(1);
    let started = Instant::now();
    let der = ca
        .crl_padded(
            Purpose::Auth,
            this_update,
            this_update + Duration::days(1),
            1_000_000,
        )
        .expect("CRL");
    let elapsed = started.elapsed();
    println!("1,000,000-entry CRL: {} bytes in {elapsed:?}", der.len());
    assert!(elapsed.as_secs() < 10, "took {elapsed:?}");
    assert_eq!(
        parse_crl(&der).iter_revoked_certificates().count(),
        1_000_000
    );
}
