//! DER contents of the object identifiers verification compares, so hot paths compare bytes.
//!
//! Each constant is checked against its dotted form (from [`super::jpki::oid`] or RFC 5280)
//! in the tests below.

/// sha256WithRSAEncryption, 1.2.840.113549.1.1.11 (RFC 4055 §5).
pub(crate) const SHA256_WITH_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B];
/// rsaEncryption, 1.2.840.113549.1.1.1 (RFC 3279 §2.3.1).
pub(crate) const RSA_ENCRYPTION: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];

/// id-ce-keyUsage, 2.5.29.15.
pub(crate) const KEY_USAGE: &[u8] = &[0x55, 0x1D, 0x0F];
/// id-ce-subjectAltName, 2.5.29.17.
pub(crate) const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1D, 0x11];
/// id-ce-basicConstraints, 2.5.29.19.
pub(crate) const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1D, 0x13];
/// id-ce-certificatePolicies, 2.5.29.32.
pub(crate) const CERTIFICATE_POLICIES: &[u8] = &[0x55, 0x1D, 0x20];
/// id-ce-authorityKeyIdentifier, 2.5.29.35.
pub(crate) const AUTHORITY_KEY_IDENTIFIER: &[u8] = &[0x55, 0x1D, 0x23];
/// id-ce-cRLNumber, 2.5.29.20.
pub(crate) const CRL_NUMBER: &[u8] = &[0x55, 0x1D, 0x14];
/// id-ce-cRLReasons, 2.5.29.21.
pub(crate) const REASON_CODE: &[u8] = &[0x55, 0x1D, 0x15];
/// id-ce-invalidityDate, 2.5.29.24.
pub(crate) const INVALIDITY_DATE: &[u8] = &[0x55, 0x1D, 0x18];

// J-LIS arc 1.2.392.200149.8 is 2A 83 08 8C 9B 55 08.
/// 1.2.392.200149.8.5.1.3.30, user-authentication policy.
pub(crate) const POLICY_AUTH: &[u8] = &[
    0x2A, 0x83, 0x08, 0x8C, 0x9B, 0x55, 0x08, 0x05, 0x01, 0x03, 0x1E,
];
/// 1.2.392.200149.8.5.1.1.20, signature policy.
pub(crate) const POLICY_SIGN: &[u8] = &[
    0x2A, 0x83, 0x08, 0x8C, 0x9B, 0x55, 0x08, 0x05, 0x01, 0x01, 0x14,
];
/// 1.2.392.200149.8.5.1.0.20, signature policy of J-LIS test cards.
pub(crate) const POLICY_SIGN_TEST: &[u8] = &[
    0x2A, 0x83, 0x08, 0x8C, 0x9B, 0x55, 0x08, 0x05, 0x01, 0x00, 0x14,
];
/// 1.2.392.200149.8.5.5.N, the basic-fact otherNames; N is the last byte.
pub(crate) const FACT_PREFIX: &[u8] = &[0x2A, 0x83, 0x08, 0x8C, 0x9B, 0x55, 0x08, 0x05, 0x05];
pub(crate) const FACT_NAME: u8 = 1;
pub(crate) const FACT_NAME_MAP: u8 = 2;
pub(crate) const FACT_SEX: u8 = 3;
pub(crate) const FACT_BIRTH: u8 = 4;
pub(crate) const FACT_ADDRESS: u8 = 5;
pub(crate) const FACT_ADDRESS_MAP: u8 = 6;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::jpki::oid;
    use x509_parser::der_parser::oid::Oid;

    fn dotted(bytes: &[u8]) -> String {
        Oid::new(bytes.into()).to_id_string()
    }

    fn fact(n: u8) -> String {
        let mut bytes = FACT_PREFIX.to_vec();
        bytes.push(n);
        dotted(&bytes)
    }

    #[test]
    fn byte_constants_spell_the_dotted_identifiers() {
        assert_eq!(dotted(SHA256_WITH_RSA), "1.2.840.113549.1.1.11");
        assert_eq!(dotted(RSA_ENCRYPTION), "1.2.840.113549.1.1.1");
        assert_eq!(dotted(KEY_USAGE), "2.5.29.15");
        assert_eq!(dotted(SUBJECT_ALT_NAME), "2.5.29.17");
        assert_eq!(dotted(BASIC_CONSTRAINTS), "2.5.29.19");
        assert_eq!(dotted(CERTIFICATE_POLICIES), "2.5.29.32");
        assert_eq!(dotted(AUTHORITY_KEY_IDENTIFIER), "2.5.29.35");
        assert_eq!(dotted(CRL_NUMBER), "2.5.29.20");
        assert_eq!(dotted(REASON_CODE), "2.5.29.21");
        assert_eq!(dotted(INVALIDITY_DATE), "2.5.29.24");
        assert_eq!(dotted(POLICY_AUTH), oid::POLICY_AUTH);
        assert_eq!(dotted(POLICY_SIGN), oid::POLICY_SIGN);
        assert_eq!(dotted(POLICY_SIGN_TEST), oid::POLICY_SIGN_TEST);
        assert_eq!(fact(FACT_NAME), oid::NAME);
        assert_eq!(fact(FACT_NAME_MAP), oid::NAME_SUBSTITUTE_MAP);
        assert_eq!(fact(FACT_SEX), oid::SEX);
        assert_eq!(fact(FACT_BIRTH), oid::DATE_OF_BIRTH);
        assert_eq!(fact(FACT_ADDRESS), oid::ADDRESS);
        assert_eq!(fact(FACT_ADDRESS_MAP), oid::ADDRESS_SUBSTITUTE_MAP);
    }
}
