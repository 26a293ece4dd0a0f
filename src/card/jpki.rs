//! Facts about the JPKI card application and J-LIS certificate profiles (see reference/jpki.md).

use serde::{Deserialize, Serialize};

/// AID of the JPKI application on a My Number Card.
pub const JPKI_AID: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];

/// Elementary files of the JPKI application.
pub mod ef {
    pub const AUTH_CERT: u16 = 0x000A;
    pub const AUTH_CA_CERT: u16 = 0x000B;
    pub const AUTH_KEY: u16 = 0x0017;
    pub const AUTH_PIN: u16 = 0x0018;
    pub const SIGN_CERT: u16 = 0x0001;
    pub const SIGN_CA_CERT: u16 = 0x0002;
    pub const SIGN_KEY: u16 = 0x001A;
    pub const SIGN_PIN: u16 = 0x001B;
    pub const TOKEN_INFO: u16 = 0x0006;
}

/// Token label of a My Number Card's JPKI application (EF 0006).
pub const TOKEN_LABEL: &str = "JPKIAPICCTOKEN2";

/// Tries a fresh card allows before blocking.
pub const AUTH_PIN_TRIES: u8 = 3;
pub const SIGN_PASSWORD_TRIES: u8 = 5;

/// Object identifiers of the J-LIS certificate profiles, dotted.
pub mod oid {
    /// Certificate policy of user-authentication certificates.
    pub const POLICY_AUTH: &str = "1.2.392.200149.8.5.1.3.30";
    /// Certificate policy of signature certificates.
    pub const POLICY_SIGN: &str = "1.2.392.200149.8.5.1.1.20";
    /// Certificate policy of signature certificates on J-LIS test cards.
    pub const POLICY_SIGN_TEST: &str = "1.2.392.200149.8.5.1.0.20";
    /// subjectAltName otherName type ids of the four basic facts.
    pub const NAME: &str = "1.2.392.200149.8.5.5.1";
    pub const NAME_SUBSTITUTE_MAP: &str = "1.2.392.200149.8.5.5.2";
    pub const SEX: &str = "1.2.392.200149.8.5.5.3";
    pub const DATE_OF_BIRTH: &str = "1.2.392.200149.8.5.5.4";
    pub const ADDRESS: &str = "1.2.392.200149.8.5.5.5";
    pub const ADDRESS_SUBSTITUTE_MAP: &str = "1.2.392.200149.8.5.5.6";
}

/// Organisation of production J-LIS roots and of test roots.
pub const ROOT_ORG: &str = "JPKI";
pub const TEST_ROOT_ORG: &str = "JPKI-TEST";
pub const ROOT_OU_AUTH: &str = "JPKI for user authentication";
pub const ROOT_OU_SIGN: &str = "JPKI for digital signature";
pub const ROOT_OU_AGENCY: &str = "Japan Agency for Local Authority Information Systems";
/// issuerAltName directory name carried by both end-entity certificates.
pub const ISSUER_ALT_ORG: &str = "公的個人認証サービス";

/// Which of the card's two keys a certificate belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// 利用者証明用電子証明書: 4-digit PIN, no personal data.
    Auth,
    /// 署名用電子証明書: 6–16 character password, carries the four basic facts.
    Sign,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Auth => "auth",
            Purpose::Sign => "sign",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        match s {
            "auth" => Some(Purpose::Auth),
            "sign" => Some(Purpose::Sign),
            _ => None,
        }
    }
}

impl std::fmt::Display for Purpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// CRL reason codes (RFC 5280 §5.3.1) as J-LIS uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RevocationReason {
    Unspecified,
    KeyCompromise,
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    CertificateHold,
}

impl RevocationReason {
    /// The CRLReason enumerated value.
    pub fn code(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::CaCompromise => 2,
            RevocationReason::AffiliationChanged => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
            RevocationReason::CertificateHold => 6,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => RevocationReason::Unspecified,
            1 => RevocationReason::KeyCompromise,
            2 => RevocationReason::CaCompromise,
            3 => RevocationReason::AffiliationChanged,
            4 => RevocationReason::Superseded,
            5 => RevocationReason::CessationOfOperation,
            6 => RevocationReason::CertificateHold,
            _ => return None,
        })
    }

    /// The RFC 5280 name, e.g. `keyCompromise`.
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "keyCompromise",
            RevocationReason::CaCompromise => "cACompromise",
            RevocationReason::AffiliationChanged => "affiliationChanged",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessationOfOperation",
            RevocationReason::CertificateHold => "certificateHold",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let all = [
            RevocationReason::Unspecified,
            RevocationReason::KeyCompromise,
            RevocationReason::CaCompromise,
            RevocationReason::AffiliationChanged,
            RevocationReason::Superseded,
            RevocationReason::CessationOfOperation,
            RevocationReason::CertificateHold,
        ];
        all.into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s) || r.code().to_string() == s)
    }
}

/// Identifier of an issuing key: lowercase hex SHA-256 of its DER SubjectPublicKeyInfo.
///
/// Root generations share one DN, so bindings, CRLs and linkage records name the issuer by
/// this id, never by name.
pub fn key_id(subject_public_key_info_der: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        subject_public_key_info_der,
    ))
}

/// Canonical text of a certificate serial number: lowercase hex of the unsigned big-endian
/// value without leading zero bytes (so `00 8f` and `8f` are the same serial), `00` for zero.
pub fn serial_hex(serial_be: &[u8]) -> String {
    let start = serial_be
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(serial_be.len());
    if start == serial_be.len() {
        return "00".to_owned();
    }
    hex::encode(&serial_be[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_with_and_without_a_sign_byte_read_the_same() {
        assert_eq!(serial_hex(&[0x00, 0x8f, 0x01]), "8f01");
        assert_eq!(serial_hex(&[0x8f, 0x01]), "8f01");
        assert_eq!(serial_hex(&[0x00]), "00");
    }

    #[test]
    fn every_revocation_reason_parses_back_from_its_name_and_code() {
        for code in 0..=6u8 {
            let reason = RevocationReason::from_code(code).expect("known code");
            assert_eq!(RevocationReason::parse(reason.as_str()), Some(reason));
            assert_eq!(RevocationReason::parse(&code.to_string()), Some(reason));
        }
    }
}
