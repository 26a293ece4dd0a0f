//! Fuzzes the software card with arbitrary APDU sequences and checks what must always hold.
//!
//! Input: a sequence of `[n][n bytes]` records, each an APDU sent to the card; `n = 0` resets
//! the card. After every answer: it has SW1 SW2 and at most 256 data bytes; retry counters
//! only fall by one on a `63Cx` that names the new count, and only rise (to the maximum) on a
//! successful VERIFY; the signature certificate and signatures come out only after a
//! successful VERIFY in the same session.

#![no_main]

use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use mykey_connect::card::jpki::{AUTH_PIN_TRIES, SIGN_PASSWORD_TRIES, TOKEN_LABEL};
use mykey_connect::helper::softcard::SoftCard;
use mykey_connect::testkit::card_file::{CardFile, Holder, KeySlot, CARD_FORMAT};

const PASSWORD: &[u8] = b"ABC123";
/// Filler of the signature certificate: finding a run of it in an answer means it leaked.
const SIGN_MARK: u8 = 0xA5;

fn fake_certificate(filler: u8) -> String {
    let mut der = vec![0x30, 0x82, 0x03, 0x00];
    der.resize(4 + 0x300, filler);
    STANDARD.encode(der)
}

fn slot(filler: u8, secret: &str, tries: u8) -> KeySlot {
    let key = KeyPair::generate(KeySize::Rsa2048).expect("RSA key");
    KeySlot {
        certificate: fake_certificate(filler),
        ca_certificate: fake_certificate(0x33),
        private_key_pkcs8: STANDARD.encode(key.as_der().expect("pkcs8").as_ref()),
        secret: secret.to_owned(),
        tries_left: tries,
    }
}

fn template() -> &'static SoftCard {
    static CARD: OnceLock<SoftCard> = OnceLock::new();
    CARD.get_or_init(|| {
        let file = CardFile {
            format: CARD_FORMAT.to_owned(),
            token_label: TOKEN_LABEL.to_owned(),
            auth: slot(0x11, "1234", AUTH_PIN_TRIES),
            sign: slot(SIGN_MARK, "ABC123", SIGN_PASSWORD_TRIES),
            holder: Holder {
                name: "fuzz".to_owned(),
                name_substitute_map: None,
                address: "fuzz".to_owned(),
                address_substitute_map: None,
                date_of_birth: "000000000".to_owned(),
                sex: 3,
                prefecture: "fuzz".to_owned(),
                city: "fuzz".to_owned(),
            },
        };
        SoftCard::new(file).expect("fuzz card")
    })
}

fn tries(card: &SoftCard) -> (u8, u8) {
    (
        card.card_file().auth.tries_left,
        card.card_file().sign.tries_left,
    )
}

fn check_counter(before: u8, after: u8, max: u8, verify: bool, sw: u16) {
    if after > before {
        assert!(
            verify && sw == 0x9000 && after == max,
            "counter rose {before}→{after} on {sw:04X}"
        );
    } else if after < before {
        assert_eq!(after + 1, before, "counter fell by more than one");
        assert!(
            verify && sw == 0x63C0 | u16::from(after),
            "counter fell on {sw:04X}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let mut card = template().clone();
    let mut verified = false;
    let mut password_verified = false;
    let mut rest = data;
    while let [n, tail @ ..] = rest {
        let n = usize::from(*n).min(tail.len());
        let (apdu, next) = tail.split_at(n);
        rest = next;
        if apdu.is_empty() {
            card.reset();
            verified = false;
            password_verified = false;
            continue;
        }
        let before = tries(&card);
        let answer = card.transmit(apdu);
        assert!(
            (2..=258).contains(&answer.len()),
            "answer of {} bytes",
            answer.len()
        );
        let (body, status) = answer.split_at(answer.len() - 2);
        let sw = u16::from_be_bytes([status[0], status[1]]);
        assert!(sw == 0x9000 || body.is_empty(), "data with {sw:04X}");

        let is_verify = apdu.len() >= 2 && apdu[0] == 0x00 && apdu[1] == 0x20;
        let after = tries(&card);
        check_counter(before.0, after.0, AUTH_PIN_TRIES, is_verify, sw);
        check_counter(before.1, after.1, SIGN_PASSWORD_TRIES, is_verify, sw);
        if is_verify && sw == 0x9000 && apdu.len() > 5 {
            verified = true;
            password_verified |= apdu.get(5..) == Some(PASSWORD);
        }
        let is_sign = apdu.len() >= 2 && apdu[0] == 0x80 && apdu[1] == 0x2A;
        assert!(
            !(is_sign && sw == 0x9000) || verified,
            "signed without a verified secret"
        );
        let leaked = body.windows(16).any(|w| w.iter().all(|b| *b == SIGN_MARK));
        assert!(
            !leaked || password_verified,
            "signature certificate read without the password"
        );
    }
});
