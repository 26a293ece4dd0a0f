//! DPoP (RFC 9449) as a site sees it: bound tokens at the token endpoint, userinfo with proofs,
//! replayed and foreign proofs refused, refresh tokens bound to the key, server nonces.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::browser::{log_in, query, Browser};
use super::rp::Rp;
use super::support::{web_client, Db, TestProvider};
use mykey_connect::provider::clients::ClientSpec;

/// A site's DPoP key, making proofs the way an RP library does (RFC 9449 §4.2).
struct DpopKey {
    pair: EcdsaKeyPair,
    jwk: Value,
}

impl DpopKey {
    fn generate() -> DpopKey {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .expect("P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .expect("parses");
        let point = pair.public_key().as_ref().to_vec();
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        DpopKey { pair, jwk }
    }

    /// RFC 7638 thumbprint, computed independently of the provider.
    fn thumbprint(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.jwk["x"].as_str().expect("x"),
            self.jwk["y"].as_str().expect("y")
        );
        URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            canonical.as_bytes(),
        ))
    }

    fn proof(
        &self,
        tp: &TestProvider,
        method: &str,
        path: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let mut claims = json!({
            "jti": URL_SAFE_NO_PAD.encode(mykey_connect::domain::secret::random_bytes(16)),
            "htm": method,
            "htu": tp.url(path),
            "iat": tp.clock.unix(),
        });
        if let Some(token) = access_token {
            claims["ath"] = json!(URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                token.as_bytes()
            )));
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .expect("signs");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

/// What came back: status, the `DPoP-Nonce` and `WWW-Authenticate` headers, the JSON body.
struct Answer {
    status: u16,
    nonce: Option<String>,
    challenge: Option<String>,
    body: Value,
}

async fn answer(resp: reqwest::Response) -> Answer {
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (nonce, challenge) = (header("dpop-nonce"), header("www-authenticate"));
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        nonce,
        challenge,
        body,
    }
}

struct Site {
    tp: TestProvider,
    rp: Rp,
}

impl Site {
    async fn new(db: Db, settings: &[(&str, &str)], spec: ClientSpec) -> Site {
        let tp = TestProvider::start_with(db, settings).await;
        let (id, secret) = tp.register(spec).await;
        let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
        Site { tp, rp }
    }

    /// A resident logs in; returns the code and its PKCE verifier.
    async fn code(&mut self) -> (String, String) {
        let card = self.tp.issue_card("田中　実");
        let pending = self.rp.authorize(&[]);
        let back = log_in(&Browser::new(), &self.tp, &pending.url, &card).await;
        (
            query(&back)["code"].clone(),
            pending.verifier.secret().clone(),
        )
    }

    async fn token(&self, form: &[(&str, &str)], proof: Option<String>) -> Answer {
        let mut req = reqwest::Client::new()
            .post(self.tp.url("/token"))
            .basic_auth(&self.rp.client_id, Some(&self.rp.secret))
            .form(form);
        if let Some(proof) = proof {
            req = req.header("DPoP", proof);
        }
        answer(req.send().await.expect("token request")).await
    }

    async fn redeem(&self, code: &str, verifier: &str, proof: Option<String>) -> Answer {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.rp.redirect),
            ("code_verifier", verifier),
        ];
        self.token(&form, proof).await
    }

    async fn userinfo(&self, authorization: &str, proof: Option<String>) -> Answer {
        let mut req = reqwest::Client::new()
            .get(self.tp.url("/userinfo"))
            .header("Authorization", authorization);
        if let Some(proof) = proof {
            req = req.header("DPoP", proof);
        }
        answer(req.send().await.expect("userinfo request")).await
    }

    async fn introspect(&self, token: &str) -> Value {
        let resp = reqwest::Client::new()
            .post(self.tp.url("/introspect"))
            .basic_auth(&self.rp.client_id, Some(&self.rp.secret))
            .form(&[("token", token)])
            .send()
            .await
            .expect("introspection");
        resp.json().await.expect("json")
    }
}

fn site_spec() -> ClientSpec {
    web_client("Bank", "127.0.0.1:9")
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("a string, not {v}"))
}

