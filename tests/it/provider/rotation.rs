//! Keys rotated on a schedule: the next signing key is published in JWKS ahead of signing and
//! leaves it once its tokens have expired; the code-sealing key gets a new generation and the
//! previous one still opens the codes sealed before. The clock is moved, never waited for.

use std::time::{Duration, Instant};

use mykey_connect::provider::rotation::{self, Rotated, CODE_KEY_LEAD};
use openidconnect::{OAuth2TokenResponse, RefreshToken, TokenResponse};

use super::browser::{log_in, query, Browser};
use super::flow::decode_header;
use super::rp::Rp;
use super::support::{command, web_client, Db, TestProvider};

const DAY: u64 = 86_400;

async fn jwks_kids(tp: &TestProvider) -> Vec<String> {
    let doc: serde_json::Value = reqwest::get(tp.url("/jwks.json"))
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    doc["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

/// The key id in a JWT's header.
fn kid(jwt: &str) -> String {
    decode_header(jwt)["kid"].as_str().expect("kid").to_owned()
}

/// The audit entries of one kind, as `audit export` writes them.
fn audited(tp: &TestProvider, kind: &str) -> Vec<serde_json::Value> {
    let out = command(tp)
        .args(["audit", "export"])
        .output()
        .expect("audit export");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
        .filter(|e| e["kind"] == kind)
        .collect()
}

/// Refreshes; returns the new ID token's key id and the next refresh token.
async fn refreshed(rp: &Rp, token: &RefreshToken) -> (String, RefreshToken) {
    let t = rp.refresh(token).await.expect("refreshed");
    let k = kid(&t.id_token().expect("id token").to_string());
    (k, t.refresh_token().expect("refresh").clone())
}

async fn rotate_due(tp: &TestProvider) -> Vec<Rotated> {
    rotation::run_due(&tp.provider)
        .await
        .expect("rotation pass")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signing_key_is_published_a_lead_ahead_signs_at_its_time_and_leaves_jwks_after_its_tokens(
) {
    let long = "864000";
    let mut tp = TestProvider::start_quiet(
        Db::Sqlite,
        &[
            ("MYKEY_KEY_ROTATION_INTERVAL", "86400"),
            ("MYKEY_KEY_ROTATION_LEAD", "3600"),
            ("MYKEY_REFRESH_TOKEN_TTL", long),
            ("MYKEY_SESSION_TTL", long),
        ],
    )
    .await;
    let (id, secret) = tp.register(web_client("Library", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("青木　三郎");
    let pending = rp.authorize(&[]);
    let back = log_in(&Browser::new(), &tp, &pending.url, &card).await;
    let tokens = rp.exchange(&query(&back)["code"], pending.verifier).await;
    let first = kid(&tokens.id_token().expect("id token").to_string());
    let refresh = tokens.refresh_token().expect("refresh").clone();
    assert_eq!(
        jwks_kids(&tp).await.len(),
        3,
        "one RS256, one PS256 and one ES256 key"
    );
    assert_eq!(rotate_due(&tp).await, [], "nothing is due at start");

    tp.clock.advance(Duration::from_secs(DAY - 3600));
    let rotated = rotate_due(&tp).await;
    assert_eq!(rotated.len(), 3, "{rotated:?}");
    let next = match &rotated[0] {
        Rotated::SigningKey { kid, .. } => kid.clone(),
        other => panic!("{other:?}"),
    };
    let published = jwks_kids(&tp).await;
    assert_eq!(published.len(), 6);
    assert!(published.contains(&next) && published.contains(&first));
    let (signer, refresh) = refreshed(&rp, &refresh).await;
    assert_eq!(signer, first, "the new key is published, not yet signing");
    assert_eq!(rotate_due(&tp).await, [], "the successor is published");

    tp.clock.advance(Duration::from_secs(3600));
    rotation::refresh(&tp.provider, tp.clock.unix()).expect("refresh");
    let (signer, _) = refreshed(&rp, &refresh).await;
    assert_eq!(signer, next, "the new key signs from its activation");
    assert!(
        jwks_kids(&tp).await.contains(&first),
        "the old key stays for its tokens"
    );

    tp.clock.advance(Duration::from_secs(864_000 + 1));
    rotation::refresh(&tp.provider, tp.clock.unix()).expect("refresh");
    let published = jwks_kids(&tp).await;
    assert!(
        !published.contains(&first),
        "every token it signed has expired"
    );
    assert!(published.contains(&next));

    let entries = audited(&tp, "keys.rotated");
    assert_eq!(entries.len(), 3, "{entries:?}");
    for e in &entries {
        assert_eq!(e["actor"], "system");
    }
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_sealed_just_before_the_code_key_rotates_is_redeemed_after_with_the_previous_generation(
) {
    let mut tp = TestProvider::start_quiet(
        Db::Sqlite,
        &[
            ("MYKEY_KEY_ROTATION_INTERVAL", "0"),
            ("MYKEY_REVOCATION_STALE_GRACE", "864000"),
        ],
    )
    .await;
    let (id, secret) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("今井　四郎");

    tp.clock
        .advance(Duration::from_secs(DAY - CODE_KEY_LEAD as u64));
    let rotated = rotate_due(&tp).await;
    let activate_at = match rotated.as_slice() {
        [Rotated::CodeKey {
            generation: 2,
            activate_at,
        }] => *activate_at,
        other => panic!("{other:?}"),
    };
    assert_eq!(activate_at, tp.clock.unix() + CODE_KEY_LEAD);

    // Sealed 30 s before generation 2 seals, redeemed 10 s after.
    tp.clock
        .advance(Duration::from_secs(CODE_KEY_LEAD as u64 - 30));
    let before = rp.authorize(&[]);
    let back = log_in(&Browser::new(), &tp, &before.url, &card).await;
    let old_code = query(&back)["code"].clone();
    tp.clock.advance(Duration::from_secs(40));
    rotation::refresh(&tp.provider, tp.clock.unix()).expect("refresh");
    let after = rp.authorize(&[]);
    let back = log_in(&Browser::new(), &tp, &after.url, &card).await;
    let new_code = query(&back)["code"].clone();
    assert_ne!(
        old_code[..10],
        new_code[..10],
        "each code names its generation"
    );
    let a = rp.exchange(&old_code, before.verifier).await;
    let b = rp.exchange(&new_code, after.verifier).await;
    let (a, b) = (
        rp.verify_id_token(&a, &before.nonce),
        rp.verify_id_token(&b, &after.nonce),
    );
    assert_eq!(a.subject(), b.subject());

    // Once every code generation 1 sealed has expired, it is deleted.
    tp.clock.advance(Duration::from_secs(600));
    assert_eq!(
        rotate_due(&tp).await,
        [Rotated::CodeKeysRetired {
            generations: vec![1]
        }]
    );
    let listed = command(&tp)
        .args(["keys", "list"])
        .output()
        .expect("keys list");
    let listed = String::from_utf8_lossy(&listed.stdout);
    let generations: Vec<&str> = listed
        .lines()
        .skip_while(|l| !l.starts_with("code key generation"))
        .skip(1)
        .collect();
    assert_eq!(generations.len(), 1, "{listed}");
    assert!(generations[0].starts_with("2 "), "{listed}");
    // The command runs on the machine's clock; at the test's time generation 2 seals.
    let views = mykey_connect::admin::keys::code_keys(&tp.provider)
        .await
        .expect("code keys");
    assert_eq!((views.len(), views[0].state), (1, "sealing"));
    let entries = audited(&tp, "code_key.rotated");
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["actor"], "system");
    assert_eq!(entries[0]["data"]["generation"], 2);
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_provider_publishes_the_next_signing_key_when_the_clock_reaches_its_time() {
    let tp =
        TestProvider::start_with(Db::Sqlite, &[("MYKEY_KEY_ROTATION_INTERVAL", "86400")]).await;
    assert_eq!(jwks_kids(&tp).await.len(), 3);
    tp.clock.advance(Duration::from_secs(DAY - 3600));
    // The background leader looks every 5 s.
    let deadline = Instant::now() + Duration::from_secs(30);
    while jwks_kids(&tp).await.len() < 6 {
        assert!(Instant::now() < deadline, "no key was pre-published");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tp.stop().await;
}
