//! Verifies a card's certificate and its signature over a challenge, in docs/card-login.md §4 order.

use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use time::{Duration, OffsetDateTime};

mod error;

pub use error::VerifyError;

use super::certificate::{rsa_modulus_bits, serial_fits, CardCertificate, MIN_RSA_BITS};
use super::facts::BasicFacts;
use super::jpki::{self, Purpose};
use super::oids;
use super::protocol::CardErrorCode;
use super::revocation::{RevocationSource, RevocationStatus};
use super::trust::{Root, TrustStore};

/// What the operator allows beyond the production rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyPolicy {
    /// Accept cards of J-LIS test roots (`O=JPKI-TEST`) and the test signature policy.
    pub allow_test_cards: bool,
    /// Accept certificates of a root for which no CRL was ever loaded.
    pub allow_missing_revocation_data: bool,
    /// How long past a CRL's nextUpdate its data still counts as fresh.
    pub stale_grace: Duration,
}

impl VerifyPolicy {
    /// Production: J-LIS roots only, revocation data required and fresh.
    pub const PRODUCTION: VerifyPolicy = VerifyPolicy {
        allow_test_cards: false,
        allow_missing_revocation_data: false,
        stale_grace: Duration::ZERO,
    };
}

impl Default for VerifyPolicy {
    fn default() -> Self {
        VerifyPolicy::PRODUCTION
    }
}

/// A certificate that passed every check, and the signature it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCertificate {
    pub purpose: Purpose,
    /// [`jpki::key_id`] of the root that issued it.
    pub issuer_key_id: String,
    /// [`jpki::serial_hex`] of the certificate serial.
    pub serial: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// Subject DN as text (for a signature certificate it names the prefecture and city).
    pub subject: String,
    /// Issued by a J-LIS test root.
    pub test_card: bool,
    /// The four basic facts of a signature certificate; `None` for authentication.
    pub facts: Option<BasicFacts>,
}

/// Verifies `certificate_der` for `purpose` and `signature` over `message` (docs/card-login.md §4
/// steps 2–4), answering with the wire code. The refusal reason is logged at debug level; call
/// [`check_card_signature`] to get it instead.
#[expect(
    clippy::too_many_arguments,
    reason = "the inputs of spec §4, each distinct"
)]
pub fn verify_card_signature(
    trust: &TrustStore,
    revocation: &dyn RevocationSource,
    policy: &VerifyPolicy,
    purpose: Purpose,
    certificate_der: &[u8],
    message: &[u8],
    signature: &[u8],
    now: OffsetDateTime,
) -> Result<VerifiedCertificate, CardErrorCode> {
    check_card_signature(
        trust,
        revocation,
        policy,
        purpose,
        certificate_der,
        message,
        signature,
        now,
    )
    .map_err(|reason| {
        tracing::debug!(%purpose, %reason, "card certificate refused");
        reason.code()
    })
}

/// [`verify_card_signature`] with the typed reason of a refusal.
#[expect(
    clippy::too_many_arguments,
    reason = "the inputs of spec §4, each distinct"
)]
pub fn check_card_signature(
    trust: &TrustStore,
    revocation: &dyn RevocationSource,
    policy: &VerifyPolicy,
    purpose: Purpose,
    certificate_der: &[u8],
    message: &[u8],
    signature: &[u8],
    now: OffsetDateTime,
) -> Result<VerifiedCertificate, VerifyError> {
    let cert = CardCertificate::parse(certificate_der)?;
    let root = chain(trust, purpose, &cert)?;
    if root.is_test() && !policy.allow_test_cards {
        return Err(VerifyError::TestCardRefused);
    }
    let validity = cert.x509.validity();
    let (not_before, not_after) = (
        validity.not_before.to_datetime(),
        validity.not_after.to_datetime(),
    );
    if now < not_before {
        return Err(VerifyError::NotYetValid);
    }
    if now > not_after {
        return Err(VerifyError::Expired);
    }
    if now < root.not_before() || now > root.not_after() {
        return Err(VerifyError::RootNotValid);
    }
    profile(&cert, purpose, root.is_test())?;
    let serial = jpki::serial_hex(cert.x509.raw_serial());
    revoked(revocation, policy, root, &serial, now)?;
    // The certificate key was checked to be RSA ≥ 2048 in `chain`; its bits are RSAPublicKey.
    UnparsedPublicKey::new(
        &RSA_PKCS1_2048_8192_SHA256,
        &cert.x509.public_key().subject_public_key.data,
    )
    .verify(message, signature)
    .map_err(|_| VerifyError::BadSignature)?;
    let facts = match purpose {
        Purpose::Auth => None,
        Purpose::Sign => Some(BasicFacts::from_subject_alt_name(cert.subject_alt_name)?),
    };
    Ok(VerifiedCertificate {
        purpose,
        issuer_key_id: root.key_id().to_owned(),
        serial,
        not_before,
        not_after,
        subject: cert.x509.subject().to_string(),
        test_card: root.is_test(),
        facts,
    })
}

