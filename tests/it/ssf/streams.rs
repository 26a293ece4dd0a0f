//! Stream management as a receiver uses it: the transmitter configuration, a stream created,
//! read, changed and deleted, each receiver confined to its own stream, and the verification
//! event.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use super::support::{
    ssf_site, validate_set, PushEndpoint, CREDENTIAL_CHANGE, POLL, PUSH, SESSION_REVOKED,
    VERIFICATION,
};
use crate::provider::support::{Db, TestProvider};

async fn configuration_and_stream_lifecycle(db: Db) {
    let tp = TestProvider::start(db).await;
    let a = ssf_site(&tp, "Bank A", "127.0.0.1:9").await;
    let config = &a.rx.config;
    assert_eq!(config["issuer"], tp.issuer);
    assert_eq!(config["jwks_uri"], tp.url("/jwks.json"));
    assert_eq!(config["delivery_methods_supported"], json!([PUSH, POLL]));
    assert_eq!(config["default_subjects"], "ALL");
    assert_eq!(config["spec_version"], "1_0");
    assert_eq!(
        config["authorization_schemes"],
        json!([{ "spec_urn": "urn:ietf:rfc:6749" }])
    );
    let discovery: serde_json::Value = reqwest::get(tp.url("/.well-known/openid-configuration"))
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert!(discovery["grant_types_supported"]
        .as_array()
        .expect("grants")
        .contains(&json!("client_credentials")));

    let endpoint = PushEndpoint::start();
    let stream = a
        .rx
        .create_stream(
            json!({ "method": PUSH, "endpoint_url": endpoint.url, "authorization_header": "Bearer rx" }),
            &[SESSION_REVOKED, "https://example.com/not-an-event"],
        )
        .await;
    let id = stream["stream_id"].as_str().expect("id").to_owned();
    assert_eq!(stream["aud"], a.rx.client_id);
    assert_eq!(stream["iss"], tp.issuer);
    assert_eq!(stream["delivery"]["endpoint_url"], endpoint.url);
    assert_eq!(stream["events_delivered"], json!([SESSION_REVOKED]));
    assert_eq!(stream["min_verification_interval"], 10);
    assert!(
        stream["delivery"].get("authorization_header").is_none(),
        "the receiver's credential is not echoed"
    );

    let conf = a.rx.endpoint("configuration_endpoint");
    let (status, again) =
        a.rx.call(
            Method::POST,
            &conf,
            Some(json!({ "delivery": { "method": POLL } })),
        )
        .await;
    assert_eq!(status, 409, "one stream per receiver: {again}");

    let (status, read) =
        a.rx.call(Method::GET, &format!("{conf}?stream_id={id}"), None)
            .await;
    assert_eq!((status, &read["stream_id"]), (200, &json!(id)));
    let (_, all) = a.rx.call(Method::GET, &conf, None).await;
    assert_eq!(all.as_array().map(Vec::len), Some(1));

    let (status, patched) = a
        .rx
        .call(
            Method::PATCH,
            &conf,
            Some(json!({ "stream_id": id, "events_requested": [SESSION_REVOKED, CREDENTIAL_CHANGE] })),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        patched["events_delivered"],
        json!([SESSION_REVOKED, CREDENTIAL_CHANGE])
    );
    assert_eq!(
        patched["delivery"]["endpoint_url"], endpoint.url,
        "PATCH keeps what it does not name"
    );
    let (status, replaced) = a
        .rx
        .call(
            Method::PUT,
            &conf,
            Some(json!({ "stream_id": id, "delivery": { "method": POLL }, "events_requested": [CREDENTIAL_CHANGE] })),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["delivery"]["method"], POLL);
    assert_eq!(
        replaced["delivery"]["endpoint_url"],
        tp.url(&format!("/ssf/poll/{id}"))
    );

    let status_url = a.rx.endpoint("status_endpoint");
    let (status, paused) =
        a.rx.call(
            Method::POST,
            &status_url,
            Some(json!({ "stream_id": id, "status": "paused", "reason": "maintenance" })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (&paused["status"], &paused["reason"]),
        (&json!("paused"), &json!("maintenance"))
    );
    let (_, read) =
        a.rx.call(Method::GET, &format!("{status_url}?stream_id={id}"), None)
            .await;
    assert_eq!(read["status"], "paused");
    let (status, _) =
        a.rx.call(
            Method::POST,
            &status_url,
            Some(json!({ "stream_id": id, "status": "sleeping" })),
        )
        .await;
    assert_eq!(status, 400);

    let (status, _) =
        a.rx.call(Method::DELETE, &format!("{conf}?stream_id={id}"), None)
            .await;
    assert_eq!(status, 204);
    let (status, _) =
        a.rx.call(Method::GET, &format!("{conf}?stream_id={id}"), None)
            .await;
    assert_eq!(status, 404);

    // Each change is in the audit trail, by the client.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let filter = mykey_connect::store::audit::Filter {
        kind: Some("ssf.stream_changed".into()),
        client_id: Some(a.rx.client_id.clone()),
        ..Default::default()
    };
    loop {
        let f = filter.clone();
        let rows = tp
            .provider
            .db
            .read(move |c| mykey_connect::store::audit::search(c, &f, 20))
            .await
            .expect("audit");
        let mut actions: Vec<String> = rows
            .iter()
            .map(|r| {
                let data: serde_json::Value = serde_json::from_str(&r.data).expect("data");
                assert!(r.actor.contains(&a.rx.client_id), "{}", r.actor);
                data["action"].as_str().unwrap_or_default().to_owned()
            })
            .collect();
        actions.sort();
        if actions == ["created", "deleted", "status", "updated", "updated"] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "stream changes audited: {actions:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tp.stop().await;
}

on_both_databases!(
    a_receiver_creates_reads_changes_pauses_and_deletes_its_stream,
    configuration_and_stream_lifecycle
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verification_event_arrives_with_the_receivers_state() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let a = ssf_site(&tp, "Bank A", "127.0.0.1:9").await;
    let endpoint = PushEndpoint::start();
    let stream =
        a.rx.create_stream(json!({ "method": PUSH, "endpoint_url": endpoint.url }), &[])
            .await;
    let id = stream["stream_id"].as_str().expect("id");
    let (status, _) =
        a.rx.call(
            Method::POST,
            &a.rx.endpoint("verification_endpoint"),
            Some(json!({ "stream_id": id, "state": "VGhpcyBpcyBh" })),
        )
        .await;
    assert_eq!(status, 204);
    let pushes = endpoint.wait_for(1, Duration::from_secs(10)).await;
    let claims = validate_set(&tp.issuer, &a.rx.client_id, &pushes[0].set).await;
    assert_eq!(claims["sub_id"], json!({ "format": "opaque", "id": id }));
    assert_eq!(claims["events"][VERIFICATION]["state"], "VGhpcyBpcyBh");
    assert_eq!(pushes[0].authorization, None);
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_stream_holds_its_events_until_enabled_and_a_disabled_one_drops_them() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let a = ssf_site(&tp, "Bank A", "127.0.0.1:9").await;
    let endpoint = PushEndpoint::start();
    let stream =
        a.rx.create_stream(json!({ "method": PUSH, "endpoint_url": endpoint.url }), &[])
            .await;
    let id = stream["stream_id"].as_str().expect("id");
    let status_url = a.rx.endpoint("status_endpoint");
    let set_status = |status: &'static str| {
        let (rx, url) = (&a.rx, status_url.clone());
        let body = json!({ "stream_id": id, "status": status });
        async move { rx.call(Method::POST, &url, Some(body)).await.0 }
    };
    let verify = |state: &'static str| {
        let (rx, url) = (&a.rx, a.rx.endpoint("verification_endpoint"));
        let body = json!({ "stream_id": id, "state": state });
        async move { rx.call(Method::POST, &url, Some(body)).await.0 }
    };
    assert_eq!(set_status("paused").await, 200);
    assert_eq!(verify("held").await, 204);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(endpoint.attempts(), 0, "a paused stream sends nothing");
    assert_eq!(set_status("enabled").await, 200);
    let pushes = endpoint.wait_for(1, Duration::from_secs(10)).await;
    let claims = validate_set(&tp.issuer, &a.rx.client_id, &pushes[0].set).await;
    assert_eq!(claims["events"][VERIFICATION]["state"], "held");

    assert_eq!(set_status("paused").await, 200);
    assert_eq!(
        verify("too soon").await,
        429,
        "at most one verification per min_verification_interval"
    );
    tp.clock.advance(Duration::from_secs(10));
    assert_eq!(verify("dropped").await, 204);
    assert_eq!(set_status("disabled").await, 200);
    assert_eq!(
        verify("refused").await,
        409,
        "a disabled stream takes no events"
    );
    assert_eq!(set_status("enabled").await, 200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        endpoint.attempts(),
        1,
        "what was held when disabled is gone"
    );
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_stream_requests_are_refused_with_400_and_create_nothing() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let a = ssf_site(&tp, "Bank A", "127.0.0.1:9").await;
    let conf = a.rx.endpoint("configuration_endpoint");
    for body in [
        json!({ "delivery": { "method": PUSH, "endpoint_url": "http://receiver.example/ssf" } }),
        json!({ "delivery": { "method": PUSH } }),
        json!({ "delivery": { "method": POLL, "endpoint_url": "https://receiver.example/poll" } }),
        json!({ "delivery": { "method": "urn:example:carrier-pigeon" } }),
        json!({ "delivery": { "method": PUSH, "endpoint_url": "https://r.example/ssf",
                              "authorization_header": "Bearer x\r\nX-Evil: 1" } }),
        json!({ "events_requested": "not a list" }),
    ] {
        let (status, error) = a.rx.call(Method::POST, &conf, Some(body.clone())).await;
        assert_eq!(
            (status, &error["error"]),
            (400, &json!("invalid_request")),
            "{body}"
        );
    }
    let (status, _) =
        a.rx.call(
            Method::PATCH,
            &conf,
            Some(json!({ "events_requested": [] })),
        )
        .await;
    assert_eq!(status, 400, "PATCH names its stream");
    let (_, all) = a.rx.call(Method::GET, &conf, None).await;
    assert_eq!(all, json!([]), "nothing was created");
    tp.stop().await;
}
