//! The JPKI client over the software card: whole files, labels, counters and typed errors.

use mykey_connect::card::jpki::{Purpose, TOKEN_LABEL};
use mykey_connect::card::message::signed_message;
use mykey_connect::card::protocol::ChallengePurpose;
use mykey_connect::helper::jpki::{Jpki, JpkiError, SecretState};
use mykey_connect::helper::secret::Secret;
use mykey_connect::helper::softcard::SoftCard;
use mykey_connect::helper::transport::{CardTransport, TransportError};

use super::fixture::{self, PASSWORD, PIN};
use super::fresh_card;

fn pin(text: &str) -> Secret {
    Secret::pin(text.to_owned()).expect("pin format")
}

fn password(text: &str) -> Secret {
    Secret::sign_password(text.to_owned()).expect("password format")
}

/// A card of another kind: it knows no JPKI application.
struct ForeignCard;

impl CardTransport for ForeignCard {
    fn transmit(&mut self, _apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        Ok(vec![0x6A, 0x82])
    }

    fn describe(&self) -> String {
        "a transit card".to_owned()
    }
}

#[test]
fn certificates_read_back_exactly_as_issued_without_the_padding() {
    let mut jpki = Jpki::new(fresh_card());
    let file = fixture::card();
    assert_eq!(
        jpki.read_certificate(Purpose::Auth)
            .expect("auth certificate"),
        file.auth.certificate_der().expect("der")
    );
    assert_eq!(
        jpki.read_ca_certificate(Purpose::Sign).expect("sign CA"),
        file.sign.ca_certificate_der().expect("der")
    );
    assert_eq!(jpki.token_label().expect("label"), TOKEN_LABEL);
}

#[test]
fn the_signature_certificate_needs_the_password_first() {
    let mut jpki = Jpki::new(fresh_card());
    assert!(matches!(
        jpki.read_certificate(Purpose::Sign),
        Err(JpkiError::SecurityStatusNotSatisfied)
    ));
    jpki.verify(Purpose::Sign, &password(PASSWORD))
        .expect("verify password");
    assert_eq!(
        jpki.read_certificate(Purpose::Sign)
            .expect("sign certificate"),
        fixture::card().sign.certificate_der().expect("der")
    );
}

#[test]
fn wrong_pin_reports_the_tries_left_and_then_blocked() {
    let mut jpki = Jpki::new(fresh_card());
    assert_eq!(
        jpki.secret_state(Purpose::Auth).expect("state"),
        SecretState::TriesLeft(3)
    );
    for left in [2, 1] {
        match jpki.verify(Purpose::Auth, &pin("0000")) {
            Err(JpkiError::WrongPin {
                purpose: Purpose::Auth,
                tries_left,
            }) => assert_eq!(tries_left, left),
            other => panic!("expected a wrong PIN, got {other:?}"),
        }
    }
    assert!(matches!(
        jpki.verify(Purpose::Auth, &pin("0000")),
        Err(JpkiError::Blocked {
            purpose: Purpose::Auth
        })
    ));
    assert_eq!(
        jpki.secret_state(Purpose::Auth).expect("state"),
        SecretState::Blocked
    );
    assert!(matches!(
        jpki.verify(Purpose::Auth, &pin(PIN)),
        Err(JpkiError::Blocked { .. })
    ));
}

#[test]
fn signing_before_verify_is_a_security_status_error_and_after_it_verifies() {
    let mut jpki = Jpki::new(fresh_card());
    let message = signed_message(
        "https://id.example.jp",
        "c",
        "n",
        ChallengePurpose::Verify,
        1,
    );
    assert!(matches!(
        jpki.sign(Purpose::Auth, &message),
        Err(JpkiError::SecurityStatusNotSatisfied)
    ));
    jpki.verify(Purpose::Auth, &pin(PIN)).expect("verify");
    // Like a My Number Card, the software card tells the tries left even once verified.
    assert_eq!(
        jpki.secret_state(Purpose::Auth).expect("state"),
        SecretState::TriesLeft(3)
    );
    let signature = jpki.sign(Purpose::Auth, &message).expect("sign");
    let certificate = jpki.read_certificate(Purpose::Auth).expect("certificate");
    assert!(fixture::signature_verifies(
        &certificate,
        &message,
        &signature
    ));
}

#[test]
fn one_client_keeps_the_pin_verified_while_it_reads_other_files_and_then_signs() {
    let mut jpki = Jpki::new(fresh_card());
    jpki.verify(Purpose::Auth, &pin(PIN)).expect("verify");
    assert_eq!(jpki.token_label().expect("label"), TOKEN_LABEL);
    jpki.read_ca_certificate(Purpose::Auth).expect("auth CA");
    let certificate = jpki.read_certificate(Purpose::Auth).expect("certificate");
    let signature = jpki.sign(Purpose::Auth, b"message").expect("sign");
    assert!(fixture::signature_verifies(
        &certificate,
        b"message",
        &signature
    ));
}

#[test]
fn a_second_client_selects_the_application_again_so_the_pin_must_be_verified_again() {
    let mut card = fresh_card();
    Jpki::new(&mut card)
        .verify(Purpose::Auth, &pin(PIN))
        .expect("the first client verifies");
    let mut second = Jpki::new(&mut card);
    assert!(matches!(
        second.sign(Purpose::Auth, b"message"),
        Err(JpkiError::SecurityStatusNotSatisfied)
    ));
    second
        .verify(Purpose::Auth, &pin(PIN))
        .expect("verify again");
    second.sign(Purpose::Auth, b"message").expect("sign");
}

#[test]
fn a_card_without_the_jpki_application_is_not_a_my_number_card() {
    let mut jpki = Jpki::new(ForeignCard);
    assert!(matches!(jpki.select_application(), Err(JpkiError::NotJpki)));
    assert!(matches!(jpki.token_label(), Err(JpkiError::NotJpki)));
}

#[test]
fn the_client_works_through_a_boxed_transport() {
    let card: Box<dyn CardTransport> = Box::new(SoftCard::new(fixture::card()).expect("card"));
    let mut jpki = Jpki::new(card);
    assert_eq!(jpki.token_label().expect("label"), TOKEN_LABEL);
    assert_eq!(jpki.transport().describe(), "software card (in memory)");
}
