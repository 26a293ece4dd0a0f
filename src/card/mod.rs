//! JPKI on the provider side: constants, the card login protocol, and verification.

mod birthdate;
mod certificate;
pub mod crl;
mod der;
pub mod facts;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
pub mod jpki;
pub mod linkage;
pub mod message;
mod oids;
pub mod protocol;
pub mod revocation;
#[cfg(test)]
mod test_support;
pub mod trust;
pub mod verify;
