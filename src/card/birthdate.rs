//! A JPKI date of birth (`EYYYYMMDD`, parts possibly unknown) and its OIDC renderings.
//!
//! The era digit E is informational: JPKI writes the Gregorian year after it (reference/
//! jpki.md), so the year is never converted from an era year. Zeros mark unknown parts.

use time::{Date, Month};

/// The era digit of a JPKI date of birth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Era {
    /// Digit 0.
    Unknown,
    Meiji,
    Taisho,
    Showa,
    Heisei,
    Reiwa,
    /// A digit 6–9, for an era after Reiwa; kept rather than refused since the year is
    /// Gregorian anyway.
    Later(u8),
}

impl Era {
    fn from_digit(digit: u8) -> Era {
        match digit {
            1 => Era::Meiji,
            2 => Era::Taisho,
            3 => Era::Showa,
            4 => Era::Heisei,
            5 => Era::Reiwa,
            6..=9 => Era::Later(digit),
            _ => Era::Unknown,
        }
    }
}

/// A date of birth whose year, month or day may each be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Birthdate {
    pub era: Era,
    pub year: Option<u16>,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

/// The text is not `EYYYYMMDD` or names a day that does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a JPKI date of birth (EYYYYMMDD)")]
pub struct BirthdateError;

impl Birthdate {
    /// Parses `EYYYYMMDD`: nine ASCII digits, zeros for unknown parts. A known month must be
    /// 1–12 and a known day must exist in that month (of that year, when known).
    pub fn parse(text: &str) -> Result<Birthdate, BirthdateError> {
        let digits = text.as_bytes();
        if digits.len() != 9 || !digits.iter().all(u8::is_ascii_digit) {
            return Err(BirthdateError);
        }
        let number = |range: std::ops::Range<usize>| {
            digits[range]
                .iter()
                .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'))
        };
        let known = |n: u16| (n != 0).then_some(n);
        let year = known(number(1..5));
        let month = known(number(5..7)).map(|m| m as u8);
        let day = known(number(7..9)).map(|d| d as u8);
        let month_of_year = match month {
            Some(m) => Some(Month::try_from(m).map_err(|_| BirthdateError)?),
            None => None,
        };
        if let Some(day) = day {
            // Without a year, 29 February must stay possible: check against a leap year.
            let longest = match month_of_year {
                Some(m) => m.length(year.map_or(2000, i32::from)),
                None => 31,
            };
            if day > longest {
                return Err(BirthdateError);
            }
        }
        Ok(Birthdate {
            era: Era::from_digit(digits[0] - b'0'),
            year,
            month,
            day,
        })
    }

    /// The calendar date, when year, month and day are all known.
    pub fn date(&self) -> Option<Date> {
        let month = Month::try_from(self.month?).ok()?;
        Date::from_calendar_date(i32::from(self.year?), month, self.day?).ok()
    }

    /// ISO 8601 `YYYY-MM-DD`, only when fully known (e.g. `1985-04-01`).
    pub fn iso_date(&self) -> Option<String> {
        self.date()
            .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
    }

    /// The `birthdate` claim (OIDC Core §5.1, as used by OIDC4IDA): the most that is known.
    ///
    /// - all known: `YYYY-MM-DD`;
    /// - day unknown: `YYYY-MM`; month unknown: `YYYY` (a day without its month says nothing);
    /// - year unknown, month and day known: `0000-MM-DD`, the form OIDC Core §5.1 gives for an
    ///   omitted year;
    /// - year unknown otherwise: `None`, the claim is left out.
    pub fn oidc_birthdate(&self) -> Option<String> {
        match (self.year, self.month, self.day) {
            (Some(y), Some(m), Some(d)) => Some(format!("{y:04}-{m:02}-{d:02}")),
            (Some(y), Some(m), None) => Some(format!("{y:04}-{m:02}")),
            (Some(y), None, _) => Some(format!("{y:04}")),
            (None, Some(m), Some(d)) => Some(format!("0000-{m:02}-{d:02}")),
            (None, _, _) => None,
        }
    }
}
