//! A resident's session and a site's tokens, made before a backup and used after a restore.

use openidconnect::{OAuth2TokenResponse, TokenResponse};
use serde_json::Value;

use crate::provider::browser::{log_in, query, Browser};
use crate::provider::rp::Rp;
use crate::provider::support::{command, web_client, TestProvider};

/// What a site holds after a login.
pub struct Held {
    pub client_id: String,
    pub secret: String,
    pub sub: String,
    pub access_token: String,
    pub refresh_token: String,
    pub kid: String,
}

pub async fn log_in_once(tp: &mut TestProvider) -> Held {
    let (client_id, secret) = tp.register(web_client("Library", "127.0.0.1:9")).await;
    let rp = Rp::discover(tp, &client_id, &secret, "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("森　七子");
    let pending = rp.authorize(&[]);
    let back = log_in(&Browser::new(), tp, &pending.url, &card).await;
    let tokens = rp.exchange(&query(&back)["code"], pending.verifier).await;
    let claims = rp.verify_id_token(&tokens, &pending.nonce);
    let id_token = tokens.id_token().expect("id token").to_string();
    Held {
        client_id,
        secret,
        sub: claims.subject().as_str().to_owned(),
        access_token: tokens.access_token().secret().clone(),
        refresh_token: tokens.refresh_token().expect("refresh").secret().clone(),
        kid: crate::provider::flow::decode_header(&id_token)["kid"]
            .as_str()
            .expect("kid")
            .to_owned(),
    }
}

/// The site's tokens still work at `tp`: userinfo answers for the person, the refresh token
/// refreshes, and the key that signed the first ID token is published.
pub async fn tokens_still_work(tp: &TestProvider, held: &Held) {
    let http = reqwest::Client::new();
    let info: Value = http
        .get(tp.url("/userinfo"))
        .bearer_auth(&held.access_token)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(info["sub"], held.sub.as_str(), "userinfo: {info}");
    let resp = http
        .post(tp.url("/token"))
        .basic_auth(&held.client_id, Some(&held.secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", held.refresh_token.as_str()),
        ])
        .send()
        .await
        .expect("refresh");
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let jwks: Value = http
        .get(tp.url("/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    assert!(
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k["kid"] == held.kid.as_str()),
        "the signing key is published: {jwks}"
    );
}

/// `mykey-connect audit verify --json` against the provider's database.
pub fn audit_verify(tp: &TestProvider) -> Value {
    let out = command(tp)
        .args(["audit", "verify", "--json"])
        .output()
        .expect("audit verify");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "audit verify: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "{report}");
    report
}

/// The kinds of the audit entries, as `audit export` writes them.
pub fn audit_kinds(tp: &TestProvider) -> Vec<String> {
    let out = command(tp)
        .args(["audit", "export"])
        .output()
        .expect("audit export");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .map(|e| e["kind"].as_str().expect("kind").to_owned())
        .collect()
}
