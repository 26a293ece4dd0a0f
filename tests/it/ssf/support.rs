//! An SSF receiver: a push endpoint (a real HTTP server that can stall or refuse) and the
//! stream-management calls a receiver makes, with a token from the client credentials grant.

use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::provider::browser::Browser;
use crate::provider::rp::Rp;
use crate::provider::support::{web_client, TestProvider};
use crate::revocation::support::{verify_signed, Receiver};
use crate::revocation::termination::{login_at, Site};

pub const UP: u8 = 0;
/// Answers 503: the provider must try again.
pub const DOWN: u8 = 1;
/// Holds each request for 3 s, then refuses it: a delivery is under way, and never lands.
pub const STALL: u8 = 2;
/// Answers 400 with an RFC 8935 error.
pub const REFUSE: u8 = 3;

pub const PUSH: &str = "urn:ietf:rfc:8935";
pub const POLL: &str = "urn:ietf:rfc:8936";
pub const SESSION_REVOKED: &str =
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
pub const CREDENTIAL_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/credential-change";
pub const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";

/// What one push brought: the Authorization header and the SET.
#[derive(Clone, Debug)]
pub struct Push {
    pub authorization: Option<String>,
    pub set: String,
}

/// An RFC 8935 push endpoint.
#[derive(Clone)]
pub struct PushEndpoint {
    pub url: String,
    pub pushes: Arc<Mutex<Vec<Push>>>,
    pub attempts: Arc<Mutex<usize>>,
    pub mode: Arc<AtomicU8>,
}

