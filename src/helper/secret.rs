//! PINs and passwords: checked when typed, never printed, wiped from memory when dropped.

use zeroize::Zeroizing;

use crate::card::jpki::Purpose;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    #[error("the PIN is 4 digits")]
    PinFormat,
    #[error("the signature password is 6 to 16 characters of A–Z and 0–9")]
    PasswordFormat,
}

/// A user-authentication PIN or a signature password, in the form the card compares.
pub struct Secret(Zeroizing<String>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Secret {
    /// The user-authentication PIN: exactly 4 digits (reference/jpki.md).
    pub fn pin(text: String) -> Result<Secret, SecretError> {
        let text = without_line_end(Zeroizing::new(text));
        if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Secret(text))
        } else {
            Err(SecretError::PinFormat)
        }
    }

    /// The signature password: 6–16 of A–Z and 0–9. Letters typed in lower case are taken
    /// in upper case, as the card only knows upper case.
    pub fn sign_password(text: String) -> Result<Secret, SecretError> {
        let mut text = without_line_end(Zeroizing::new(text));
        text.make_ascii_uppercase();
        let allowed = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
        if (6..=16).contains(&text.len()) && text.bytes().all(allowed) {
            Ok(Secret(text))
        } else {
            Err(SecretError::PasswordFormat)
        }
    }

    /// The secret guarding one key: the PIN for `Auth`, the password for `Sign`.
    pub fn for_purpose(purpose: Purpose, text: String) -> Result<Secret, SecretError> {
        match purpose {
            Purpose::Auth => Secret::pin(text),
            Purpose::Sign => Secret::sign_password(text),
        }
    }

    /// The characters, for the VERIFY command only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn without_line_end(mut text: Zeroizing<String>) -> Zeroizing<String> {
    while text.ends_with(['\n', '\r']) {
        text.pop();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_is_exactly_four_digits() {
        assert_eq!(
            Secret::pin("1234\n".to_owned()).expect("pin").expose(),
            "1234"
        );
        for bad in ["123", "12345", "12a4", " 1234", ""] {
            assert_eq!(
                Secret::pin(bad.to_owned()).err(),
                Some(SecretError::PinFormat),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_password_is_six_to_sixteen_upper_case_letters_and_digits() {
        let password = Secret::sign_password("abc123\r\n".to_owned()).expect("password");
        assert_eq!(password.expose(), "ABC123");
        for bad in ["ABC12", "ABCDEFGHIJKLMNOPQ", "ABC-123", "ＡＢＣ１２３"] {
            assert_eq!(
                Secret::sign_password(bad.to_owned()).err(),
                Some(SecretError::PasswordFormat),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let pin = Secret::pin("9876".to_owned()).expect("pin");
        assert_eq!(format!("{pin:?}"), "[redacted]");
    }
}
