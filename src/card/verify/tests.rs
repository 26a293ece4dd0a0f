use time::Duration;

use super::*;
use crate::card::facts::{FactsError, Sex};
use crate::card::jpki::RevocationReason;
use crate::card::revocation::InMemoryRevocation;
use crate::card::test_support::{key, Ca, CrlBuilder, Leaf, NOW};

const MESSAGE: &[u8] = b"mykey-clp/1\nissuer=https://id.example.jp\n";

pub(super) struct World {
    pub auth: Ca,
    pub sign: Ca,
    pub trust: TrustStore,
    pub revocation: InMemoryRevocation,
    pub policy: VerifyPolicy,
}

/// Test roots for both purposes, each with a current empty CRL, test cards allowed.
pub(super) fn world() -> World {
    let auth = Ca::new(Purpose::Auth, true, 0);
    let sign = Ca::new(Purpose::Sign, true, 1);
    let trust = Ca::trust(&[&auth, &sign]);
    let revocation = InMemoryRevocation::new();
    for ca in [&auth, &sign] {
        revocation
            .load_crl(&trust, &CrlBuilder::new(ca, 1).sign(ca.key))
            .expect("CRL");
    }
    let policy = VerifyPolicy {
        allow_test_cards: true,
        ..VerifyPolicy::PRODUCTION
    };
    World {
        auth,
        sign,
        trust,
        revocation,
        policy,
    }
}

impl World {
    pub(super) fn check(
        &self,
        purpose: Purpose,
        cert: &[u8],
    ) -> Result<VerifiedCertificate, VerifyError> {
        self.check_at(purpose, cert, NOW)
    }

    pub(super) fn check_at(
        &self,
        purpose: Purpose,
        cert: &[u8],
        now: OffsetDateTime,
    ) -> Result<VerifiedCertificate, VerifyError> {
        let signature = key(3).sign(MESSAGE);
        check_card_signature(
            &self.trust,
            &self.revocation,
            &self.policy,
            purpose,
            cert,
            MESSAGE,
            &signature,
            now,
        )
    }

    pub(super) fn code(&self, purpose: Purpose, cert: &[u8]) -> CardErrorCode {
        self.check(purpose, cert).expect_err("refused").code()
    }
}

#[test]
fn a_good_authentication_certificate_is_accepted_without_facts() {
    let w = world();
    let cert = Leaf::new(&w.auth).issue(&w.auth);
    let verified = w.check(Purpose::Auth, &cert).expect("accepted");
    assert_eq!(verified.purpose, Purpose::Auth);
    assert_eq!(verified.serial, "8f010203");
    assert_eq!(verified.issuer_key_id, jpki::key_id(&w.auth.key.spki));
    assert_eq!(verified.subject, "C=JP, CN=TEST0001");
    assert!(verified.test_card);
    assert_eq!(verified.facts, None);
}

#[test]
fn a_good_signature_certificate_is_accepted_with_its_facts() {
    let w = world();
    let cert = Leaf::new(&w.sign).issue(&w.sign);
    let facts = w
        .check(Purpose::Sign, &cert)
        .expect("accepted")
        .facts
        .expect("facts");
    assert_eq!(facts.name_family.as_deref(), Some("住基"));
    assert_eq!(facts.sex, Sex::Female);
    assert_eq!(facts.birthdate.iso_date().as_deref(), Some("1985-04-01"));
}

#[test]
fn the_wire_function_answers_with_the_code_alone() {
    let w = world();
    let cert = Leaf::new(&w.auth).issue(&w.auth);
    let result = verify_card_signature(
        &w.trust,
        &w.revocation,
        &w.policy,
        Purpose::Auth,
        &cert,
        MESSAGE,
        b"bad",
        NOW,
    );
    assert_eq!(result, Err(CardErrorCode::InvalidSignature));
}

#[test]
fn a_certificate_offered_for_the_other_purpose_is_refused_as_wrong_purpose() {
    let w = world();
    let auth = Leaf::new(&w.auth).issue(&w.auth);
    let sign = Leaf::new(&w.sign).issue(&w.sign);
    assert_eq!(
        w.code(Purpose::Sign, &auth),
        CardErrorCode::WrongCertificatePurpose
    );
    assert_eq!(
        w.code(Purpose::Auth, &sign),
        CardErrorCode::WrongCertificatePurpose
    );
}