async fn bound_tokens_work_only_with_proofs_by_their_key(db: Db) {
    let mut site = Site::new(db, &[], site_spec()).await;
    let discovery: Value = reqwest::get(site.tp.url("/.well-known/openid-configuration"))
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(
        discovery["dpop_signing_alg_values_supported"],
        json!(["ES256", "PS256", "RS256"])
    );

    let key = DpopKey::generate();
    let (code, verifier) = site.code().await;
    let tokens = site
        .redeem(
            &code,
            &verifier,
            Some(key.proof(&site.tp, "POST", "/token", None, None)),
        )
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.body["token_type"], "DPoP");
    let access = text(&tokens.body["access_token"]).to_owned();

    let introspected = site.introspect(&access).await;
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["token_type"], "DPoP");
    assert_eq!(introspected["cnf"]["jkt"], key.thumbprint().as_str());

    let authorization = format!("DPoP {access}");
    let proof = key.proof(&site.tp, "GET", "/userinfo", Some(&access), None);
    let info = site.userinfo(&authorization, Some(proof.clone())).await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert!(info.body["sub"].is_string());

    // The same proof a second time is a replay.
    let replayed = site.userinfo(&authorization, Some(proof)).await;
    assert_eq!(replayed.status, 401);
    assert_eq!(replayed.body["error"], "invalid_dpop_proof");
    assert!(
        replayed
            .challenge
            .as_deref()
            .is_some_and(|c| c.starts_with("DPoP algs=\"ES256 PS256 RS256\"")
                && c.contains("error=\"invalid_dpop_proof\"")),
        "{:?}",
        replayed.challenge
    );

    // A thief with the token and a key of their own.
    let thief = DpopKey::generate();
    let stolen = site
        .userinfo(
            &authorization,
            Some(thief.proof(&site.tp, "GET", "/userinfo", Some(&access), None)),
        )
        .await;
    assert_eq!(stolen.status, 401);
    assert_eq!(stolen.body["error"], "invalid_dpop_proof");

    // The bound token as a bearer token.
    let bearer = site.userinfo(&format!("Bearer {access}"), None).await;
    assert_eq!(bearer.status, 401);
    assert_eq!(bearer.body["error"], "invalid_token");
    assert!(bearer
        .challenge
        .as_deref()
        .is_some_and(|c| c.starts_with("DPoP ") && c.contains("error=\"invalid_token\"")));

    // A proof made for the token endpoint does not open userinfo.
    let elsewhere = site
        .userinfo(
            &authorization,
            Some(key.proof(&site.tp, "POST", "/token", Some(&access), None)),
        )
        .await;
    assert_eq!(elsewhere.status, 401);

    // A fresh proof by the right key still works.
    let again = site
        .userinfo(
            &authorization,
            Some(key.proof(&site.tp, "GET", "/userinfo", Some(&access), None)),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    site.tp.stop().await;
}

on_both_databases!(
    dpop_bound_tokens_work_at_userinfo_only_with_a_fresh_proof_by_their_key,
    bound_tokens_work_only_with_proofs_by_their_key
);

async fn refresh_needs_the_same_key(db: Db) {
    let mut site = Site::new(db, &[], site_spec()).await;
    let key = DpopKey::generate();
    let (code, verifier) = site.code().await;
    let tokens = site
        .redeem(
            &code,
            &verifier,
            Some(key.proof(&site.tp, "POST", "/token", None, None)),
        )
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let refresh = text(&tokens.body["refresh_token"]).to_owned();
    let form = [("grant_type", "refresh_token"), ("refresh_token", &refresh)];

    let other = DpopKey::generate();
    let foreign = site
        .token(
            &form,
            Some(other.proof(&site.tp, "POST", "/token", None, None)),
        )
        .await;
    assert_eq!(foreign.status, 400);
    assert_eq!(foreign.body["error"], "invalid_dpop_proof");
    let without = site.token(&form, None).await;
    assert_eq!(without.status, 400);
    assert_eq!(without.body["error"], "invalid_dpop_proof");

    // Neither attempt spent the token: its holder refreshes with the key.
    let refreshed = site
        .token(
            &form,
            Some(key.proof(&site.tp, "POST", "/token", None, None)),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(refreshed.body["token_type"], "DPoP");
    let access = text(&refreshed.body["access_token"]).to_owned();
    assert_eq!(
        site.introspect(&access).await["cnf"]["jkt"],
        key.thumbprint().as_str()
    );
    site.tp.stop().await;
}

on_both_databases!(
    a_bound_refresh_token_is_refused_with_a_proof_by_another_key_or_none,
    refresh_needs_the_same_key
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_registered_for_dpop_gets_no_token_without_a_proof() {
    let spec = ClientSpec {
        dpop_bound_access_tokens: Some(true),
        ..site_spec()
    };
    let mut site = Site::new(Db::Sqlite, &[], spec).await;
    let (code, verifier) = site.code().await;
    let refused = site.redeem(&code, &verifier, None).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["error"], "invalid_dpop_proof");

    let key = DpopKey::generate();
    let tokens = site
        .redeem(
            &code,
            &verifier,
            Some(key.proof(&site.tp, "POST", "/token", None, None)),
        )
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.body["token_type"], "DPoP");
    site.tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_without_dpop_keeps_getting_bearer_tokens() {
    let mut site = Site::new(Db::Sqlite, &[], site_spec()).await;
    let (code, verifier) = site.code().await;
    let tokens = site.redeem(&code, &verifier, None).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.body["token_type"], "Bearer");
    let access = text(&tokens.body["access_token"]).to_owned();
    let introspected = site.introspect(&access).await;
    assert_eq!(introspected["token_type"], "Bearer");
    assert!(introspected.get("cnf").is_none());
    let info = site.userinfo(&format!("Bearer {access}"), None).await;
    assert_eq!(info.status, 200, "{}", info.body);
    site.tp.stop().await;
}

