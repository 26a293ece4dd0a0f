//! Poll delivery (RFC 8936) as a receiver uses it: waiting events until acknowledged, errors a
//! poller reports, a switch from push to poll, and long polls.

use std::time::{Duration, Instant};

use mykey_connect::card::jpki::RevocationReason;
use reqwest::Method;
use serde_json::json;

use super::support::{
    outbox_row, ssf_site, validate_set, PushEndpoint, DOWN, POLL, PUSH, SESSION_REVOKED,
};
use crate::provider::browser::Browser;
use crate::provider::support::{Db, TestProvider};
use crate::revocation::termination::revoke_and_import;

async fn poll_and_acknowledge(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let a = ssf_site(&tp, "Bank A", "127.0.0.1:9").await;
    let stream =
        a.rx.create_stream(json!({ "method": POLL }), &[SESSION_REVOKED])
            .await;
    assert_eq!(stream["delivery"]["method"], POLL);
    let empty =
        a.rx.poll(&stream, json!({ "returnImmediately": true }))
            .await;
    assert_eq!(empty, json!({ "sets": {}, "moreAvailable": false }));

    let card = tp.issue_card("木村　九郎");
    let (first, second) = (Browser::new(), Browser::new());
    let sub = a.log_in(&tp, &first, &card).await;
    a.log_in(&tp, &second, &card).await;
    // An operator ends one session: one event, initiated by an admin.
    let session = first.cookie("mykey_session").expect("session");
    let row = mykey_connect::provider::sessions::current(&tp.provider, &session)
        .await
        .expect("db")
        .expect("live");
    mykey_connect::admin::persons::end_session(
        &tp.provider,
        &mykey_connect::admin::Principal::cli(),
        &row.id,
    )
    .await
    .expect("ended");
    // Then the card is revoked: the other session ends by policy.
    revoke_and_import(&mut tp, &card, RevocationReason::KeyCompromise).await;

    let got =
        a.rx.poll(
            &stream,
            json!({ "maxEvents": 1, "returnImmediately": true }),
        )
        .await;
    assert_eq!(got["moreAvailable"], true);
    let sets = got["sets"].as_object().expect("sets");
    assert_eq!(sets.len(), 1);
    let (jti1, set1) = sets.iter().next().expect("one");
    let claims = validate_set(&tp.issuer, &a.rx.client_id, set1.as_str().expect("set")).await;
    assert_eq!(&claims["jti"], jti1);
    assert_eq!(claims["sub_id"]["sub"], sub);
    // Poll delivery promises no order (RFC 8936): which of the two comes first is open.
    let first_by = claims["events"][SESSION_REVOKED]["initiating_entity"].clone();

    // Not acknowledged: still there. Acknowledged: gone, and the next one comes.
    let again = a.rx.poll(&stream, json!({ "maxEvents": 1 })).await;
    assert!(again["sets"].get(jti1).is_some(), "kept until acknowledged");
    let next =
        a.rx.poll(&stream, json!({ "ack": [jti1], "maxEvents": 10 }))
            .await;
    let sets = next["sets"].as_object().expect("sets");
    assert_eq!((sets.len(), &next["moreAvailable"]), (1, &json!(false)));
    let (jti2, set2) = sets.iter().next().expect("one");
    assert_ne!(jti1, jti2);
    let claims = validate_set(&tp.issuer, &a.rx.client_id, set2.as_str().expect("set")).await;
    let mut by = [
        first_by,
        claims["events"][SESSION_REVOKED]["initiating_entity"].clone(),
    ];
    by.sort_by_key(|v| v.to_string());
    assert_eq!(
        by,
        [json!("admin"), json!("policy")],
        "one ended by the operator, one by the revocation"
    );
    let done =
        a.rx.poll(&stream, json!({ "ack": [jti2], "returnImmediately": true }))
            .await;
    assert_eq!(done, json!({ "sets": {}, "moreAvailable": false }));
    tp.stop().await;
}

