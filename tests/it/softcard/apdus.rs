//! Every APDU path of the software card: selection, reading, signing, and the refusals.

use mykey_connect::card::jpki::TOKEN_LABEL;
use mykey_connect::card::message::{sha256_digest_info, signed_message};
use mykey_connect::card::protocol::ChallengePurpose;
use mykey_connect::helper::apdu::StatusWord;
use mykey_connect::helper::softcard::{CERTIFICATE_EF_LEN, TOKEN_INFO_LEN};

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
fn the_auth_certificate_reads_in_pieces_and_is_followed_by_ff_padding() {
    let mut card = fresh_card();
    let expected = fixture::card().auth.certificate_der().expect("der");
    assert_eq!(sw(&mut card, SELECT_JPKI), StatusWord::OK);
    assert_eq!(sw(&mut card, "00 A4 02 0C 02 00 0A"), StatusWord::OK);
    let mut content = Vec::new();
    while content.len() < CERTIFICATE_EF_LEN {
        let offset = content.len() as u16;
        let answer = send(&mut card, &format!("00 B0 {:04X} FF", offset));
        assert_eq!(answer.sw, StatusWord::OK);
        assert!(answer.data.len() <= 255);
        content.extend_from_slice(&answer.data);
    }
    assert_eq!(content.len(), CERTIFICATE_EF_LEN);
    assert_eq!(&content[..expected.len()], expected.as_slice());
    assert!(content[expected.len()..].iter().all(|b| *b == 0xFF));
}

#[test]
fn le_zero_reads_256_bytes_and_a_short_final_read_returns_what_remains() {
    let mut card = fresh_card();
    send(&mut card, SELECT_JPKI);
    send(&mut card, "00 A4 02 0C 02 00 0B");
    assert_eq!(send(&mut card, "00 B0 00 00 00").data.len(), 256);
    let last = send(&mut card, "00 B0 07 F0 FF");
    assert_eq!((last.sw, last.data.len()), (StatusWord::OK, 16));
}

#[test]
fn reading_at_or_past_the_end_of_a_file_is_wrong_p1_p2() {
    let mut card = fresh_card();
    send(&mut card, SELECT_JPKI);
    send(&mut card, "00 A4 02 0C 02 00 06");
    assert_eq!(sw(&mut card, "00 B0 00 20 01"), StatusWord::WRONG_P1P2);
    assert_eq!(sw(&mut card, "00 B0 7F FF 01"), StatusWord::WRONG_P1P2);
}

#[test]
fn token_info_holds_the_label_space_padded_to_32_bytes() {
    let mut card = fresh_card();
    send(&mut card, SELECT_JPKI);
    send(&mut card, "00 A4 02 0C 02 00 06");
    let answer = send(&mut card, "00 B0 00 00 00");
    assert_eq!(answer.sw, StatusWord::OK);
    assert_eq!(answer.data.len(), TOKEN_INFO_LEN);
    let mut expected = TOKEN_LABEL.as_bytes().to_vec();
    expected.resize(TOKEN_INFO_LEN, b' ');
    assert_eq!(answer.data, expected);
}

#[test]
fn ca_certificates_are_readable_without_any_pin() {
    let mut card = fresh_card();
    send(&mut card, SELECT_JPKI);
    for (fid, der) in [
        ("00 0B", fixture::card().auth.ca_certificate_der()),
        ("00 02", fixture::card().sign.ca_certificate_der()),
    ] {
        let der = der.expect("der");
        send(&mut card, &format!("00 A4 02 0C 02 {fid}"));
        let answer = send(&mut card, "00 B0 00 00 10");
        assert_eq!(
            (answer.sw, answer.data.as_slice()),
            (StatusWord::OK, &der[..16])
        );
    }
}

#[test]
fn the_signature_certificate_is_hidden_until_the_password_is_verified() {
    let mut card = fresh_card();
    send(&mut card, SELECT_JPKI);
    send(&mut card, "00 A4 02 0C 02 00 01");
    assert_eq!(
        sw(&mut card, "00 B0 00 00 04"),
        StatusWord::SECURITY_STATUS_NOT_SATISFIED
    );
    // The user-authentication PIN does not open it.
    send(&mut card, "00 A4 02 0C 02 00 18");
    assert_eq!(sw(&mut card, &verify_apdu(PIN)), StatusWord::OK);
    send(&mut card, "00 A4 02 0C 02 00 01");
    assert_eq!(
        sw(&mut card, "00 B0 00 00 04"),
        StatusWord::SECURITY_STATUS_NOT_SATISFIED
    );
    send(&mut card, "00 A4 02 0C 02 00 1B");
    assert_eq!(sw(&mut card, &verify_apdu(PASSWORD)), StatusWord::OK);
    send(&mut card, "00 A4 02 0C 02 00 01");
    let der = fixture::card().sign.certificate_der().expect("der");
    let answer = send(&mut card, "00 B0 00 00 04");
    assert_eq!(
        (answer.sw, answer.data.as_slice()),
        (StatusWord::OK, &der[..4])
    );
}

#[test]
fn key_and_pin_files_are_never_readable() {
    let mut card = fresh_card();
    send(&mut card, SELECT_JPKI);
    send(&mut card, "00 A4 02 0C 02 00 18");
    send(&mut card, &verify_apdu(PIN));
    for fid in ["00 17", "00 18", "00 1A", "00 1B"] {
        assert_eq!(
            sw(&mut card, &format!("00 A4 02 0C 02 {fid}")),
            StatusWord::OK
        );
        assert_eq!(
            sw(&mut card, "00 B0 00 00 00"),
            StatusWord::INCOMPATIBLE_WITH_FILE,
            "EF {fid}"
        );
    }
}

#[test]
fn read_binary_before_any_select_has_no_current_file() {
    let mut card = fresh_card();
    assert_eq!(sw(&mut card, "00 B0 00 00 04"), StatusWord::NO_CURRENT_EF);
    send(&mut card, SELECT_JPKI);
    assert_eq!(sw(&mut card, "00 B0 00 00 04"), StatusWord::NO_CURRENT_EF);
}

#[test]
fn files_cannot_be_selected_before_the_application() {
    let mut card = fresh_card();
    assert_eq!(
        sw(&mut card, "00 A4 02 0C 02 00 0A"),
        StatusWord::FILE_NOT_FOUND
    );
}

#[test]
fn unknown_applications_and_files_are_not_found_and_keep_the_selection() {
    let mut card = fresh_card();
    send(&mut card, SELECT_JPKI);
    send(&mut card, "00 A4 02 0C 02 00 0A");
    // The card-info application of a My Number Card is not part of this card.
    assert_eq!(
        sw(&mut card, "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08"),
        StatusWord::FILE_NOT_FOUND
    );
    assert_eq!(
        sw(&mut card, "00 A4 02 0C 02 00 99"),
        StatusWord::FILE_NOT_FOUND
    );
    assert_eq!(sw(&mut card, "00 B0 00 00 01"), StatusWord::OK);
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
