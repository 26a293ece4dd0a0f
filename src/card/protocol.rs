//! Wire types of the card login protocol `mykey-clp/1`, shared by provider and helper.
//! Section numbers (spec §) are those of the card-login protocol, docs/card-login.md.

use serde::{Deserialize, Serialize};

/// `purpose` of a challenge (spec §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengePurpose {
    /// User-authentication key only.
    Login,
    /// Also the signature key, for identity verification.
    Verify,
}

impl ChallengePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengePurpose::Login => "login",
            ChallengePurpose::Verify => "verify",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "login" => Some(ChallengePurpose::Login),
            "verify" => Some(ChallengePurpose::Verify),
            _ => None,
        }
    }
}

/// `GET {challenge URL}` answer (spec §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeDocument {
    pub version: String,
    pub challenge_id: String,
    pub issuer: String,
    pub nonce: String,
    pub purpose: ChallengePurpose,
    pub client_name: String,
    pub match_code: String,
    pub expires_at: i64,
    pub response_uri: String,
}

/// `POST response_uri` body (spec §4). Certificates are standard base64 of DER, signatures
/// base64url without padding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeResponse {
    pub auth_certificate: String,
    pub auth_signature: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_certificate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_signature: Option<String>,
}

/// Body of every error answer (spec §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub error_description: String,
}

/// Answer of the browser's status query (spec §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeStatus {
    pub state: ChallengeState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CardErrorCode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeState {
    Pending,
    Completed,
    Failed,
    Expired,
}

/// The error codes of spec §5, each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CardErrorCode {
    InvalidRequest,
    UnknownChallenge,
    ExpiredChallenge,
    ChallengeAlreadyUsed,
    UntrustedCertificate,
    CertificateExpired,
    CertificateRevoked,
    RevocationDataStale,
    WrongCertificatePurpose,
    InvalidSignature,
}

impl CardErrorCode {
    pub const ALL: [CardErrorCode; 10] = [
        CardErrorCode::InvalidRequest,
        CardErrorCode::UnknownChallenge,
        CardErrorCode::ExpiredChallenge,
        CardErrorCode::ChallengeAlreadyUsed,
        CardErrorCode::UntrustedCertificate,
        CardErrorCode::CertificateExpired,
        CardErrorCode::CertificateRevoked,
        CardErrorCode::RevocationDataStale,
        CardErrorCode::WrongCertificatePurpose,
        CardErrorCode::InvalidSignature,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CardErrorCode::InvalidRequest => "invalid_request",
            CardErrorCode::UnknownChallenge => "unknown_challenge",
            CardErrorCode::ExpiredChallenge => "expired_challenge",
            CardErrorCode::ChallengeAlreadyUsed => "challenge_already_used",
            CardErrorCode::UntrustedCertificate => "untrusted_certificate",
            CardErrorCode::CertificateExpired => "certificate_expired",
            CardErrorCode::CertificateRevoked => "certificate_revoked",
            CardErrorCode::RevocationDataStale => "revocation_data_stale",
            CardErrorCode::WrongCertificatePurpose => "wrong_certificate_purpose",
            CardErrorCode::InvalidSignature => "invalid_signature",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// HTTP status of spec §5.
    pub fn http_status(self) -> u16 {
        match self {
            CardErrorCode::InvalidRequest => 400,
            CardErrorCode::UnknownChallenge => 404,
            CardErrorCode::ExpiredChallenge => 410,
            CardErrorCode::ChallengeAlreadyUsed => 409,
            CardErrorCode::UntrustedCertificate => 400,
            CardErrorCode::CertificateExpired => 400,
            CardErrorCode::CertificateRevoked => 403,
            CardErrorCode::RevocationDataStale => 503,
            CardErrorCode::WrongCertificatePurpose => 400,
            CardErrorCode::InvalidSignature => 400,
        }
    }

    /// A short English description that reveals nothing about the person or certificate.
    pub fn description(self) -> &'static str {
        match self {
            CardErrorCode::InvalidRequest => "The request is malformed.",
            CardErrorCode::UnknownChallenge => "There is no such challenge.",
            CardErrorCode::ExpiredChallenge => "The challenge has expired; start the login again.",
            CardErrorCode::ChallengeAlreadyUsed => "The challenge has already been answered.",
            CardErrorCode::UntrustedCertificate => {
                "The certificate is not issued by a trusted JPKI root."
            }
            CardErrorCode::CertificateExpired => "The certificate is not valid at this time.",
            CardErrorCode::CertificateRevoked => "The certificate has been revoked.",
            CardErrorCode::RevocationDataStale => {
                "Revocation data is out of date; logins with this card are paused."
            }
            CardErrorCode::WrongCertificatePurpose => {
                "The certificate is not of the kind required for this step."
            }
            CardErrorCode::InvalidSignature => "The signature does not verify.",
        }
    }

    pub fn body(self) -> ErrorBody {
        ErrorBody {
            error: self.as_str().to_owned(),
            error_description: self.description().to_owned(),
        }
    }
}

impl std::fmt::Display for CardErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_round_trips_through_its_wire_name() {
        for code in CardErrorCode::ALL {
            assert_eq!(CardErrorCode::parse(code.as_str()), Some(code));
            let json = serde_json::to_string(&code).expect("serialise");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
