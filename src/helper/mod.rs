//! The resident's helper: talks JPKI APDUs to a card and answers login challenges.

pub mod apdu;
pub mod install;
pub mod jpki;
pub mod login;
pub mod messages;
pub mod native;
#[cfg(feature = "pcsc")]
pub mod pcsc;
pub mod pinentry;
pub mod platform;
pub mod prompt;
pub mod secret;
pub mod softcard;
pub mod status;
pub mod transport;
pub mod vpcd;
