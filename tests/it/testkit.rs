//! The JPKI test kit: certificate profiles, CRLs, renewal and linkage, the CA folder, the CLI.

mod cli;
mod crl;
mod profiles;
mod renewal;
mod support;
