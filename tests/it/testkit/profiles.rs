//! The roots and both end-entity certificates follow the J-LIS profiles (test naming).

use mykey_connect::card::jpki::{self, oid, Purpose};
use mykey_connect::testkit::{CardOptions, TestCa, TestkitError};
use time::macros::datetime;
use time::Duration;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::X509Certificate;

use super::support::{
    at, certificate_der, openssl, other_name_text, parse, pem, shared, write, ISSUED_AT,
};

fn extension<'a>(cert: &'a X509Certificate<'_>, oid_text: &str) -> &'a ParsedExtension<'a> {
    cert.extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == oid_text)
        .map(|e| e.parsed_extension())
        .unwrap_or_else(|| panic!("extension {oid_text} present"))
}

fn policy_ids(cert: &X509Certificate<'_>) -> Vec<String> {
    let ext = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == "2.5.29.32")
        .expect("certificatePolicies");
    assert!(ext.critical, "J-LIS marks the policy critical");
    let ParsedExtension::CertificatePolicies(policies) = ext.parsed_extension() else {
        panic!("policies parse")
    };
    policies
        .iter()
        .map(|p| p.policy_id.to_id_string())
        .collect()
}

#[test]
fn openssl_chains_each_certificate_to_its_own_root_and_not_to_the_other() {
    let shared = shared();
    let dir = tempfile::tempdir().expect("temp dir");
    let auth_root = write(
        dir.path(),
        "auth-root.pem",
        shared.ca.root_pem(Purpose::Auth),
    );
    let sign_root = write(
        dir.path(),
        "sign-root.pem",
        shared.ca.root_pem(Purpose::Sign),
    );
    let when = at(ISSUED_AT + Duration::hours(1));
    for (purpose, own, other) in [
        (Purpose::Auth, &auth_root, &sign_root),
        (Purpose::Sign, &sign_root, &auth_root),
    ] {
        let cert = write(
            dir.path(),
            &format!("{purpose}.pem"),
            pem(&certificate_der(&shared.card, purpose)),
        );
        let (ok, out) = openssl(&[
            "verify",
            "-x509_strict",
            "-attime",
            &when,
            "-CAfile",
            own,
            &cert,
        ]);
        assert!(
            ok && out.contains(": OK"),
            "{purpose} under its root: {out}"
        );
        let (ok, out) = openssl(&["verify", "-attime", &when, "-CAfile", other, &cert]);
        assert!(!ok, "{purpose} must not chain to the other root: {out}");
    }
}

#[test]
fn roots_mirror_the_jlis_root_profile_with_test_names() {
    let shared = shared();
    for (purpose, unit) in [
        (Purpose::Auth, "JPKI for user authentication"),
        (Purpose::Sign, "JPKI for digital signature"),
    ] {
        let root = parse(shared.ca.root_der(purpose));
        let expected = format!(
            "C=JP, O=JPKI-TEST, OU={unit}, OU=Japan Agency for Local Authority Information Systems"
        );
        assert_eq!(root.subject().to_string(), expected);
        assert_eq!(root.issuer().to_string(), expected);
        let constraints = root.basic_constraints().expect("one").expect("present");
        assert!(constraints.critical && constraints.value.ca);
        let usage = root.key_usage().expect("one").expect("present");
        assert!(usage.critical && usage.value.key_cert_sign() && usage.value.crl_sign());
        assert!(!usage.value.digital_signature());
        assert!(matches!(
            extension(&root, "2.5.29.14"),
            ParsedExtension::SubjectKeyIdentifier(id) if id.0.len() == 20
        ));
        let not_after = root.validity().not_after.to_datetime();
        assert_eq!(
            not_after,
            datetime!(2035-11-24 14:59:59 UTC),
            "ten years, to the eve"
        );
        assert_eq!(root.public_key().parsed().expect("rsa").key_size(), 2048);
    }
}

