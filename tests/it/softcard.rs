//! The software JPKI card answered APDU by APDU, its retry counters, and the JPKI client on it.

mod apdus;
mod client;
mod counters;
pub mod fixture;
mod refusals;
mod signing;

use mykey_connect::helper::apdu::{Response, StatusWord};
use mykey_connect::helper::softcard::SoftCard;

pub const SELECT_JPKI: &str = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01";

/// Sends an APDU written in hex (spaces allowed) and returns the parsed answer.
pub fn send(card: &mut SoftCard, apdu_hex: &str) -> Response {
    let apdu = hex::decode(apdu_hex.replace(' ', "")).expect("test APDU is hex");
    Response::parse(&card.transmit(&apdu)).expect("the card always answers SW1 SW2")
}

/// Sends an APDU and returns only its status word.
pub fn sw(card: &mut SoftCard, apdu_hex: &str) -> StatusWord {
    send(card, apdu_hex).sw
}

/// `00 20 00 80` with the ASCII secret as data.
pub fn verify_apdu(secret: &str) -> String {
    format!("00 20 00 80 {:02X} {}", secret.len(), hex::encode(secret))
}

/// `80 2A 00 80 Lc data 00`.
pub fn sign_apdu(data: &[u8]) -> String {
    format!("80 2A 00 80 {:02X} {} 00", data.len(), hex::encode(data))
}

pub fn fresh_card() -> SoftCard {
    SoftCard::new(fixture::card()).expect("fixture card loads")
}
