//! Who may use a stream: each receiver only its own, only with an `ssf` token, only while the
//! operator allows it.

use reqwest::Method;
use serde_json::json;

use super::support::{client_credentials, ssf_site, POLL, SESSION_REVOKED};
use crate::provider::support::{web_client, Db, TestProvider};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_cannot_see_or_touch_another_receivers_stream() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let a = ssf_site(&tp, "Bank A", "127.0.0.1:9").await;
    let b = ssf_site(&tp, "Shop B", "localhost:9").await;
    let stream =
        a.rx.create_stream(json!({ "method": POLL }), &[SESSION_REVOKED])
            .await;
    let id = stream["stream_id"].as_str().expect("id");
    let conf = a.rx.endpoint("configuration_endpoint");
    let url = format!("{conf}?stream_id={id}");
    for (method, url, body) in [
        (Method::GET, url.clone(), None),
        (Method::DELETE, url.clone(), None),
        (
            Method::PATCH,
            conf.clone(),
            Some(json!({ "stream_id": id, "events_requested": [] })),
        ),
        (
            Method::POST,
            a.rx.endpoint("verification_endpoint"),
            Some(json!({ "stream_id": id })),
        ),
        (
            Method::POST,
            stream["delivery"]["endpoint_url"]
                .as_str()
                .expect("poll")
                .to_owned(),
            Some(json!({ "maxEvents": 10 })),
        ),
    ] {
        let (status, body) = b.rx.call(method.clone(), &url, body).await;
        assert_eq!(status, 404, "{method} {url}: {body}");
    }
    let (_, listed) = b.rx.call(Method::GET, &conf, None).await;
    assert_eq!(listed, json!([]), "B sees no stream of A");
    let (status, _) = a.rx.call(Method::GET, &url, None).await;
    assert_eq!(status, 200, "A's stream is untouched");

    // No token, a forged one, an ID-token-shaped one: 401 with a Bearer challenge.
    let response = reqwest::get(&url).await.expect("get");
    assert_eq!(response.status(), 401);
    assert!(response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer")));
    let (status, _) = a.rx.call_as("e30.e30.e30", Method::GET, &url, None).await;
    assert_eq!(status, 401);

    // A client not allowed to use Shared Signals gets no token.
    let (id_c, secret_c) = tp.register(web_client("Clinic C", "127.0.0.1:11")).await;
    let (status, error) = client_credentials(&tp.issuer, &id_c, &secret_c).await;
    assert_eq!(
        (status, &error["error"]),
        (400, &json!("unauthorized_client"))
    );
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_grants_shared_signals_and_taking_it_back_makes_the_receivers_token_forbidden()
{
    use mykey_connect::admin::{clients, Principal};
    let tp = TestProvider::start(Db::Sqlite).await;
    let mut spec = web_client("Bank A", "127.0.0.1:9");
    let (id, secret) = tp.register(spec.clone()).await;
    let (status, error) = client_credentials(&tp.issuer, &id, &secret).await;
    assert_eq!(
        (status, &error["error"]),
        (400, &json!("unauthorized_client"))
    );

    spec.allow_shared_signals = Some(true);
    clients::update(&tp.provider, &Principal::cli(), &id, &spec)
        .await
        .expect("granted");
    let rx = super::support::ReceiverClient::connect(&tp.issuer, &id, &secret).await;
    let stream = rx.create_stream(json!({ "method": POLL }), &[]).await;
    let url = format!(
        "{}?stream_id={}",
        rx.endpoint("configuration_endpoint"),
        stream["stream_id"].as_str().expect("id")
    );

    spec.allow_shared_signals = Some(false);
    clients::update(&tp.provider, &Principal::cli(), &id, &spec)
        .await
        .expect("taken back");
    let response = rx
        .http
        .get(&url)
        .bearer_auth(&rx.token)
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 403);
    assert!(response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("insufficient_scope")));
    tp.stop().await;
}
