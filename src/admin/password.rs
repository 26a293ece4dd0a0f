//! Operator passwords: Argon2id hashes in PHC format, a type that never prints its value.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::AdminError;

/// Shortest password accepted (NIST SP 800-63B §5.1.1.2 asks for at least 8; operators of an
/// identity provider get more).
pub const MIN_LEN: usize = 12;

/// A password in memory. `Debug` prints `[redacted]`; wiped on drop.
pub struct Password(zeroize::Zeroizing<String>);

impl Password {
    pub fn new(value: impl Into<String>) -> Password {
        Password(zeroize::Zeroizing::new(value.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length and not-only-whitespace; the rest is the operator's business.
    pub fn check_policy(&self) -> Result<(), AdminError> {
        if self.0.chars().count() < MIN_LEN || self.0.trim().is_empty() {
            return Err(AdminError::WeakPassword(MIN_LEN));
        }
        Ok(())
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Argon2id with the OWASP Password Storage Cheat Sheet's first profile (19 MiB, t=2, p=1).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string for `password` with a salt from `salt` (16 random bytes from the caller).
pub fn hash(password: &Password, salt: &[u8]) -> Result<String, AdminError> {
    let salt = SaltString::encode_b64(salt).map_err(|e| AdminError::Hash(e.to_string()))?;
    argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AdminError::Hash(e.to_string()))
}

/// Whether `password` matches the stored PHC string (parameters come from the string).
pub fn verify(password: &Password, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// [`hash`] with a fresh random salt, off the async threads (Argon2id takes tens of
/// milliseconds of CPU on purpose).
pub async fn hash_new(password: &Password) -> Result<String, AdminError> {
    let owned = Password::new(password.expose());
    let salt = crate::domain::secret::random_bytes(16);
    tokio::task::spawn_blocking(move || hash(&owned, &salt))
        .await
        .map_err(|e| AdminError::Hash(e.to_string()))?
}

/// [`verify`] off the async threads.
pub async fn verify_off(password: &Password, phc: &str) -> bool {
    let (owned, phc) = (Password::new(password.expose()), phc.to_owned());
    tokio::task::spawn_blocking(move || verify(&owned, &phc))
        .await
        .unwrap_or(false)
}

/// A hash to verify against when the user name is unknown, so the answer takes as long as for
/// a known one (no user-name probing by timing).
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        hash(&Password::new("dummy password for timing"), &[7u8; 16]).unwrap_or_default()
    });
    &DUMMY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let stored = hash(&Password::new("correct horse battery"), &[1u8; 16]).expect("hash");
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify(&Password::new("correct horse battery"), &stored));
        assert!(!verify(&Password::new("correct horse battery!"), &stored));
        assert!(!verify(&Password::new("x"), "not a phc string"));
    }

    #[test]
    fn short_passwords_are_refused_and_never_printed() {
        let p = Password::new("short");
        assert!(matches!(
            p.check_policy(),
            Err(AdminError::WeakPassword(12))
        ));
        assert_eq!(format!("{p:?}"), "[redacted]");
    }
}
