//! JPKI on the provider side: constants, the card login protocol, and verification.

pub mod jpki;
pub mod message;
pub mod protocol;
