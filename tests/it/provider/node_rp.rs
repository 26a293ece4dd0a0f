//! A relying party from another ecosystem: panva's openid-client 6 for Node.js, an OpenID
//! Certified client library, exactly as a Node.js site would use it (discovery, PKCE, state and
//! nonce, every JWT's signature checked against the JWKS; a client secret, or private_key_jwt
//! with the library's own client assertions). The resident logs in through the real
//! login page and helper; the library then reads userinfo, introspects, refreshes, revokes, meets
//! a reused refresh token, and builds the logout URL that the browser follows. On both storage
//! backends.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

use super::browser::{log_in, query, Browser};
use super::rp::Rp;
use super::support::{web_client, Db, TestProvider};

/// The folder with `rp.mjs` and openid-client installed from npm (once per test run, into
/// the target folder; nothing of it is committed).
pub fn node_rp() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rp-node");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rp-node");
        std::fs::create_dir_all(&dir).expect("rp-node folder");
        for file in ["package.json", "rp.mjs", "dpop.mjs", "fapi2.mjs"] {
            std::fs::copy(source.join(file), dir.join(file)).expect("copy the RP");
        }
        if !dir.join("node_modules/openid-client/package.json").exists() {
            let status = std::process::Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--no-package-lock"])
                .current_dir(&dir)
                .stdout(Stdio::null())
                .status()
                .expect("npm, from Node.js 20 or newer (.ci/run installs it when missing)");
            assert!(status.success(), "npm install openid-client failed");
        }
        dir
    })
}

/// How the Node.js site authenticates to the provider.
enum Auth {
    /// `client_secret_basic`.
    Secret,
    /// `private_key_jwt` with an ES256 key whose public half is registered.
    PrivateKeyJwt,
}

async fn node_client(db: Db, auth: Auth) {
    use base64::Engine as _;
    use mykey_connect::jose::{Alg, SigningKey};

    let mut tp = TestProvider::start(db).await;
    let mut spec = web_client("Node Shop", "127.0.0.1:9");
    let mut key_env = Vec::new();
    if let Auth::PrivateKeyJwt = auth {
        let der = SigningKey::generate(Alg::ES256).expect("key");
        let key = SigningKey::from_pkcs8(Alg::ES256, der.as_bytes()).expect("key");
        let public = serde_json::to_value(key.public_jwk()).expect("jwk");
        spec.auth_method = Some("private_key_jwt".into());
        spec.jwks = Some(serde_json::json!({ "keys": [public] }).to_string());
        let kid = public["kid"].as_str().expect("kid").to_owned();
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_bytes());
        key_env = vec![("RP_PRIVATE_KEY", b64), ("RP_PRIVATE_KEY_KID", kid)];
    }
    let (id, secret) = tp.register(spec).await;
    let card = tp.issue_card("中村　七海");
    let browser = Browser::new();

    let mut rp = tokio::process::Command::new("node")
        .arg(node_rp().join("rp.mjs"))
        .args([
            tp.issuer.as_str(),
            &id,
            &secret,
            "http://127.0.0.1:9/callback",
            "http://127.0.0.1:9/bye",
        ])
        .envs(key_env)
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

    let authorize = next().await["authorize"]
        .as_str()
        .expect("authorization URL")
        .to_owned();
    let back = log_in(&browser, &tp, &authorize, &card).await;
    stdin
        .write_all(format!("{back}\n").as_bytes())
        .await
        .expect("callback to the RP");
    let seen = next().await;
    assert!(rp.wait().await.expect("node").success());

    let claims = &seen["claims"];
    let sub = claims["sub"].as_str().expect("sub").to_owned();
    assert_eq!(claims["iss"], tp.issuer.as_str());
    assert_eq!(claims["aud"], id.as_str());
    assert_eq!(claims["amr"], serde_json::json!(["sc", "pin", "hwk"]));
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(claims["acr"].is_string() && claims["auth_time"].is_number());
    assert_eq!(
        seen["token_type"].as_str().map(str::to_lowercase),
        Some("bearer".into())
    );
    assert_eq!(seen["userinfo"]["sub"], sub.as_str(), "userinfo");
    assert_eq!(seen["introspected"]["active"], true);
    assert_eq!(seen["introspected"]["sub"], sub.as_str(), "introspection");
    assert_eq!(
        seen["refreshed_sub"],
        sub.as_str(),
        "the refreshed ID token"
    );
    assert_eq!(seen["refreshed_rotates"], true);
    assert_eq!(seen["refreshed_active"], true);
    assert_eq!(seen["revoked_active"], false, "a revoked access token");
    assert_eq!(seen["reused"], "invalid_grant", "a spent refresh token");
    assert_eq!(
        seen["family_active_after_reuse"], false,
        "reuse revokes what the spent refresh token had issued"
    );

    // The same site through the Rust library, single sign-on in the same browser: the same
    // pairwise sub (the Rust library has no private_key_jwt, so only for the secret client).
    if let Auth::Secret = auth {
        let same_site = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
        let pending = same_site.authorize(&[]);
        let back = log_in(&browser, &tp, &pending.url, &card).await;
        let tokens = same_site
            .exchange(&query(&back)["code"], pending.verifier)
            .await;
        let claims = same_site.verify_id_token(&tokens, &pending.nonce);
        assert_eq!(claims.subject().as_str(), sub, "one site, one sub");
    }

    // The logout URL openid-client built ends the session and returns to the site.
    let out = browser
        .get(seen["logout"].as_str().expect("logout URL"))
        .await;
    assert_eq!(out.status, 302, "{}", out.body);
    assert_eq!(
        out.location.as_deref(),
        Some("http://127.0.0.1:9/bye?state=node-bye")
    );
    assert!(browser.cookie("mykey_session").is_none());
    tp.stop().await;
}

on_both_databases!(
    a_node_js_site_on_the_certified_openid_client_library_runs_the_whole_flow,
    |db| node_client(db, Auth::Secret)
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_js_site_authenticating_with_private_key_jwt_through_openid_client_runs_the_whole_flow(
) {
    node_client(Db::Sqlite, Auth::PrivateKeyJwt).await;
}
