//! Revocation through real test-kit CRLs: revoked, stale, rolled back, foreign and garbage.

use mykey_connect::card::crl::CrlError;
use mykey_connect::card::jpki::{Purpose, RevocationReason};
use mykey_connect::card::protocol::CardErrorCode;
use mykey_connect::card::revocation::RevocationStatus;
use mykey_connect::testkit::{CardOptions, TestCa};
use time::Duration;

use super::support::{day_crl, own_ca_and_card, Provider, ISSUED_AT, NOW};

#[test]
fn a_card_revoked_in_the_test_kit_crl_is_refused_as_revoked() {
    let (mut ca, card) = own_ca_and_card(&CardOptions::example());
    let provider = Provider::trusting(&mut ca);
    provider
        .login(&card, Purpose::Auth)
        .expect("good before revocation");

    let serial = card.serial_hex(Purpose::Auth).expect("serial");
    let revoked_at = ISSUED_AT + Duration::minutes(30);
    ca.revoke(&serial, RevocationReason::KeyCompromise, revoked_at)
        .expect("revoke");
    let update = provider
        .load(&day_crl(&mut ca, Purpose::Auth, revoked_at))
        .expect("second CRL");
    let newly: Vec<String> = update.newly_revoked().map(|e| e.serial.to_hex()).collect();
    assert_eq!(newly, [serial]);

    assert_eq!(
        provider.login(&card, Purpose::Auth).map(|_| ()),
        Err(CardErrorCode::CertificateRevoked)
    );
    // The signature certificate of the same card is not on the auth CRL.
    provider
        .login(&card, Purpose::Sign)
        .expect("sign still good");
}

#[test]
fn a_renewal_lists_the_superseded_certificates_as_newly_revoked() {
    let (mut ca, card) = own_ca_and_card(&CardOptions::example());
    let provider = Provider::trusting(&mut ca);
    let renewed_at = ISSUED_AT + Duration::minutes(10);
    let renewed = ca.renew(&card, renewed_at).expect("renew");
    for purpose in [Purpose::Auth, Purpose::Sign] {
        let update = provider
            .load(&day_crl(&mut ca, purpose, renewed_at))
            .expect("CRL");
        let newly: Vec<_> = update.newly_revoked().collect();
        assert_eq!(newly.len(), 1);
        assert_eq!(
            newly[0].serial.to_hex(),
            card.serial_hex(purpose).expect("serial")
        );
        assert_eq!(newly[0].reason, RevocationReason::Superseded);
        assert_eq!(newly[0].at, renewed_at);
        assert_eq!(
            provider.login(&card, purpose).map(|_| ()),
            Err(CardErrorCode::CertificateRevoked)
        );
        provider
            .login(&renewed, purpose)
            .expect("the new card works");
    }
}

#[test]
fn a_stale_crl_pauses_logins_until_a_fresh_one_arrives() {
    let (mut ca, card) = own_ca_and_card(&CardOptions::example());
    let mut provider = Provider::trusting(&mut ca);
    let day_after = NOW + Duration::days(1);
    let message = super::support::message("n0nce");
    let signature = super::support::card_signature(&card, Purpose::Auth, &message);
    let cert = super::support::certificate(&card, Purpose::Auth);
    let login_at = |provider: &Provider, at| {
        provider
            .verify_at(Purpose::Auth, &cert, &message, &signature, at)
            .map(|_| ())
    };
    assert_eq!(
        login_at(&provider, day_after),
        Err(CardErrorCode::RevocationDataStale)
    );
    provider.policy.stale_grace = Duration::hours(2);
    assert_eq!(login_at(&provider, day_after), Ok(()));
    provider.policy.stale_grace = Duration::ZERO;
    provider
        .load(&day_crl(
            &mut ca,
            Purpose::Auth,
            day_after - Duration::hours(1),
        ))
        .expect("fresh CRL");
    assert_eq!(login_at(&provider, day_after), Ok(()));
}

