//! Secrets (codes, tokens, client secrets, cookies) that must never reach a log.

use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// A secret string. `Debug` and `Display` print `[redacted]`; compare with [`Secret::hash`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// A fresh random secret of `bytes` random bytes, base64url without padding.
    pub fn generate(bytes: usize) -> Secret {
        Secret(random_b64(bytes))
    }

    /// The value, for the one place that must send it (a response body or a cookie).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores: base64url(SHA-256(value)). The secrets hashed this way carry
    /// ≥ 128 random bits, so a fast hash is enough; admin passwords use Argon2id instead.
    pub fn hash(&self) -> String {
        hash_str(&self.0)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// base64url(SHA-256(value)).
pub fn hash_str(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, value.as_bytes()))
}

/// `bytes` random bytes from the system generator, base64url without padding.
pub fn random_b64(bytes: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(bytes))
}

/// `bytes` random bytes in base64url, never beginning with `-`: for identifiers that people
/// type into command lines (`mykey-connect client show ID`, `admin api-key revoke ID`,
/// `curl -u ID:…`), where a leading hyphen reads as an option.
pub fn random_typed_id(bytes: usize) -> String {
    loop {
        let id = random_b64(bytes);
        if !id.starts_with('-') {
            return id;
        }
    }
}

pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    // The system RNG failing is not recoverable; aws-lc aborts rather than return weak bytes.
    if aws_lc_rs::rand::fill(&mut buf).is_err() {
        panic!("system random number generator failed");
    }
    buf
}

/// A uniformly random decimal string of `digits` digits (match codes).
pub fn random_digits(digits: usize) -> String {
    let mut out = String::with_capacity(digits);
    while out.len() < digits {
        for b in random_bytes(16) {
            // Rejection sampling keeps every digit equally likely.
            if b < 250 && out.len() < digits {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    out
}

/// Constant-time equality for secrets compared in memory.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_typed_on_command_lines_never_begin_with_a_hyphen() {
        for _ in 0..2_000 {
            let id = random_typed_id(9);
            assert!(!id.starts_with('-'), "{id}");
            assert_eq!(id.len(), 12);
        }
    }

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "[redacted]");
    }

    #[test]
    fn generated_secrets_differ_and_have_the_requested_entropy() {
        let a = Secret::generate(32);
        let b = Secret::generate(32);
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
    }

    #[test]
    fn match_codes_are_four_decimal_digits() {
        for _ in 0..100 {
            let c = random_digits(4);
            assert_eq!(c.len(), 4);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