async fn nonces(db: Db) {
    let mut site = Site::new(db, &[("MYKEY_DPOP_NONCE_REQUIRED", "true")], site_spec()).await;
    let key = DpopKey::generate();
    let (code, verifier) = site.code().await;

    let first = site
        .redeem(
            &code,
            &verifier,
            Some(key.proof(&site.tp, "POST", "/token", None, None)),
        )
        .await;
    assert_eq!(first.status, 400);
    assert_eq!(first.body["error"], "use_dpop_nonce");
    let nonce = first.nonce.expect("a DPoP-Nonce header");

    let tokens = site
        .redeem(
            &code,
            &verifier,
            Some(key.proof(&site.tp, "POST", "/token", None, Some(&nonce))),
        )
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert!(
        tokens.nonce.is_some(),
        "a fresh nonce comes with the tokens"
    );
    let access = text(&tokens.body["access_token"]).to_owned();
    let authorization = format!("DPoP {access}");

    let without = site
        .userinfo(
            &authorization,
            Some(key.proof(&site.tp, "GET", "/userinfo", Some(&access), None)),
        )
        .await;
    assert_eq!(without.status, 401);
    assert!(
        without
            .challenge
            .as_deref()
            .is_some_and(|c| c.starts_with("DPoP ") && c.contains("error=\"use_dpop_nonce\"")),
        "{:?}",
        without.challenge
    );
    let nonce = without.nonce.expect("a DPoP-Nonce header");
    let forged = site
        .userinfo(
            &authorization,
            Some(key.proof(&site.tp, "GET", "/userinfo", Some(&access), Some("forged"))),
        )
        .await;
    assert_eq!(forged.status, 401);
    let info = site
        .userinfo(
            &authorization,
            Some(key.proof(&site.tp, "GET", "/userinfo", Some(&access), Some(&nonce))),
        )
        .await;
    assert_eq!(info.status, 200, "{}", info.body);
    site.tp.stop().await;
}

on_both_databases!(
    with_nonces_required_a_proof_without_the_server_nonce_is_refused_and_one_with_it_accepted,
    nonces
);

/// openid-client 6 for Node.js (OpenID Certified, with DPoP) as the site, with server nonces on:
/// the library's own proofs, its retry with the nonce, its DPoP-scheme userinfo call.
async fn node_site(db: Db) {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

    let dir = super::node_rp::node_rp();
    let mut tp = TestProvider::start_with(db, &[("MYKEY_DPOP_NONCE_REQUIRED", "true")]).await;
    let spec = ClientSpec {
        dpop_bound_access_tokens: Some(true),
        ..site_spec()
    };
    let (id, secret) = tp.register(spec).await;
    let card = tp.issue_card("中村　七海");
    let mut rp = tokio::process::Command::new("node")
        .arg(dir.join("dpop.mjs"))
        .args([
            tp.issuer.as_str(),
            &id,
            &secret,
            "http://127.0.0.1:9/callback",
        ])
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
    let authorize = text(&next().await["authorize"]).to_owned();
    let back = log_in(&Browser::new(), &tp, &authorize, &card).await;
    stdin
        .write_all(format!("{back}\n").as_bytes())
        .await
        .expect("callback to the RP");
    let seen = next().await;
    assert!(rp.wait().await.expect("node").success());

    let sub = text(&seen["sub"]).to_owned();
    assert_eq!(
        seen["token_type"].as_str().map(str::to_lowercase),
        Some("dpop".into())
    );
    assert_eq!(seen["userinfo"]["sub"], sub.as_str());
    assert_eq!(seen["introspected"]["token_type"], "DPoP");
    assert!(seen["introspected"]["cnf"]["jkt"].is_string());
    assert_eq!(seen["as_bearer"], "invalid_token");
    assert_eq!(seen["with_other_key"], "invalid_dpop_proof");
    assert_eq!(seen["refresh_with_other_key"], "invalid_dpop_proof");
    assert_eq!(
        seen["refreshed_token_type"].as_str().map(str::to_lowercase),
        Some("dpop".into())
    );
    assert_eq!(seen["refreshed_userinfo"]["sub"], sub.as_str());
    tp.stop().await;
}

on_both_databases!(
    a_node_js_site_on_openid_client_gets_dpop_bound_tokens_through_server_nonces,
    node_site
);
