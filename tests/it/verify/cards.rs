//! Certificates and signatures of test-kit cards: accepted, or refused with their own code.

use mykey_connect::card::facts::Sex;
use mykey_connect::card::jpki::{key_id, Purpose};
use mykey_connect::card::message::signed_message;
use mykey_connect::card::protocol::{CardErrorCode, ChallengePurpose};
use mykey_connect::card::trust::TrustStore;
use mykey_connect::card::verify::VerifyPolicy;
use mykey_connect::testkit::{CardOptions, TestCa};
use time::Duration;

use super::support::{
    card_signature, certificate, message, own_ca_and_card, shared, Provider, Shared, EXPIRES_AT,
    ISSUED_AT, ISSUER, NOW,
};

#[test]
fn a_good_card_is_accepted_for_login_and_for_identity_verification() {
    let Shared { card, provider } = shared();
    let auth = provider.login(card, Purpose::Auth).expect("login");
    assert_eq!(auth.purpose, Purpose::Auth);
    assert_eq!(auth.serial, card.serial_hex(Purpose::Auth).expect("serial"));
    let root = card.auth.ca_certificate_der().expect("CA certificate");
    let root_spki = x509_parser::parse_x509_certificate(&root)
        .expect("root")
        .1
        .public_key()
        .raw
        .to_vec();
    assert_eq!(auth.issuer_key_id, key_id(&root_spki));
    assert!(auth.test_card);
    assert!(auth.facts.is_none());
    assert_eq!(auth.not_before, ISSUED_AT);

    let sign = provider
        .login(card, Purpose::Sign)
        .expect("identity verification");
    assert_eq!(sign.serial, card.serial_hex(Purpose::Sign).expect("serial"));
    assert!(sign.subject.contains("L=Chiyoda-ku"), "{}", sign.subject);
    let facts = sign.facts.expect("basic facts");
    assert_eq!(facts.name, "山田\u{3000}太郎");
    assert_eq!(facts.name_family.as_deref(), Some("山田"));
    assert_eq!(facts.name_given.as_deref(), Some("太郎"));
    assert_eq!(facts.address, "東京都千代田区千代田１番１号");
    assert_eq!(facts.birthdate.iso_date().as_deref(), Some("1985-04-01"));
    assert_eq!(facts.sex, Sex::Male);
    assert!(!facts.name_uses_substitutes && !facts.address_uses_substitutes);
}

#[test]
fn a_card_from_another_ca_is_untrusted() {
    let Shared { provider, .. } = shared();
    let (_, stranger_card) = own_ca_and_card(&CardOptions::example());
    for purpose in [Purpose::Auth, Purpose::Sign] {
        assert_eq!(
            provider.login(&stranger_card, purpose).map(|_| ()),
            Err(CardErrorCode::UntrustedCertificate)
        );
    }
}

#[test]
fn each_certificate_is_refused_for_the_other_purpose() {
    let Shared { card, provider } = shared();
    assert_eq!(
        provider
            .login_as(card, Purpose::Auth, Purpose::Sign)
            .map(|_| ()),
        Err(CardErrorCode::WrongCertificatePurpose)
    );
    assert_eq!(
        provider
            .login_as(card, Purpose::Sign, Purpose::Auth)
            .map(|_| ()),
        Err(CardErrorCode::WrongCertificatePurpose)
    );
}

#[test]
fn expired_and_not_yet_valid_cards_are_refused_as_expired() {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let provider = Provider::trusting(&mut ca);
    let expired = CardOptions {
        not_before: Some(ISSUED_AT),
        not_after: Some(NOW - Duration::minutes(1)),
        ..CardOptions::example()
    };
    let early = CardOptions {
        not_before: Some(NOW + Duration::days(1)),
        not_after: Some(NOW + Duration::days(400)),
        ..CardOptions::example()
    };
    for options in [expired, early] {
        let card = ca.issue_card(&options, ISSUED_AT).expect("card");
        for purpose in [Purpose::Auth, Purpose::Sign] {
            assert_eq!(
                provider.login(&card, purpose).map(|_| ()),
                Err(CardErrorCode::CertificateExpired)
            );
        }
    }
}

#[test]
fn a_test_card_is_refused_in_production_mode() {
    let Shared { card, provider } = shared();
    let production = Provider {
        trust: TrustStore::jlis().expect("J-LIS roots"),
        revocation: Default::default(),
        policy: VerifyPolicy::PRODUCTION,
    };
    // Only the J-LIS roots are trusted: a test card chains to none of them.
    assert_eq!(
        production.login(card, Purpose::Auth).map(|_| ()),
        Err(CardErrorCode::UntrustedCertificate)
    );
    // Even where the test roots are configured, production policy refuses them.
    let message = message("n0nce");
    let signature = card_signature(card, Purpose::Auth, &message);
    let result = mykey_connect::card::verify::verify_card_signature(
        &provider.trust,
        &provider.revocation,
        &VerifyPolicy::PRODUCTION,
        Purpose::Auth,
        &certificate(card, Purpose::Auth),
        &message,
        &signature,
        NOW,
    );
    assert_eq!(result.map(|_| ()), Err(CardErrorCode::UntrustedCertificate));
}

#[test]
fn a_signature_over_another_issuer_nonce_or_expiry_is_invalid() {
    let Shared { card, provider } = shared();
    let signed = |issuer: &str, nonce: &str, expires_at: i64| {
        let message = signed_message(issuer, "ch-1", nonce, ChallengePurpose::Verify, expires_at);
        card_signature(card, Purpose::Auth, &message)
    };
    let expected = message("n0nce");
    let cert = certificate(card, Purpose::Auth);
    assert!(provider
        .verify_at(
            Purpose::Auth,
            &cert,
            &expected,
            &signed(ISSUER, "n0nce", EXPIRES_AT),
            NOW
        )
        .is_ok());
    for signature in [
        signed("https://id.example.jp.evil.example", "n0nce", EXPIRES_AT),
        signed(ISSUER, "another-nonce", EXPIRES_AT),
        signed(ISSUER, "n0nce", EXPIRES_AT + 300),
        card_signature(card, Purpose::Sign, &expected),
    ] {
        assert_eq!(
            provider
                .verify_at(Purpose::Auth, &cert, &expected, &signature, NOW)
                .map(|_| ()),
            Err(CardErrorCode::InvalidSignature)
        );
    }
}

#[test]
fn truncated_and_garbage_certificates_are_untrusted() {
    let Shared { card, provider } = shared();
    let message = message("n0nce");
    let signature = card_signature(card, Purpose::Auth, &message);
    let cert = certificate(card, Purpose::Auth);
    let mut flipped = cert.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    for bad in [
        &cert[..cert.len() - 1],
        &cert[..40],
        b"not a certificate at all".as_slice(),
        &[],
        &flipped,
    ] {
        assert_eq!(
            provider
                .verify_at(Purpose::Auth, bad, &message, &signature, NOW)
                .map(|_| ()),
            Err(CardErrorCode::UntrustedCertificate)
        );
    }
}
