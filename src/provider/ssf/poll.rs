//! Poll delivery (RFC 8936): the receiver acknowledges what it processed and takes what waits;
//! acknowledged events are deleted, the others stay until acknowledged.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use super::super::Provider;
use super::{own, SsfError};
use crate::domain::Client;
use crate::store;

/// Most events one poll returns, whatever it asks for.
const MAX_EVENTS: i64 = 500;
/// How long a poll with `returnImmediately: false` waits for an event (RFC 8936 §2.2).
const LONG_POLL: Duration = Duration::from_secs(10);
const LOOK_EVERY: Duration = Duration::from_millis(200);

/// RFC 8936 §2.4 `setErrs` member.
#[derive(Debug, Clone, Deserialize)]
pub struct SetError {
    pub err: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// A poll request (RFC 8936 §2.2–2.4).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PollRequest {
    #[serde(default)]
    pub ack: Vec<String>,
    #[serde(default, rename = "setErrs")]
    pub set_errs: BTreeMap<String, SetError>,
    #[serde(default, rename = "maxEvents")]
    pub max_events: Option<i64>,
    #[serde(default, rename = "returnImmediately")]
    pub return_immediately: Option<bool>,
}

/// Answers one poll of a stream of this client.
pub async fn poll(
    p: &Provider,
    client: &Client,
    stream_id: &str,
    req: PollRequest,
) -> Result<Value, SsfError> {
    let stream = own(p, client, stream_id).await?;
    if stream.delivery_method != "poll" {
        return Err(SsfError::BadRequest(
            "this stream is delivered by push".into(),
        ));
    }
    if req.max_events.is_some_and(|n| n < 0) {
        return Err(SsfError::BadRequest(
            "maxEvents must not be negative".into(),
        ));
    }
    let (id, ack, errs) = (stream.id.clone(), req.ack, req.set_errs);
    p.db.write(move |c| {
        store::ssf::acknowledge(c, &id, &ack)?;
        for (jti, e) in &errs {
            let reason = match &e.description {
                Some(d) => format!("{}: {d}", e.err),
                None => e.err.clone(),
            };
            store::ssf::reject(c, &id, jti, &reason)?;
        }
        Ok(())
    })
    .await?;
    let max = req.max_events.unwrap_or(MAX_EVENTS).min(MAX_EVENTS);
    if max == 0 {
        // RFC 8936 §2.4: acknowledgement only.
        return Ok(json!({ "sets": {}, "moreAvailable": false }));
    }
    let wait = !req.return_immediately.unwrap_or(true);
    let deadline = tokio::time::Instant::now() + LONG_POLL;
    let rows = loop {
        let id = stream.id.clone();
        let rows = p.db.read(move |c| store::ssf::waiting(c, &id, max)).await?;
        if !rows.is_empty() || !wait || tokio::time::Instant::now() >= deadline {
            break rows;
        }
        tokio::time::sleep(LOOK_EVERY).await;
    };
    let id = stream.id.clone();
    let waiting =
        p.db.read(move |c| store::ssf::waiting_count(c, &id))
            .await?;
    let mut sets = serde_json::Map::new();
    for row in &rows {
        let token = super::events::set_token(p, row, client)
            .map_err(|e| SsfError::Internal(e.to_string()))?;
        sets.insert(row.jti.clone(), Value::String(token));
    }
    Ok(json!({ "sets": sets, "moreAvailable": waiting > rows.len() as i64 }))
}
