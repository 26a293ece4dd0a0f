//! Entry points for the fuzz targets (built only under `cfg(fuzzing)`): the parsers that sit
//! behind signature checks a fuzzer cannot pass, run directly on untrusted bytes.

use super::certificate::{rsa_modulus_bits, serial_fits, CardCertificate};
use super::crl::CrlEntries;
use super::der::Reader;
use super::facts::BasicFacts;
use super::jpki::Purpose;
use super::verify::profile;

/// Everything verification reads from a certificate, without the chain and signature checks.
pub fn certificate_fields(der: &[u8]) {
    let Ok(cert) = CardCertificate::parse(der) else {
        return;
    };
    let _ = rsa_modulus_bits(cert.x509.public_key());
    let _ = serial_fits(cert.x509.raw_serial());
    for purpose in [Purpose::Auth, Purpose::Sign] {
        let _ = profile(&cert, purpose, true);
    }
    let _ = BasicFacts::from_subject_alt_name(cert.subject_alt_name);
    let _ = cert.x509.subject().to_string();
}

/// Walks `revoked_certificates` (the contents of a CRL's revokedCertificates SEQUENCE) as the
/// entry iterator does for a checked CRL; returns how many entries were read.
pub fn crl_entries(revoked_certificates: &[u8]) -> usize {
    CrlEntries::new(Reader::new(revoked_certificates))
        .take_while(Result::is_ok)
        .count()
}
