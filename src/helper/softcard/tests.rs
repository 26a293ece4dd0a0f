//! The security-state rules of the software card, APDU by APDU: what VERIFY without data
//! answers, and what reset, power-off and SELECT of an application forget.

use std::sync::OnceLock;

use time::macros::datetime;

use super::{SoftCard, ATR};
use crate::card::message::sha256_digest_info;
use crate::helper::apdu::{Response, StatusWord};
use crate::testkit::{CardFile, CardOptions, TestCa};

const SELECT_JPKI: &str = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01";
/// 券面事項入力補助AP, another application of a My Number Card.
const SELECT_CARD_INPUT_HELPER: &str = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08";
const PIN_STATUS: &str = "00 20 00 80";
/// `CardOptions::example()`.
const PIN: &str = "1234";
const PASSWORD: &str = "ABC123";

fn card() -> SoftCard {
    static CARD: OnceLock<CardFile> = OnceLock::new();
    let file = CARD.get_or_init(|| {
        let now = datetime!(2025-11-25 10:00 UTC);
        let mut ca = TestCa::ephemeral(now).expect("ephemeral test CA");
        ca.issue_card(&CardOptions::example(), now)
            .expect("issue a card")
    });
    SoftCard::new(file.clone()).expect("the issued card loads")
}

fn send(card: &mut SoftCard, apdu_hex: &str) -> Response {
    let apdu = hex::decode(apdu_hex.replace(' ', "")).expect("test APDU is hex");
    Response::parse(&card.transmit(&apdu)).expect("the card always answers SW1 SW2")
}

fn sw(card: &mut SoftCard, apdu_hex: &str) -> StatusWord {
    send(card, apdu_hex).sw
}

fn select_ef(card: &mut SoftCard, fid: &str) -> StatusWord {
    sw(card, &format!("00 A4 02 0C 02 {fid}"))
}

fn verify(card: &mut SoftCard, secret: &str) -> StatusWord {
    let apdu = format!("00 20 00 80 {:02X} {}", secret.len(), hex::encode(secret));
    sw(card, &apdu)
}

/// Selects the user-authentication key and asks for a signature: `9000` only while the PIN
/// is verified.
fn sign_with_auth_key(card: &mut SoftCard) -> StatusWord {
    assert_eq!(select_ef(card, "00 17"), StatusWord::OK);
    let digest_info = sha256_digest_info(b"challenge");
    let apdu = format!(
        "80 2A 00 80 {:02X} {} 00",
        digest_info.len(),
        hex::encode(&digest_info)
    );
    sw(card, &apdu)
}

/// SELECT of the JPKI application, then VERIFY of the right PIN at EF 0018.
fn verified_card() -> SoftCard {
    let mut card = card();
    assert_eq!(sw(&mut card, SELECT_JPKI), StatusWord::OK);
    assert_eq!(select_ef(&mut card, "00 18"), StatusWord::OK);
    assert_eq!(verify(&mut card, PIN), StatusWord::OK);
    card
}

#[test]
fn the_atr_check_byte_makes_the_xor_of_t0_to_tck_zero() {
    // ISO/IEC 7816-3 §8.2.5: TCK is present when T=1 is offered.
    assert_eq!(ATR[1..].iter().fold(0u8, |acc, b| acc ^ b), 0);
}

#[test]
fn verify_without_data_answers_the_tries_left_before_and_after_a_correct_verify() {
    let mut card = card();
    sw(&mut card, SELECT_JPKI);
    select_ef(&mut card, "00 18");
    assert_eq!(sw(&mut card, PIN_STATUS), StatusWord(0x63C3));
    assert_eq!(verify(&mut card, "0000"), StatusWord(0x63C2));
    assert_eq!(sw(&mut card, PIN_STATUS), StatusWord(0x63C2));
    assert_eq!(verify(&mut card, PIN), StatusWord::OK);
    // Never 9000: a My Number Card gives the counter, now full again, even when verified.
    assert_eq!(sw(&mut card, PIN_STATUS), StatusWord(0x63C3));
    select_ef(&mut card, "00 1B");
    assert_eq!(sw(&mut card, PIN_STATUS), StatusWord(0x63C5));
}

#[test]
fn verify_without_data_after_a_correct_verify_keeps_the_pin_verified() {
    let mut card = verified_card();
    for _ in 0..3 {
        assert_eq!(sw(&mut card, PIN_STATUS), StatusWord(0x63C3));
    }
    assert_eq!(sign_with_auth_key(&mut card), StatusWord::OK);
    assert_eq!(card.card_file().auth.tries_left, 3);
}

