//! The relying parties' back-channel logout endpoints of S9: a small HTTP/1.1 server on
//! loopback. `POST /logout/<n>` (client `n`) with `logout_token=…` is answered 200 at once; the
//! arrival time of every token is kept, each is checked (form, claims, a `sid` the client was
//! given) on arrival and its signature afterwards (`Receiver::verify_signatures`).

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::jwt::{self, Jwks};
use crate::stats::Tally;

/// What arrived, guarded by one lock (the load generator runs on one thread).
#[derive(Default)]
struct Inner {
    /// `sid` → index of the client it was issued to; filled after seeding.
    expected: HashMap<String, usize>,
    /// First arrival of each expected `sid`.
    arrivals: Vec<Instant>,
    seen: HashSet<String>,
    duplicates: u64,
    /// Every well-formed token with its client, for the signature check afterwards.
    tokens: Vec<String>,
    /// Malformed tokens, unknown `sid`s, wrong paths (`Tally` groups the messages).
    errors: Tally,
}

pub struct Receiver {
    issuer: String,
    client_ids: Vec<String>,
    inner: Mutex<Inner>,
    /// Signalled once every expected `sid` has arrived.
    complete: Notify,
}

/// The receiver's observations after the window.
pub struct Received {
    /// First arrival of each distinct expected `sid`, in arrival order.
    pub arrivals: Vec<Instant>,
    pub duplicates: u64,
    pub errors: Tally,
}

impl Receiver {
    pub fn new(issuer: String, client_ids: Vec<String>) -> Arc<Receiver> {
        Arc::new(Receiver {
            issuer,
            client_ids,
            inner: Mutex::new(Inner::default()),
            complete: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The `sid`s each client holds (from the ID tokens of the seeding flows); before this,
    /// any logout token is unexpected and counts as an error.
    pub fn expect(&self, sids: HashMap<String, usize>) {
        self.lock().expected = sids;
    }

    /// Waits until every expected `sid` arrived, or `deadline`; true when complete.
    pub async fn wait_complete(&self, deadline: Instant) -> bool {
        loop {
            {
                let inner = self.lock();
                if !inner.expected.is_empty() && inner.seen.len() == inner.expected.len() {
                    return true;
                }
            }
            if tokio::time::timeout_at(deadline, self.complete.notified())
                .await
                .is_err()
            {
                return false;
            }
        }
    }

    /// Checks the signature of every token received against the provider's keys.
    pub fn verify_signatures(&self, jwks: &Jwks) {
        let mut inner = self.lock();
        let tokens = std::mem::take(&mut inner.tokens);
        for token in &tokens {
            if let Err(e) = jwks.verify(token) {
                inner.errors.error(&format!("logout token: {e:#}"));
            }
        }
        inner.tokens = tokens;
    }

    /// Ends the observation: what arrived, plus one error per expected `sid` that did not.
    pub fn finish(&self) -> Received {
        let mut inner = self.lock();
        let missing = inner.expected.len() - inner.seen.len();
        let mut errors = std::mem::take(&mut inner.errors);
        for _ in 0..missing {
            errors.error("no logout token arrived for a client session");
        }
        Received {
            arrivals: std::mem::take(&mut inner.arrivals),
            duplicates: inner.duplicates,
            errors,
        }
    }

    /// Records one request that arrived at `at`.
    fn record(&self, at: Instant, method: &Method, path: &str, body: &[u8]) -> StatusCode {
        let client = path
            .strip_prefix("/logout/")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n < self.client_ids.len());
        let mut inner = self.lock();
        let Some(client) = client.filter(|_| method == Method::POST) else {
            inner
                .errors
                .error(&format!("{method} {path:.40}: not a logout endpoint"));
            return StatusCode::NOT_FOUND;
        };
        let token = url::form_urlencoded::parse(body)
            .find(|(k, _)| k == "logout_token")
            .map(|(_, v)| v.into_owned());
        let Some(token) = token else {
            inner.errors.error("a POST without logout_token");
            return StatusCode::OK;
        };
        let sid = match jwt::check_logout_token(&token, &self.issuer, &self.client_ids[client]) {
            Ok(sid) => sid,
            Err(e) => {
                inner.errors.error(&format!("logout token: {e:#}"));
                return StatusCode::OK;
            }
        };
        inner.tokens.push(token);
        match inner.expected.get(&sid) {
            Some(c) if *c == client => {
                if inner.seen.insert(sid) {
                    inner.arrivals.push(at);
                    if inner.seen.len() == inner.expected.len() {
                        self.complete.notify_one();
                    }
                } else {
                    // Back-Channel Logout allows repeats (the RP drops them by jti/sid).
                    inner.duplicates += 1;
                }
            }
            Some(_) => inner.errors.error("a sid of another client"),
            None => inner.errors.error("a sid no seeded client session has"),
        }
        StatusCode::OK
    }
}

async fn handle(receiver: Arc<Receiver>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            receiver
                .lock()
                .errors
                .error(&format!("reading a body: {e}"));
            Bytes::new()
        }
    };
    let status = receiver.record(Instant::now(), &method, &path, &body);
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// Serves `listener` until the runtime ends; one task per connection (keep-alive).
pub async fn serve(listener: TcpListener, receiver: Arc<Receiver>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors or similar: retry shortly rather than stop.
                eprintln!("receiver: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let receiver = receiver.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let receiver = receiver.clone();
                async move { Ok::<_, Infallible>(handle(receiver, req).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
