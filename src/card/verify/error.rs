//! Why a card certificate or signature was refused, and the wire code each reason maps to.

use time::OffsetDateTime;

use crate::card::certificate::MIN_RSA_BITS;
use crate::card::facts::FactsError;
use crate::card::jpki::{Purpose, RevocationReason};
use crate::card::protocol::CardErrorCode;

/// Why a certificate or signature was refused: log this, answer with [`VerifyError::code`].
/// No variant carries anything about the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("the certificate is not one DER X.509 certificate")]
    Unparsable,
    #[error("an extension the checks rely on is malformed or repeated")]
    MalformedExtension,
    #[error("the certificate has a critical extension this verifier does not process")]
    UnknownCriticalExtension,
    #[error("the certificate is not signed with sha256WithRSAEncryption")]
    UnsupportedAlgorithm,
    #[error("no configured root signed the certificate")]
    UnknownIssuer,
    #[error("the certificate was issued by a {issuer_purpose} root")]
    IssuedForOtherPurpose { issuer_purpose: Purpose },
    #[error("the issuer name differs from the subject of the root that signed it")]
    IssuerNameMismatch,
    #[error("the certificate key is not RSA of at least {MIN_RSA_BITS} bits")]
    UnsuitableKey,
    #[error("the serial number is longer than 20 octets")]
    SerialTooLong,
    #[error("the certificate is from a J-LIS test root and test cards are not allowed")]
    TestCardRefused,
    #[error("the certificate is not valid yet")]
    NotYetValid,
    #[error("the certificate has expired")]
    Expired,
    #[error("the issuing root is not valid at this time")]
    RootNotValid,
    #[error("the certificate is a CA certificate")]
    CaCertificate,
    #[error("the key usage does not allow a {purpose} signature")]
    KeyUsage { purpose: Purpose },
    #[error("the certificate policy is not the J-LIS {purpose} policy")]
    Policy { purpose: Purpose },
    #[error("the certificate was revoked ({}) at {at}", reason.as_str())]
    Revoked {
        reason: RevocationReason,
        at: OffsetDateTime,
    },
    #[error("no revocation data has been loaded for the issuing root")]
    NoRevocationData,
    #[error("the revocation data of the issuing root expired at {next_update}")]
    RevocationDataStale { next_update: OffsetDateTime },
    #[error("the signature does not verify with the certificate's key")]
    BadSignature,
    #[error("the signature certificate's basic facts are unreadable: {0}")]
    Facts(#[from] FactsError),
}

impl VerifyError {
    /// The one wire code of docs/card-login.md §5 this refusal maps to.
    pub fn code(&self) -> CardErrorCode {
        use VerifyError as E;
        match self {
            E::Unparsable
            | E::MalformedExtension
            | E::UnknownCriticalExtension
            | E::UnsupportedAlgorithm
            | E::UnknownIssuer
            | E::IssuerNameMismatch
            | E::UnsuitableKey
            | E::SerialTooLong
            | E::TestCardRefused => CardErrorCode::UntrustedCertificate,
            E::NotYetValid | E::Expired | E::RootNotValid => CardErrorCode::CertificateExpired,
            E::IssuedForOtherPurpose { .. }
            | E::CaCertificate
            | E::KeyUsage { .. }
            | E::Policy { .. }
            | E::Facts(_) => CardErrorCode::WrongCertificatePurpose,
            E::Revoked { .. } => CardErrorCode::CertificateRevoked,
            E::NoRevocationData | E::RevocationDataStale { .. } => {
                CardErrorCode::RevocationDataStale
            }
            E::BadSignature => CardErrorCode::InvalidSignature,
        }
    }
}