#[test]
fn the_user_authentication_certificate_carries_no_personal_data() {
    let shared = shared();
    let der = certificate_der(&shared.card, Purpose::Auth);
    let cert = parse(&der);
    let subject = cert.subject().to_string();
    assert!(subject.starts_with("C=JP, CN="), "{subject}");
    assert!(cert.subject_alternative_name().expect("one").is_none());
    assert!(!String::from_utf8_lossy(&der).contains("Tokyo-to"));
    let usage = cert.key_usage().expect("one").expect("present");
    assert!(usage.critical && usage.value.digital_signature() && !usage.value.non_repudiation());
    let eku = cert.extended_key_usage().expect("one").expect("present");
    assert!(eku.value.client_auth);
    assert_eq!(policy_ids(&cert), [oid::POLICY_AUTH]);
}

#[test]
fn the_signature_certificate_names_the_locality_and_the_test_policy() {
    let shared = shared();
    let der = certificate_der(&shared.card, Purpose::Sign);
    let cert = parse(&der);
    let subject = cert.subject().to_string();
    assert!(
        subject.starts_with("C=JP, L=Tokyo-to, L=Chiyoda-ku, CN="),
        "{subject}"
    );
    let usage = cert.key_usage().expect("one").expect("present");
    assert!(usage.critical && usage.value.digital_signature() && usage.value.non_repudiation());
    assert_eq!(policy_ids(&cert), [oid::POLICY_SIGN_TEST]);
}

#[test]
fn both_certificates_point_back_to_their_root_by_key_and_by_name() {
    let shared = shared();
    for purpose in [Purpose::Auth, Purpose::Sign] {
        let der = certificate_der(&shared.card, purpose);
        let cert = parse(&der);
        let root = parse(shared.ca.root_der(purpose));
        let ParsedExtension::SubjectKeyIdentifier(root_ski) = extension(&root, "2.5.29.14") else {
            panic!("root SKI")
        };
        let ParsedExtension::AuthorityKeyIdentifier(aki) = extension(&cert, "2.5.29.35") else {
            panic!("AKI")
        };
        assert_eq!(aki.key_identifier.as_ref().map(|k| k.0), Some(root_ski.0));
        let ParsedExtension::IssuerAlternativeName(ian) = extension(&cert, "2.5.29.18") else {
            panic!("IAN")
        };
        let [GeneralName::DirectoryName(name)] = ian.general_names.as_slice() else {
            panic!("one directoryName")
        };
        // Real certificates show C=JP, O=公的個人認証サービス first; the whole name is the root's
        // own subjectAltName.
        assert!(
            name.to_string()
                .starts_with(&format!("C=JP, O={}, OU=", jpki::ISSUER_ALT_ORG)),
            "{name}"
        );
        let ParsedExtension::SubjectAlternativeName(root_san) = extension(&root, "2.5.29.17")
        else {
            panic!("root SAN")
        };
        let [GeneralName::DirectoryName(root_name)] = root_san.general_names.as_slice() else {
            panic!("one directoryName in the root")
        };
        assert_eq!(name.as_raw(), root_name.as_raw());
        let ParsedExtension::CRLDistributionPoints(points) = extension(&cert, "2.5.29.31") else {
            panic!("CRL DP")
        };
        let Some(DistributionPointName::FullName(names)) = &points.points[0].distribution_point
        else {
            panic!("fullName")
        };
        assert!(
            matches!(names.as_slice(), [GeneralName::DirectoryName(n)] if n.as_raw() == root.subject().as_raw()),
            "the CRL is found by directory name, not URL"
        );
        let bits = cert.tbs_certificate.serial.bits();
        assert!((64..=128).contains(&bits), "serial of {bits} bits");
    }
}

