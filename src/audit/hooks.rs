//! The events the provider records from inside its own transactions, each one call, so the
//! hooks in `provider/` stay one line long.

use serde_json::json;

use super::{record, Actor, Event, Kind};
use crate::domain::MyKeyId;
use crate::store::{self, DbConn};

type Q = diesel::QueryResult<()>;

/// A card login's outcome (docs/card-login.md §5 code on failure; never the PIN or signature).
pub fn login_outcome(
    c: &mut DbConn,
    client: Option<&str>,
    person: Option<&MyKeyId>,
    error: Option<&str>,
    now: i64,
) -> Q {
    let mut event = match error {
        None => Event::new(Kind::LoginSucceeded, Actor::Resident),
        Some(code) => Event::new(Kind::LoginFailed, Actor::Resident).data(json!({ "error": code })),
    };
    event.client_id = client.map(str::to_owned);
    event.person_id = person.map(|p| p.as_str().to_owned());
    record(c, &event, now)
}

pub fn enrolled(c: &mut DbConn, person: &MyKeyId, now: i64) -> Q {
    record(
        c,
        &Event::new(Kind::LoginEnrolled, Actor::Resident).person(person.as_str()),
        now,
    )
}

pub fn consent(c: &mut DbConn, person: &MyKeyId, client: &str, scope: Option<&str>, now: i64) -> Q {
    let event = match scope {
        Some(scope) => {
            Event::new(Kind::ConsentGranted, Actor::Resident).data(json!({ "scope": scope }))
        }
        None => Event::new(Kind::ConsentDenied, Actor::Resident),
    };
    record(c, &event.person(person.as_str()).client(client), now)
}

pub fn tokens_issued(
    c: &mut DbConn,
    client: &str,
    person: &MyKeyId,
    grant_type: &str,
    scope: &str,
    now: i64,
) -> Q {
    let event = tokens_issued_event(client, grant_type, scope).person(person.as_str());
    record(c, &event, now)
}

/// The event of [`tokens_issued`] without the person, for a statement that reads the person
/// itself (`store::exchange`).
pub fn tokens_issued_event(client: &str, grant_type: &str, scope: &str) -> Event {
    Event::new(Kind::TokenIssued, Actor::Client(client.to_owned()))
        .client(client)
        .data(json!({ "grant_type": grant_type, "scope": scope }))
}

/// A code presented twice (RFC 6749 §4.1.2) or a rotated refresh token reused: the grant was
/// revoked.
pub fn replay(c: &mut DbConn, kind: Kind, client: &str, person: &MyKeyId, now: i64) -> Q {
    let event = Event::new(kind, Actor::Client(client.to_owned()))
        .client(client)
        .person(person.as_str());
    record(c, &event, now)
}

pub fn revoked(c: &mut DbConn, client: &str, token_type: &str, now: i64) -> Q {
    let event = Event::new(Kind::TokenRevoked, Actor::Client(client.to_owned()))
        .client(client)
        .data(json!({ "token_type": token_type }));
    record(c, &event, now)
}

pub fn session_ended(
    c: &mut DbConn,
    session_id: &str,
    reason: &str,
    clients: &[String],
    now: i64,
) -> Q {
    let person = store::sessions::get(c, session_id)?.map(|s| s.person_id);
    person_session_ended(c, person.as_ref(), session_id, reason, clients, now)
}

/// As [`session_ended`], for a caller that knows whose session it was.
pub fn person_session_ended(
    c: &mut DbConn,
    person: Option<&MyKeyId>,
    session_id: &str,
    reason: &str,
    clients: &[String],
    now: i64,
) -> Q {
    let actor = if reason == "logout" {
        Actor::Resident
    } else {
        Actor::System
    };
    let mut event = Event::new(Kind::SessionEnded, actor)
        .data(json!({ "session_id": session_id, "reason": reason, "clients": clients }));
    event.person_id = person.map(|p| p.as_str().to_owned());
    record(c, &event, now)
}

/// A CRL import by `actor` (the provider itself, or an operator): what it changed, or why it was
/// refused.
pub fn crl_import(
    c: &mut DbConn,
    actor: &Actor,
    root: Option<&str>,
    outcome: &str,
    data: serde_json::Value,
    now: i64,
) -> Q {
    let mut data = data;
    data["outcome"] = json!(outcome);
    data["root_key_id"] = json!(root);
    record(
        c,
        &Event::new(Kind::CrlImported, actor.clone()).data(data),
        now,
    )
}

/// A person logged out everywhere because their certificate was revoked.
pub fn terminated(
    c: &mut DbConn,
    person: &MyKeyId,
    serial: &str,
    reason: &str,
    crl_number: &str,
    sessions: usize,
    now: i64,
) -> Q {
    let event = Event::new(Kind::PersonTerminated, Actor::System)
        .person(person.as_str())
        .data(json!({ "serial": serial, "reason": reason, "crl_number": crl_number, "sessions_ended": sessions }));
    record(c, &event, now)
}

/// `count` back-channel deliveries to one client that ended alike at the same attempt
/// (`delivered`, `retry`, `dead`).
pub fn delivery(
    c: &mut DbConn,
    client: &str,
    kind: &str,
    outcome: &str,
    attempts: i32,
    count: usize,
    now: i64,
) -> Q {
    let event = Event::new(Kind::LogoutDelivery, Actor::System)
        .client(client)
        .data(json!({ "kind": kind, "outcome": outcome, "attempts": attempts, "count": count }));
    record(c, &event, now)
}

/// A linkage file imported by `actor`: how many records, and what they did.
pub fn linkage_import(c: &mut DbConn, actor: &Actor, data: serde_json::Value, now: i64) -> Q {
    record(
        c,
        &Event::new(Kind::LinkageImported, actor.clone()).data(data),
        now,
    )
}

/// A receiver changed its Shared Signals stream (`action`: created, updated, status, deleted).
pub fn stream_changed(
    c: &mut DbConn,
    client: &str,
    stream_id: &str,
    action: &str,
    status: &str,
    now: i64,
) -> Q {
    let event = Event::new(Kind::StreamChanged, Actor::Client(client.to_owned()))
        .client(client)
        .data(json!({ "stream_id": stream_id, "action": action, "status": status }));
    record(c, &event, now)
}
