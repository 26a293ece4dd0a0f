//! Fuzzes card certificate verification: the full provider check on arbitrary bytes, and the
//! field and fact readers that normally sit behind the chain signature.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mykey_connect::card::facts::BasicFacts;
use mykey_connect::card::jpki::Purpose;
use mykey_connect::card::revocation::InMemoryRevocation;
use mykey_connect::card::trust::TrustStore;
use mykey_connect::card::verify::{check_card_signature, VerifyPolicy};
use time::macros::datetime;

fn trust() -> &'static TrustStore {
    static TRUST: OnceLock<TrustStore> = OnceLock::new();
    TRUST.get_or_init(|| TrustStore::jlis().expect("shipped roots"))
}

fuzz_target!(|data: &[u8]| {
    let revocation = InMemoryRevocation::new();
    let policy = VerifyPolicy {
        allow_test_cards: true,
        allow_missing_revocation_data: true,
        ..VerifyPolicy::PRODUCTION
    };
    let now = datetime!(2026-01-01 00:00 UTC);
    for purpose in [Purpose::Auth, Purpose::Sign] {
        if let Err(reason) =
            check_card_signature(trust(), &revocation, &policy, purpose, data, b"m", &[0; 256], now)
        {
            let _ = reason.code();
            let _ = reason.to_string();
        }
    }
    let _ = BasicFacts::from_certificate_der(data);
    mykey_connect::card::fuzzing::certificate_fields(data);
});