on_both_databases!(
    a_poll_stream_returns_waiting_events_until_the_receiver_acknowledges_them,
    poll_and_acknowledge
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_a_push_endpoint_could_not_take_are_polled_after_the_receiver_switches_to_poll() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let a = ssf_site(&tp, "Bank A", "127.0.0.1:9").await;
    let endpoint = PushEndpoint::start();
    endpoint.set_mode(DOWN);
    let stream =
        a.rx.create_stream(json!({ "method": PUSH, "endpoint_url": endpoint.url }), &[])
            .await;
    let id = stream["stream_id"].clone();
    let (status, _) =
        a.rx.call(
            Method::POST,
            &a.rx.endpoint("verification_endpoint"),
            Some(json!({ "stream_id": id, "state": "waiting" })),
        )
        .await;
    assert_eq!(status, 204);
    let deadline = Instant::now() + Duration::from_secs(10);
    while outbox_row(&tp, &a.rx.client_id).await.1.is_none() {
        assert!(Instant::now() < deadline, "the failed push is recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, polled) =
        a.rx.call(
            Method::PATCH,
            &a.rx.endpoint("configuration_endpoint"),
            Some(json!({ "stream_id": id, "delivery": { "method": POLL } })),
        )
        .await;
    assert_eq!(status, 200, "{polled}");
    let got =
        a.rx.poll(&polled, json!({ "returnImmediately": true }))
            .await;
    let sets = got["sets"].as_object().expect("sets");
    assert_eq!(sets.len(), 1, "{got}");
    let set = sets.values().next().and_then(|s| s.as_str()).expect("set");
    let claims = validate_set(&tp.issuer, &a.rx.client_id, set).await;
    assert_eq!(
        claims["events"][super::support::VERIFICATION]["state"],
        "waiting"
    );
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_the_poller_reports_an_error_for_is_dead_lettered_and_polled_again_when_retried() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let a = ssf_site(&tp, "Bank A", "127.0.0.1:9").await;
    let stream = a.rx.create_stream(json!({ "method": POLL }), &[]).await;
    let (status, _) =
        a.rx.call(
            Method::POST,
            &a.rx.endpoint("verification_endpoint"),
            Some(json!({ "stream_id": stream["stream_id"], "state": "s" })),
        )
        .await;
    assert_eq!(status, 204);
    let got =
        a.rx.poll(&stream, json!({ "returnImmediately": true }))
            .await;
    let jti = got["sets"]
        .as_object()
        .and_then(|s| s.keys().next().cloned())
        .expect("one SET");
    let errs = json!({ "setErrs": { jti.clone(): { "err": "invalid_key", "description": "unknown kid" } },
                       "returnImmediately": true });
    let after = a.rx.poll(&stream, errs).await;
    assert_eq!(after, json!({ "sets": {}, "moreAvailable": false }));
    assert_eq!(
        outbox_row(&tp, &a.rx.client_id).await,
        (
            "dead".to_owned(),
            Some("invalid_key: unknown kid".to_owned())
        )
    );

    let (id, now) = (a.rx.client_id.clone(), tp.clock.unix());
    tp.provider
        .db
        .write(move |c| mykey_connect::store::outbox::retry_dead(c, &id, None, now))
        .await
        .expect("retry");
    let again =
        a.rx.poll(&stream, json!({ "returnImmediately": true }))
            .await;
    assert!(again["sets"].get(&jti).is_some(), "{again}");
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_returns_as_soon_as_an_event_arrives() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let a = ssf_site(&tp, "Bank A", "127.0.0.1:9").await;
    let stream = a.rx.create_stream(json!({ "method": POLL }), &[]).await;
    let started = Instant::now();
    let waiting = {
        let url = stream["delivery"]["endpoint_url"]
            .as_str()
            .expect("poll url")
            .to_owned();
        let (http, token) = (a.rx.http.clone(), a.rx.token.clone());
        tokio::spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "returnImmediately": false }))
                .send()
                .await
                .expect("poll");
            response.json::<serde_json::Value>().await.expect("json")
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "an empty long poll waits");
    let (status, _) =
        a.rx.call(
            Method::POST,
            &a.rx.endpoint("verification_endpoint"),
            Some(json!({ "stream_id": stream["stream_id"], "state": "now" })),
        )
        .await;
    assert_eq!(status, 204);
    let got = waiting.await.expect("joined");
    let elapsed = started.elapsed();
    assert_eq!(got["sets"].as_object().map(|s| s.len()), Some(1), "{got}");
    assert!(
        elapsed < Duration::from_secs(3),
        "returned after {elapsed:?}"
    );
    tp.stop().await;
}
