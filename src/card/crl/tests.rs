use time::Duration;

use super::*;
use crate::card::jpki::{self, RevocationReason};
use crate::card::test_support::{extension, integer, key, Ca, CrlBuilder, NOW};

fn roots() -> (Ca, Ca, TrustStore) {
    let auth = Ca::new(Purpose::Auth, true, 0);
    let sign = Ca::new(Purpose::Sign, true, 1);
    let trust = Ca::trust(&[&auth, &sign]);
    (auth, sign, trust)
}

fn parse(der: &[u8], trust: &TrustStore) -> Result<CrlInfo, CrlError> {
    Crl::parse(der, trust).map(|crl| crl.info().clone())
}

#[test]
fn a_crl_reports_its_root_number_dates_and_entries_in_order() {
    let (_, sign, trust) = roots();
    let at = NOW - Duration::days(2);
    let der = CrlBuilder::new(&sign, 300)
        .revoke(&[0x00, 0x8F, 0x01], at, Some(4))
        .revoke(&[0x05], at, None)
        .sign(sign.key);
    let crl = Crl::parse(&der, &trust).expect("valid CRL");
    let info = crl.info();
    assert_eq!(info.root_key_id, jpki::key_id(&sign.key.spki));
    assert_eq!(info.purpose, Purpose::Sign);
    assert_eq!(info.crl_number.to_string(), "300");
    assert_eq!(info.this_update, NOW - Duration::hours(1));
    assert_eq!(info.next_update, NOW + Duration::days(1));
    assert_eq!(info.entry_count, 2);
    let entries: Vec<(String, OffsetDateTime, RevocationReason)> = crl
        .entries()
        .map(|e| e.map(|e| (e.serial_hex(), e.revoked_at, e.reason)))
        .collect::<Result<_, _>>()
        .expect("entries");
    assert_eq!(
        entries,
        [
            ("8f01".to_owned(), at, RevocationReason::Superseded),
            ("05".to_owned(), at, RevocationReason::Unspecified),
        ]
    );
}

#[test]
fn a_crl_without_revoked_certificates_has_no_entries() {
    let (auth, _, trust) = roots();
    let crl_der = CrlBuilder::new(&auth, 1).sign(auth.key);
    let crl = Crl::parse(&crl_der, &trust).expect("valid");
    assert_eq!(crl.info().entry_count, 0);
    assert_eq!(crl.entries().count(), 0);
}

#[test]
fn a_crl_from_another_ca_is_from_an_unknown_issuer_and_a_tampered_one_has_a_bad_signature() {
    let (auth, _, trust) = roots();
    let stranger = Ca::new(Purpose::Auth, true, 2);
    let foreign = CrlBuilder::new(&stranger, 1).sign(stranger.key);
    assert_eq!(parse(&foreign, &trust), Err(CrlError::UnknownIssuer));
    let forged = CrlBuilder::new(&auth, 1).sign(key(2));
    assert_eq!(parse(&forged, &trust), Err(CrlError::BadSignature));
}

#[test]
fn without_an_authority_key_identifier_the_signing_root_is_found_by_key() {
    let (_, sign, trust) = roots();
    let mut builder = CrlBuilder::new(&sign, 7);
    builder.extensions.remove(0);
    let info = parse(&builder.sign(sign.key), &trust).expect("found by key");
    assert_eq!(info.purpose, Purpose::Sign);
}

