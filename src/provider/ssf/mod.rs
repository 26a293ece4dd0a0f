//! OpenID Shared Signals Framework 1.0 transmitter: one event stream per client (SSF §8.1),
//! managed by the client itself with an `ssf` access token, carrying CAEP and SSF events as
//! Security Event Tokens (RFC 8417) pushed (RFC 8935) or polled (RFC 8936) through the outbox.

use serde::Deserialize;
use serde_json::{json, Value};

use super::Provider;
use crate::domain::secret::random_b64;
use crate::domain::Client;
use crate::store::ssf::StreamRow;
use crate::store::{self, StoreError};

pub mod events;
pub mod poll;
pub mod token;

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

/// Checks a receiver-supplied delivery: (method, endpoint, authorization header).
fn delivery_of(
    d: Option<&DeliveryIn>,
) -> Result<(&'static str, Option<String>, Option<String>), SsfError> {
    let Some(d) = d else {
        // SSF §8.1.1: without a delivery the transmitter chooses; poll needs nothing more.
        return Ok(("poll", None, None));
    };
    match d.method.as_str() {
        PUSH_URN => {
            let url = d
                .endpoint_url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| {
                    SsfError::BadRequest("push delivery needs an endpoint_url".into())
                })?;
            if !super::clients::is_https_or_loopback(url) || url.contains('#') {
                return Err(SsfError::BadRequest(
                    "endpoint_url must be an https URL without fragment".into(),
                ));
            }
            let auth = d.authorization_header.clone().filter(|h| !h.is_empty());
            if auth.as_deref().is_some_and(|h| h.contains(['\r', '\n'])) {
                return Err(SsfError::BadRequest(
                    "authorization_header must be one header value".into(),
                ));
            }
            Ok(("push", Some(url.to_owned()), auth))
        }
        // RFC 8936: the transmitter supplies the poll endpoint.
        POLL_URN if d.endpoint_url.is_some() => Err(SsfError::BadRequest(
            "the poll endpoint_url is supplied by the transmitter".into(),
        )),
        POLL_URN => Ok(("poll", None, None)),
        _ => Err(SsfError::BadRequest(format!(
            "delivery method must be {PUSH_URN} or {POLL_URN}"
        ))),
    }
}

/// Applies the receiver-supplied members of `req` to `row`; with `replace`, absent ones reset.
/// The push authorization header is the receiver's credential: sealed under the
/// key-encryption key (bound to the stream id), opened only to push.
fn apply(
    p: &Provider,
    row: &mut StreamRow,
    req: &StreamRequest,
    replace: bool,
) -> Result<(), SsfError> {
    if req.delivery.is_some() || replace {
        let (method, url, auth) = delivery_of(req.delivery.as_ref())?;
        row.delivery_method = method.to_owned();
        row.endpoint_url = url;
        row.authorization_header = auth
            .map(|h| {
                p.kek
                    .seal(&row.id, h.as_bytes(), &aws_lc_rs::rand::SystemRandom::new())
                    .map_err(|e| SsfError::Internal(e.to_string()))
            })
            .transpose()?;
    }
    if req.events_requested.is_some() || replace {
        let requested = req.events_requested.clone().unwrap_or_default();
        // SSF §8.1.1: events_delivered is the intersection of requested and supported.
        let delivered: Vec<&str> = events::SUPPORTED
            .iter()
            .copied()
            .filter(|e| requested.iter().any(|r| r == e))
            .collect();
        row.events_requested = json!(requested).to_string();
        row.events_delivered = json!(delivered).to_string();
    }
    if req.description.is_some() || replace {
        row.description = req.description.clone();
    }
    Ok(())
}

/// A stream of this client, or 404 (another receiver's stream is not revealed).
async fn own(p: &Provider, client: &Client, id: &str) -> Result<StreamRow, SsfError> {
    let id = id.to_owned();
    let row = p.db.read(move |c| store::ssf::get(c, &id)).await?;
    row.filter(|s| s.client_id == client.id.as_str())
        .ok_or(SsfError::NotFound)
}

/// SSF §8.1.1.1: creates the receiver's stream.
pub async fn create(p: &Provider, client: &Client, req: StreamRequest) -> Result<Value, SsfError> {
    let now = p.clock.unix();
    let mut row = StreamRow {
        id: random_b64(16),
        client_id: client.id.as_str().to_owned(),
        delivery_method: String::new(),
        endpoint_url: None,
        authorization_header: None,
        events_requested: "[]".into(),
        events_delivered: "[]".into(),
        description: None,
        status: ENABLED.into(),
        status_reason: None,
        verification_requested_at: None,
        created_at: now,
        updated_at: now,
    };
    apply(p, &mut row, &req, true)?;
    let insert = row.clone();
    let created =
        p.db.write(move |c| {
            if store::ssf::of_client(c, &insert.client_id)?.is_some() {
                return Ok(false);
            }
            store::ssf::insert(c, &insert)?;
            Ok(true)
        })
        .await?;
    if !created {
        return Err(SsfError::Conflict("this receiver already has a stream"));
    }
    Ok(stream_json(p, &row))
}

