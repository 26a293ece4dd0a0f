//! Fuzzes CRL parsing: the checked parse of a whole CRL against the shipped roots, and the
//! entry walker that normally only runs after the CRL signature verified.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mykey_connect::card::crl::Crl;
use mykey_connect::card::trust::TrustStore;

fn trust() -> &'static TrustStore {
    static TRUST: OnceLock<TrustStore> = OnceLock::new();
    TRUST.get_or_init(|| TrustStore::jlis().expect("shipped roots"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(crl) = Crl::parse(data, trust()) {
        // Unreachable without a J-LIS signature; kept so a seed signed by a trusted root
        // would walk its entries too.
        for entry in crl.entries() {
            if entry.is_err() {
                break;
            }
        }
    }
    let _ = mykey_connect::card::fuzzing::crl_entries(data);
});
