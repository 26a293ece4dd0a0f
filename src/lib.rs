//! mykey-connect: an OpenID Connect provider whose only authenticator is the My Number Card.
//!
//! Crate map:
//! - [`card`]: JPKI facts, the card login wire protocol, certificate/CRL/signature verification.
//! - [`testkit`]: a test J-LIS CA, card issuance, CRLs and linkage files (demo and tests).
//! - [`helper`]: the resident's helper: APDUs, the software card, PC/SC and vpcd transports.

pub mod card;
pub mod clock;
pub mod config;
pub mod domain;
pub mod helper;
pub mod oidc;
pub mod store;
pub mod testkit;
