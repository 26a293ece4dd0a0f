//! Malformed and out-of-order commands get ISO status words; power cycles forget the session.

use mykey_connect::card::message::{sha256_digest_info, signed_message};
use mykey_connect::card::protocol::ChallengePurpose;
use mykey_connect::helper::apdu::StatusWord;

use super::fixture::PIN;
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
fn bad_lengths_are_wrong_length() {
    let mut card = fresh_card();
    let cases = [
        "00 A4",                         // shorter than a header
        "00 B0 00 00 00 00 04",          // extended Le
        "00 A4 04 0C 0B D3 92",          // Lc larger than the data
        "00 A4 02 0C 03 00 0A 00 00 00", // Lc smaller than the data
    ];
    for apdu in cases {
        assert_eq!(sw(&mut card, apdu), StatusWord::WRONG_LENGTH, "{apdu}");
    }
    send(&mut card, SELECT_JPKI);
    assert_eq!(
        sw(&mut card, "00 A4 02 0C 03 00 0A 00"),
        StatusWord::WRONG_LENGTH
    );
    assert_eq!(sw(&mut card, "00 A4 02 0C 01 0A"), StatusWord::WRONG_LENGTH);
    assert_eq!(sw(&mut card, "00 A4 04 0C"), StatusWord::WRONG_LENGTH);
    send(&mut card, "00 A4 02 0C 02 00 0A");
    assert_eq!(sw(&mut card, "00 B0 00 00"), StatusWord::WRONG_LENGTH);
    assert_eq!(sw(&mut card, "00 B0 00 00 01 00"), StatusWord::WRONG_LENGTH);
    send(&mut card, "00 A4 02 0C 02 00 18");
    let with_le = format!("{} 00", verify_apdu(PIN));
    assert_eq!(sw(&mut card, &with_le), StatusWord::WRONG_LENGTH);
    let too_long = verify_apdu("12345678901234567");
    assert_eq!(sw(&mut card, &too_long), StatusWord::WRONG_LENGTH);
    assert_eq!(sw(&mut card, &verify_apdu(PIN)), StatusWord::OK);
    send(&mut card, "00 A4 02 0C 02 00 17");
    let digest_info = hex::encode(sha256_digest_info(&message()));
    assert_eq!(
        sw(&mut card, &format!("80 2A 00 80 33 {digest_info}")),
        StatusWord::WRONG_LENGTH,
        "no Le"
    );
    assert_eq!(
        sw(&mut card, &format!("80 2A 00 80 33 {digest_info} 80")),
        StatusWord::WRONG_LENGTH,
        "Le shorter than the signature"
    );
    // PKCS#1 v1.5 needs 11 bytes of padding: 246 bytes do not fit a 2048-bit key.
    assert_eq!(
        sw(&mut card, &sign_apdu(&[0x55; 246])),
        StatusWord::WRONG_LENGTH
    );
    assert_eq!(send(&mut card, &sign_apdu(&[0x55; 245])).sw, StatusWord::OK);
}

#[test]
fn wrong_parameters_are_refused_with_incorrect_p1_p2() {
    let mut card = fresh_card();
    assert_eq!(
        sw(&mut card, "00 A4 04 00 0A D3 92 F0 00 26 01 00 00 00 01"),
        StatusWord::INCORRECT_P1P2
    );
    assert_eq!(
        sw(&mut card, "00 A4 01 0C 02 00 0A"),
        StatusWord::INCORRECT_P1P2
    );
    send(&mut card, SELECT_JPKI);
    send(&mut card, "00 A4 02 0C 02 00 0A");
    assert_eq!(sw(&mut card, "00 B0 8A 00 04"), StatusWord::INCORRECT_P1P2);
    send(&mut card, "00 A4 02 0C 02 00 18");
    assert_eq!(sw(&mut card, "00 20 00 81"), StatusWord::INCORRECT_P1P2);
    assert_eq!(
        sw(&mut card, "80 2A 9E 9A 01 00 00"),
        StatusWord::INCORRECT_P1P2
    );
}

#[test]
fn unknown_instructions_and_classes_are_refused() {
    let mut card = fresh_card();
    assert_eq!(
        sw(&mut card, "00 84 00 00 08"),
        StatusWord::INS_NOT_SUPPORTED
    );
    assert_eq!(
        sw(&mut card, "80 CA 00 00 00"),
        StatusWord::INS_NOT_SUPPORTED
    );
    assert_eq!(
        sw(&mut card, "0C A4 04 0C 02 00 0A"),
        StatusWord::CLA_NOT_SUPPORTED
    );
    assert_eq!(
        sw(&mut card, "FF CA 00 00 00"),
        StatusWord::CLA_NOT_SUPPORTED
    );
    // The signing command exists only in the proprietary class, SELECT only in the ISO class.
    assert_eq!(
        sw(&mut card, "00 2A 00 80 01 00 00"),
        StatusWord::CLA_NOT_SUPPORTED
    );
    assert_eq!(
        sw(&mut card, "80 A4 02 0C 02 00 0A"),
        StatusWord::CLA_NOT_SUPPORTED
    );
}

#[test]
fn power_off_and_reset_forget_the_selection_and_the_verified_pin() {
    for cut in [
        mykey_connect::helper::softcard::SoftCard::power_off,
        mykey_connect::helper::softcard::SoftCard::reset,
    ] {
        let mut card = fresh_card();
        send(&mut card, SELECT_JPKI);
        send(&mut card, "00 A4 02 0C 02 00 18");
        assert_eq!(sw(&mut card, &verify_apdu(PIN)), StatusWord::OK);
        cut(&mut card);
        assert_eq!(sw(&mut card, "00 B0 00 00 01"), StatusWord::NO_CURRENT_EF);
        assert_eq!(
            sw(&mut card, "00 A4 02 0C 02 00 18"),
            StatusWord::FILE_NOT_FOUND
        );
        send(&mut card, SELECT_JPKI);
        send(&mut card, "00 A4 02 0C 02 00 18");
        assert_eq!(sw(&mut card, "00 20 00 80"), StatusWord(0x63C3));
    }
}
