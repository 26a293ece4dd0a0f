//! A bank's Node.js site on panva's openid-client 6 (OpenID Certified) completes a FAPI 2.0
//! login: PAR, private_key_jwt, PKCE S256, DPoP-bound tokens, a PS256 ID token; the same
//! request sent straight to `/authorize` is refused. On both storage backends.

use std::process::Stdio;

use base64::Engine as _;
use mykey_connect::jose::{Alg, SigningKey};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

use crate::provider::browser::{log_in, Browser};
use crate::provider::node_rp::node_rp;
use crate::provider::support::{web_client, Db, TestProvider};

async fn node_fapi2(db: Db) {
    let dir = node_rp();
    let mut tp = TestProvider::start(db).await;
    let der = SigningKey::generate(Alg::ES256).expect("key");
    let key = SigningKey::from_pkcs8(Alg::ES256, der.as_bytes()).expect("key");
    let mut spec = web_client("Node Bank", "127.0.0.1:9");
    spec.profile = Some("fapi2".into());
    spec.jwks = Some(serde_json::json!({ "keys": [key.public_jwk()] }).to_string());
    let (id, _) = tp.register(spec).await;
    let card = tp.issue_card("渡辺　五郎");

    let mut rp = tokio::process::Command::new("node")
        .arg(dir.join("fapi2.mjs"))
        .args([tp.issuer.as_str(), &id, "http://127.0.0.1:9/callback"])
        .env(
            "RP_PRIVATE_KEY",
            base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        )
        .env("RP_PRIVATE_KEY_KID", key.kid())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node");
    let mut stdin = rp.stdin.take().expect("stdin");
    let mut lines = BufReader::new(rp.stdout.take().expect("stdout")).lines();
    let mut next = async || -> Value {
        let line = lines
            .next_line()
            .await
            .expect("the RP's output")
            .expect("the RP stopped early (its error is above)");
        serde_json::from_str(&line).expect("one JSON line")
    };
    let urls = next().await;
    let authorize = urls["authorize"].as_str().expect("authorization URL");
    assert!(
        authorize.contains("request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A"),
        "openid-client pushed the request: {authorize}"
    );
    let unpushed = Browser::new()
        .get(urls["unpushed"].as_str().expect("unpushed URL"))
        .await;
    assert_eq!(unpushed.status, 400, "a fapi2 client must use PAR");
    assert!(unpushed.location.is_none());

    let back = log_in(&Browser::new(), &tp, authorize, &card).await;
    stdin
        .write_all(format!("{back}\n").as_bytes())
        .await
        .expect("callback to the RP");
    let seen = next().await;
    assert!(rp.wait().await.expect("node").success());

    assert_eq!(seen["iss"], tp.issuer.as_str());
    assert_eq!(seen["id_token_alg"], "PS256");
    assert_eq!(
        seen["token_type"].as_str().map(str::to_lowercase),
        Some("dpop".into())
    );
    assert_eq!(seen["userinfo"]["sub"], seen["sub"]);
    tp.stop().await;
}

on_both_databases!(
    a_node_js_bank_on_openid_client_completes_a_fapi2_login_with_par_private_key_jwt_and_dpop,
    node_fapi2
);
