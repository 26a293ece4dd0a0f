//! The cRLNumber (RFC 5280 §5.2.3): a non-negative integer that grows with every CRL.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use num_bigint::BigUint;

/// A cRLNumber, kept as its big-endian magnitude so that any size compares correctly.
/// Displays (and parses) as decimal, the way operators read it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CrlNumber(Vec<u8>);

/// The text is not a decimal integer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a CRL number is a non-negative decimal integer")]
pub struct CrlNumberError;

impl CrlNumber {
    /// From unsigned big-endian bytes (leading zeros allowed).
    pub fn from_be_bytes(bytes: &[u8]) -> CrlNumber {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        CrlNumber(bytes[start..].to_vec())
    }

    /// Unsigned big-endian bytes without leading zeros (empty for zero).
    pub fn as_be_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lowercase hex of the magnitude, `00` for zero.
    pub fn to_hex(&self) -> String {
        super::super::jpki::serial_hex(&self.0)
    }
}

impl Ord for CrlNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        // Without leading zeros, a longer magnitude is a larger number.
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for CrlNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for CrlNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&BigUint::from_bytes_be(&self.0), f)
    }
}

impl fmt::Debug for CrlNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CrlNumber({self})")
    }
}

impl FromStr for CrlNumber {
    type Err = CrlNumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CrlNumberError);
        }
        let value = BigUint::parse_bytes(s.as_bytes(), 10).ok_or(CrlNumberError)?;
        Ok(CrlNumber::from_be_bytes(&value.to_bytes_be()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value_whatever_their_encoding() {
        let small = CrlNumber::from_be_bytes(&[0x00, 0xFF]);
        let large = CrlNumber::from_be_bytes(&[0x01, 0x00]);
        assert!(small < large);
        assert_eq!(small, CrlNumber::from_be_bytes(&[0xFF]));
        assert!(CrlNumber::from_be_bytes(&[]) < CrlNumber::from_be_bytes(&[1]));
    }

    #[test]
    fn numbers_read_and_print_as_decimal() {
        let n: CrlNumber = "123456789012345678901234567890".parse().expect("decimal");
        assert_eq!(n.to_string(), "123456789012345678901234567890");
        assert_eq!(CrlNumber::from_be_bytes(&[1, 0]).to_string(), "256");
        assert_eq!(CrlNumber::from_be_bytes(&[]).to_string(), "0");
        assert_eq!(CrlNumber::from_be_bytes(&[1, 0]).to_hex(), "0100");
        assert!("-1".parse::<CrlNumber>().is_err());
        assert!("".parse::<CrlNumber>().is_err());
        assert!("12a".parse::<CrlNumber>().is_err());
    }
}
