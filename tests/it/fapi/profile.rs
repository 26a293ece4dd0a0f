//! The `fapi2` client profile (FAPI 2.0 Security Profile §5): what registration refuses, what
//! `/authorize` refuses, and a whole login through PAR with private_key_jwt and PKCE.

use std::time::Duration;

use mykey_connect::admin::{AdminError, Principal};
use openidconnect::core::{CoreErrorResponseType, CoreJwsSigningAlgorithm};
use openidconnect::{
    AsyncHttpClient as _, AuthorizationCode, OAuth2TokenResponse as _, PkceCodeVerifier,
    RequestTokenError, TokenResponse,
};

use crate::provider::browser::{log_in, query, Browser};
use crate::provider::support::{web_client, Db, TestProvider};

use super::support::{assertion_rp, authorize_url, push, url_pairs, BankKey, DpopKey};

async fn refused_fields(
    tp: &TestProvider,
    spec: &mykey_connect::provider::clients::ClientSpec,
) -> Vec<(String, String)> {
    match mykey_connect::admin::clients::create(&tp.provider, &Principal::cli(), spec).await {
        Err(AdminError::Fields(fields)) => fields
            .into_iter()
            .map(|f| (f.field.to_owned(), f.message))
            .collect(),
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("a fapi2 client was registered against the profile"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_refuses_a_fapi2_client_with_a_client_secret_or_rs256_id_tokens() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let bank = BankKey::new();

    let mut secret = web_client("Bank", "127.0.0.1:9");
    secret.profile = Some("fapi2".into());
    secret.auth_method = Some("client_secret_basic".into());
    secret.id_token_alg = Some("PS256".into());
    let fields = refused_fields(&tp, &secret).await;
    assert!(
        fields
            .iter()
            .any(|(f, m)| f == "auth_method" && m.contains("private_key_jwt")),
        "{fields:?}"
    );

    let mut rs256 = bank.fapi2_client("Bank");
    rs256.id_token_alg = Some("RS256".into());
    let fields = refused_fields(&tp, &rs256).await;
    assert_eq!(fields.len(), 1, "{fields:?}");
    assert_eq!(fields[0].0, "id_token_alg");

    let mut unknown = bank.fapi2_client("Bank");
    unknown.profile = Some("fapi3".into());
    let fields = refused_fields(&tp, &unknown).await;
    assert!(fields.iter().any(|(f, _)| f == "profile"), "{fields:?}");

    // ES256 and PS256 are both allowed; without an alg a fapi2 client gets PS256.
    let mut es256 = bank.fapi2_client("Bank ES");
    es256.id_token_alg = Some("ES256".into());
    tp.register(es256).await;
    let mut default = bank.fapi2_client("Bank default");
    default.id_token_alg = None;
    default.auth_method = None;
    let (id, secret) = tp.register(default).await;
    assert!(secret.is_empty(), "a fapi2 client has no secret");
    let (client, _) = mykey_connect::admin::clients::load(&tp.provider, &id)
        .await
        .expect("load")
        .expect("registered");
    assert_eq!(client.id_token_alg.as_str(), "PS256");
    assert_eq!(client.auth_method.as_str(), "private_key_jwt");
    assert!(client.requires_pushed_requests() && client.requires_dpop());
    tp.stop().await;
}

async fn fapi2_login(db: Db) {
    let mut tp = TestProvider::start_with(db, &[("MYKEY_CODE_TTL", "300")]).await;
    let bank = BankKey::new();
    let (id, _) = tp.register(bank.fapi2_client("Bank")).await;
    let rp = assertion_rp(&tp, &id).await;
    let card = tp.issue_card("伊藤　三郎");

    // Without PAR the request never reaches the login page.
    let page = Browser::new().get(&rp.authorize(&[]).url).await;
    assert_eq!(page.status, 400);
    assert!(page.location.is_none());
    assert!(
        page.body.contains("must push its authorization requests"),
        "{}",
        page.body
    );

    // A client secret is no way in at /par either.
    let pending = rp.authorize(&[]);
    let (status, body) = push(&tp, Some((&id, "guess")), &url_pairs(&pending.url)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // private_key_jwt with the issuer as audience (FAPI 2.0 §5.3.2.1), PKCE S256 from the library.
    let mut form = url_pairs(&pending.url);
    form.extend(bank.auth_fields(&tp, &id, &tp.issuer));
    let (status, pushed) = push(&tp, None, &form).await;
    assert_eq!(status, 201, "{pushed}");
    let browser = Browser::new();
    let url = authorize_url(&tp, &id, pushed["request_uri"].as_str().expect("uri"));
    let back = log_in(&browser, &tp, &url, &card).await;
    let params = query(&back);
    assert_eq!(params["iss"], tp.issuer, "RFC 9207 iss in the response");
    assert_eq!(params["state"], pending.state);

    // The library's HTTP client with a DPoP proof on each request (RFC 9449 §5).
    let dpop = DpopKey::new();
    let with_proof = |mut request: openidconnect::HttpRequest| {
        let proof = dpop.proof(&tp, "/token");
        let http = rp.http.clone();
        async move {
            request
                .headers_mut()
                .insert("dpop", proof.parse().expect("header value"));
            http.call(request).await
        }
    };
    let exchange = |code: &str, verifier: &str, aud: &str| {
        let [(_, assertion_type), (_, assertion)] = bank.auth_fields(&tp, &id, aud);
        rp.client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .expect("token endpoint")
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .add_extra_param("client_assertion_type", assertion_type)
            .add_extra_param("client_assertion", assertion)
    };
    let verifier = pending.verifier.secret().clone();
    // FAPI 2.0 §5.3.2.1: sender-constrained tokens; without a proof the code is not taken.
    match exchange(&params["code"], &verifier, &tp.issuer)
        .request_async(&rp.http)
        .await
        .expect_err("no DPoP proof, no tokens")
    {
        RequestTokenError::ServerResponse(answer) => {
            assert_eq!(answer.error().as_ref(), "invalid_dpop_proof", "{answer:?}")
        }
        other => panic!("{other:?}"),
    }
    let tokens = exchange(&params["code"], &verifier, &tp.issuer)
        .request_async(&with_proof)
        .await
        .expect("the openidconnect crate exchanges the code");
    // The library reads token_type case-insensitively (RFC 6749 §5.1) and keeps it lower-case.
    assert!(
        tokens.token_type().as_ref().eq_ignore_ascii_case("DPoP"),
        "a DPoP-bound access token: {:?}",
        tokens.token_type()
    );
    let verifier = rp
        .client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPssSha256]);
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&verifier, &pending.nonce)
        .expect("a PS256 ID token that verifies");
    assert_eq!(claims.issuer().as_str(), tp.issuer);

    // Codes of a fapi2 client live 60 s, whatever the provider's code_ttl (FAPI 2.0 §5.3.2.1).
    let late = rp.authorize(&[]);
    let mut form = url_pairs(&late.url);
    form.extend(bank.auth_fields(&tp, &id, &tp.url("/par")));
    let (status, pushed) = push(&tp, None, &form).await;
    assert_eq!(
        status, 201,
        "the PAR endpoint's URL is an audience too: {pushed}"
    );
    let url = authorize_url(&tp, &id, pushed["request_uri"].as_str().expect("uri"));
    let back = log_in(&browser, &tp, &url, &card).await;
    let code = query(&back)["code"].clone();
    tp.clock.advance(Duration::from_secs(61));
    let refused = exchange(&code, late.verifier.secret(), &tp.url("/token"))
        .request_async(&with_proof)
        .await;
    match refused.expect_err("a 61-second-old code is refused") {
        RequestTokenError::ServerResponse(answer) => {
            assert_eq!(
                *answer.error(),
                CoreErrorResponseType::InvalidGrant,
                "{answer:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    tp.stop().await;
}

on_both_databases!(
    a_fapi2_client_logs_in_through_par_with_private_key_jwt_pkce_and_dpop_and_gets_ps256_id_tokens,
    fapi2_login
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_turns_fapi2_on_in_the_console_and_is_told_what_the_profile_refuses() {
    use crate::admin::support::{Ops, ADMIN, PASSWORD};
    let ops = Ops::start(Db::Sqlite).await;
    let bank = BankKey::new();
    let jwks = serde_json::json!({ "keys": [bank.key.public_jwk()] }).to_string();
    let c = ops.console();
    c.login(ADMIN, PASSWORD, None).await;
    let form = c.get("/admin/clients/new").await;
    for field in [
        "id=\"id_token_alg\"",
        "id=\"profile\"",
        "id=\"require_pushed_authorization_requests\"",
    ] {
        assert!(form.body.contains(field), "{field} in the form");
    }
    let fields = |alg: &'static str| {
        vec![
            ("name", "Bank"),
            ("redirect_uris", "http://127.0.0.1:7/cb"),
            ("scopes", "openid"),
            ("auth_method", "private_key_jwt"),
            ("id_token_alg", alg),
            ("profile", "fapi2"),
        ]
    };
    let mut rs256 = fields("RS256");
    rs256.push(("jwks", &jwks));
    let refused = c.post("/admin/clients", &rs256).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("PS256 or ES256"), "{}", refused.body);

    let mut ps256 = fields("PS256");
    ps256.push(("jwks", &jwks));
    let created = c.post("/admin/clients", &ps256).await;
    assert_eq!(created.status, 303, "no secret to show: {}", created.body);
    assert!(created
        .location
        .as_deref()
        .is_some_and(|l| l.starts_with("/admin/clients/")));
    let clients = mykey_connect::admin::clients::list(&ops.tp.provider, Some("Bank"))
        .await
        .expect("list");
    let client = &clients[0];
    assert_eq!(client.profile.as_str(), "fapi2");
    assert_eq!(client.id_token_alg.as_str(), "PS256");
    assert!(client.requires_pushed_requests());
    let edit = c
        .get(&format!("/admin/clients/{}", client.id.as_str()))
        .await;
    assert!(
        edit.body.contains("<option value=\"fapi2\" selected>"),
        "the edit form keeps the profile"
    );
    assert!(edit.body.contains("<option value=\"PS256\" selected>"));
    ops.tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_registers_a_fapi2_client_and_refuses_one_with_a_secret() {
    let tp = TestProvider::start(Db::Sqlite).await;
    let bank = BankKey::new();
    let jwks = tp.dir.path().join("bank-jwks.json");
    std::fs::write(
        &jwks,
        serde_json::json!({ "keys": [bank.key.public_jwk()] }).to_string(),
    )
    .expect("write JWKS");
    let run = |args: &[&str]| {
        let out = crate::provider::support::command(&tp)
            .args(args)
            .output()
            .expect("run mykey-connect");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let base = [
        "client",
        "add",
        "--name",
        "Bank",
        "--redirect-uri",
        "http://127.0.0.1:9/callback",
        "--profile",
        "fapi2",
    ];
    let (ok, _, err) = run(&[&base[..], &["--auth-method", "client_secret_basic"]].concat());
    assert!(!ok, "a fapi2 client with a secret is refused");
    assert!(err.contains("private_key_jwt"), "{err}");

    let jwks = jwks.display().to_string();
    let (ok, out, err) = run(&[&base[..], &["--jwks-file", &jwks, "--json"]].concat());
    assert!(ok, "{err}");
    let shown: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(shown["spec"]["profile"], "fapi2");
    assert_eq!(shown["spec"]["auth_method"], "private_key_jwt");
    assert_eq!(shown["spec"]["id_token_alg"], "PS256");
    assert!(shown.get("client_secret").is_none());
    let id = shown["client_id"].as_str().expect("id");
    let (ok, out, err) = run(&[
        "client",
        "update",
        id,
        "--require-pushed-authorization-requests",
        "true",
        "--id-token-alg",
        "ES256",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("profile:       fapi2"), "{out}");
    tp.stop().await;
}
