//! OpenID Shared Signals Framework 1.0 transmitter: one event stream per client (SSF §8.1),
//! managed by the client itself with an `ssf` access token, carrying CAEP and SSF events as
//! Security Event Tokens (RFC 8417) pushed (RFC 8935) or polled (RFC 8936) through the outbox.

use serde::Deserialize;
use serde_json::{json, Value};

use super::Provider;
use crate::store::ssf::StreamRow;
use crate::store::StoreError;

pub mod events;
pub mod poll;
mod streams;
pub mod token;

use streams::own;
pub use streams::{create, delete, push_authorization, read, set_status, status, update, verify};

/// Delivery methods (SSF §7.1, RFC 8935 and RFC 8936).
pub const PUSH_URN: &str = "urn:ietf:rfc:8935";
pub const POLL_URN: &str = "urn:ietf:rfc:8936";
/// The version of SSF this transmitter implements (SSF §7.1 `spec_version`).
pub const SPEC_VERSION: &str = "1_0";

/// Path of the stream management endpoints.
pub const CONFIGURATION_PATH: &str = "/ssf/stream";
pub const STATUS_PATH: &str = "/ssf/status";
pub const VERIFICATION_PATH: &str = "/ssf/verify";
/// The poll endpoint of a stream is this path followed by the stream id.
pub const POLL_PATH: &str = "/ssf/poll";

pub const ENABLED: &str = "enabled";
pub const PAUSED: &str = "paused";
pub const DISABLED: &str = "disabled";
/// Seconds a receiver waits between verification requests (SSF §8.1.1
/// `min_verification_interval`); sooner is 429.
pub const MIN_VERIFICATION_INTERVAL: i64 = 10;

/// Why a stream management request is refused, with the status SSF §8.1 names.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SsfError {
    /// 400: the request is malformed or asks for something not supported.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid `ssf` access token.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 403: a valid token of a client not allowed to use Shared Signals.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 404: no such stream for this receiver (another receiver's stream is not shown).
    #[error("the stream is not found")]
    NotFound,
    /// 409: the receiver already has its stream (one per receiver).
    #[error("{0}")]
    Conflict(&'static str),
    /// 429: a verification asked for sooner than `min_verification_interval` allows.
    #[error("verification was asked for less than {MIN_VERIFICATION_INTERVAL} s ago")]
    TooSoon { retry_after: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

/// The receiver-supplied delivery of a stream (SSF §8.1.1).
#[derive(Debug, Clone, Deserialize)]
pub struct DeliveryIn {
    pub method: String,
    #[serde(default)]
    pub endpoint_url: Option<String>,
    #[serde(default)]
    pub authorization_header: Option<String>,
}

/// A stream configuration as a receiver sends it; transmitter-supplied members are ignored
/// (SSF §8.1.1.1).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamRequest {
    #[serde(default)]
    pub stream_id: Option<String>,
    #[serde(default)]
    pub delivery: Option<DeliveryIn>,
    #[serde(default)]
    pub events_requested: Option<Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `POST` to the status endpoint (SSF §8.1.2.2).
#[derive(Debug, Clone, Deserialize)]
pub struct StatusRequest {
    pub stream_id: String,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST` to the verification endpoint (SSF §8.1.4.2).
#[derive(Debug, Clone, Deserialize)]
pub struct VerifyRequest {
    pub stream_id: String,
    #[serde(default)]
    pub state: Option<String>,
}

/// The configuration document of the transmitter (SSF §7.1).
pub fn configuration_document(issuer: &str) -> Value {
    json!({
        "spec_version": SPEC_VERSION,
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/jwks.json"),
        "delivery_methods_supported": [PUSH_URN, POLL_URN],
        "configuration_endpoint": format!("{issuer}{CONFIGURATION_PATH}"),
        "status_endpoint": format!("{issuer}{STATUS_PATH}"),
        "verification_endpoint": format!("{issuer}{VERIFICATION_PATH}"),
        "authorization_schemes": [{ "spec_urn": "urn:ietf:rfc:6749" }],
        "default_subjects": "ALL",
    })
}

/// The configuration of a stream as the receiver sees it (SSF §8.1.1). The authorization
/// header is the receiver's secret and is not echoed.
pub fn stream_json(p: &Provider, s: &StreamRow) -> Value {
    let issuer = p.settings.issuer_str();
    let (method, endpoint) = if s.delivery_method == "poll" {
        (POLL_URN, format!("{issuer}{POLL_PATH}/{}", s.id))
    } else {
        (PUSH_URN, s.endpoint_url.clone().unwrap_or_default())
    };
    let requested: Vec<String> = serde_json::from_str(&s.events_requested).unwrap_or_default();
    let mut v = json!({
        "stream_id": s.id,
        "iss": issuer,
        "aud": s.client_id,
        "delivery": { "method": method, "endpoint_url": endpoint },
        "events_supported": events::SUPPORTED,
        "events_requested": requested,
        "events_delivered": s.delivered(),
        "min_verification_interval": MIN_VERIFICATION_INTERVAL,
    });
    if let Some(d) = &s.description {
        v["description"] = json!(d);
    }
    v
}