/// Spec §4 step 2, the chain: JPKI roots sign card certificates directly (no intermediates).
fn chain<'t>(
    trust: &'t TrustStore,
    purpose: Purpose,
    cert: &CardCertificate<'_>,
) -> Result<&'t Root, VerifyError> {
    let x509 = &cert.x509;
    // RFC 5280 §4.1.1.2: the outer and inner algorithm identifiers must agree.
    if x509.signature_algorithm.algorithm.as_bytes() != oids::SHA256_WITH_RSA
        || x509.tbs_certificate.signature.algorithm.as_bytes() != oids::SHA256_WITH_RSA
        || x509.signature_value.unused_bits != 0
    {
        return Err(VerifyError::UnsupportedAlgorithm);
    }
    let root = trust
        .issuer_of(
            cert.authority_key_id,
            Some(purpose),
            x509.tbs_certificate.as_ref(),
            &x509.signature_value.data,
        )
        .ok_or(VerifyError::UnknownIssuer)?;
    if root.purpose() != purpose {
        return Err(VerifyError::IssuedForOtherPurpose {
            issuer_purpose: root.purpose(),
        });
    }
    // RFC 5280 §6.1.3 (a)(4): the issuer name chains to the root's subject.
    if x509.issuer().as_raw() != root.subject_der() {
        return Err(VerifyError::IssuerNameMismatch);
    }
    if rsa_modulus_bits(x509.public_key()).is_none_or(|bits| bits < MIN_RSA_BITS) {
        return Err(VerifyError::UnsuitableKey);
    }
    if !serial_fits(x509.raw_serial()) {
        return Err(VerifyError::SerialTooLong);
    }
    Ok(root)
}

/// Spec §4 step 2, the profile: key usage and certificate policy of the purpose
/// (reference/jpki.md, "Certificates").
pub(crate) fn profile(
    cert: &CardCertificate<'_>,
    purpose: Purpose,
    test_root: bool,
) -> Result<(), VerifyError> {
    if cert.is_ca {
        return Err(VerifyError::CaCertificate);
    }
    let usage = cert.key_usage.unwrap_or_default();
    let usage_ok = match purpose {
        Purpose::Auth => usage.digital_signature,
        Purpose::Sign => usage.digital_signature && usage.non_repudiation,
    };
    if !usage_ok {
        return Err(VerifyError::KeyUsage { purpose });
    }
    let policy_ok = match purpose {
        Purpose::Auth => cert.policies.auth,
        Purpose::Sign => cert.policies.sign || (test_root && cert.policies.sign_test),
    };
    if !policy_ok {
        return Err(VerifyError::Policy { purpose });
    }
    Ok(())
}

/// Spec §4 step 3.
fn revoked(
    revocation: &dyn RevocationSource,
    policy: &VerifyPolicy,
    root: &Root,
    serial: &str,
    now: OffsetDateTime,
) -> Result<(), VerifyError> {
    match revocation.status(root.key_id(), serial, now) {
        RevocationStatus::Good => Ok(()),
        RevocationStatus::Revoked { reason, at } => Err(VerifyError::Revoked { reason, at }),
        RevocationStatus::Stale { next_update } => {
            let limit = next_update.checked_add(policy.stale_grace);
            if limit.is_some_and(|limit| now <= limit) {
                Ok(())
            } else {
                Err(VerifyError::RevocationDataStale { next_update })
            }
        }
        RevocationStatus::NoData if policy.allow_missing_revocation_data => Ok(()),
        RevocationStatus::NoData => Err(VerifyError::NoRevocationData),
    }
}

#[cfg(test)]
mod profile_tests;
#[cfg(test)]
mod revocation_tests;
#[cfg(test)]
mod tests;
