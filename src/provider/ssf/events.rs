//! Security Event Tokens of streams: queued in the transaction that causes them (only the
//! events a stream asked for), signed when delivered or polled with the client's ID-token key,
//! the subject as that receiver's pairwise `iss_sub` (SSF §3, RFC 9493).

use std::collections::HashSet;

use serde_json::{json, Value};

use super::super::{grants, Provider, ProviderError};
use super::{DISABLED, PAUSED};
use crate::domain::{Client, MyKeyId};
use crate::store::outbox::{OutboxRow, HELD, PENDING, POLL, SSF_EVENT};
use crate::store::sessions::ClientSessionRow;
use crate::store::ssf::StreamRow;
use crate::store::{self, DbConn};

/// CAEP 1.0 §3.1.
pub const SESSION_REVOKED: &str =
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
/// CAEP 1.0 §3.3.
pub const CREDENTIAL_CHANGE: &str = super::super::identity::CREDENTIAL_CHANGE;
/// SSF 1.0 §8.1.4: delivered on request whatever the stream asked for.
pub const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";

/// The event types a stream can ask for.
pub const SUPPORTED: [&str; 2] = [SESSION_REVOKED, CREDENTIAL_CHANGE];

/// Queues one event on a stream, as its status says: pushed, waiting for a poll, held while
/// paused, or nothing when disabled.
fn queue(
    c: &mut DbConn,
    stream: &StreamRow,
    person_id: MyKeyId,
    event_type: &str,
    payload: Value,
    now: i64,
) -> diesel::QueryResult<()> {
    if stream.status == DISABLED {
        return Ok(());
    }
    let mut row = OutboxRow::due_now(
        SSF_EVENT,
        stream.client_id.clone(),
        stream.endpoint_url.clone().unwrap_or_default(),
        None,
        person_id,
        json!({ "type": event_type, "payload": payload }).to_string(),
        now,
    );
    row.stream_id = Some(stream.id.clone());
    row.status = if stream.status == PAUSED {
        HELD
    } else if stream.delivery_method == "poll" {
        POLL
    } else {
        PENDING
    }
    .to_owned();
    store::outbox::enqueue(c, &row)
}

/// Queues `event_type` about a person for a client's stream, if the client may use Shared
/// Signals and has a stream. `None` when the client has no stream; otherwise whether the
/// event was queued (the stream asked for it and is not disabled).
pub fn enqueue(
    c: &mut DbConn,
    client_id: &str,
    person_id: &MyKeyId,
    event_type: &str,
    payload: Value,
    now: i64,
) -> diesel::QueryResult<Option<bool>> {
    let allowed =
        store::clients::get(c, client_id)?.is_some_and(|cl| cl.enabled && cl.allow_shared_signals);
    if !allowed {
        return Ok(None);
    }
    let Some(stream) = store::ssf::of_client(c, client_id)? else {
        return Ok(None);
    };
    let wanted = stream.status != DISABLED && stream.delivered().iter().any(|e| e == event_type);
    if wanted {
        queue(c, &stream, person_id.clone(), event_type, payload, now)?;
    }
    Ok(Some(wanted))
}

/// CAEP session-revoked (§3.1) for every client that had a live session in what just ended.
/// `initiating_entity` is `admin` (an operator) or `policy` (a revoked certificate).
pub fn sessions_revoked(
    c: &mut DbConn,
    ended: &[ClientSessionRow],
    initiating_entity: &str,
    reason_en: &str,
    now: i64,
) -> diesel::QueryResult<()> {
    let targets: HashSet<(&str, &MyKeyId)> = ended
        .iter()
        .map(|cs| (cs.client_id.as_str(), &cs.person_id))
        .collect();
    for (client_id, person_id) in targets {
        let payload = json!({
            "event_timestamp": now,
            "initiating_entity": initiating_entity,
            "reason_admin": { "en": reason_en },
        });
        enqueue(c, client_id, person_id, SESSION_REVOKED, payload, now)?;
    }
    Ok(())
}

/// SSF §8.1.4: the verification event of a stream, about the stream itself.
pub fn verification(
    c: &mut DbConn,
    stream: &StreamRow,
    state: Option<&str>,
    now: i64,
) -> diesel::QueryResult<()> {
    let payload = match state {
        Some(s) => json!({ "state": s }),
        None => json!({}),
    };
    queue(
        c,
        stream,
        MyKeyId::from_stored(String::new()),
        VERIFICATION,
        payload,
        now,
    )
}

/// The Security Event Token of a queued event (RFC 8417 §2.2, SSF §4), signed now with the
/// client's ID-token algorithm; the `jti` stays the row's so a receiver drops repeats.
pub fn set_token(p: &Provider, row: &OutboxRow, client: &Client) -> Result<String, ProviderError> {
    let now = p.clock.unix();
    let event: Value =
        serde_json::from_str(&row.event).map_err(|e| ProviderError::Internal(e.to_string()))?;
    let event_type = event["type"].as_str().unwrap_or_default();
    let issuer = p.settings.issuer_str();
    // SSF §8.1.4.1: a verification event's subject is the stream.
    let sub_id = if event_type == VERIFICATION {
        json!({ "format": "opaque", "id": row.stream_id })
    } else {
        let sub = grants::subject(p, client, &row.person_id);
        json!({ "format": "iss_sub", "iss": issuer, "sub": sub.as_str() })
    };
    let claims = json!({
        "iss": issuer,
        "aud": client.id.as_str(),
        "iat": now,
        "jti": row.jti,
        "sub_id": sub_id,
        "events": { event_type: event["payload"] },
    });
    let keys = p.keys.snapshot();
    let key = keys
        .signing_key(client.id_token_alg, now)
        .ok_or_else(|| ProviderError::Crypto("no signing key".to_owned()))?;
    crate::jose::sign(key, Some("secevent+jwt"), &claims)
        .map_err(|e| ProviderError::Crypto(e.to_string()))
}
