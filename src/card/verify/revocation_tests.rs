use time::Duration;

use super::tests::{world, World};
use super::*;
use crate::card::jpki::RevocationReason;
use crate::card::revocation::InMemoryRevocation;
use crate::card::test_support::{CrlBuilder, Leaf, NOW};

#[test]
fn revocation_answers_map_to_revoked_and_stale() {
    let w = world();
    let leaf = Leaf::new(&w.auth);
    let cert = leaf.issue(&w.auth);
    let crl = CrlBuilder::new(&w.auth, 2)
        .revoke(&leaf.serial, NOW - Duration::minutes(90), Some(1))
        .sign(w.auth.key);
    w.revocation.load_crl(&w.trust, &crl).expect("CRL 2");
    assert_eq!(
        w.code(Purpose::Auth, &cert),
        CardErrorCode::CertificateRevoked
    );
    // Past nextUpdate a listed certificate is still revoked…
    let after = NOW + Duration::days(2);
    let err = w
        .check_at(Purpose::Auth, &cert, after)
        .expect_err("revoked");
    assert!(matches!(
        err,
        VerifyError::Revoked {
            reason: RevocationReason::KeyCompromise,
            ..
        }
    ));
    // …and an unlisted one has stale data.
    let other = Leaf {
        serial: vec![9],
        ..Leaf::new(&w.auth)
    }
    .issue(&w.auth);
    let err = w.check_at(Purpose::Auth, &other, after).expect_err("stale");
    assert_eq!(err.code(), CardErrorCode::RevocationDataStale);
}

#[test]
fn stale_grace_and_missing_data_follow_the_policy() {
    let mut w = world();
    let cert = Leaf::new(&w.auth).issue(&w.auth);
    let just_late = NOW + Duration::days(1) + Duration::minutes(5);
    assert!(w.check_at(Purpose::Auth, &cert, just_late).is_err());
    w.policy.stale_grace = Duration::minutes(10);
    assert!(w.check_at(Purpose::Auth, &cert, just_late).is_ok());

    let w = World {
        revocation: InMemoryRevocation::new(),
        ..world()
    };
    assert_eq!(
        w.check(Purpose::Auth, &cert),
        Err(VerifyError::NoRevocationData)
    );
    let w = World {
        policy: VerifyPolicy {
            allow_missing_revocation_data: true,
            ..w.policy
        },
        ..w
    };
    assert!(w.check(Purpose::Auth, &cert).is_ok());
}
