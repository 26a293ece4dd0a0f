//! Card verification throughput and the cost of loading a 1,000,000-entry CRL.
//!
//! `cargo bench --bench verify`. Figures and the machine they were taken on: BENCHMARKS.md,
//! "Card verification". Peak memory of the CRL load: `cargo run --release --example
//! crl_memory`.
//!
//! Verification is measured twice: in wall time, and in this thread's CPU time
//! (CLOCK_THREAD_CPUTIME_ID), which other processes sharing the cores do not inflate.

use std::hint::black_box;

use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::{
    ParsedPublicKey, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BatchSize, Criterion, Throughput};
use mykey_connect::card::jpki::Purpose;
use mykey_connect::card::message::signed_message;
use mykey_connect::card::protocol::ChallengePurpose;
use mykey_connect::card::revocation::InMemoryRevocation;
use mykey_connect::card::trust::TrustStore;
use mykey_connect::card::verify::{verify_card_signature, VerifyPolicy};
use mykey_connect::testkit::{CardFile, CardOptions, TestCa};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer as _, X509Certificate};

const ISSUED_AT: OffsetDateTime = datetime!(2025-11-25 10:00 UTC);
const NOW: OffsetDateTime = datetime!(2025-11-25 11:00 UTC);
const ENTRIES: usize = 1_000_000;

struct Setup {
    trust: TrustStore,
    revocation: InMemoryRevocation,
    card: CardFile,
    certificate: Vec<u8>,
    message: Vec<u8>,
    signature: Vec<u8>,
    crl: Vec<u8>,
}

fn setup() -> Setup {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let card = ca
        .issue_card(&CardOptions::example(), ISSUED_AT)
        .expect("card");
    let mut trust = TrustStore::new();
    for purpose in [Purpose::Auth, Purpose::Sign] {
        trust
            .add_der(purpose, ca.root_der(purpose), "test CA")
            .expect("root");
    }
    let crl = ca
        .crl_padded(
            Purpose::Auth,
            ISSUED_AT,
            ISSUED_AT + Duration::days(1),
            ENTRIES,
        )
        .expect("1M-entry CRL");
    let revocation = InMemoryRevocation::new();
    revocation.load_crl(&trust, &crl).expect("load");
    let message = signed_message(
        "https://id.example.jp",
        "Zk9x2mS1c0lQhKq7Yt3wRA",
        "mZ1yq3GQk3Jm0wq5sX1d3e0b8xB4vY2kT6cJ9rP1nHw",
        ChallengePurpose::Login,
        1_764_070_000,
    );
    let pkcs8 = card.auth.private_key_der().expect("key");
    let key = KeyPair::from_pkcs8(&pkcs8).expect("RSA key");
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        &message,
        &mut signature,
    )
    .expect("sign");
    let certificate = card.auth.certificate_der().expect("certificate");
    Setup {
        trust,
        revocation,
        card,
        certificate,
        message,
        signature,
        crl,
    }
}

/// This thread's CPU time in nanoseconds (POSIX CLOCK_THREAD_CPUTIME_ID).
struct OnCpu;

fn on_cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

impl Measurement for OnCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        on_cpu_ns()
    }
    fn end(&self, started: u64) -> u64 {
        on_cpu_ns() - started
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Nanoseconds either way, so wall time's formatter prints them right.
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

fn verification<M: Measurement>(c: &mut Criterion<M>, s: &Setup, clock: &str) {
    let policy = VerifyPolicy {
        allow_test_cards: true,
        ..VerifyPolicy::PRODUCTION
    };
    let mut group = c.benchmark_group(format!("card_verification ({clock})"));
    group.throughput(Throughput::Elements(1));
    group.bench_function(
        "verify_card_signature (auth, 1M-entry revocation set)",
        |b| {
            b.iter(|| {
                verify_card_signature(
                    &s.trust,
                    &s.revocation,
                    &policy,
                    Purpose::Auth,
                    black_box(&s.certificate),
                    black_box(&s.message),
                    black_box(&s.signature),
                    NOW,
                )
                .expect("verifies")
            })
        },
    );

    // The floor: the two RSA-2048 verifications every login needs (root over the
    // certificate, card key over the message), keys already parsed, nothing else.
    let (_, cert) = X509Certificate::from_der(&s.certificate).expect("certificate");
    let root_der = s.card.auth.ca_certificate_der().expect("root");
    let (_, root) = X509Certificate::from_der(&root_der).expect("root");
    let root_key =
        ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, root.public_key().raw).expect("key");
    let card_key =
        ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, cert.public_key().raw).expect("key");
    let tbs = cert.tbs_certificate.as_ref();
    let cert_signature = &cert.signature_value.data;
    group.bench_function("two bare RSA-2048 verifications (pre-parsed keys)", |b| {
        b.iter(|| {
            root_key
                .verify_sig(black_box(tbs), black_box(cert_signature))
                .expect("root");
            card_key
                .verify_sig(black_box(&s.message), black_box(&s.signature))
                .expect("card");
        })
    });
    // As above with the card key parsed each time, as it must be for an unseen certificate.
    let card_spki = cert.public_key().raw;
    group.bench_function("two bare RSA-2048 verifications (card key parsed)", |b| {
        b.iter(|| {
            root_key
                .verify_sig(black_box(tbs), black_box(cert_signature))
                .expect("root");
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, black_box(card_spki))
                .verify(&s.message, &s.signature)
                .expect("card");
        })
    });
    group.finish();
}

fn crl_load(c: &mut Criterion, s: &Setup) {
    let mut group = c.benchmark_group("crl_load");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ENTRIES as u64));
    group.bench_function("1M-entry CRL: check, read, sort, install", |b| {
        b.iter_batched(
            InMemoryRevocation::new,
            |store| {
                let update = store.load_crl(&s.trust, black_box(&s.crl)).expect("load");
                assert_eq!(update.current.len(), ENTRIES);
                store
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn main() {
    let setup = setup();
    let mut wall = Criterion::default().configure_from_args();
    verification(&mut wall, &setup, "wall time");
    crl_load(&mut wall, &setup);
    let mut cpu = Criterion::default()
        .with_measurement(OnCpu)
        .configure_from_args();
    verification(&mut cpu, &setup, "on-CPU time");
    wall.final_summary();
}