/// SSF §8.1.1.2: one stream, or all of the receiver's streams without `stream_id`.
pub async fn read(p: &Provider, client: &Client, id: Option<&str>) -> Result<Value, SsfError> {
    if let Some(id) = id {
        return Ok(stream_json(p, &own(p, client, id).await?));
    }
    let cid = client.id.as_str().to_owned();
    let row = p.db.read(move |c| store::ssf::of_client(c, &cid)).await?;
    Ok(Value::Array(
        row.iter().map(|s| stream_json(p, s)).collect(),
    ))
}

/// SSF §8.1.1.3 (PATCH, `replace` false) and §8.1.1.4 (PUT, `replace` true).
pub async fn update(
    p: &Provider,
    client: &Client,
    req: StreamRequest,
    replace: bool,
) -> Result<Value, SsfError> {
    let id = req
        .stream_id
        .clone()
        .ok_or_else(|| SsfError::BadRequest("stream_id is missing".into()))?;
    let mut row = own(p, client, &id).await?;
    apply(p, &mut row, &req, replace)?;
    let now = p.clock.unix();
    row.updated_at = now;
    let write = row.clone();
    // A changed delivery method moves what waits: pushed events become polled ones and back.
    p.db.write(move |c| {
        store::ssf::update(c, &write)?;
        store::ssf::settle(c, &write, now)
    })
    .await?;
    p.deliveries.notify_one();
    Ok(stream_json(p, &row))
}

/// SSF §8.1.1.5: the stream and its waiting events are gone.
pub async fn delete(p: &Provider, client: &Client, id: &str) -> Result<(), SsfError> {
    let row = own(p, client, id).await?;
    p.db.write(move |c| store::ssf::delete(c, &row.id)).await?;
    Ok(())
}

fn status_json(s: &StreamRow) -> Value {
    let mut v = json!({ "stream_id": s.id, "status": s.status });
    if let Some(r) = &s.status_reason {
        v["reason"] = json!(r);
    }
    v
}

/// SSF §8.1.2.1.
pub async fn status(p: &Provider, client: &Client, id: &str) -> Result<Value, SsfError> {
    Ok(status_json(&own(p, client, id).await?))
}

/// SSF §8.1.2.2: a paused stream holds its events, a disabled one drops them, an enabled one
/// sends what it held.
pub async fn set_status(
    p: &Provider,
    client: &Client,
    req: StatusRequest,
) -> Result<Value, SsfError> {
    if ![ENABLED, PAUSED, DISABLED].contains(&req.status.as_str()) {
        return Err(SsfError::BadRequest(
            "status must be enabled, paused or disabled".into(),
        ));
    }
    let mut row = own(p, client, &req.stream_id).await?;
    row.status = req.status;
    row.status_reason = req.reason.filter(|r| !r.is_empty());
    let now = p.clock.unix();
    row.updated_at = now;
    let write = row.clone();
    p.db.write(move |c| {
        store::ssf::update(c, &write)?;
        store::ssf::settle(c, &write, now)
    })
    .await?;
    p.deliveries.notify_one();
    Ok(status_json(&row))
}

/// SSF §8.1.4.2: queues a verification event carrying the receiver's `state`, at most once per
/// `min_verification_interval`.
pub async fn verify(p: &Provider, client: &Client, req: VerifyRequest) -> Result<(), SsfError> {
    let row = own(p, client, &req.stream_id).await?;
    if row.status == DISABLED {
        return Err(SsfError::Conflict("the stream is disabled"));
    }
    let now = p.clock.unix();
    let state = req.state;
    // Checked and recorded in one write transaction, so two requests at once do not both pass.
    let last =
        p.db.write(move |c| {
            let Some(mut row) = store::ssf::get(c, &row.id)? else {
                return Ok(None);
            };
            let last = row.verification_requested_at;
            if last.is_some_and(|t| now - t < MIN_VERIFICATION_INTERVAL) {
                return Ok(last);
            }
            row.verification_requested_at = Some(now);
            store::ssf::update(c, &row)?;
            events::verification(c, &row, state.as_deref(), now)?;
            Ok(None)
        })
        .await?;
    if let Some(t) = last {
        return Err(SsfError::TooSoon {
            retry_after: MIN_VERIFICATION_INTERVAL - (now - t),
        });
    }
    p.deliveries.notify_one();
    Ok(())
}

/// The `Authorization` header value a push stream sends, opened.
pub fn push_authorization(p: &Provider, s: &StreamRow) -> Result<Option<String>, SsfError> {
    let Some(sealed) = &s.authorization_header else {
        return Ok(None);
    };
    let opened = p
        .kek
        .open(&s.id, sealed)
        .map_err(|e| SsfError::Internal(e.to_string()))?;
    String::from_utf8(opened.as_bytes().to_vec())
        .map(Some)
        .map_err(|e| SsfError::Internal(e.to_string()))
}
