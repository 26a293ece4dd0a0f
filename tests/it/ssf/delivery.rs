//! CAEP events reach receivers: pushed within moments of a CRL import with the receiver's
//! pairwise subject, polled and acknowledged, refused for good on a 400, and never lost to a
//! provider killed with SIGKILL in the middle of a push.

use std::time::{Duration, Instant};

use mykey_connect::card::jpki::{Purpose, RevocationReason};
use reqwest::Method;
use serde_json::json;

use super::support::{
    outbox_row, ssf_site, validate_set, PushEndpoint, CREDENTIAL_CHANGE, DOWN, POLL, PUSH, REFUSE,
    SESSION_REVOKED, STALL, UP,
};
use crate::provider::browser::Browser;
use crate::provider::support::{free_port, spawn_serve, Db, TestProvider};
use crate::revocation::termination::revoke_and_import;

async fn crl_import_pushes_session_revoked(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let a = ssf_site(&tp, "Bank A", "127.0.0.1:9").await;
    let b = ssf_site(&tp, "Shop B", "localhost:9").await;
    let (ea, eb) = (PushEndpoint::start(), PushEndpoint::start());
    a.rx.create_stream(
        json!({ "method": PUSH, "endpoint_url": ea.url, "authorization_header": "Bearer for-a" }),
        &[SESSION_REVOKED],
    )
    .await;
    // B asked only for credential changes: it hears nothing of a session.
    b.rx.create_stream(
        json!({ "method": PUSH, "endpoint_url": eb.url }),
        &[CREDENTIAL_CHANGE],
    )
    .await;
    let card = tp.issue_card("木村　九郎");
    let browser = Browser::new();
    let sub_a = a.log_in(&tp, &browser, &card).await;
    b.log_in(&tp, &browser, &card).await;

    let started = Instant::now();
    let report = revoke_and_import(&mut tp, &card, RevocationReason::KeyCompromise).await;
    assert_eq!(report.terminated, 1);
    let pushes = ea.wait_for(1, Duration::from_secs(2)).await;
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    eprintln!("session-revoked pushed {elapsed:?} after the CRL import began");

    assert_eq!(pushes[0].authorization.as_deref(), Some("Bearer for-a"));
    let client_id = a.rx.client_id.clone();
    let stored = tp
        .provider
        .db
        .read(move |c| mykey_connect::store::ssf::of_client(c, &client_id))
        .await
        .expect("db")
        .expect("stream");
    assert!(
        stored
            .authorization_header
            .is_some_and(|h| h.starts_with("v1.") && !h.contains("for-a")),
        "the receiver's credential is stored sealed"
    );
    let claims = validate_set(&tp.issuer, &a.rx.client_id, &pushes[0].set).await;
    assert_eq!(
        claims["sub_id"],
        json!({ "format": "iss_sub", "iss": tp.issuer, "sub": sub_a })
    );
    let event = &claims["events"][SESSION_REVOKED];
    assert_eq!(event["initiating_entity"], "policy");
    assert!(event["event_timestamp"].as_i64().is_some());
    // The logout token still goes to the back-channel endpoint as before.
    a.site.receiver.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(eb.attempts(), 0, "B did not ask for session-revoked");
    tp.stop().await;
}

