//! Stream management for a receiver (SSF §8.1): its one stream created, read, changed and
//! deleted, its status, and verification events on request.

use serde_json::{json, Value};

use super::super::Provider;
use super::{
    events, stream_json, DeliveryIn, SsfError, StatusRequest, StreamRequest, VerifyRequest,
    DISABLED, ENABLED, MIN_VERIFICATION_INTERVAL, PAUSED, POLL_URN, PUSH_URN,
};
use crate::domain::secret::random_b64;
use crate::domain::Client;
use crate::store;
use crate::store::ssf::StreamRow;

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
            if !super::super::clients::is_https_or_loopback(url) || url.contains('#') {
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
pub(super) async fn own(p: &Provider, client: &Client, id: &str) -> Result<StreamRow, SsfError> {
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
            let (client, id, status) = (&insert.client_id, &insert.id, &insert.status);
            crate::audit::hooks::stream_changed(c, client, id, "created", status, now)?;
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
        store::ssf::settle(c, &write, now)?;
        let (client, id, status) = (&write.client_id, &write.id, &write.status);
        crate::audit::hooks::stream_changed(c, client, id, "updated", status, now)
    })
    .await?;
    p.deliveries.notify_one();
    Ok(stream_json(p, &row))
}

/// SSF §8.1.1.5: the stream and its waiting events are gone.
pub async fn delete(p: &Provider, client: &Client, id: &str) -> Result<(), SsfError> {
    let row = own(p, client, id).await?;
    let now = p.clock.unix();
    p.db.write(move |c| {
        store::ssf::delete(c, &row.id)?;
        crate::audit::hooks::stream_changed(c, &row.client_id, &row.id, "deleted", "", now)
    })
    .await?;
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
        store::ssf::settle(c, &write, now)?;
        let (client, id, status) = (&write.client_id, &write.id, &write.status);
        crate::audit::hooks::stream_changed(c, client, id, "status", status, now)
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
