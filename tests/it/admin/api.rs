//! The admin API against its own OpenAPI document: every documented operation is called with
//! an admin key and its real answer checked against the documented status and schema; every
//! one refuses a caller without a key, and every admin operation refuses a viewer key.

use reqwest::Method;
use serde_json::{json, Value};

use super::schema::check;
use super::support::Ops;
use crate::provider::browser::{log_in, query, Browser};
use crate::provider::rp::Rp;
use crate::provider::support::{web_client, Db};

/// What the walk needs: a client with a logged-in person, their sub, a second person.
struct Fixtures {
    client_id: String,
    sub: String,
    person: String,
    other_person: String,
    serial: String,
    crl: Vec<u8>,
}

async fn fixtures(ops: &mut Ops) -> Fixtures {
    let (id, secret) = ops.tp.register(web_client("Clinic", "127.0.0.1:9")).await;
    let rp = Rp::discover(&ops.tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let mut subs = Vec::new();
    for name in ["佐藤　一郎", "佐藤　二郎"] {
        let card = ops.tp.issue_card(name);
        let pending = rp.authorize(&[]);
        let back = log_in(&Browser::new(), &ops.tp, &pending.url, &card).await;
        let tokens = rp.exchange(&query(&back)["code"], pending.verifier).await;
        subs.push(
            rp.verify_id_token(&tokens, &pending.nonce)
                .subject()
                .as_str()
                .to_owned(),
        );
    }
    let sessions = ops.api_json(Method::GET, "/sessions", None).await;
    let persons: Vec<String> = sessions["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["person_id"].as_str().expect("person").to_owned())
        .collect();
    let found = ops
        .api_json(
            Method::GET,
            &format!("/persons?client_id={id}&sub={}", subs[0]),
            None,
        )
        .await;
    let person = found["persons"][0]["id"]
        .as_str()
        .expect("found by sub")
        .to_owned();
    let other_person = persons
        .into_iter()
        .find(|p| *p != person)
        .expect("second person");
    let serial = found["persons"][0]["bindings"][0]["serial"]
        .as_str()
        .expect("serial")
        .to_owned();
    let now = ops.tp.clock.now();
    let crl = ops
        .tp
        .ca
        .crl(
            mykey_connect::card::jpki::Purpose::Auth,
            now,
            now + time::Duration::days(1),
        )
        .expect("a newer CRL");
    Fixtures {
        crl,
        client_id: id,
        sub: subs[0].clone(),
        person,
        other_person,
        serial,
    }
}

/// The concrete request for one documented operation (fresh objects for destructive ones).
async fn request(ops: &Ops, f: &Fixtures, path: &str, method: &str) -> (String, Option<Value>) {
    let new_client = || json!({ "name": "Walk", "redirect_uris": ["http://127.0.0.1:8/cb"] });
    match (path, method) {
        ("/clients", "post") => (path.into(), Some(new_client())),
        ("/clients/{id}", "delete") => {
            let c = ops
                .api_json(Method::POST, "/clients", Some(new_client()))
                .await;
            (
                format!("/clients/{}", c["client_id"].as_str().expect("id")),
                None,
            )
        }
        ("/clients/{id}", "put") => (
            format!("/clients/{}", f.client_id),
            Some(
                json!({ "name": "Clinic (renamed)", "redirect_uris": ["http://127.0.0.1:9/callback"],
                         "post_logout_redirect_uris": ["http://127.0.0.1:9/bye"] }),
            ),
        ),
        ("/clients/{id}", _) | ("/clients/{id}/secret", _) => {
            (path.replace("{id}", &f.client_id), None)
        }
        ("/sessions", "get") => (format!("/sessions?client_id={}", f.client_id), None),
        ("/sessions/{id}", "delete") => {
            let s = ops.api_json(Method::GET, "/sessions", None).await;
            let id = s["sessions"][0]["session_id"]
                .as_str()
                .expect("a live session")
                .to_owned();
            (format!("/sessions/{id}"), None)
        }
        ("/persons", "get") => (
            format!("/persons?client_id={}&sub={}", f.client_id, f.sub),
            None,
        ),
        ("/persons/{id}", "get") => (format!("/persons/{}", f.person), None),
        ("/persons/merge", "post") => (
            path.into(),
            Some(
                json!({ "source": f.other_person, "target": f.person, "reason": "renewal without linkage (ticket 42)" }),
            ),
        ),
        ("/linkage", "post") => (
            path.into(),
            Some(json!({ "format": "mykey-linkage/1", "records": [] })),
        ),
        ("/keys/rotate", "post") => (
            path.into(),
            Some(json!({ "alg": "ES256", "lead_time": 60 })),
        ),
        ("/audit", "get") => (
            format!("/audit?kind=token.issued&client_id={}&limit=5", f.client_id),
            None,
        ),
        ("/api-keys", "post") => (path.into(), Some(json!({ "name": "ci", "role": "viewer" }))),
        ("/api-keys/{id}", "delete") => {
            let k = ops
                .api_json(
                    Method::POST,
                    "/api-keys",
                    Some(json!({ "name": "gone", "role": "viewer" })),
                )
                .await;
            (
                format!("/api-keys/{}", k["api_key"]["id"].as_str().expect("id")),
                None,
            )
        }
        _ => (path.into(), None),
    }
}

async fn walk(db: Db) {
    let mut ops = Ops::start(db).await;
    let f = fixtures(&mut ops).await;
    let (status, text) = ops
        .api(
            Method::GET,
            "/openapi.json",
            Some(&ops.admin_key.clone()),
            None,
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let doc: Value = serde_json::from_str(&text).expect("document");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths").clone();
    let mut called = 0;
    for (path, item) in &paths {
        for (method, operation) in item.as_object().expect("operations") {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let needs_admin = operation["x-required-role"] == "admin";
            let (url, body) = request(&ops, &f, path, method).await;
            let raw = (path.as_str() == "/crls").then(|| f.crl.clone());
            let call = |key: Option<String>| {
                let (m, url, body, raw) = (m.clone(), url.clone(), body.clone(), raw.clone());
                let ops = &ops;
                async move {
                    match raw {
                        Some(bytes) => ops.api_raw(m, &url, key.as_deref(), bytes).await,
                        None => ops.api(m, &url, key.as_deref(), body).await,
                    }
                }
            };

            let (status, _) = call(None).await;
            assert_eq!(status, 401, "{method} {path} without a key");
            let (status, _) = call(Some("mkc_not-a-key".into())).await;
            assert_eq!(status, 401, "{method} {path} with an unknown key");
            if needs_admin {
                let (status, text) = call(Some(ops.viewer_key.clone())).await;
                assert_eq!(status, 403, "{method} {path} with a viewer key: {text}");
                assert!(
                    operation["responses"]["403"].is_object(),
                    "403 documented for {method} {path}"
                );
            }

            let (status, text) = call(Some(ops.admin_key.clone())).await;
            let documented = operation["responses"]
                .as_object()
                .expect("responses")
                .iter()
                .find(|(code, _)| code.starts_with('2'))
                .map(|(code, r)| (code.parse::<u16>().expect("status"), r.clone()))
                .expect("a documented success");
            assert_eq!(status, documented.0, "{method} {url}: {text}");
            let content = &documented.1["content"];
            if let Some(schema) = content["application/json"]["schema"].as_object() {
                let value: Value = serde_json::from_str(&text).expect("JSON answer");
                let errors = check(&doc, &Value::Object(schema.clone()), &value, "$");
                assert!(errors.is_empty(), "{method} {path}: {errors:#?}\n{value:#}");
            } else if let Some(item) = content["application/jsonl"]["itemSchema"].as_object() {
                let lines: Vec<&str> = text.lines().collect();
                assert!(!lines.is_empty(), "the export has entries");
                for line in lines {
                    let value: Value = serde_json::from_str(line).expect("JSON line");
                    let errors = check(&doc, &Value::Object(item.clone()), &value, "$");
                    assert!(errors.is_empty(), "{method} {path}: {errors:#?}");
                }
            } else {
                assert!(
                    text.is_empty(),
                    "{method} {path} documents no body but sent {text}"
                );
            }
            called += 1;
        }
    }
    assert_eq!(called, 23, "every documented operation was called");

    // What the calls did is visible afterwards.
    let person = ops
        .api_json(Method::GET, &format!("/persons/{}", f.person), None)
        .await;
    assert_eq!(
        person["bindings"].as_array().expect("bindings").len(),
        2,
        "merged bindings"
    );
    let merged = ops
        .api_json(
            Method::GET,
            &format!("/persons?serial={}", f.serial.to_uppercase()),
            None,
        )
        .await;
    assert_eq!(
        merged["persons"][0]["id"],
        f.person.as_str(),
        "serial search ignores case"
    );
    let audit = ops
        .api_json(Method::GET, "/audit?kind=person.merged", None)
        .await;
    assert_eq!(
        audit["entries"][0]["data"]["reason"],
        "renewal without linkage (ticket 42)"
    );
    assert_eq!(audit["entries"][0]["actor"], "api-key:tests");
    let updated = ops
        .api_json(Method::GET, "/audit?kind=client.updated", None)
        .await;
    let data = &updated["entries"][0]["data"];
    assert_eq!(data["before"]["name"], "Clinic");
    assert_eq!(data["after"]["name"], "Clinic (renamed)");
    ops.tp.stop().await;
}

on_both_databases!(
    every_documented_admin_api_operation_answers_as_its_openapi_schema_says,
    walk
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_clients_are_refused_field_by_field_and_revoked_keys_stop_working() {
    let ops = Ops::start(Db::Sqlite).await;
    let (status, text) = ops
        .api(
            Method::POST,
            "/clients",
            Some(&ops.admin_key.clone()),
            Some(json!({ "name": "", "redirect_uris": ["not a url"], "auth_method": "magic" })),
        )
        .await;
    assert_eq!(status, 422, "{text}");
    let body: Value = serde_json::from_str(&text).expect("json");
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("f"))
        .collect();
    for f in ["name", "redirect_uris", "auth_method"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let (status, _) = ops
        .api(
            Method::POST,
            "/clients",
            Some(&ops.admin_key.clone()),
            Some(json!({ "nme": "typo" })),
        )
        .await;
    assert_eq!(status, 422, "unknown fields are refused");

    let created = ops
        .api_json(
            Method::POST,
            "/api-keys",
            Some(json!({ "name": "short-lived", "role": "admin" })),
        )
        .await;
    let (secret, id) = (
        created["secret"].as_str().expect("secret"),
        created["api_key"]["id"].as_str().expect("id"),
    );
    assert!(secret.starts_with("mkc_"));
    let (status, _) = ops.api(Method::GET, "/clients", Some(secret), None).await;
    assert_eq!(status, 200);
    ops.api(
        Method::DELETE,
        &format!("/api-keys/{id}"),
        Some(&ops.admin_key.clone()),
        None,
    )
    .await;
    let (status, _) = ops.api(Method::GET, "/clients", Some(secret), None).await;
    assert_eq!(status, 401, "a revoked key stops working at once");
    let listed = ops.api_json(Method::GET, "/api-keys", None).await;
    assert!(
        !listed.to_string().contains(secret),
        "keys are never listed with their secret"
    );
    ops.tp.stop().await;
}
