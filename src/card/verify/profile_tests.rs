use super::tests::{world, World};
use super::*;
use crate::card::test_support::{extension, seq, tlv, Ca, CrlBuilder, Leaf};

#[test]
fn the_test_signature_policy_is_honoured_only_under_a_test_root() {
    let w = world();
    let mut leaf = Leaf::new(&w.sign);
    leaf.extensions[1] = policies(&[oids::POLICY_SIGN_TEST]);
    assert!(w.check(Purpose::Sign, &leaf.issue(&w.sign)).is_ok());

    let production = Ca::new(Purpose::Sign, false, 2);
    let w = World {
        trust: Ca::trust(&[&production]),
        ..world()
    };
    w.revocation
        .load_crl(
            &w.trust,
            &CrlBuilder::new(&production, 1).sign(production.key),
        )
        .expect("CRL");
    let mut leaf = Leaf::new(&production);
    leaf.extensions[1] = policies(&[oids::POLICY_SIGN_TEST]);
    assert_eq!(
        w.check(Purpose::Sign, &leaf.issue(&production)),
        Err(VerifyError::Policy {
            purpose: Purpose::Sign
        })
    );
}

fn policies(ids: &[&[u8]]) -> Vec<u8> {
    let infos: Vec<Vec<u8>> = ids.iter().map(|id| seq(&[&tlv(0x06, id)])).collect();
    extension(
        oids::CERTIFICATE_POLICIES,
        true,
        &tlv(0x30, &infos.concat()),
    )
}

#[test]
fn key_usage_and_policy_must_match_the_purpose() {
    let w = world();
    let mut no_usage = Leaf::new(&w.auth);
    no_usage.extensions.remove(0);
    let mut sign_without_non_repudiation = Leaf::new(&w.sign);
    sign_without_non_repudiation.extensions[0] =
        extension(oids::KEY_USAGE, true, &tlv(0x03, &[0x07, 0x80]));
    let mut sign_policy_on_auth = Leaf::new(&w.auth);
    sign_policy_on_auth.extensions[1] = policies(&[oids::POLICY_SIGN]);
    let mut ca_leaf = Leaf::new(&w.auth);
    ca_leaf.extensions.push(extension(
        oids::BASIC_CONSTRAINTS,
        true,
        &seq(&[&tlv(0x01, &[0xFF])]),
    ));
    for (purpose, leaf, ca) in [
        (Purpose::Auth, no_usage, &w.auth),
        (Purpose::Sign, sign_without_non_repudiation, &w.sign),
        (Purpose::Auth, sign_policy_on_auth, &w.auth),
        (Purpose::Auth, ca_leaf, &w.auth),
    ] {
        assert_eq!(
            w.code(purpose, &leaf.issue(ca)),
            CardErrorCode::WrongCertificatePurpose
        );
    }
}

#[test]
fn unknown_critical_extensions_other_algorithms_weak_keys_and_long_serials_are_untrusted() {
    let w = world();
    let mut critical = Leaf::new(&w.auth);
    critical
        .extensions
        .push(extension(&[0x2A, 0x03, 0x04], true, &[0x05, 0x00]));
    let mut sha1 = Leaf::new(&w.auth);
    sha1.signature_algorithm = seq(&[&tlv(0x06, &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 1, 1, 5])]);
    let mut long_serial = Leaf::new(&w.auth);
    long_serial.serial = vec![0x7F; 21];
    for (leaf, reason) in [
        (critical, VerifyError::UnknownCriticalExtension),
        (sha1, VerifyError::UnsupportedAlgorithm),
        (long_serial, VerifyError::SerialTooLong),
    ] {
        assert_eq!(w.check(Purpose::Auth, &leaf.issue(&w.auth)), Err(reason));
    }
    let mut weak = Leaf::new(&w.auth);
    let modulus = [&[0x00, 0xC1][..], &[0x55; 127]].concat();
    let rsa_key = seq(&[&tlv(0x02, &modulus), &tlv(0x02, &[1, 0, 1])]);
    let spki = seq(&[
        &seq(&[&tlv(0x06, oids::RSA_ENCRYPTION), &tlv(0x05, &[])]),
        &tlv(0x03, &[&[0u8][..], &rsa_key].concat()),
    ]);
    weak.spki = spki;
    assert_eq!(
        w.check(Purpose::Auth, &weak.issue(&w.auth)),
        Err(VerifyError::UnsuitableKey)
    );
}
