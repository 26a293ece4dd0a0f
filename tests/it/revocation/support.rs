//! A relying party's back-channel logout endpoint (a real HTTP server) and the checks an RP
//! makes on a logout token.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::JsonWebKey as _;

pub const UP: u8 = 0;
pub const DOWN: u8 = 1;
pub const SLOW: u8 = 2;
/// Holds the request 3 s, then refuses it: a stalled delivery never counts as received, even
/// when its sender died meanwhile.
pub const STALL: u8 = 3;

/// Receives logout tokens; can answer 503 (down) or too slowly (slow).
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub tokens: Arc<Mutex<Vec<String>>>,
    pub attempts: Arc<Mutex<usize>>,
    pub mode: Arc<AtomicU8>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://127.0.0.1:{}/backchannel",
            listener.local_addr().expect("addr").port()
        );
        let r = Receiver {
            url,
            tokens: Arc::default(),
            attempts: Arc::default(),
            mode: Arc::new(AtomicU8::new(UP)),
        };
        let state = r.clone();
        let server = HttpServer::new(move || {
            let state = state.clone();
            App::new().route(
                "/backchannel",
                web::post().to(move |req: actix_web::HttpRequest, body: web::Bytes| {
                    let state = state.clone();
                    async move {
                        *state.attempts.lock().expect("lock") += 1;
                        match state.mode.load(Ordering::SeqCst) {
                            DOWN => return HttpResponse::ServiceUnavailable().finish(),
                            SLOW => tokio::time::sleep(Duration::from_secs(3)).await,
                            STALL => {
                                tokio::time::sleep(Duration::from_secs(3)).await;
                                return HttpResponse::ServiceUnavailable().finish();
                            }
                            _ => {}
                        }
                        let content_type = req
                            .headers()
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        // Back-channel logout: a form field; RFC 8935 push: the SET is the body.
                        let token = if content_type.starts_with("application/x-www-form-urlencoded")
                        {
                            url::form_urlencoded::parse(&body)
                                .find(|(k, _)| k == "logout_token")
                                .map(|(_, v)| v.into_owned())
                        } else if content_type == "application/secevent+jwt" {
                            String::from_utf8(body.to_vec()).ok()
                        } else {
                            None
                        };
                        match token {
                            Some(t) => {
                                state.tokens.lock().expect("lock").push(t);
                                HttpResponse::Accepted().finish()
                            }
                            None => HttpResponse::BadRequest().finish(),
                        }
                    }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        r
    }

    pub fn set_mode(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    pub fn tokens(&self) -> Vec<String> {
        self.tokens.lock().expect("lock").clone()
    }

    /// Waits (with a deadline) until `n` tokens arrived.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.tokens();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} logout token(s), got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Verifies a JWS against the provider's JWKS with the openidconnect crate's JWK code and
/// returns its claims.
pub async fn verify_signed(issuer: &str, token: &str) -> serde_json::Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "compact JWS");
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("header");
    let jwks: CoreJsonWebKeySet = reqwest::get(format!("{issuer}/jwks.json"))
        .await
        .expect("jwks")
        .json()
        .await
        .expect("jwks json");
    let kid = header["kid"].as_str().expect("kid");
    let key = jwks
        .keys()
        .iter()
        .find(|k| k.key_id().map(|id| id.as_str()) == Some(kid))
        .expect("signing key published");
    let alg = match header["alg"].as_str() {
        Some("RS256") => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some("ES256") => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        other => panic!("unexpected alg {other:?}"),
    };
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("sig");
    key.verify_signature(
        &alg,
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &signature,
    )
    .expect("the signature verifies against the JWKS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("claims")
}

/// Validates a logout token as Back-Channel Logout 1.0 §2.6 tells an RP to, with the
/// openidconnect crate's JWK code for the signature. Returns the claims.
pub async fn validate_logout_token(
    issuer: &str,
    client_id: &str,
    token: &str,
) -> serde_json::Value {
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("header");
    assert_eq!(header["typ"], "logout+jwt");
    let claims = verify_signed(issuer, token).await;
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["aud"], client_id);
    let (iat, exp) = (
        claims["iat"].as_i64().expect("iat"),
        claims["exp"].as_i64().expect("exp"),
    );
    assert!(exp > iat && exp - iat <= 600, "short-lived");
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(
        claims.get("nonce").is_none(),
        "a logout token never has a nonce"
    );
    claims
}