#[test]
fn selecting_the_jpki_application_again_forgets_what_was_verified() {
    let mut card = verified_card();
    select_ef(&mut card, "00 1B");
    assert_eq!(verify(&mut card, PASSWORD), StatusWord::OK);
    assert_eq!(sw(&mut card, SELECT_JPKI), StatusWord::OK);
    assert_eq!(
        sign_with_auth_key(&mut card),
        StatusWord::SECURITY_STATUS_NOT_SATISFIED
    );
    select_ef(&mut card, "00 01");
    assert_eq!(
        sw(&mut card, "00 B0 00 00 04"),
        StatusWord::SECURITY_STATUS_NOT_SATISFIED
    );
}

#[test]
fn selecting_the_jpki_application_again_forgets_the_current_file() {
    let mut card = card();
    sw(&mut card, SELECT_JPKI);
    select_ef(&mut card, "00 0A");
    assert_eq!(sw(&mut card, "00 B0 00 00 04"), StatusWord::OK);
    sw(&mut card, SELECT_JPKI);
    assert_eq!(sw(&mut card, "00 B0 00 00 04"), StatusWord::NO_CURRENT_EF);
}

#[test]
fn selecting_another_application_leaves_the_jpki_files_and_forgets_the_pin() {
    let mut card = verified_card();
    assert_eq!(sw(&mut card, SELECT_CARD_INPUT_HELPER), StatusWord::OK);
    // The JPKI EFs do not exist in the other application.
    assert_eq!(select_ef(&mut card, "00 17"), StatusWord::FILE_NOT_FOUND);
    assert_eq!(select_ef(&mut card, "00 18"), StatusWord::FILE_NOT_FOUND);
    assert_eq!(sw(&mut card, SELECT_JPKI), StatusWord::OK);
    assert_eq!(
        sign_with_auth_key(&mut card),
        StatusWord::SECURITY_STATUS_NOT_SATISFIED
    );
}

#[test]
fn a_select_of_an_application_the_card_lacks_keeps_the_selection_and_the_pin() {
    let mut card = verified_card();
    // The PIV application: not on a My Number Card.
    assert_eq!(
        sw(&mut card, "00 A4 04 0C 09 A0 00 00 03 08 00 00 10 00"),
        StatusWord::FILE_NOT_FOUND
    );
    assert_eq!(sign_with_auth_key(&mut card), StatusWord::OK);
}

#[test]
fn a_reset_forgets_the_application_and_what_was_verified() {
    let mut card = verified_card();
    card.reset();
    // After the answer to reset the MF is current: the JPKI EFs cannot be reached.
    assert_eq!(select_ef(&mut card, "00 17"), StatusWord::FILE_NOT_FOUND);
    sw(&mut card, SELECT_JPKI);
    assert_eq!(
        sign_with_auth_key(&mut card),
        StatusWord::SECURITY_STATUS_NOT_SATISFIED
    );
    select_ef(&mut card, "00 18");
    assert_eq!(sw(&mut card, PIN_STATUS), StatusWord(0x63C3));
}

#[test]
fn a_power_off_forgets_the_application_and_what_was_verified() {
    let mut card = verified_card();
    card.power_off();
    assert_eq!(select_ef(&mut card, "00 17"), StatusWord::FILE_NOT_FOUND);
    sw(&mut card, SELECT_JPKI);
    assert_eq!(
        sign_with_auth_key(&mut card),
        StatusWord::SECURITY_STATUS_NOT_SATISFIED
    );
}

#[test]
fn selecting_files_inside_the_application_keeps_the_pin_verified() {
    let mut card = verified_card();
    for fid in ["00 0A", "00 06", "00 1B", "00 18"] {
        assert_eq!(select_ef(&mut card, fid), StatusWord::OK);
    }
    assert_eq!(sign_with_auth_key(&mut card), StatusWord::OK);
}

#[test]
fn a_wrong_pin_after_a_right_one_withdraws_the_verified_state() {
    let mut card = verified_card();
    assert_eq!(verify(&mut card, "1111"), StatusWord(0x63C2));
    assert_eq!(sw(&mut card, PIN_STATUS), StatusWord(0x63C2));
    assert_eq!(
        sign_with_auth_key(&mut card),
        StatusWord::SECURITY_STATUS_NOT_SATISFIED
    );
}