#[test]
fn the_basic_facts_are_other_names_with_the_jlis_oids() {
    let shared = shared();
    let der = certificate_der(&shared.card, Purpose::Sign);
    let cert = parse(&der);
    let san = cert
        .subject_alternative_name()
        .expect("one")
        .expect("present");
    let facts: Vec<(String, String)> = san
        .value
        .general_names
        .iter()
        .map(|name| match name {
            GeneralName::OtherName(type_id, value) => {
                (type_id.to_id_string(), other_name_text(value))
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    // The order of real certificates; a map is present even without 外字 (all 0).
    let expected = [
        (oid::NAME, "山田\u{3000}太郎"),
        (oid::DATE_OF_BIRTH, "319850401"),
        (oid::SEX, "1"),
        (oid::ADDRESS, "東京都千代田区千代田１番１号"),
        (oid::NAME_SUBSTITUTE_MAP, "00100"),
        (oid::ADDRESS_SUBSTITUTE_MAP, "00000000000000"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(o, v)| (o.to_string(), v.to_string()))
        .collect();
    assert_eq!(facts, expected);

    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(dir.path(), "sign.der", &der);
    let (ok, out) = openssl(&["asn1parse", "-inform", "DER", "-in", &path]);
    assert!(ok, "{out}");
    // The extension value is an OCTET STRING; -strparse opens it at its offset.
    let offset = out
        .lines()
        .skip_while(|l| !l.contains("X509v3 Subject Alternative Name"))
        .find(|l| l.contains("OCTET STRING"))
        .and_then(|l| l.split(':').next())
        .map(|o| o.trim().to_owned())
        .expect("subjectAltName value in the asn1parse output");
    let (ok, out) = openssl(&[
        "asn1parse",
        "-inform",
        "DER",
        "-in",
        &path,
        "-strparse",
        &offset,
    ]);
    assert!(ok, "{out}");
    for (type_id, _) in &expected {
        assert!(
            out.contains(&format!("OBJECT            :{type_id}")),
            "{type_id} in {out}"
        );
    }
    assert!(out.contains("UTF8STRING        :319850401"), "{out}");
}

#[test]
fn by_default_a_card_is_valid_from_issue_to_the_fifth_birthday() {
    let shared = shared();
    for purpose in [Purpose::Auth, Purpose::Sign] {
        let summary = shared.card.slot(purpose).summary().expect("summary");
        assert_eq!(summary.not_before, ISSUED_AT);
        assert_eq!(summary.not_after, datetime!(2030-04-01 14:59:59 UTC));
    }
    assert_eq!(shared.card.token_label, "JPKIAPICCTOKEN2");
    assert_eq!(
        (shared.card.auth.tries_left, shared.card.sign.tries_left),
        (3, 5)
    );
}

#[test]
fn explicit_validity_makes_expired_and_not_yet_valid_cards_openssl_refuses() {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let mut expired = CardOptions::example();
    expired.not_before = Some(ISSUED_AT - Duration::days(400));
    expired.not_after = Some(ISSUED_AT - Duration::days(1));
    let mut future = CardOptions::example();
    future.not_before = Some(ISSUED_AT + Duration::days(30));
    future.not_after = Some(ISSUED_AT + Duration::days(400));
    let dir = tempfile::tempdir().expect("temp dir");
    let root = write(dir.path(), "root.pem", ca.root_pem(Purpose::Auth));
    for (options, complaint) in [(expired, "expired"), (future, "not yet valid")] {
        let card = ca.issue_card(&options, ISSUED_AT).expect("card");
        let cert = write(
            dir.path(),
            "card.pem",
            pem(&certificate_der(&card, Purpose::Auth)),
        );
        let (ok, out) = openssl(&["verify", "-attime", &at(ISSUED_AT), "-CAfile", &root, &cert]);
        assert!(!ok && out.contains(complaint), "{out}");
    }
}

#[test]
fn invalid_secrets_are_refused_before_anything_is_issued() {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let mut options = CardOptions::example();
    options.pin = "12345".to_owned();
    assert!(matches!(
        ca.issue_card(&options, ISSUED_AT),
        Err(TestkitError::InvalidOptions(_))
    ));
    options = CardOptions::example();
    options.password = "abc123".to_owned();
    assert!(ca.issue_card(&options, ISSUED_AT).is_err());
    assert!(ca.issued().is_empty());
}
