//! The JPKI test kit: a test J-LIS CA, card issuance, CRLs, renewals and linkage files.
//!
//! Certificates follow the real J-LIS profiles (reference/jpki.md) with `O=JPKI-TEST` roots;
//! the choices made where the real profile is not public are listed in
//! docs/linkage-format.md ("Test certificate profiles").

mod ca;
pub mod card_file;
mod crl;
mod der;
mod error;
mod issue;
mod keys;
mod linkage;
mod options;
mod profile;
mod root;
mod state;
mod validity;

pub use ca::TestCa;
pub use card_file::{CardFile, CertificateSummary, Holder, KeySlot};
pub use crl::SYNTHETIC_SERIAL_BASE;
pub use error::TestkitError;
pub use issue::RenewOptions;
pub use linkage::{linkage, CertificateRef, LinkageFile, LinkageRecord, LINKAGE_FORMAT};
pub use options::{validate_password, validate_pin, CardOptions};
pub use state::{IssuedCertificate, Revocation, STATE_FORMAT};
pub use validity::{fifth_birthday_after, EraDate, JST};
