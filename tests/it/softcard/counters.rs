//! PIN and password retry counters: counting down, blocking, resetting, and surviving reloads.

use mykey_connect::helper::apdu::StatusWord;
use mykey_connect::helper::softcard::SoftCard;
use mykey_connect::testkit::card_file::CardFile;

use super::fixture::{self, PASSWORD, PIN};
use super::{fresh_card, send, sw, verify_apdu, SELECT_JPKI};

fn at_secret(card: &mut SoftCard, fid: &str) {
    assert_eq!(sw(card, SELECT_JPKI), StatusWord::OK);
    assert_eq!(sw(card, &format!("00 A4 02 0C 02 {fid}")), StatusWord::OK);
}

#[test]
fn wrong_pin_counts_down_and_blocks_after_three_tries() {
    let mut card = fresh_card();
    at_secret(&mut card, "00 18");
    assert_eq!(sw(&mut card, &verify_apdu("0000")), StatusWord(0x63C2));
    assert_eq!(sw(&mut card, &verify_apdu("0000")), StatusWord(0x63C1));
    assert_eq!(sw(&mut card, &verify_apdu("0000")), StatusWord(0x63C0));
    // Blocked: every VERIFY, even with the right PIN or without data, answers 6984.
    assert_eq!(
        sw(&mut card, &verify_apdu(PIN)),
        StatusWord::REFERENCE_DATA_BLOCKED
    );
    assert_eq!(
        sw(&mut card, "00 20 00 80"),
        StatusWord::REFERENCE_DATA_BLOCKED
    );
    assert_eq!(card.card_file().auth.tries_left, 0);
    // The signature password is a separate counter.
    at_secret(&mut card, "00 1B");
    assert_eq!(sw(&mut card, "00 20 00 80"), StatusWord(0x63C5));
}

#[test]
fn wrong_password_counts_down_and_blocks_after_five_tries() {
    let mut card = fresh_card();
    at_secret(&mut card, "00 1B");
    for left in (0..5u16).rev() {
        assert_eq!(
            sw(&mut card, &verify_apdu("WRONG1")),
            StatusWord(0x63C0 | left)
        );
    }
    assert_eq!(
        sw(&mut card, &verify_apdu(PASSWORD)),
        StatusWord::REFERENCE_DATA_BLOCKED
    );
    send(&mut card, "00 A4 02 0C 02 00 01");
    assert_eq!(
        sw(&mut card, "00 B0 00 00 04"),
        StatusWord::SECURITY_STATUS_NOT_SATISFIED
    );
}

#[test]
fn the_right_pin_restores_all_three_tries() {
    let mut card = fresh_card();
    at_secret(&mut card, "00 18");
    sw(&mut card, &verify_apdu("9999"));
    sw(&mut card, &verify_apdu("9999"));
    assert_eq!(sw(&mut card, &verify_apdu(PIN)), StatusWord::OK);
    assert_eq!(card.card_file().auth.tries_left, 3);
}

#[test]
fn verify_without_data_tells_the_tries_left_without_spending_a_try() {
    let mut card = fresh_card();
    at_secret(&mut card, "00 18");
    for _ in 0..5 {
        assert_eq!(sw(&mut card, "00 20 00 80"), StatusWord(0x63C3));
    }
    assert_eq!(sw(&mut card, &verify_apdu("1111")), StatusWord(0x63C2));
    assert_eq!(sw(&mut card, "00 20 00 80"), StatusWord(0x63C2));
    assert_eq!(card.card_file().auth.tries_left, 2);
}

#[test]
fn verify_needs_a_pin_file_selected() {
    let mut card = fresh_card();
    assert_eq!(sw(&mut card, &verify_apdu(PIN)), StatusWord::NO_CURRENT_EF);
    send(&mut card, SELECT_JPKI);
    send(&mut card, "00 A4 02 0C 02 00 0A");
    assert_eq!(
        sw(&mut card, &verify_apdu(PIN)),
        StatusWord::INCOMPATIBLE_WITH_FILE
    );
}

#[test]
fn counters_persist_across_reloads_of_the_card_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = fixture::card_in(dir.path());
    let mut card = SoftCard::open(&path).expect("open card");
    at_secret(&mut card, "00 18");
    assert_eq!(sw(&mut card, &verify_apdu("0000")), StatusWord(0x63C2));
    at_secret(&mut card, "00 1B");
    assert_eq!(sw(&mut card, &verify_apdu("NOPE00")), StatusWord(0x63C4));
    drop(card);

    let saved = CardFile::load(&path).expect("reload");
    assert_eq!((saved.auth.tries_left, saved.sign.tries_left), (2, 4));
    let mut card = SoftCard::open(&path).expect("reopen card");
    at_secret(&mut card, "00 18");
    assert_eq!(sw(&mut card, "00 20 00 80"), StatusWord(0x63C2));
    assert_eq!(sw(&mut card, &verify_apdu(PIN)), StatusWord::OK);
    assert_eq!(CardFile::load(&path).expect("reload").auth.tries_left, 3);
}

#[test]
fn a_blocked_pin_stays_blocked_after_the_card_file_is_reloaded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = fixture::card_in(dir.path());
    let mut card = SoftCard::open(&path).expect("open card");
    at_secret(&mut card, "00 18");
    for _ in 0..3 {
        sw(&mut card, &verify_apdu("0000"));
    }
    let mut card = SoftCard::open(&path).expect("reopen card");
    at_secret(&mut card, "00 18");
    assert_eq!(
        sw(&mut card, &verify_apdu(PIN)),
        StatusWord::REFERENCE_DATA_BLOCKED
    );
}

#[test]
fn a_counter_that_cannot_be_saved_fails_the_verify_but_still_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("cards");
    std::fs::create_dir(&folder).expect("mkdir");
    let path = fixture::card_in(&folder);
    let mut card = SoftCard::open(&path).expect("open card");
    std::fs::remove_dir_all(&folder).expect("remove the card's folder");
    at_secret(&mut card, "00 18");
    assert_eq!(
        sw(&mut card, &verify_apdu("0000")),
        StatusWord::MEMORY_FAILURE
    );
    assert_eq!(sw(&mut card, "00 20 00 80"), StatusWord(0x63C2));
}
