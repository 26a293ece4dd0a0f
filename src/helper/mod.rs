//! The resident's helper: talks JPKI APDUs to a card and answers login challenges.

pub mod apdu;
pub mod jpki;
#[cfg(feature = "pcsc")]
pub mod pcsc;
pub mod secret;
pub mod softcard;
pub mod transport;
