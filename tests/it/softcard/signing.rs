//! COMPUTE DIGITAL SIGNATURE: only after VERIFY, with the right key, over what the host sent.

use mykey_connect::card::message::{sha256_digest_info, signed_message};
use mykey_connect::card::protocol::ChallengePurpose;
use mykey_connect::helper::apdu::StatusWord;

use super::fixture::{self, PASSWORD, PIN};
use super::{fresh_card, send, sign_apdu, sw, verify_apdu, SELECT_JPKI};

fn message() -> Vec<u8> {
    signed_message(
        "https://id.example.jp",
        "abc",
        "nonce",
        ChallengePurpose::Login,
        1_900_000_000,
    )
}

#[test]
fn signing_before_verify_is_refused() {
    let mut card = fresh_card();
    send(&mut card, SELECT_JPKI);
    send(&mut card, "00 A4 02 0C 02 00 17");
    let digest_info = sha256_digest_info(&message());
    assert_eq!(
        sw(&mut card, &sign_apdu(&digest_info)),
        StatusWord::SECURITY_STATUS_NOT_SATISFIED
    );
    // The password does not unlock the user-authentication key, nor the PIN the signature key.
    send(&mut card, "00 A4 02 0C 02 00 1B");
    send(&mut card, &verify_apdu(PASSWORD));
    send(&mut card, "00 A4 02 0C 02 00 17");
    assert_eq!(
        sw(&mut card, &sign_apdu(&digest_info)),
        StatusWord::SECURITY_STATUS_NOT_SATISFIED
    );
    let mut card = fresh_card();
    send(&mut card, SELECT_JPKI);
    send(&mut card, "00 A4 02 0C 02 00 18");
    send(&mut card, &verify_apdu(PIN));
    send(&mut card, "00 A4 02 0C 02 00 1A");
    assert_eq!(
        sw(&mut card, &sign_apdu(&digest_info)),
        StatusWord::SECURITY_STATUS_NOT_SATISFIED
    );
}

#[test]
fn signing_needs_a_key_file_selected() {
    let mut card = fresh_card();
    send(&mut card, SELECT_JPKI);
    let digest_info = sha256_digest_info(&message());
    assert_eq!(
        sw(&mut card, &sign_apdu(&digest_info)),
        StatusWord::NO_CURRENT_EF
    );
    send(&mut card, "00 A4 02 0C 02 00 0A");
    assert_eq!(
        sw(&mut card, &sign_apdu(&digest_info)),
        StatusWord::INCOMPATIBLE_WITH_FILE
    );
}

#[test]
fn both_keys_sign_a_digest_info_into_a_signature_that_verifies() {
    let mut card = fresh_card();
    let file = fixture::card();
    let digest_info = sha256_digest_info(&message());
    send(&mut card, SELECT_JPKI);
    for (pin_ef, secret, key_ef, certificate) in [
        ("00 18", PIN, "00 17", file.auth.certificate_der()),
        ("00 1B", PASSWORD, "00 1A", file.sign.certificate_der()),
    ] {
        send(&mut card, &format!("00 A4 02 0C 02 {pin_ef}"));
        assert_eq!(sw(&mut card, &verify_apdu(secret)), StatusWord::OK);
        send(&mut card, &format!("00 A4 02 0C 02 {key_ef}"));
        let answer = send(&mut card, &sign_apdu(&digest_info));
        assert_eq!((answer.sw, answer.data.len()), (StatusWord::OK, 256));
        let certificate = certificate.expect("der");
        assert!(fixture::signature_verifies(
            &certificate,
            &message(),
            &answer.data
        ));
    }
}

#[test]
fn a_bare_hash_yields_a_signature_that_does_not_verify() {
    let mut card = fresh_card();
    send(&mut card, SELECT_JPKI);
    send(&mut card, "00 A4 02 0C 02 00 18");
    send(&mut card, &verify_apdu(PIN));
    send(&mut card, "00 A4 02 0C 02 00 17");
    let bare = &sha256_digest_info(&message())[19..];
    let answer = send(&mut card, &sign_apdu(bare));
    assert_eq!((answer.sw, answer.data.len()), (StatusWord::OK, 256));
    let certificate = fixture::card().auth.certificate_der().expect("der");
    assert!(!fixture::signature_verifies(
        &certificate,
        &message(),
        &answer.data
    ));
}