#[test]
fn a_certificate_from_an_unknown_ca_is_untrusted_even_when_its_aki_names_a_root() {
    let w = world();
    let stranger = Ca::new(Purpose::Auth, true, 2);
    let cert = Leaf::new(&stranger).issue(&stranger);
    assert_eq!(
        w.check(Purpose::Auth, &cert),
        Err(VerifyError::UnknownIssuer)
    );
    let mut forged = Leaf::new(&stranger);
    forged.authority_key_id = Some(w.auth.key_identifier.clone());
    assert_eq!(
        w.check(Purpose::Auth, &forged.issue(&stranger)),
        Err(VerifyError::UnknownIssuer)
    );
}

#[test]
fn without_an_authority_key_identifier_the_root_is_found_by_its_key() {
    let w = world();
    let mut leaf = Leaf::new(&w.auth);
    leaf.authority_key_id = None;
    assert!(w.check(Purpose::Auth, &leaf.issue(&w.auth)).is_ok());
}

#[test]
fn a_test_card_is_refused_in_production() {
    let mut w = world();
    let cert = Leaf::new(&w.auth).issue(&w.auth);
    w.policy = VerifyPolicy::PRODUCTION;
    assert_eq!(
        w.check(Purpose::Auth, &cert),
        Err(VerifyError::TestCardRefused)
    );
    assert_eq!(
        w.code(Purpose::Auth, &cert),
        CardErrorCode::UntrustedCertificate
    );
}

#[test]
fn validity_must_cover_now_at_both_ends() {
    let w = world();
    let cert = Leaf::new(&w.auth).issue(&w.auth);
    let early = NOW - Duration::days(31);
    let late = NOW + Duration::days(366);
    assert_eq!(
        w.check_at(Purpose::Auth, &cert, early),
        Err(VerifyError::NotYetValid)
    );
    assert_eq!(
        w.check_at(Purpose::Auth, &cert, late),
        Err(VerifyError::Expired)
    );
    for at in [early, late] {
        let code = w
            .check_at(Purpose::Auth, &cert, at)
            .expect_err("refused")
            .code();
        assert_eq!(code, CardErrorCode::CertificateExpired);
    }
}

#[test]
fn garbage_truncated_and_padded_certificates_are_untrusted() {
    let w = world();
    let cert = Leaf::new(&w.auth).issue(&w.auth);
    let mut padded = cert.clone();
    padded.push(0);
    for bad in [
        &b""[..],
        b"garbage",
        &cert[..cert.len() / 2],
        &cert[..cert.len() - 1],
        &padded,
    ] {
        assert_eq!(
            w.code(Purpose::Auth, bad),
            CardErrorCode::UntrustedCertificate
        );
    }
}

#[test]
fn a_signature_by_another_key_or_over_another_message_is_invalid() {
    let w = world();
    let cert = Leaf::new(&w.auth).issue(&w.auth);
    for signature in [
        key(4).sign(MESSAGE),
        key(3).sign(b"another message"),
        vec![0; 256],
    ] {
        let result = verify_card_signature(
            &w.trust,
            &w.revocation,
            &w.policy,
            Purpose::Auth,
            &cert,
            MESSAGE,
            &signature,
            NOW,
        );
        assert_eq!(result, Err(CardErrorCode::InvalidSignature));
    }
}

#[test]
fn a_signature_certificate_without_readable_facts_is_the_wrong_kind() {
    let w = world();
    let mut leaf = Leaf::new(&w.sign);
    leaf.extensions.truncate(2);
    let err = w
        .check(Purpose::Sign, &leaf.issue(&w.sign))
        .expect_err("no facts");
    assert_eq!(err, VerifyError::Facts(FactsError::NoSubjectAltName));
    assert_eq!(err.code(), CardErrorCode::WrongCertificatePurpose);
}

#[test]
fn every_refusal_reason_maps_to_a_card_error_code_of_the_spec() {
    let codes = [
        VerifyError::Unparsable.code(),
        VerifyError::IssuedForOtherPurpose {
            issuer_purpose: Purpose::Auth,
        }
        .code(),
        VerifyError::Expired.code(),
        VerifyError::Revoked {
            reason: RevocationReason::Superseded,
            at: NOW,
        }
        .code(),
        VerifyError::NoRevocationData.code(),
        VerifyError::BadSignature.code(),
    ];
    assert_eq!(
        codes.map(CardErrorCode::as_str),
        [
            "untrusted_certificate",
            "wrong_certificate_purpose",
            "certificate_expired",
            "certificate_revoked",
            "revocation_data_stale",
            "invalid_signature",
        ]
    );
}
