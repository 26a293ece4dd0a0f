//! What a relying party does for PAR with any HTTP client: push the parameters its OIDC
//! library put in an authorization URL, then send the browser to `/authorize` with the
//! `request_uri` it got back.

use serde_json::Value;

use crate::provider::support::TestProvider;

/// The query parameters of `url`, in order.
pub fn url_pairs(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .expect("a URL")
        .query_pairs()
        .into_owned()
        .collect()
}

/// POSTs `form` to `/par` (with HTTP Basic when `basic` is given); the status and JSON body.
pub async fn push(
    tp: &TestProvider,
    basic: Option<(&str, &str)>,
    form: &[(String, String)],
) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(tp.url("/par")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let resp = req.send().await.expect("PAR request");
    let status = resp.status().as_u16();
    assert_eq!(
        resp.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "PAR answers are not cached"
    );
    (status, resp.json().await.expect("a JSON body"))
}

/// The authorization URL of a pushed request (RFC 9126 §4): only client_id and request_uri.
pub fn authorize_url(tp: &TestProvider, client_id: &str, request_uri: &str) -> String {
    let mut url = url::Url::parse(&tp.url("/authorize")).expect("URL");
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("request_uri", request_uri);
    url.to_string()
}

/// A bank's key for `private_key_jwt` and the registration of a `fapi2` client holding its
/// public half; the client's ID tokens are PS256.
pub struct BankKey {
    pub key: mykey_connect::jose::SigningKey,
}

impl BankKey {
    pub fn new() -> BankKey {
        use mykey_connect::jose::{Alg, SigningKey};
        let der = SigningKey::generate(Alg::ES256).expect("key");
        BankKey {
            key: SigningKey::from_pkcs8(Alg::ES256, der.as_bytes()).expect("key"),
        }
    }

    /// A `fapi2` registration with this key's public half as the client's JWKS.
    pub fn fapi2_client(&self, name: &str) -> mykey_connect::provider::clients::ClientSpec {
        let mut spec = crate::provider::support::web_client(name, "127.0.0.1:9");
        spec.profile = Some("fapi2".into());
        spec.auth_method = Some("private_key_jwt".into());
        spec.id_token_alg = Some("PS256".into());
        spec.jwks = Some(serde_json::json!({ "keys": [self.key.public_jwk()] }).to_string());
        spec
    }

    /// A client assertion (RFC 7523) for `client_id` with `aud` as given, fresh `jti`.
    pub fn assertion(&self, tp: &TestProvider, client_id: &str, aud: &str) -> String {
        let now = tp.clock.unix();
        mykey_connect::jose::sign(
            &self.key,
            None,
            &serde_json::json!({
                "iss": client_id, "sub": client_id, "aud": aud,
                "jti": mykey_connect::domain::secret::random_b64(16),
                "iat": now, "exp": now + 60,
            }),
        )
        .expect("sign")
    }

    /// The form fields of `private_key_jwt` authentication.
    pub fn auth_fields(
        &self,
        tp: &TestProvider,
        client_id: &str,
        aud: &str,
    ) -> [(String, String); 2] {
        [
            (
                "client_assertion_type".to_owned(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            (
                "client_assertion".to_owned(),
                self.assertion(tp, client_id, aud),
            ),
        ]
    }
}

/// The `openidconnect` crate configured by discovery for a client without a secret: it sends
/// its `client_id` in the body, and the caller adds a client assertion.
pub async fn assertion_rp(tp: &TestProvider, client_id: &str) -> crate::provider::rp::Rp {
    use openidconnect::core::{CoreClient, CoreProviderMetadata};
    use openidconnect::{
        AuthType, ClientId, IntrospectionUrl, IssuerUrl, RedirectUrl, RevocationUrl,
    };
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(tp.issuer.clone()).expect("issuer"),
        &http,
    )
    .await
    .expect("discovery");
    let redirect = "http://127.0.0.1:9/callback";
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(client_id.to_owned()), None)
            .set_auth_type(AuthType::RequestBody)
            .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).expect("redirect"))
            .set_introspection_url(IntrospectionUrl::new(tp.url("/introspect")).expect("url"))
            .set_revocation_url(RevocationUrl::new(tp.url("/revoke")).expect("url"));
    crate::provider::rp::Rp {
        client,
        http,
        client_id: client_id.to_owned(),
        secret: String::new(),
        redirect: redirect.to_owned(),
    }
}

/// A bank's DPoP key (RFC 9449 §4.2): a P-256 key whose public JWK goes in each proof.
pub struct DpopKey {
    pair: aws_lc_rs::signature::EcdsaKeyPair,
    jwk: Value,
}

impl DpopKey {
    pub fn new() -> DpopKey {
        use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .expect("P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .expect("parses");
        let point = pair.public_key().as_ref().to_vec();
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        DpopKey { pair, jwk }
    }

    /// A proof for `POST` to `path` of the provider (`typ: dpop+jwt`, the public key in the
    /// header), as openid-client or any DPoP library makes it.
    pub fn proof(&self, tp: &TestProvider, path: &str) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let claims = serde_json::json!({
            "jti": mykey_connect::domain::secret::random_b64(16),
            "htm": "POST",
            "htu": tp.url(path),
            "iat": tp.clock.unix(),
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .pair
            .sign(&aws_lc_rs::rand::SystemRandom::new(), input.as_bytes())
            .expect("signs");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}
