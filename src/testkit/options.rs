//! What a card is issued with (`CardOptions`) and the JPKI rules its values must follow.

use time::OffsetDateTime;

use super::card_file::Holder;
use super::error::TestkitError;
use super::keys::{random_string, DIGITS, UPPER_ALNUM};
use super::validity::EraDate;

/// The holder's facts, the two secrets, and optionally both ends of the validity.
///
/// `not_before` defaults to the time of issue, `not_after` to the holder's fifth birthday after
/// it; tests set them to make expired or not-yet-valid cards.
#[derive(Clone, PartialEq, Eq)]
pub struct CardOptions {
    pub holder: Holder,
    /// User-authentication PIN: 4 digits.
    pub pin: String,
    /// Signature password: 6–16 characters of A–Z and 0–9.
    pub password: String,
    pub not_before: Option<OffsetDateTime>,
    pub not_after: Option<OffsetDateTime>,
}

impl std::fmt::Debug for CardOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardOptions")
            .field("holder", &self.holder)
            .field("pin", &"[redacted]")
            .field("password", &"[redacted]")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish()
    }
}

impl CardOptions {
    /// A fictional resident of Chiyoda, Tokyo: 山田　太郎, born 1985-04-01, PIN 1234,
    /// password ABC123.
    pub fn example() -> CardOptions {
        CardOptions {
            holder: Holder {
                name: "山田\u{3000}太郎".to_owned(),
                name_substitute_map: None,
                address: "東京都千代田区千代田１番１号".to_owned(),
                address_substitute_map: None,
                date_of_birth: "319850401".to_owned(),
                sex: 1,
                prefecture: "Tokyo-to".to_owned(),
                city: "Chiyoda-ku".to_owned(),
            },
            pin: "1234".to_owned(),
            password: "ABC123".to_owned(),
            not_before: None,
            not_after: None,
        }
    }

    pub(crate) fn validate(&self) -> Result<EraDate, TestkitError> {
        validate_pin(&self.pin)?;
        validate_password(&self.password)?;
        validate_holder(&self.holder)
    }
}

/// A fresh random PIN, as a municipality would have the resident choose one.
pub(crate) fn random_pin() -> Result<String, TestkitError> {
    random_string(DIGITS, 4)
}

pub(crate) fn random_password() -> Result<String, TestkitError> {
    random_string(UPPER_ALNUM, 8)
}

fn invalid(message: String) -> TestkitError {
    TestkitError::InvalidOptions(message)
}

pub fn validate_pin(pin: &str) -> Result<(), TestkitError> {
    if pin.len() == 4 && pin.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    Err(invalid("the PIN must be exactly 4 digits".to_owned()))
}

pub fn validate_password(password: &str) -> Result<(), TestkitError> {
    let allowed = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    if (6..=16).contains(&password.len()) && password.bytes().all(allowed) {
        return Ok(());
    }
    Err(invalid(
        "the signature password must be 6 to 16 characters of A-Z and 0-9".to_owned(),
    ))
}

fn validate_holder(holder: &Holder) -> Result<EraDate, TestkitError> {
    if holder.name.trim().is_empty() {
        return Err(invalid("the name is empty".to_owned()));
    }
    // reference/jpki.md: the address starts at the prefecture, at most 200 characters.
    let address_chars = holder.address.chars().count();
    if address_chars == 0 || address_chars > 200 {
        return Err(invalid(
            "the address must have 1 to 200 characters".to_owned(),
        ));
    }
    validate_map("name", &holder.name, holder.name_substitute_map.as_deref())?;
    validate_map(
        "address",
        &holder.address,
        holder.address_substitute_map.as_deref(),
    )?;
    if !(1..=3).contains(&holder.sex) {
        return Err(invalid(format!(
            "sex must be 1 (male), 2 (female) or 3 (unknown), not {}",
            holder.sex
        )));
    }
    for (what, value) in [("prefecture", &holder.prefecture), ("city", &holder.city)] {
        if value.trim().is_empty() {
            return Err(invalid(format!("the {what} is empty")));
        }
    }
    EraDate::parse(&holder.date_of_birth)
}

/// A substitute-character map has one `0`/`1` per character of the text it describes.
fn validate_map(what: &str, text: &str, map: Option<&str>) -> Result<(), TestkitError> {
    let Some(map) = map else { return Ok(()) };
    if map.chars().count() != text.chars().count() || !map.chars().all(|c| c == '0' || c == '1') {
        return Err(invalid(format!(
            "the {what} substitute map must have one 0 or 1 per character of the {what}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_valid_and_its_debug_hides_the_secrets() {
        let options = CardOptions::example();
        options.validate().expect("valid example");
        let shown = format!("{options:?}");
        assert!(
            !shown.contains("1234") && !shown.contains("ABC123"),
            "{shown}"
        );
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn pins_and_passwords_outside_the_card_rules_are_refused() {
        for pin in ["123", "12345", "12a4", "１２３４"] {
            assert!(validate_pin(pin).is_err(), "{pin}");
        }
        for password in ["ABC12", "abc123", "ABC-123", "ABCDEFGHIJKLMNOPQ"] {
            assert!(validate_password(password).is_err(), "{password}");
        }
        validate_password("ABCDEFGHIJKLMNOP").expect("16 characters");
    }

    #[test]
    fn a_substitute_map_must_match_the_text_character_for_character() {
        let mut options = CardOptions::example();
        options.holder.name_substitute_map = Some("00100".to_owned());
        options.validate().expect("one flag per character");
        options.holder.name_substitute_map = Some("0010".to_owned());
        assert!(options.validate().is_err());
        options.holder.name_substitute_map = Some("00200".to_owned());
        assert!(options.validate().is_err());
    }

    #[test]
    fn random_secrets_follow_the_card_rules() {
        validate_pin(&random_pin().expect("pin")).expect("valid pin");
        validate_password(&random_password().expect("password")).expect("valid password");
    }
}
