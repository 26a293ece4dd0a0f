//! A small, bounds-checked DER reader for the structures we walk ourselves (CRLs, otherNames).
//!
//! Only what X.690 DER allows: single-byte tags, definite lengths in minimal form. It never
//! recurses: callers descend one level at a time with [`Reader::new`] over a value, so the
//! depth of untrusted input cannot grow the stack.

use time::{Date, Month, OffsetDateTime, Time};

pub(crate) const TAG_BOOLEAN: u8 = 0x01;
pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_NULL: u8 = 0x05;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_ENUMERATED: u8 = 0x0A;
pub(crate) const TAG_UTF8_STRING: u8 = 0x0C;
pub(crate) const TAG_UTC_TIME: u8 = 0x17;
pub(crate) const TAG_GENERALIZED_TIME: u8 = 0x18;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;
/// `[0]` constructed, context-specific (EXPLICIT tagging).
pub(crate) const TAG_CONTEXT_0: u8 = 0xA0;

/// Where and why the input stopped being DER; static text so that errors never echo input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed DER at byte {offset}: {what}")]
pub struct DerError {
    pub offset: usize,
    pub what: &'static str,
}

/// One tag-length-value element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    /// The contents octets.
    pub value: &'a [u8],
    /// The whole element, header included (what a signature covers).
    pub raw: &'a [u8],
    /// Offset of `value` within the outermost input, for error messages.
    pub value_offset: usize,
}

impl<'a> Tlv<'a> {
    /// A reader over this element's contents, one level down.
    pub fn reader(&self) -> Reader<'a> {
        Reader {
            data: self.value,
            pos: 0,
            base: self.value_offset,
        }
    }
}

/// A cursor over a run of DER elements.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset of `data` within the outermost input, so errors point at the right byte.
    base: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader {
            data,
            pos: 0,
            base: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn error(&self, what: &'static str) -> DerError {
        DerError {
            offset: self.base + self.pos,
            what,
        }
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Reads the next element of any tag.
    pub fn read(&mut self) -> Result<Tlv<'a>, DerError> {
        let start = self.pos;
        let rest = &self.data[start..];
        let (&tag, after_tag) = rest.split_first().ok_or(self.error("unexpected end"))?;
        if tag & 0x1F == 0x1F {
            return Err(self.error("multi-byte tags are not used here"));
        }
        let (&first, after_first) = after_tag
            .split_first()
            .ok_or(self.error("missing length"))?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7F);
            if n == 0 {
                return Err(self.error("indefinite length is not DER"));
            }
            if n > 4 {
                return Err(self.error("length too large"));
            }
            let bytes = after_first.get(..n).ok_or(self.error("truncated length"))?;
            if bytes[0] == 0 {
                return Err(self.error("length not minimally encoded"));
            }
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            if len < 0x80 {
                return Err(self.error("length not minimally encoded"));
            }
            (len, 2 + n)
        };
        let end = header
            .checked_add(len)
            .filter(|end| *end <= rest.len())
            .ok_or(self.error("value runs past the end of its container"))?;
        self.pos = start + end;
        Ok(Tlv {
            tag,
            value: &rest[header..end],
            raw: &rest[..end],
            value_offset: self.base + start + header,
        })
    }

    /// Reads the next element, which must carry `tag`.
    pub fn expect(&mut self, tag: u8, what: &'static str) -> Result<Tlv<'a>, DerError> {
        if self.peek_tag() != Some(tag) {
            return Err(self.error(what));
        }
        self.read()
    }

    /// Reads the next element only if it carries `tag` (an OPTIONAL or DEFAULT field).
    pub fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, DerError> {
        if self.peek_tag() == Some(tag) {
            self.read().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails unless every byte has been read.
    pub fn finish(&self, what: &'static str) -> Result<(), DerError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }
}

/// The contents of an INTEGER that must be non-negative, as unsigned big-endian bytes
/// without leading zeros (empty for zero).
pub(crate) fn unsigned_integer<'a>(tlv: &Tlv<'a>) -> Option<&'a [u8]> {
    let bytes = tlv.value;
    let (&first, _) = bytes.split_first()?;
    if first & 0x80 != 0 {
        return None;
    }
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    Some(&bytes[start..])
}

/// The value of a small non-negative INTEGER or ENUMERATED.
pub(crate) fn small_unsigned(tlv: &Tlv<'_>) -> Option<u32> {
    let magnitude = unsigned_integer(tlv)?;
    if magnitude.len() > 4 {
        return None;
    }
    Some(
        magnitude
            .iter()
            .fold(0u32, |acc, b| (acc << 8) | u32::from(*b)),
    )
}

/// Parses a UTCTime or GeneralizedTime in the RFC 5280 §4.1.2.5 profile: UTC (`Z`), seconds
/// present, no fractions.
pub(crate) fn time(tlv: &Tlv<'_>) -> Option<OffsetDateTime> {
    let v = tlv.value;
    let (year, rest) = match tlv.tag {
        TAG_UTC_TIME if v.len() == 13 => {
            // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, else 20YY.
            let yy = i32::from(two_digits(&v[0..2])?);
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &v[2..])
        }
        TAG_GENERALIZED_TIME if v.len() == 15 => {
            let hi = i32::from(two_digits(&v[0..2])?);
            let lo = i32::from(two_digits(&v[2..4])?);
            (hi * 100 + lo, &v[4..])
        }
        _ => return None,
    };
    if rest[10] != b'Z' {
        return None;
    }
    let month = Month::try_from(two_digits(&rest[0..2])?).ok()?;
    let date = Date::from_calendar_date(year, month, two_digits(&rest[2..4])?).ok()?;
    let time = Time::from_hms(
        two_digits(&rest[4..6])?,
        two_digits(&rest[6..8])?,
        two_digits(&rest[8..10])?,
    )
    .ok()?;
    Some(date.with_time(time).assume_utc())
}

fn two_digits(b: &[u8]) -> Option<u8> {
    match b {
        [h @ b'0'..=b'9', l @ b'0'..=b'9'] => Some((h - b'0') * 10 + (l - b'0')),
        _ => None,
    }
}

#[cfg(test)]
#[path = "der_tests.rs"]
mod tests;
