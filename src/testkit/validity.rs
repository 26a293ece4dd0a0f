//! Validity periods of the J-LIS profiles and the era-coded date of birth (`EYYYYMMDD`).

use time::macros::{date, offset, time};
use time::{Date, Month, OffsetDateTime, UtcOffset};

use super::error::TestkitError;

/// J-LIS dates (birthdays, the end of a validity) are Japan Standard Time calendar days.
pub const JST: UtcOffset = offset!(+9);

/// A date of birth as the signature certificate carries it: era digit, then YYYYMMDD in the
/// Gregorian calendar, zeros for unknown parts (reference/jpki.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EraDate {
    /// 1 Meiji, 2 Taisho, 3 Showa, 4 Heisei, 5 Reiwa, 0 unknown.
    pub era: u8,
    pub year: u16,
    /// 0 when unknown.
    pub month: u8,
    /// 0 when unknown.
    pub day: u8,
}

impl EraDate {
    pub fn parse(text: &str) -> Result<EraDate, TestkitError> {
        let bad = || {
            TestkitError::InvalidOptions(format!(
                "date of birth {text:?} is not EYYYYMMDD (era digit 0-5, zeros for unknown parts)"
            ))
        };
        if text.len() != 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let number = |range: std::ops::Range<usize>| text[range].parse::<u16>().map_err(|_| bad());
        let era = number(0..1)? as u8;
        let year = number(1..5)?;
        let month = number(5..7)? as u8;
        let day = number(7..9)? as u8;
        if era > 5 || month > 12 || day > 31 {
            return Err(bad());
        }
        if year != 0 && month != 0 && day != 0 {
            let month = Month::try_from(month).map_err(|_| bad())?;
            Date::from_calendar_date(i32::from(year), month, day).map_err(|_| bad())?;
        }
        Ok(EraDate {
            era,
            year,
            month,
            day,
        })
    }

    /// The card's text for a known date, with the era it falls in.
    pub fn from_date(date: Date) -> EraDate {
        // First days of the eras, as proclaimed (Gregorian).
        let era = if date >= date!(2019 - 05 - 01) {
            5
        } else if date >= date!(1989 - 01 - 08) {
            4
        } else if date >= date!(1926 - 12 - 25) {
            3
        } else if date >= date!(1912 - 07 - 30) {
            2
        } else {
            1
        };
        EraDate {
            era,
            year: date.year().clamp(0, 9999) as u16,
            month: u8::from(date.month()),
            day: date.day(),
        }
    }
}

impl std::fmt::Display for EraDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}{:04}{:02}{:02}",
            self.era, self.year, self.month, self.day
        )
    }
}

/// Default end of a card's certificates: 23:59:59 JST on the holder's fifth birthday after the
/// day of issue (reference/jpki.md "Lifetimes").
///
/// Approximations: a birthday on the day of issue does not count; an unknown month or day is
/// taken from the day of issue; 29 February becomes 28 February in common years; the cap by
/// the card's own expiry is not modelled.
pub fn fifth_birthday_after(
    issued: OffsetDateTime,
    date_of_birth: &EraDate,
) -> Result<OffsetDateTime, TestkitError> {
    let issue_day = issued.to_offset(JST).date();
    let month = match date_of_birth.month {
        0 => issue_day.month(),
        m => Month::try_from(m).map_err(|_| TestkitError::Time(date_of_birth.to_string()))?,
    };
    let day = match date_of_birth.day {
        0 => issue_day.day(),
        d => d,
    };
    // Clamping to the month's length turns 29 February into the 28th in common years.
    let birthday_in = |year: i32| {
        let day = day.min(time::util::days_in_month(month, year));
        Date::from_calendar_date(year, month, day)
            .map_err(|_| TestkitError::Time(format!("{year}-{month}-{day}")))
    };
    let mut year = issue_day.year();
    if birthday_in(year)? <= issue_day {
        year += 1;
    }
    Ok(end_of_day_jst(birthday_in(year + 4)?))
}

