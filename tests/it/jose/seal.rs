//! Signing keys sealed at rest: round trip, wrong KEK, swapped rows, tampering.

use aws_lc_rs::rand::SystemRandom;
use mykey_connect::jose::{self, Alg, JoseError, Kek, SigningKey};

use super::{b64, new_key, unb64, verifying};

#[test]
fn sealed_signing_key_reopens_as_the_same_key() {
    let rng = SystemRandom::new();
    let (kek, settings_text) = Kek::generate(&rng).expect("KEK");
    let (der, key) = new_key(Alg::RS256);
    let sealed = kek.seal(key.kid(), der.as_bytes(), &rng).expect("seals");
    assert!(
        !sealed.contains(&b64(der.as_bytes())[..40]),
        "no plaintext in the sealed text"
    );

    let reloaded_kek = Kek::from_settings_text(&settings_text).expect("settings text parses");
    let opened = reloaded_kek.open(key.kid(), &sealed).expect("opens");
    let reopened = SigningKey::from_pkcs8(Alg::RS256, opened.as_bytes()).expect("parses");
    assert_eq!(reopened.kid(), key.kid());
    let token = jose::sign(&reopened, None, &1).expect("signs");
    assert!(jose::verify(&token, &[verifying(&key)], &[Alg::RS256]).is_ok());
}

#[test]
fn wrong_kek_cannot_open_a_sealed_key() {
    let rng = SystemRandom::new();
    let (kek, _) = Kek::generate(&rng).expect("KEK");
    let (other, _) = Kek::generate(&rng).expect("KEK");
    let sealed = kek.seal("kid", b"private key", &rng).expect("seals");
    assert_eq!(
        other.open("kid", &sealed).map(|_| ()),
        Err(JoseError::SealOpen)
    );
}

#[test]
fn sealed_key_swapped_into_another_row_is_refused() {
    let rng = SystemRandom::new();
    let (kek, _) = Kek::generate(&rng).expect("KEK");
    let (der_a, a) = new_key(Alg::ES256);
    let (_, b) = new_key(Alg::ES256);
    let sealed_a = kek.seal(a.kid(), der_a.as_bytes(), &rng).expect("seals");
    assert_eq!(
        kek.open(b.kid(), &sealed_a).map(|_| ()),
        Err(JoseError::SealOpen)
    );
}

#[test]
fn tampered_ciphertext_is_refused() {
    let rng = SystemRandom::new();
    let (kek, _) = Kek::generate(&rng).expect("KEK");
    let sealed = kek.seal("kid", b"private key", &rng).expect("seals");
    let parts: Vec<&str> = sealed.split('.').collect();
    let mut ciphertext = unb64(parts[2]);
    ciphertext[0] ^= 0x80;
    let tampered = format!("{}.{}.{}", parts[0], parts[1], b64(&ciphertext));
    assert_eq!(
        kek.open("kid", &tampered).map(|_| ()),
        Err(JoseError::SealOpen)
    );
    let err = kek.open("kid", &tampered).expect_err("tampered");
    assert!(
        err.to_string().contains("wrong key-encryption key"),
        "{err}"
    );
}
