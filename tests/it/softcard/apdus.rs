//! Selecting and reading: which files exist, who may read them, and how reads end.

use mykey_connect::card::jpki::TOKEN_LABEL;
use mykey_connect::helper::apdu::StatusWord;
use mykey_connect::helper::softcard::{CERTIFICATE_EF_LEN, TOKEN_INFO_LEN};

use super::fixture::{self, PASSWORD, PIN};
use super::{fresh_card, send, sw, verify_apdu, SELECT_JPKI};

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
    // The PIV application is not on a My Number Card.
    assert_eq!(
        sw(&mut card, "00 A4 04 0C 09 A0 00 00 03 08 00 00 10 00"),
        StatusWord::FILE_NOT_FOUND
    );
    assert_eq!(
        sw(&mut card, "00 A4 02 0C 02 00 99"),
        StatusWord::FILE_NOT_FOUND
    );
    assert_eq!(sw(&mut card, "00 B0 00 00 01"), StatusWord::OK);
}
