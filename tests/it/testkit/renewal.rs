//! Revocation by serial, renewal, linkage files, and the CA folder on disk.

use mykey_connect::card::jpki::{Purpose, RevocationReason};
use mykey_connect::testkit::{
    linkage, validate_password, validate_pin, CardOptions, LinkageFile, RenewOptions, TestCa,
    TestkitError,
};
use time::Duration;

use super::support::{openssl, ISSUED_AT};

#[test]
fn revoking_an_unknown_or_already_revoked_serial_is_refused() {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let card = ca
        .issue_card(&CardOptions::example(), ISSUED_AT)
        .expect("card");
    let serial = card.serial_hex(Purpose::Sign).expect("serial");
    let reason = RevocationReason::AffiliationChanged;
    assert!(matches!(
        ca.revoke("0123abcd", reason, ISSUED_AT),
        Err(TestkitError::UnknownSerial(_))
    ));
    let typed = format!("0x{}", serial.to_uppercase());
    assert_eq!(
        ca.revoke(&typed, reason, ISSUED_AT).expect("revoke"),
        Purpose::Sign
    );
    assert!(matches!(
        ca.revoke(&serial, reason, ISSUED_AT),
        Err(TestkitError::AlreadyRevoked(_))
    ));
    assert_eq!(ca.revocations().len(), 1);
}

#[test]
fn renewal_gives_new_keys_for_the_same_facts_and_supersedes_both_old_certificates() {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let old = ca
        .issue_card(&CardOptions::example(), ISSUED_AT)
        .expect("card");
    let renewed_at = ISSUED_AT + Duration::days(30);
    let new = ca.renew(&old, renewed_at).expect("renew");

    assert_eq!(new.holder, old.holder);
    validate_pin(&new.auth.secret).expect("a 4-digit PIN");
    validate_password(&new.sign.secret).expect("a card password");
    for purpose in [Purpose::Auth, Purpose::Sign] {
        let (old_slot, new_slot) = (old.slot(purpose), new.slot(purpose));
        assert_ne!(old_slot.private_key_pkcs8, new_slot.private_key_pkcs8);
        assert_ne!(old.serial_hex(purpose).ok(), new.serial_hex(purpose).ok());
        assert_eq!(
            new_slot.summary().expect("summary").not_before,
            renewed_at,
            "the new card is valid from renewal"
        );
        let crl = ca
            .crl(purpose, renewed_at, renewed_at + Duration::days(1))
            .expect("CRL");
        let (_, crl) = x509_parser::parse_x509_crl(&crl).expect("CRL parses");
        let entries: Vec<_> = crl.iter_revoked_certificates().collect();
        assert_eq!(entries.len(), 1, "only the old {purpose} certificate");
        assert_eq!(
            hex::encode(entries[0].raw_serial()),
            old.serial_hex(purpose).expect("serial")
        );
        assert_eq!(
            entries[0].reason_code().map(|(_, r)| r),
            Some(x509_parser::x509::ReasonCode::Superseded)
        );
    }
    let holders: Vec<&str> = ca.issued().iter().map(|c| c.holder_id.as_str()).collect();
    assert_eq!(holders.len(), 4);
    assert!(
        holders.iter().all(|h| *h == holders[0]),
        "one holder across the renewal"
    );
}

#[test]
fn renewal_keeps_the_secrets_it_is_given_and_refuses_foreign_cards() {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let old = ca
        .issue_card(&CardOptions::example(), ISSUED_AT)
        .expect("card");
    let opts = RenewOptions {
        pin: Some("9876".to_owned()),
        password: Some("NEWPASS1".to_owned()),
        ..RenewOptions::default()
    };
    assert!(
        !format!("{opts:?}").contains("9876"),
        "secrets stay out of Debug"
    );
    let new = ca.renew_with(&old, &opts, ISSUED_AT).expect("renew");
    assert_eq!(
        (new.auth.secret.as_str(), new.sign.secret.as_str()),
        ("9876", "NEWPASS1")
    );

    let mut other = TestCa::ephemeral(ISSUED_AT).expect("CA");
    assert!(matches!(
        other.renew(&old, ISSUED_AT),
        Err(TestkitError::UnknownSerial(_))
    ));
    assert!(other.issued().is_empty() && other.revocations().is_empty());
}

#[test]
fn linkage_names_both_roots_by_key_id_and_both_serials() {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let old = ca
        .issue_card(&CardOptions::example(), ISSUED_AT)
        .expect("card");
    let renewed_at = ISSUED_AT + Duration::days(1);
    let new = ca.renew(&old, renewed_at).expect("renew");
    let file = linkage(&old, &new, renewed_at).expect("linkage");

    assert_eq!(file.format, "mykey-linkage/1");
    let purposes: Vec<Purpose> = file.records.iter().map(|r| r.purpose).collect();
    assert_eq!(purposes, [Purpose::Auth, Purpose::Sign]);
    for record in &file.records {
        let key_id = ca.root_key_id(record.purpose);
        assert_eq!(
            (&record.old.issuer_key_id, &record.new.issuer_key_id),
            (&key_id, &key_id)
        );
        assert_eq!(
            record.old.serial,
            old.serial_hex(record.purpose).expect("serial")
        );
        assert_eq!(
            record.new.serial,
            new.serial_hex(record.purpose).expect("serial")
        );
        assert_eq!(record.linked_at, renewed_at);
    }
    assert_eq!(
        LinkageFile::from_json(&file.to_json()).expect("round trip"),
        file
    );
    assert!(
        linkage(&old, &old, renewed_at).is_err(),
        "a card does not succeed itself"
    );

    let json = String::from_utf8(file.to_json()).expect("utf-8");
    let wrong_format = json.replace("mykey-linkage/1", "mykey-linkage/9");
    assert!(LinkageFile::from_json(wrong_format.as_bytes()).is_err());
    let upper = json.replace(
        &file.records[0].old.serial,
        &file.records[0].old.serial.to_uppercase(),
    );
    assert!(
        LinkageFile::from_json(upper.as_bytes()).is_err(),
        "serials are canonical"
    );
}

#[test]
fn the_ca_folder_holds_pem_roots_and_owner_only_keys_and_reopens_the_same_ca() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_dir = dir.path().join("ca");
    let mut ca = TestCa::init(&ca_dir, ISSUED_AT).expect("CA");
    let card = ca
        .issue_card(&CardOptions::example(), ISSUED_AT)
        .expect("card");
    for stem in ["auth-root", "sign-root"] {
        let pem = ca_dir.join(format!("{stem}.pem"));
        let (ok, out) = openssl(&[
            "x509",
            "-in",
            pem.to_str().expect("utf-8"),
            "-noout",
            "-subject",
        ]);
        assert!(ok && out.contains("O = JPKI-TEST"), "{out}");
        assert!(ca_dir.join(format!("{stem}.der")).is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let key = ca_dir.join(format!("{stem}.key.pem"));
            let mode = std::fs::metadata(&key)
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{}", key.display());
        }
    }

    let reopened = TestCa::open(&ca_dir).expect("open");
    for purpose in [Purpose::Auth, Purpose::Sign] {
        assert_eq!(reopened.root_der(purpose), ca.root_der(purpose));
    }
    assert_eq!(reopened.issued(), ca.issued());
    let serial = card.serial_hex(Purpose::Auth).expect("serial");
    assert!(reopened.issued().iter().any(|c| c.serial == serial));
    assert!(matches!(
        TestCa::init(&ca_dir, ISSUED_AT),
        Err(TestkitError::CaFolder { .. })
    ));
}