#[test]
fn without_any_crl_logins_fail_closed_unless_the_policy_allows_it() {
    let (mut ca, card) = own_ca_and_card(&CardOptions::example());
    let mut provider = Provider::trusting(&mut ca);
    provider.revocation = Default::default();
    assert_eq!(
        provider.login(&card, Purpose::Auth).map(|_| ()),
        Err(CardErrorCode::RevocationDataStale)
    );
    provider.policy.allow_missing_revocation_data = true;
    provider
        .login(&card, Purpose::Auth)
        .expect("allowed without data");
}

#[test]
fn a_rolled_back_crl_is_refused_and_the_newer_data_stays() {
    let (mut ca, card) = own_ca_and_card(&CardOptions::example());
    let provider = Provider::trusting(&mut ca);
    let older = day_crl(&mut ca, Purpose::Auth, ISSUED_AT + Duration::minutes(1));
    ca.revoke(
        &card.serial_hex(Purpose::Auth).expect("serial"),
        RevocationReason::CessationOfOperation,
        ISSUED_AT + Duration::minutes(2),
    )
    .expect("revoke");
    let newer = day_crl(&mut ca, Purpose::Auth, ISSUED_AT + Duration::minutes(3));
    provider.load(&newer).expect("newer CRL");
    let err = provider.load(&older).expect_err("older CRL");
    assert!(
        matches!(&err, CrlError::RolledBack { have, got } if have.to_string() == "3" && got.to_string() == "2"),
        "{err}"
    );
    assert_eq!(
        provider.load(&newer).map(|_| ()),
        Err(CrlError::NotNewer {
            number: "3".parse().expect("number")
        })
    );
    assert_eq!(
        provider.login(&card, Purpose::Auth).map(|_| ()),
        Err(CardErrorCode::CertificateRevoked)
    );
}

#[test]
fn a_crl_signed_by_another_ca_or_garbage_is_refused() {
    let (mut ca, _) = own_ca_and_card(&CardOptions::example());
    let provider = Provider::trusting(&mut ca);
    let mut stranger = TestCa::ephemeral(ISSUED_AT).expect("CA #2");
    let foreign = day_crl(&mut stranger, Purpose::Auth, ISSUED_AT);
    assert_eq!(
        provider.load(&foreign).map(|_| ()),
        Err(CrlError::UnknownIssuer)
    );
    for garbage in [&b"garbage"[..], &foreign[..foreign.len() - 1], &[]] {
        assert!(matches!(provider.load(garbage), Err(CrlError::Garbage(_))));
    }
    let mut tampered = day_crl(&mut ca, Purpose::Auth, ISSUED_AT);
    let at = tampered.len() - 10;
    tampered[at] ^= 0x01;
    assert_eq!(
        provider.load(&tampered).map(|_| ()),
        Err(CrlError::BadSignature)
    );
}

#[test]
fn a_padded_crl_loads_every_entry_and_answers_lookups() {
    let (mut ca, card) = own_ca_and_card(&CardOptions::example());
    let provider = Provider::trusting(&mut ca);
    let serial = card.serial_hex(Purpose::Sign).expect("serial");
    ca.revoke(&serial, RevocationReason::AffiliationChanged, ISSUED_AT)
        .expect("revoke");
    let crl = ca
        .crl_padded(
            Purpose::Sign,
            ISSUED_AT,
            ISSUED_AT + Duration::days(1),
            10_000,
        )
        .expect("CRL");
    let update = provider.load(&crl).expect("padded CRL");
    assert_eq!(update.current.info().entry_count, 10_001);
    assert_eq!(update.newly_revoked().count(), 10_001);
    let root = update.current.info().root_key_id.clone();
    use mykey_connect::card::revocation::RevocationSource as _;
    assert!(matches!(
        provider.revocation.status(&root, &serial, NOW),
        RevocationStatus::Revoked {
            reason: RevocationReason::AffiliationChanged,
            ..
        }
    ));
    assert_eq!(
        provider.revocation.status(&root, "7e00000000000001", NOW),
        RevocationStatus::Revoked {
            reason: RevocationReason::KeyCompromise,
            at: ISSUED_AT - Duration::days(1),
        }
    );
}