#[test]
fn header_rules_of_rfc_5280_are_enforced() {
    let (auth, sign, trust) = roots();
    let check = |edit: &dyn Fn(&mut CrlBuilder)| {
        let mut builder = CrlBuilder::new(&auth, 2);
        edit(&mut builder);
        parse(&builder.sign(auth.key), &trust)
    };
    assert!(matches!(
        check(&|b| b.issuer = sign.subject.clone()),
        Err(CrlError::IssuerMismatch { .. })
    ));
    assert_eq!(check(&|b| b.version = Vec::new()), Err(CrlError::NotV2));
    assert_eq!(check(&|b| b.version = integer(&[2])), Err(CrlError::NotV2));
    assert_eq!(
        check(&|b| {
            b.extensions.pop();
        }),
        Err(CrlError::MissingCrlNumber)
    );
    assert_eq!(
        check(&|b| b.next_update = None),
        Err(CrlError::MissingNextUpdate)
    );
    assert_eq!(
        check(&|b| b.next_update = Some(NOW - Duration::days(1))),
        Err(CrlError::UpdatesOutOfOrder)
    );
    // issuingDistributionPoint (2.5.29.28) is critical: a partitioned CRL is not supported.
    assert_eq!(
        check(&|b| b
            .extensions
            .push(extension(&[0x55, 0x1D, 0x1C], true, &[0x30, 0x00]))),
        Err(CrlError::UnsupportedCriticalExtension {
            oid: "2.5.29.28".to_owned()
        })
    );
    assert!(check(&|b| b
        .extensions
        .push(extension(&[0x55, 0x1D, 0x1C], false, &[0x30, 0])))
    .is_ok());
}

#[test]
fn malformed_entries_stop_the_walk_with_their_index() {
    let (auth, _, trust) = roots();
    let at = NOW - Duration::days(1);
    let entries = |builder: CrlBuilder| {
        let der = builder.sign(auth.key);
        let crl = Crl::parse(&der, &trust).expect("header is fine");
        crl.entries().map(|e| e.map(|_| ())).collect::<Vec<_>>()
    };
    let removed = entries(CrlBuilder::new(&auth, 2).revoke(&[1], at, None).revoke(
        &[2],
        at,
        Some(8),
    ));
    assert_eq!(removed.len(), 2);
    assert!(matches!(
        removed[1],
        Err(CrlError::BadEntry { index: 1, .. })
    ));
    let long = entries(
        CrlBuilder::new(&auth, 2)
            .revoke(&[0x7F; 21], at, None)
            .revoke(&[1], at, None),
    );
    assert_eq!(long, [Err(CrlError::SerialTooLong { index: 0 })]);
    let mut critical = CrlBuilder::new(&auth, 2);
    let issuer_ext = extension(&[0x55, 0x1D, 0x1D], true, &[0x30, 0x00]);
    critical.entries.push(crate::card::test_support::seq(&[
        &integer(&[3]),
        &crate::card::test_support::time(at),
        &crate::card::test_support::seq(&[&issuer_ext]),
    ]));
    assert_eq!(
        entries(critical),
        [Err(CrlError::UnsupportedCriticalExtension {
            oid: "2.5.29.29".to_owned()
        })]
    );
}

#[test]
fn garbage_and_every_truncation_are_refused_without_panicking() {
    let (auth, _, trust) = roots();
    let der = CrlBuilder::new(&auth, 2)
        .revoke(&[1, 2, 3], NOW - Duration::days(1), Some(1))
        .sign(auth.key);
    for len in 0..der.len() {
        assert!(
            matches!(parse(&der[..len], &trust), Err(CrlError::Garbage(_))),
            "length {len}"
        );
    }
    let mut padded = der.clone();
    padded.push(0);
    assert!(matches!(parse(&padded, &trust), Err(CrlError::Garbage(_))));
    assert!(matches!(
        parse(b"-----BEGIN X509 CRL-----", &trust),
        Err(CrlError::Garbage(_))
    ));
}

#[test]
fn error_messages_explain_rollbacks_with_both_numbers() {
    let err = CrlError::RolledBack {
        have: CrlNumber::from_be_bytes(&[10]),
        got: CrlNumber::from_be_bytes(&[9]),
    };
    assert_eq!(
        err.to_string(),
        "CRL number 9 is lower than the loaded CRL number 10: refusing to roll back"
    );
}
