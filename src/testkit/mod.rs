//! The JPKI test kit: a test J-LIS CA, card issuance, CRLs, renewals and linkage files.

pub mod card_file;
