use super::*;
use crate::card::jpki;
use crate::card::test_support::{Ca, Leaf};

fn pem_to_der(pem: &[u8]) -> Vec<u8> {
    let mut iter = Pem::iter_from_buffer(pem);
    let first = iter.next().expect("one PEM block").expect("valid PEM");
    assert!(iter.next().is_none(), "one certificate per file");
    first.contents
}

fn fingerprint(der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn every_shipped_root_matches_the_fingerprint_listed_in_the_roots_readme() {
    let readme = include_str!("../../../roots/README.md");
    let rows: Vec<(&str, &str)> = readme
        .lines()
        .filter(|l| l.starts_with("| auth/") || l.starts_with("| sign/"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1], cells[4])
        })
        .collect();
    assert_eq!(rows.len(), JLIS_ROOTS.len());
    for (purpose, name, pem) in JLIS_ROOTS {
        let listed = rows
            .iter()
            .find(|(file, _)| *file == format!("{purpose}/{name}"))
            .unwrap_or_else(|| panic!("{name} is listed in roots/README.md"));
        assert_eq!(fingerprint(&pem_to_der(pem)), listed.1, "{name}");
    }
}

#[test]
fn the_production_store_holds_two_generations_per_purpose_none_of_them_test_roots() {
    let store = TrustStore::jlis().expect("embedded roots parse");
    assert_eq!(store.roots().len(), 4);
    for purpose in [Purpose::Auth, Purpose::Sign] {
        let roots: Vec<&Root> = store
            .roots()
            .iter()
            .filter(|r| r.purpose() == purpose)
            .collect();
        assert_eq!(roots.len(), 2);
        // Same DN, different keys: only the key tells the generations apart.
        assert_eq!(roots[0].subject(), roots[1].subject());
        assert_ne!(roots[0].key_id(), roots[1].key_id());
    }
    assert!(store.roots().iter().all(|r| !r.is_test()));
    let root = &store.roots()[0];
    assert_eq!(root.key_id(), jpki::key_id(root.spki_der()));
    assert_eq!(
        store.root(root.key_id()).map(Root::key_id),
        Some(root.key_id())
    );
}

#[test]
fn a_folder_per_purpose_loads_pem_and_der_files_and_ignores_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let auth = Ca::new(Purpose::Auth, true, 0);
    let sign = Ca::new(Purpose::Sign, true, 1);
    std::fs::create_dir(dir.path().join("auth")).expect("auth");
    std::fs::create_dir(dir.path().join("sign")).expect("sign");
    std::fs::write(dir.path().join("auth/root.der"), &auth.cert_der).expect("write");
    std::fs::write(dir.path().join("auth/README.md"), "not a certificate").expect("write");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/roots/sign/sign_ca_2023.pem"),
        dir.path().join("sign/jlis.pem"),
    )
    .expect("copy");
    std::fs::write(dir.path().join("sign/test.cer"), &sign.cert_der).expect("write");

    let store = TrustStore::load_dir(dir.path()).expect("load");
    let purposes: Vec<(Purpose, bool)> = store
        .roots()
        .iter()
        .map(|r| (r.purpose(), r.is_test()))
        .collect();
    assert_eq!(
        purposes,
        [
            (Purpose::Auth, true),
            (Purpose::Sign, false),
            (Purpose::Sign, true)
        ]
    );
}

#[test]
fn a_root_dropped_into_the_other_purposes_folder_is_refused() {
    let auth = Ca::new(Purpose::Auth, true, 0);
    let err = TrustStore::new()
        .add_der(Purpose::Sign, &auth.cert_der, "auth.der")
        .expect_err("auth root as sign root");
    assert!(matches!(
        err,
        TrustError::WrongPurpose {
            named: Purpose::Auth,
            given: Purpose::Sign,
            ..
        }
    ));
}

#[test]
fn a_card_certificate_or_garbage_is_not_accepted_as_a_root() {
    let ca = Ca::new(Purpose::Auth, true, 0);
    let leaf = Leaf::new(&ca).issue(&ca);
    let mut store = TrustStore::new();
    assert!(matches!(
        store.add_der(Purpose::Auth, &leaf, "leaf"),
        Err(TrustError::UnsuitableRoot { .. })
    ));
    assert!(matches!(
        store.add_pem(
            Purpose::Auth,
            b"-----BEGIN CERTIFICATE-----\nAAAA\n",
            "bad.pem"
        ),
        Err(TrustError::NotACertificate { .. })
    ));
    assert!(matches!(
        store.add_der(Purpose::Auth, &ca.cert_der[..100], "short"),
        Err(TrustError::NotACertificate { .. })
    ));
    assert!(store.roots().is_empty());
}

#[test]
fn adding_a_root_twice_keeps_one_copy() {
    let ca = Ca::new(Purpose::Sign, true, 1);
    let mut store = TrustStore::new();
    store
        .add_der(Purpose::Sign, &ca.cert_der, "a")
        .expect("first");
    store
        .add_der(Purpose::Sign, &ca.cert_der, "b")
        .expect("again");
    assert_eq!(store.roots().len(), 1);
}
