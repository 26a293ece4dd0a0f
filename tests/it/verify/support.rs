//! A fixed clock, a shared test CA with one card, and a provider-side verifier over them.

use std::sync::OnceLock;

use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use mykey_connect::card::jpki::Purpose;
use mykey_connect::card::message::signed_message;
use mykey_connect::card::protocol::{CardErrorCode, ChallengePurpose};
use mykey_connect::card::revocation::InMemoryRevocation;
use mykey_connect::card::trust::TrustStore;
use mykey_connect::card::verify::{verify_card_signature, VerifiedCertificate, VerifyPolicy};
use mykey_connect::testkit::{CardFile, CardOptions, TestCa};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// When the CA and cards are issued.
pub const ISSUED_AT: OffsetDateTime = datetime!(2025-11-25 10:00 UTC);
/// When logins happen: an hour later, inside every default validity.
pub const NOW: OffsetDateTime = datetime!(2025-11-25 11:00 UTC);
pub const ISSUER: &str = "https://id.example.jp";
pub const EXPIRES_AT: i64 = 1_764_070_000;

/// The challenge message a helper would have the card sign (docs/card-login.md §3).
pub fn message(nonce: &str) -> Vec<u8> {
    signed_message(ISSUER, "ch-1", nonce, ChallengePurpose::Verify, EXPIRES_AT)
}

/// What the card answers to COMPUTE DIGITAL SIGNATURE over `message` with `purpose`'s key.
pub fn card_signature(card: &CardFile, purpose: Purpose, message: &[u8]) -> Vec<u8> {
    let pkcs8 = card.slot(purpose).private_key_der().expect("PKCS#8");
    let key = KeyPair::from_pkcs8(&pkcs8).expect("RSA key");
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        message,
        &mut signature,
    )
    .expect("sign");
    signature
}

pub fn certificate(card: &CardFile, purpose: Purpose) -> Vec<u8> {
    card.slot(purpose).certificate_der().expect("certificate")
}

/// A provider trusting one test CA, with that CA's current (empty) CRLs loaded.
pub struct Provider {
    pub trust: TrustStore,
    pub revocation: InMemoryRevocation,
    pub policy: VerifyPolicy,
}

impl Provider {
    pub fn trusting(ca: &mut TestCa) -> Provider {
        let mut trust = TrustStore::new();
        for purpose in [Purpose::Auth, Purpose::Sign] {
            trust
                .add_der(purpose, ca.root_der(purpose), "test CA")
                .expect("test root");
        }
        let provider = Provider {
            trust,
            revocation: InMemoryRevocation::new(),
            policy: VerifyPolicy {
                allow_test_cards: true,
                ..VerifyPolicy::PRODUCTION
            },
        };
        for purpose in [Purpose::Auth, Purpose::Sign] {
            provider
                .load(&day_crl(ca, purpose, ISSUED_AT))
                .expect("first CRL");
        }
        provider
    }

    pub fn load(
        &self,
        crl: &[u8],
    ) -> Result<mykey_connect::card::revocation::RevocationUpdate, mykey_connect::card::crl::CrlError>
    {
        self.revocation.load_crl(&self.trust, crl)
    }

    /// Verifies `certificate` for `purpose` and `signature` over `message` at `now`.
    pub fn verify_at(
        &self,
        purpose: Purpose,
        certificate: &[u8],
        message: &[u8],
        signature: &[u8],
        now: OffsetDateTime,
    ) -> Result<VerifiedCertificate, CardErrorCode> {
        verify_card_signature(
            &self.trust,
            &self.revocation,
            &self.policy,
            purpose,
            certificate,
            message,
            signature,
            now,
        )
    }

    /// The card signs the standard message with `purpose`'s key; verified at [`NOW`].
    pub fn login(
        &self,
        card: &CardFile,
        purpose: Purpose,
    ) -> Result<VerifiedCertificate, CardErrorCode> {
        self.login_as(card, purpose, purpose)
    }

    /// Like `login`, but the provider checks the certificate of `signed_with` as `checked_as`.
    pub fn login_as(
        &self,
        card: &CardFile,
        signed_with: Purpose,
        checked_as: Purpose,
    ) -> Result<VerifiedCertificate, CardErrorCode> {
        let message = message("n0nce");
        let signature = card_signature(card, signed_with, &message);
        let cert = certificate(card, signed_with);
        self.verify_at(checked_as, &cert, &message, &signature, NOW)
    }
}

/// A CRL valid for a day from `this_update`.
pub fn day_crl(ca: &mut TestCa, purpose: Purpose, this_update: OffsetDateTime) -> Vec<u8> {
    ca.crl(purpose, this_update, this_update + Duration::days(1))
        .expect("CRL")
}

/// The example card and a provider trusting its CA, made once (RSA key generation is the
/// slow part). Tests that revoke or issue CRLs make their own CA.
pub struct Shared {
    pub card: CardFile,
    pub provider: Provider,
}

pub fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let (mut ca, card) = own_ca_and_card(&CardOptions::example());
        let provider = Provider::trusting(&mut ca);
        Shared { card, provider }
    })
}

/// A fresh CA (its CRL numbering and revocations are the test's own) and a card of `options`.
pub fn own_ca_and_card(options: &CardOptions) -> (TestCa, CardFile) {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let card = ca.issue_card(options, ISSUED_AT).expect("card");
    (ca, card)
}
