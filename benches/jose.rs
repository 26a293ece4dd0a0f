//! JOSE throughput: ID-token signing with a parsed, reused key, and verification.
//!
//! Run: `cargo bench --bench jose`. Each benchmark is one token, so criterion's
//! "thrpt" line is tokens per second on one core.

use aws_lc_rs::rand::SystemRandom;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mykey_connect::jose::{self, at_hash, Alg, Kek, SigningKey};
use serde::Serialize;

/// The claims of a typical ID token from the code flow (OIDC Core §2 plus `sid`).
#[derive(Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    nonce: &'a str,
    at_hash: String,
    sid: &'a str,
    acr: &'a str,
    amr: [&'a str; 2],
}

fn claims(alg: Alg) -> IdTokenClaims<'static> {
    IdTokenClaims {
        iss: "https://id.example.jp",
        sub: "Xq3vJm0d7nC0pQ4a9yQy3bB6lJ8s5cE1k2W7uT0rZs8",
        aud: "library-client",
        exp: 1_764_070_300,
        iat: 1_764_070_000,
        auth_time: 1_764_069_990,
        nonce: "n-0S6_WzA2Mj-4f9c1e",
        at_hash: at_hash(alg, "SlAV32hkKG8b1c0e8f2d4a6b9c3e5f7a1b2c4d6e8f0a"),
        sid: "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
        acr: "urn:mykey:jpki:user-auth",
        amr: ["hwk", "pin"],
    }
}

fn key(alg: Alg) -> SigningKey {
    let der = SigningKey::generate(alg).expect("key generation");
    SigningKey::from_pkcs8(alg, der.as_bytes()).expect("key parses")
}

fn signing(c: &mut Criterion) {
    let mut group = c.benchmark_group("jose");
    group.throughput(Throughput::Elements(1));
    for (name, alg) in [
        ("rs256_sign_id_token", Alg::RS256),
        ("es256_sign_id_token", Alg::ES256),
    ] {
        let key = key(alg);
        let claims = claims(alg);
        group.bench_function(name, |b| {
            b.iter(|| jose::sign(&key, Some("JWT"), &claims).expect("signs"))
        });
    }
    // Baseline: the bare aws-lc-rs RSA-2048 signature over an input of the same size, so the
    // JOSE overhead (JSON, base64url, header) reads as the gap to rs256_sign_id_token.
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("RSA");
    let token = jose::sign(&key(Alg::RS256), Some("JWT"), &claims(Alg::RS256)).expect("signs");
    let input = token
        .rsplit_once('.')
        .expect("three parts")
        .0
        .as_bytes()
        .to_vec();
    let rng = SystemRandom::new();
    group.bench_function("rsa2048_bare_sign_baseline", |b| {
        b.iter(|| {
            let mut signature = vec![0; pair.public_modulus_len()];
            pair.sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &rng,
                &input,
                &mut signature,
            )
            .expect("signs");
            signature
        })
    });
    for (name, alg) in [
        ("rs256_verify_id_token", Alg::RS256),
        ("es256_verify_id_token", Alg::ES256),
    ] {
        let key = key(alg);
        let token = jose::sign(&key, Some("JWT"), &claims(alg)).expect("signs");
        let keys = [key.verifying_key().expect("public key")];
        group.bench_function(name, |b| {
            b.iter(|| jose::verify(&token, &keys, &[alg]).expect("verifies"))
        });
    }
    group.finish();
}

fn sealing(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let (kek, _) = Kek::generate(&rng).expect("KEK");
    let der = SigningKey::generate_rs256().expect("key generation");
    let sealed = kek.seal("kid", der.as_bytes(), &rng).expect("seals");
    let mut group = c.benchmark_group("jose");
    group.throughput(Throughput::Elements(1));
    group.bench_function("open_sealed_rsa_key_and_parse", |b| {
        b.iter(|| {
            let opened = kek.open("kid", &sealed).expect("opens");
            SigningKey::from_pkcs8(Alg::RS256, opened.as_bytes()).expect("parses")
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(4));
    targets = signing, sealing
}
criterion_main!(benches);