/// A J-LIS root lives ten years: to 23:59:59 JST on the day before the tenth anniversary.
pub(crate) fn root_not_after(now: OffsetDateTime) -> Result<OffsetDateTime, TestkitError> {
    let today = now.to_offset(JST).date();
    let anniversary = today
        .replace_year(today.year() + 10)
        .or_else(|_| date!(2000 - 03 - 01).replace_year(today.year() + 10))
        .map_err(|_| TestkitError::Time(now.to_string()))?;
    let last_day = anniversary
        .previous_day()
        .ok_or_else(|| TestkitError::Time(now.to_string()))?;
    Ok(end_of_day_jst(last_day))
}

fn end_of_day_jst(day: Date) -> OffsetDateTime {
    day.with_time(time!(23:59:59))
        .assume_offset(JST)
        .to_offset(UtcOffset::UTC)
}

/// Drops sub-second precision: certificate and CRL times have whole seconds.
pub(crate) fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .to_offset(UtcOffset::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn dob(text: &str) -> EraDate {
        EraDate::parse(text).expect("date of birth")
    }

    #[test]
    fn the_fifth_birthday_after_issue_ends_the_validity_at_midnight_jst() {
        // The surveyed test card: issued 2025-10-27, valid to 2030-02-17.
        let end =
            fifth_birthday_after(datetime!(2025-10-27 01:00 UTC), &dob("319550217")).expect("end");
        assert_eq!(end, datetime!(2030-02-17 14:59:59 UTC));
    }

    #[test]
    fn a_birthday_on_the_day_of_issue_is_not_counted() {
        let end =
            fifth_birthday_after(datetime!(2025-02-17 03:00 UTC), &dob("319550217")).expect("end");
        assert_eq!(end, datetime!(2030-02-17 14:59:59 UTC));
        let end =
            fifth_birthday_after(datetime!(2025-02-16 03:00 UTC), &dob("319550217")).expect("end");
        assert_eq!(end, datetime!(2029-02-17 14:59:59 UTC));
    }

    #[test]
    fn leap_day_birthdays_fall_back_to_the_28th_in_common_years() {
        let end =
            fifth_birthday_after(datetime!(2025-03-01 00:00 UTC), &dob("420000229")).expect("end");
        assert_eq!(end, datetime!(2030-02-28 14:59:59 UTC));
    }

    #[test]
    fn unknown_month_and_day_count_from_the_day_of_issue() {
        let end =
            fifth_birthday_after(datetime!(2025-06-10 00:00 UTC), &dob("019500000")).expect("end");
        assert_eq!(end, datetime!(2030-06-10 14:59:59 UTC));
    }

    #[test]
    fn dates_of_birth_get_the_era_they_fall_in() {
        assert_eq!(
            EraDate::from_date(date!(1989 - 01 - 07)).to_string(),
            "319890107"
        );
        assert_eq!(
            EraDate::from_date(date!(1989 - 01 - 08)).to_string(),
            "419890108"
        );
        assert_eq!(
            EraDate::from_date(date!(2019 - 05 - 01)).to_string(),
            "520190501"
        );
        assert_eq!(
            EraDate::from_date(date!(1900 - 01 - 01)).to_string(),
            "119000101"
        );
    }

    #[test]
    fn malformed_dates_of_birth_are_refused() {
        for bad in [
            "",
            "31955021",
            "619550217",
            "319551317",
            "319550230",
            "3195502x7",
        ] {
            assert!(EraDate::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(dob("000000000").to_string(), "000000000");
    }

    #[test]
    fn a_root_lives_to_the_eve_of_its_tenth_anniversary() {
        let end = root_not_after(datetime!(2023-07-16 01:01:04 UTC)).expect("end");
        assert_eq!(end, datetime!(2033-07-15 14:59:59 UTC));
    }
}
