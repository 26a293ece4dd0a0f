//! Private keys at rest: AES-256-GCM under a key-encryption key, bound to the key's kid.

use std::fmt;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::SecureRandom;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use super::{b64url, b64url_decode, JoseError};

const KEK_LEN: usize = 32;
const VERSION: &str = "v1";

/// Settings text may be standard base64 or base64url, padded or not.
const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_ANY_PAD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_ANY_PAD: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// The key-encryption key: 32 bytes from the settings. `Debug` prints `[redacted]`.
pub struct Kek {
    key: LessSafeKey,
}

impl Kek {
    /// Parses the settings text: 32 bytes as base64 or base64url (padding optional,
    /// surrounding whitespace ignored). Any other length is refused.
    pub fn from_settings_text(text: &str) -> Result<Kek, JoseError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(JoseError::InvalidKek("the setting is empty"));
        }
        let engine = if text.contains(['+', '/']) {
            &STANDARD_ANY_PAD
        } else {
            &URL_SAFE_ANY_PAD
        };
        let bytes = engine
            .decode(text)
            .map_err(|_| JoseError::InvalidKek("not base64 or base64url"))?;
        Self::from_bytes(&bytes)
    }

    /// A KEK from raw bytes, which must be exactly 32.
    pub fn from_bytes(bytes: &[u8]) -> Result<Kek, JoseError> {
        if bytes.len() != KEK_LEN {
            return Err(JoseError::InvalidKek("must be exactly 32 bytes (256 bits)"));
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| JoseError::InvalidKek("rejected by AES-256-GCM"))?;
        Ok(Kek {
            key: LessSafeKey::new(key),
        })
    }

    /// A fresh random KEK and its settings text (base64url), for `keys` set-up commands.
    pub fn generate(rng: &dyn SecureRandom) -> Result<(Kek, String), JoseError> {
        let mut bytes = [0u8; KEK_LEN];
        rng.fill(&mut bytes)
            .map_err(|_| JoseError::Crypto("random generator failed"))?;
        let kek = Self::from_bytes(&bytes)?;
        Ok((kek, b64url(&bytes)))
    }

    /// Encrypts `plaintext` (a PKCS#8 key) with a random 96-bit nonce; the `kid` is the
    /// associated data, so a sealed value only opens for the row it was written for.
    /// Output: `v1.<base64url nonce>.<base64url ciphertext‖tag>`.
    pub fn seal(
        &self,
        kid: &str,
        plaintext: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<String, JoseError> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce)
            .map_err(|_| JoseError::Crypto("random generator failed"))?;
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| JoseError::Crypto("AES-GCM sealing failed"))?;
        Ok(format!("{VERSION}.{}.{}", b64url(&nonce), b64url(&in_out)))
    }

    /// Decrypts a value made by [`Kek::seal`] for the same `kid`.
    pub fn open(&self, kid: &str, sealed: &str) -> Result<OpenedKey, JoseError> {
        let mut parts = sealed.trim().split('.');
        let (Some(version), Some(nonce), Some(ciphertext), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JoseError::SealedFormat("expected v1.<nonce>.<ciphertext>"));
        };
        if version != VERSION {
            return Err(JoseError::SealedFormat("unknown version"));
        }
        let nonce: [u8; NONCE_LEN] = b64url_decode(nonce)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(JoseError::SealedFormat(
                "nonce is not 12 bytes of base64url",
            ))?;
        let mut in_out = b64url_decode(ciphertext)
            .ok_or(JoseError::SealedFormat("ciphertext is not base64url"))?;
        let plaintext = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| JoseError::SealOpen)?;
        let len = plaintext.len();
        in_out.truncate(len);
        Ok(OpenedKey(in_out))
    }
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kek([redacted])")
    }
}

/// Plaintext from [`Kek::open`]; `Debug` prints `[redacted]`.
pub struct OpenedKey(Vec<u8>);

impl OpenedKey {
    /// The decrypted bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for OpenedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpenedKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;

    use super::*;

    fn kek(byte: u8) -> Kek {
        Kek::from_bytes(&[byte; 32]).expect("32 bytes")
    }

    #[test]
    fn sealed_key_opens_with_the_same_kek_and_kid() {
        let sealed = kek(1)
            .seal("kid-1", b"pkcs8 bytes", &SystemRandom::new())
            .expect("seals");
        assert!(sealed.starts_with("v1."));
        let opened = kek(1).open("kid-1", &sealed).expect("opens");
        assert_eq!(opened.as_bytes(), b"pkcs8 bytes");
    }

    #[test]
    fn sealing_twice_gives_different_texts() {
        let rng = SystemRandom::new();
        let a = kek(1).seal("k", b"same", &rng).expect("seals");
        let b = kek(1).seal("k", b"same", &rng).expect("seals");
        assert_ne!(a, b, "a fresh nonce each time");
    }

    #[test]
    fn settings_text_accepts_base64_and_base64url_with_or_without_padding() {
        let bytes: Vec<u8> = (0..32).map(|i| (i * 37 + 250) as u8).collect();
        let standard = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert!(standard.contains(['+', '/']) && standard.ends_with('='));
        let url = b64url(&bytes);
        let sealed = Kek::from_bytes(&bytes)
            .expect("32 bytes")
            .seal("k", b"x", &SystemRandom::new())
            .expect("seals");
        for text in [
            standard.clone(),
            standard.trim_end_matches('=').to_owned(),
            url,
            format!(" {standard}\n"),
        ] {
            let kek = Kek::from_settings_text(&text).expect("parses");
            assert_eq!(kek.open("k", &sealed).expect("same key").as_bytes(), b"x");
        }
    }

    #[test]
    fn settings_text_of_another_length_is_refused() {
        let short = b64url(&[7u8; 16]);
        assert!(matches!(
            Kek::from_settings_text(&short),
            Err(JoseError::InvalidKek(_))
        ));
        assert!(matches!(
            Kek::from_settings_text("not base64!"),
            Err(JoseError::InvalidKek(_))
        ));
    }

    #[test]
    fn malformed_sealed_text_is_reported_as_format_errors() {
        let kek = kek(1);
        for bad in [
            "",
            "v1.abc",
            "v2.AAAAAAAAAAAAAAAA.AAAA",
            "v1.AAAA.AAAA",
            "v1.AAAAAAAAAAAAAAAA.@@",
        ] {
            assert!(
                matches!(kek.open("k", bad), Err(JoseError::SealedFormat(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn kek_and_opened_key_debug_are_redacted() {
        let sealed = kek(3)
            .seal("k", b"secret", &SystemRandom::new())
            .expect("seals");
        let opened = kek(3).open("k", &sealed).expect("opens");
        assert_eq!(format!("{:?}", kek(3)), "Kek([redacted])");
        assert_eq!(format!("{opened:?}"), "OpenedKey([redacted])");
    }
}
