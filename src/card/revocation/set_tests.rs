use time::Duration;

use super::*;
use crate::card::crl::CrlNumber;
use crate::card::jpki::Purpose;
use crate::card::revocation::{InMemoryRevocation, RevocationSource as _};
use crate::card::test_support::{Ca, CrlBuilder, NOW};

fn serials(entries: impl Iterator<Item = RevokedEntry>) -> Vec<String> {
    entries.map(|e| e.serial.to_hex()).collect()
}

#[test]
fn serial_keys_read_hex_and_bytes_alike_and_refuse_more_than_20_octets() {
    let from_hex = SerialKey::from_hex("8F01").expect("hex");
    assert_eq!(Some(from_hex), SerialKey::from_be_bytes(&[0, 0x8F, 0x01]));
    assert_eq!(
        SerialKey::from_hex("f01"),
        SerialKey::from_be_bytes(&[0x0F, 0x01])
    );
    assert_eq!(from_hex.to_hex(), "8f01");
    assert_eq!(from_hex.as_be_bytes(), [0x8F, 0x01]);
    assert_eq!(
        SerialKey::from_hex(&"ab".repeat(20)).map(|k| k.to_hex()),
        Some("ab".repeat(20))
    );
    assert!(SerialKey::from_hex(&format!("00{}", "ab".repeat(20))).is_some());
    assert_eq!(SerialKey::from_hex(&"ab".repeat(21)), None);
    assert_eq!(SerialKey::from_hex("xy"), None);
    assert_eq!(SerialKey::from_hex(""), None);
    assert!(SerialKey::from_be_bytes(&[2]) > SerialKey::from_be_bytes(&[1]));
    assert!(SerialKey::from_be_bytes(&[1, 0]) > SerialKey::from_be_bytes(&[0xFF]));
}

#[test]
fn an_entry_takes_28_bytes() {
    assert_eq!(std::mem::size_of::<Entry>(), 28);
}

fn set(ca: &Ca, number: u64, revoked: &[(u8, u8)]) -> RevocationSet {
    let trust = Ca::trust(&[ca]);
    let mut builder = CrlBuilder::new(ca, number);
    for (serial, reason) in revoked {
        builder = builder.revoke(&[*serial], NOW - Duration::days(1), Some(*reason));
    }
    let der = builder.sign(ca.key);
    RevocationSet::from_crl(&Crl::parse(&der, &trust).expect("CRL")).expect("set")
}

#[test]
fn a_set_answers_good_revoked_and_stale() {
    let ca = Ca::new(Purpose::Auth, true, 0);
    let set = set(&ca, 1, &[(7, 1), (3, 4), (7, 1)]);
    assert_eq!(set.len(), 2, "duplicates collapse");
    assert_eq!(set.status("05", NOW), RevocationStatus::Good);
    assert_eq!(
        set.status("03", NOW),
        RevocationStatus::Revoked {
            reason: RevocationReason::Superseded,
            at: NOW - Duration::days(1)
        }
    );
    let late = NOW + Duration::days(2);
    assert_eq!(
        set.status("05", late),
        RevocationStatus::Stale {
            next_update: NOW + Duration::days(1)
        }
    );
    assert!(matches!(
        set.status("0007", late),
        RevocationStatus::Revoked { .. }
    ));
    assert_eq!(set.status("not hex", NOW), RevocationStatus::Good);
}

#[test]
fn a_set_survives_a_round_trip_through_its_entries() {
    let ca = Ca::new(Purpose::Sign, true, 1);
    let original = set(&ca, 4, &[(9, 3), (1, 6)]);
    let copy = RevocationSet::from_entries(original.info().clone(), original.iter());
    assert_eq!(serials(copy.iter()), ["01", "09"]);
    assert_eq!(
        copy.get(&SerialKey::from_be_bytes(&[9]).expect("key")),
        original.get(&SerialKey::from_be_bytes(&[9]).expect("key"))
    );
    assert_eq!(copy.info(), original.info());
}

#[test]
fn installing_refuses_older_and_equal_crl_numbers_and_keeps_the_loaded_set() {
    let ca = Ca::new(Purpose::Auth, true, 0);
    let store = InMemoryRevocation::new();
    store.install(set(&ca, 5, &[(1, 1)])).expect("first");
    let err = store.install(set(&ca, 4, &[])).expect_err("older");
    assert_eq!(
        err,
        CrlError::RolledBack {
            have: CrlNumber::from_be_bytes(&[5]),
            got: CrlNumber::from_be_bytes(&[4])
        }
    );
    let err = store.install(set(&ca, 5, &[])).expect_err("same");
    assert_eq!(
        err,
        CrlError::NotNewer {
            number: CrlNumber::from_be_bytes(&[5])
        }
    );
    let key_id = crate::card::jpki::key_id(&ca.key.spki);
    assert!(matches!(
        store.status(&key_id, "01", NOW),
        RevocationStatus::Revoked { .. }
    ));
}

#[test]
fn an_update_lists_newly_revoked_and_no_longer_listed_certificates() {
    let ca = Ca::new(Purpose::Auth, true, 0);
    let store = InMemoryRevocation::new();
    let first = store
        .install(set(&ca, 1, &[(2, 6), (4, 1)]))
        .expect("first");
    assert_eq!(serials(first.newly_revoked()), ["02", "04"]);
    assert_eq!(serials(first.no_longer_listed()), Vec::<String>::new());
    let second = store
        .install(set(&ca, 2, &[(1, 1), (4, 1), (9, 3)]))
        .expect("second");
    assert_eq!(serials(second.newly_revoked()), ["01", "09"]);
    assert_eq!(serials(second.no_longer_listed()), ["02"]);
}

#[test]
fn roots_without_a_crl_have_no_data() {
    let store = InMemoryRevocation::new();
    assert_eq!(store.status("feed", "01", NOW), RevocationStatus::NoData);
    assert!(store.set("feed").is_none());
}