impl PushEndpoint {
    pub fn start() -> PushEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://127.0.0.1:{}/events",
            listener.local_addr().expect("addr").port()
        );
        let r = PushEndpoint {
            url,
            pushes: Arc::default(),
            attempts: Arc::default(),
            mode: Arc::new(AtomicU8::new(UP)),
        };
        let state = r.clone();
        let server = HttpServer::new(move || {
            let state = state.clone();
            App::new().route(
                "/events",
                web::post().to(move |req: actix_web::HttpRequest, body: web::Bytes| {
                    let state = state.clone();
                    async move {
                        *state.attempts.lock().expect("lock") += 1;
                        match state.mode.load(Ordering::SeqCst) {
                            DOWN => return HttpResponse::ServiceUnavailable().finish(),
                            // A stalled request never counts as delivered, even if the
                            // sender is gone by the time it ends.
                            STALL => {
                                tokio::time::sleep(Duration::from_secs(3)).await;
                                return HttpResponse::ServiceUnavailable().finish();
                            }
                            REFUSE => {
                                return HttpResponse::BadRequest().json(json!({
                                    "err": "invalid_audience",
                                    "description": "not for us"
                                }))
                            }
                            _ => {}
                        }
                        let header = |name: &str| {
                            req.headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned)
                        };
                        if header("content-type").as_deref() != Some("application/secevent+jwt") {
                            return HttpResponse::BadRequest().finish();
                        }
                        state.pushes.lock().expect("lock").push(Push {
                            authorization: header("authorization"),
                            set: String::from_utf8(body.to_vec()).expect("utf-8"),
                        });
                        HttpResponse::Accepted().finish()
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

    pub fn pushes(&self) -> Vec<Push> {
        self.pushes.lock().expect("lock").clone()
    }

    pub fn attempts(&self) -> usize {
        *self.attempts.lock().expect("lock")
    }

    /// Waits (with a deadline) until `n` SETs arrived.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Push> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.pushes();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} SET(s), got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A site that may use Shared Signals: its RP (for logins) and its SSF receiver side.
pub struct SsfSite {
    pub site: Site,
    pub rx: ReceiverClient,
}

/// Registers a site allowed to use Shared Signals (redirect URI `http://{host}/callback`) and
/// gets its `ssf` token.
pub async fn ssf_site(tp: &TestProvider, name: &str, host: &str) -> SsfSite {
    let receiver = Receiver::start();
    let mut spec = web_client(name, host);
    spec.allow_shared_signals = Some(true);
    spec.backchannel_logout_uri = Some(receiver.url.clone());
    let (id, secret) = tp.register(spec).await;
    let rp = Rp::discover(tp, &id, &secret, &format!("http://{host}/callback")).await;
    let rx = ReceiverClient::connect(&tp.issuer, &id, &secret).await;
    SsfSite {
        site: Site { rp, receiver },
        rx,
    }
}

impl SsfSite {
    /// Logs in at this site; returns the pairwise sub it saw.
    pub async fn log_in(&self, tp: &TestProvider, browser: &Browser, card: &Path) -> String {
        login_at(tp, browser, &self.site, card).await.1
    }
}

/// The calls an SSF receiver makes, found through the transmitter configuration.
pub struct ReceiverClient {
    pub http: reqwest::Client,
    pub config: Value,
    pub token: String,
    pub client_id: String,
}

/// Asks for an `ssf` token with the client credentials grant (RFC 6749 §4.4).
pub async fn client_credentials(issuer: &str, id: &str, secret: &str) -> (u16, Value) {
    let http = reqwest::Client::new();
    let discovery: Value = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    let response = http
        .post(
            discovery["token_endpoint"]
                .as_str()
                .expect("token endpoint"),
        )
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "ssf")])
        .send()
        .await
        .expect("token request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

impl ReceiverClient {
    pub async fn connect(issuer: &str, id: &str, secret: &str) -> ReceiverClient {
        let (status, token) = client_credentials(issuer, id, secret).await;
        assert_eq!(status, 200, "{token}");
        assert_eq!(token["token_type"], "Bearer");
        let http = reqwest::Client::new();
        let config: Value = http
            .get(format!("{issuer}/.well-known/ssf-configuration"))
            .send()
            .await
            .expect("ssf configuration")
            .json()
            .await
            .expect("json");
        ReceiverClient {
            http,
            config,
            token: token["access_token"].as_str().expect("token").to_owned(),
            client_id: id.to_owned(),
        }
    }

    pub fn endpoint(&self, name: &str) -> String {
        self.config[name].as_str().expect("endpoint").to_owned()
    }

    /// One call with this receiver's token; (status, JSON body or null).
    pub async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call_as(&self.token, method, url, body).await
    }

    pub async fn call_as(
        &self,
        token: &str,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, url).bearer_auth(token);
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.expect("ssf call");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates this receiver's stream; returns its configuration.
    pub async fn create_stream(&self, delivery: Value, events: &[&str]) -> Value {
        let (status, stream) = self
            .call(
                reqwest::Method::POST,
                &self.endpoint("configuration_endpoint"),
                Some(json!({ "delivery": delivery, "events_requested": events })),
            )
            .await;
        assert_eq!(status, 201, "{stream}");
        stream
    }

    /// One RFC 8936 poll.
    pub async fn poll(&self, stream: &Value, request: Value) -> Value {
        let url = stream["delivery"]["endpoint_url"]
            .as_str()
            .expect("poll url");
        let (status, body) = self.call(reqwest::Method::POST, url, Some(request)).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

/// Checks a SET as a receiver does (RFC 8417, SSF §4): signature against the provider's JWKS,
/// `typ`, issuer, audience; returns the claims.
pub async fn validate_set(issuer: &str, client_id: &str, set: &str) -> Value {
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(set.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("header");
    assert_eq!(header["typ"], "secevent+jwt");
    let claims = verify_signed(issuer, set).await;
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["aud"], client_id);
    assert!(
        claims.get("sub").is_none(),
        "SSF SETs carry sub_id, not sub"
    );
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    claims
}

/// The status and last error of the client's Security Event Token row in the outbox.
pub async fn outbox_row(tp: &TestProvider, client_id: &str) -> (String, Option<String>) {
    let id = client_id.to_owned();
    let rows = tp
        .provider
        .db
        .read(move |c| mykey_connect::store::outbox::of_client(c, &id, 10))
        .await
        .expect("outbox");
    let row = rows
        .into_iter()
        .find(|r| r.kind == "ssf_event")
        .expect("an ssf row");
    (row.status, row.last_error)
}