on_both_databases!(
    a_crl_import_pushes_session_revoked_with_the_receivers_pairwise_sub_within_two_seconds,
    crl_import_pushes_session_revoked
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_refused_with_400_is_dead_lettered_with_the_reason_and_a_503_is_retried() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let a = ssf_site(&tp, "Bank A", "127.0.0.1:9").await;
    let endpoint = PushEndpoint::start();
    let stream =
        a.rx.create_stream(json!({ "method": PUSH, "endpoint_url": endpoint.url }), &[])
            .await;
    let verify = |state: &'static str| {
        let body = json!({ "stream_id": stream["stream_id"], "state": state });
        let url = a.rx.endpoint("verification_endpoint");
        let rx = &a.rx;
        async move { rx.call(Method::POST, &url, Some(body)).await.0 }
    };
    endpoint.set_mode(REFUSE);
    assert_eq!(verify("one").await, 204);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, error) = outbox_row(&tp, &a.rx.client_id).await;
        if status == "dead" {
            assert_eq!(
                error.as_deref(),
                Some("refused: invalid_audience: not for us")
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "dead-lettered on a 400: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(endpoint.attempts(), 1, "a 400 is not tried again");

    endpoint.set_mode(DOWN);
    let (id, now) = (a.rx.client_id.clone(), tp.clock.unix());
    tp.provider
        .db
        .write(move |c| mykey_connect::store::outbox::retry_dead(c, &id, None, now))
        .await
        .expect("retry");
    let deadline = Instant::now() + Duration::from_secs(10);
    while endpoint.attempts() < 2 {
        assert!(Instant::now() < deadline, "tried again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    endpoint.set_mode(UP);
    tp.clock.advance(Duration::from_secs(5));
    let pushes = endpoint.wait_for(1, Duration::from_secs(10)).await;
    let claims = validate_set(&tp.issuer, &a.rx.client_id, &pushes[0].set).await;
    assert_eq!(
        claims["events"][super::support::VERIFICATION]["state"],
        "one"
    );
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_killed_in_the_middle_of_a_push_delivers_the_event_after_restart() {
    // The in-process provider serves logins and the stream API; spawned nodes deliver.
    let mut tp = TestProvider::start_quiet(Db::Postgres, &[]).await;
    let a = ssf_site(&tp, "Bank A", "127.0.0.1:9").await;
    let endpoint = PushEndpoint::start();
    a.rx.create_stream(
        json!({ "method": PUSH, "endpoint_url": endpoint.url }),
        &[SESSION_REVOKED],
    )
    .await;
    let card = tp.issue_card("木村　九郎");
    let sub = a.log_in(&tp, &Browser::new(), &card).await;
    // The receiver stalls: a push is under way when the node dies.
    endpoint.set_mode(STALL);
    let mut node = spawn_serve(&tp, free_port(), &[("MYKEY_BACKCHANNEL_TIMEOUT", "2")]);

    let serial = tp.card(&card).serial_hex(Purpose::Auth).expect("serial");
    let now = tp.clock.now();
    tp.ca
        .revoke(&serial, RevocationReason::KeyCompromise, now)
        .expect("revoke");
    let crl = tp
        .ca
        .crl(Purpose::Auth, now, now + time::Duration::days(1))
        .expect("crl");
    mykey_connect::provider::revocation::import_crl(&tp.provider, crl.as_slice(), "test")
        .await
        .expect("import");

    let deadline = Instant::now() + Duration::from_secs(30);
    while endpoint.attempts() < 1 {
        assert!(Instant::now() < deadline, "a push began");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.kill().expect("SIGKILL");
    node.wait().expect("reaped");
    assert!(
        endpoint.pushes().is_empty(),
        "nothing was accepted before the kill"
    );
    endpoint.set_mode(UP);

    let mut restarted = spawn_serve(&tp, free_port(), &[("MYKEY_BACKCHANNEL_TIMEOUT", "2")]);
    let pushes = endpoint.wait_for(1, Duration::from_secs(60)).await;
    let claims = validate_set(&tp.issuer, &a.rx.client_id, &pushes[0].set).await;
    assert_eq!(claims["sub_id"]["sub"], sub);
    assert!(claims["events"].get(SESSION_REVOKED).is_some());
    let _ = restarted.kill();
    let _ = restarted.wait();
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_signature_certificate_reaches_a_site_with_a_stream_as_credential_change_on_it() {
    use crate::identity::support::{decide, hard_card, verify_login};
    let mut tp = TestProvider::start(Db::Sqlite).await;
    // A site that also registered the older security_event_uri: with a stream, the stream is
    // where it hears the change.
    let legacy = crate::revocation::support::Receiver::start();
    let mut spec = crate::provider::support::web_client("Bank", "127.0.0.1:9");
    spec.allow_verified_claims = Some(true);
    spec.allow_shared_signals = Some(true);
    spec.security_event_uri = Some(legacy.url.clone());
    let (id, secret) = tp.register(spec).await;
    let rp =
        crate::provider::rp::Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let rx = super::support::ReceiverClient::connect(&tp.issuer, &id, &secret).await;
    let stream = rx
        .create_stream(json!({ "method": POLL }), &[CREDENTIAL_CHANGE])
        .await;

    let card = hard_card(&mut tp);
    let browser = Browser::new();
    let pending = rp.authorize_scoped(&["name", "address"], &[]);
    let (_, consent) = verify_login(&tp, &browser, &pending, &card).await;
    let (_, code) = decide(&tp, &browser, &consent, "approve").await;
    let tokens = rp.exchange(&code.expect("code"), pending.verifier).await;
    let sub = rp
        .verify_id_token(&tokens, &pending.nonce)
        .subject()
        .as_str()
        .to_owned();

    let serial = tp.card(&card).serial_hex(Purpose::Sign).expect("serial");
    let now = tp.clock.now();
    tp.ca
        .revoke(&serial, RevocationReason::AffiliationChanged, now)
        .expect("revoke");
    let crl = tp
        .ca
        .crl(Purpose::Sign, now, now + time::Duration::days(1))
        .expect("crl");
    let report =
        mykey_connect::provider::revocation::import_crl(&tp.provider, crl.as_slice(), "test")
            .await
            .expect("import");
    assert_eq!((report.facts_changed, report.security_events), (1, 1));

    let got = rx
        .poll(
            &stream,
            json!({ "returnImmediately": false, "maxEvents": 5 }),
        )
        .await;
    let sets = got["sets"].as_object().expect("sets");
    assert_eq!(sets.len(), 1, "{got}");
    let set = sets.values().next().and_then(|s| s.as_str()).expect("set");
    let claims = validate_set(&tp.issuer, &id, set).await;
    assert_eq!(
        claims["sub_id"],
        json!({ "format": "iss_sub", "iss": tp.issuer, "sub": sub })
    );
    let event = &claims["events"][CREDENTIAL_CHANGE];
    assert_eq!(
        (
            event["credential_type"].as_str(),
            event["change_type"].as_str()
        ),
        (Some("x509"), Some("revoke"))
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        *legacy.attempts.lock().expect("lock"),
        0,
        "not also at the legacy endpoint"
    );
    tp.stop().await;
}
