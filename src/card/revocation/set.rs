//! A compact revoked-serial set per root: sorted fixed-size keys, binary search, diffs.

use std::fmt;

use time::OffsetDateTime;

use crate::card::certificate::MAX_SERIAL_OCTETS;
use crate::card::crl::{Crl, CrlError, CrlInfo};
use crate::card::jpki::RevocationReason;

use super::RevocationStatus;

/// A certificate serial as a fixed-size key: the unsigned value right-aligned in 20 bytes
/// (RFC 5280 §4.1.2.2 caps serials at 20 octets), so byte order is numeric order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SerialKey([u8; MAX_SERIAL_OCTETS]);

impl SerialKey {
    /// From unsigned big-endian bytes; `None` when the value needs more than 20 octets.
    pub fn from_be_bytes(bytes: &[u8]) -> Option<SerialKey> {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        let bytes = &bytes[start..];
        let mut key = [0u8; MAX_SERIAL_OCTETS];
        let offset = MAX_SERIAL_OCTETS.checked_sub(bytes.len())?;
        key[offset..].copy_from_slice(bytes);
        Some(SerialKey(key))
    }

    /// From [`crate::card::jpki::serial_hex`] text (any case, odd length allowed).
    pub fn from_hex(text: &str) -> Option<SerialKey> {
        let digits = text.as_bytes();
        if digits.is_empty() || digits.len() > 2 * MAX_SERIAL_OCTETS + 2 {
            return None;
        }
        let mut bytes = [0u8; MAX_SERIAL_OCTETS + 1];
        let mut pos = bytes.len();
        for pair in digits.rchunks(2) {
            pos -= 1;
            bytes[pos] = pair.iter().try_fold(0u8, |acc, d| {
                Some(acc << 4 | (*d as char).to_digit(16)? as u8)
            })?;
        }
        SerialKey::from_be_bytes(&bytes[pos..])
    }

    /// The unsigned big-endian value without leading zeros.
    pub fn as_be_bytes(&self) -> &[u8] {
        let start = self.0.iter().position(|b| *b != 0).unwrap_or(self.0.len());
        &self.0[start..]
    }

    /// [`crate::card::jpki::serial_hex`] text.
    pub fn to_hex(&self) -> String {
        crate::card::jpki::serial_hex(&self.0)
    }
}

impl fmt::Display for SerialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for SerialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SerialKey({self})")
    }
}

/// One revoked certificate of a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokedEntry {
    pub serial: SerialKey,
    pub reason: RevocationReason,
    pub at: OffsetDateTime,
}

/// 28 bytes: the key, the revocation time as u32 Unix seconds (enough until 2106; earlier
/// or later times are clamped) and the reason code.
#[derive(Clone, Copy)]
struct Entry {
    serial: SerialKey,
    at: u32,
    reason: u8,
}

impl Entry {
    fn revoked(&self) -> RevokedEntry {
        RevokedEntry {
            serial: self.serial,
            reason: RevocationReason::from_code(self.reason)
                .unwrap_or(RevocationReason::Unspecified),
            at: OffsetDateTime::from_unix_timestamp(i64::from(self.at))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        }
    }
}

/// The revoked certificates of one root, as of one CRL.
pub struct RevocationSet {
    info: CrlInfo,
    entries: Vec<Entry>,
}

impl fmt::Debug for RevocationSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationSet")
            .field("info", &self.info)
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl RevocationSet {
    /// Reads every entry of a checked CRL. Fails on the first malformed entry.
    pub fn from_crl(crl: &Crl<'_>) -> Result<RevocationSet, CrlError> {
        let mut set = RevocationSet {
            info: crl.info().clone(),
            entries: Vec::with_capacity(crl.info().entry_count),
        };
        for (index, entry) in crl.entries().enumerate() {
            let entry = entry?;
            let serial =
                SerialKey::from_be_bytes(entry.serial).ok_or(CrlError::SerialTooLong { index })?;
            set.entries.push(Entry {
                serial,
                at: clamp_unix(entry.revoked_at),
                reason: entry.reason.code(),
            });
        }
        set.seal();
        Ok(set)
    }

    /// A set from stored entries (e.g. the provider's database) and the CRL they came from.
    pub fn from_entries(
        info: CrlInfo,
        entries: impl IntoIterator<Item = RevokedEntry>,
    ) -> RevocationSet {
        let mut set = RevocationSet {
            info,
            entries: entries
                .into_iter()
                .map(|e| Entry {
                    serial: e.serial,
                    at: clamp_unix(e.at),
                    reason: e.reason.code(),
                })
                .collect(),
        };
        set.seal();
        set
    }

    fn seal(&mut self) {
        // A serial listed twice keeps one entry; which one is unspecified.
        self.entries.sort_unstable_by_key(|e| e.serial);
        self.entries.dedup_by_key(|e| e.serial);
        self.entries.shrink_to_fit();
        self.info.entry_count = self.entries.len();
    }

    pub fn info(&self) -> &CrlInfo {
        &self.info
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes the entries take (for capacity planning; ~28 per entry).
    pub fn memory_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
    }

    pub fn get(&self, serial: &SerialKey) -> Option<RevokedEntry> {
        self.entries
            .binary_search_by(|e| e.serial.cmp(serial))
            .ok()
            .map(|i| self.entries[i].revoked())
    }

    /// The status of `serial` (hex) at `now`. A listed serial is revoked even when the data
    /// is stale: staleness only withholds a "good" answer.
    pub fn status(&self, serial: &str, now: OffsetDateTime) -> RevocationStatus {
        // A serial over 20 octets cannot be in any set we load; such certificates are refused
        // before revocation is consulted.
        if let Some(entry) = SerialKey::from_hex(serial).and_then(|key| self.get(&key)) {
            return RevocationStatus::Revoked {
                reason: entry.reason,
                at: entry.at,
            };
        }
        if now > self.info.next_update {
            RevocationStatus::Stale {
                next_update: self.info.next_update,
            }
        } else {
            RevocationStatus::Good
        }
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = RevokedEntry> + '_ {
        self.entries.iter().map(Entry::revoked)
    }

    /// Refuses a successor CRL whose cRLNumber does not grow (RFC 5280 §5.2.3).
    pub fn check_successor(&self, next: &RevocationSet) -> Result<(), CrlError> {
        let (have, got) = (&self.info.crl_number, &next.info.crl_number);
        match got.cmp(have) {
            std::cmp::Ordering::Greater => Ok(()),
            std::cmp::Ordering::Equal => Err(CrlError::NotNewer {
                number: got.clone(),
            }),
            std::cmp::Ordering::Less => Err(CrlError::RolledBack {
                have: have.clone(),
                got: got.clone(),
            }),
        }
    }

    /// Entries of `self` whose serial `other` does not list, in serial order: with `self` the
    /// new set, the newly revoked certificates; with `self` the old one, those no longer
    /// listed (a released hold, or an expired certificate the CA dropped).
    pub fn not_in<'s>(
        &'s self,
        other: &'s RevocationSet,
    ) -> impl Iterator<Item = RevokedEntry> + 's {
        let mut theirs = other.entries.iter().map(|e| e.serial).peekable();
        self.entries.iter().filter_map(move |mine| {
            while theirs.next_if(|s| *s < mine.serial).is_some() {}
            match theirs.peek() {
                Some(s) if *s == mine.serial => None,
                _ => Some(mine.revoked()),
            }
        })
    }
}

fn clamp_unix(at: OffsetDateTime) -> u32 {
    u32::try_from(at.unix_timestamp().max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
#[path = "set_tests.rs"]
mod tests;
