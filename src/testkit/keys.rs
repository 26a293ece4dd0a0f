//! RSA-2048 keys of the test roots and cards, randomness, and PEM armour (aws-lc-rs).

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::error::TestkitError;

/// An RSA private key. Its `Debug` never shows key material.
pub(crate) struct RsaKey {
    pair: KeyPair,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaKey([redacted])")
    }
}

impl RsaKey {
    pub(crate) fn generate() -> Result<RsaKey, TestkitError> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| TestkitError::Crypto("RSA-2048 key generation"))?;
        Ok(RsaKey { pair })
    }

    pub(crate) fn from_pkcs8(der: &[u8]) -> Result<RsaKey, TestkitError> {
        let pair = KeyPair::from_pkcs8(der)
            .map_err(|_| TestkitError::Crypto("the PKCS#8 RSA key is not valid"))?;
        Ok(RsaKey { pair })
    }

    pub(crate) fn pkcs8_der(&self) -> Result<Vec<u8>, TestkitError> {
        let der = self
            .pair
            .as_der()
            .map_err(|_| TestkitError::Crypto("PKCS#8 export"))?;
        Ok(der.as_ref().to_vec())
    }

    /// DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7).
    pub(crate) fn spki_der(&self) -> Result<Vec<u8>, TestkitError> {
        let der = self
            .pair
            .public_key()
            .as_der()
            .map_err(|_| TestkitError::Crypto("public key export"))?;
        Ok(der.as_ref().to_vec())
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 (sha256WithRSAEncryption, RFC 4055 §5).
    pub(crate) fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, TestkitError> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| TestkitError::Crypto("RSA signature"))?;
        Ok(signature)
    }
}

pub(crate) fn random_bytes(len: usize) -> Result<Vec<u8>, TestkitError> {
    let mut out = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut out).map_err(|_| TestkitError::Crypto("random generator"))?;
    Ok(out)
}

/// `len` characters drawn uniformly from `alphabet` (rejection sampling, so no bias).
pub(crate) fn random_string(alphabet: &[u8], len: usize) -> Result<String, TestkitError> {
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in random_bytes(len * 2)? {
            if (byte as usize) < limit && out.len() < len {
                out.push(char::from(alphabet[byte as usize % alphabet.len()]));
            }
        }
    }
    Ok(out)
}

pub(crate) const DIGITS: &[u8] = b"0123456789";
pub(crate) const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// RFC 7468 textual encoding: base64 in 64-column lines between BEGIN/END lines.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER inside the first `label` block of a PEM text.
pub(crate) fn pem_decode(label: &str, text: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trips_and_wraps_at_64_columns() {
        let der: Vec<u8> = (0..=255u8).collect();
        let pem = pem_encode("CERTIFICATE", &der);
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(pem_decode("CERTIFICATE", &pem), Some(der));
        assert_eq!(pem_decode("PRIVATE KEY", &pem), None);
    }

    #[test]
    fn random_strings_use_only_the_alphabet() {
        let s = random_string(DIGITS, 40).expect("random");
        assert_eq!(s.len(), 40);
        assert!(s.bytes().all(|b| b.is_ascii_digit()));
    }
}
