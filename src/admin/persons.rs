//! Persons as operators see them: found by a client's pairwise sub or by certificate serial,
//! their bindings and sessions, ending a session, and merging two persons after a renewal
//! that came without a linkage record.

use serde::Serialize;
use serde_json::json;

use super::{AdminError, Principal};
use crate::audit::{self, Event, Kind};
use crate::domain::MyKeyId;
use crate::provider::{grants, sessions, Provider};
use crate::store;
pub use crate::store::admin::views::LiveSession;

#[derive(Debug, Clone, Serialize)]
pub struct BindingView {
    pub purpose: String,
    pub issuer_key_id: String,
    pub serial: String,
    pub not_after: i64,
    pub status: String,
    pub revoked_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    /// The MyKey ID (operators only; never given to a relying party).
    pub id: String,
    pub bindings: Vec<BindingView>,
    pub live_sessions: i64,
    pub merged_into: Option<String>,
}

async fn view(p: &Provider, id: MyKeyId) -> Result<PersonView, AdminError> {
    let now = p.clock.unix();
    let (bindings, live, merged) = {
        let id = id.clone();
        p.db.read(move |c| {
            Ok((
                store::persons::bindings_of(c, &id)?,
                store::admin::views::live_session_count(c, &id, now)?,
                store::admin::merged_into(c, id.as_str())?,
            ))
        })
        .await?
    };
    Ok(PersonView {
        id: id.into_string(),
        bindings: bindings
            .into_iter()
            .map(|b| BindingView {
                purpose: b.purpose,
                issuer_key_id: b.issuer_key_id,
                serial: b.serial,
                not_after: b.not_after,
                status: b.status.as_str().to_owned(),
                revoked_reason: b.revoked_reason,
            })
            .collect(),
        live_sessions: live,
        merged_into: merged,
    })
}

/// The person a client knows by `sub`. The sub is an HMAC of the MyKey ID, so it is computed
/// for each person who had a session or consent at that client.
pub async fn by_sub(
    p: &Provider,
    client_id: &str,
    sub: &str,
) -> Result<Option<PersonView>, AdminError> {
    let Some(client) = p.clients.get(client_id).await? else {
        return Ok(None);
    };
    let owned = client_id.to_owned();
    let ids =
        p.db.read(move |c| store::admin::views::persons_of_client(c, &owned))
            .await?;
    let found = ids
        .into_iter()
        .map(MyKeyId::from_stored)
        .find(|id| grants::subject(p, &client, id).as_str() == sub.trim());
    match found {
        Some(id) => Ok(Some(view(p, id).await?)),
        None => Ok(None),
    }
}

/// The canonical form of a typed serial: hex digits only, lower case, no leading zero bytes
/// (the form `card::jpki::serial_hex` stores).
pub fn normalize_serial(text: &str) -> String {
    let hex: String = text
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let hex = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex
    };
    let mut s = hex.as_str();
    while s.len() > 2 && s.starts_with("00") {
        s = &s[2..];
    }
    s.to_owned()
}

pub async fn by_serial(p: &Provider, serial: &str) -> Result<Vec<PersonView>, AdminError> {
    let serial = normalize_serial(serial);
    let rows =
        p.db.read(move |c| store::admin::views::bindings_by_serial(c, &serial))
            .await?;
    let mut out = Vec::new();
    for b in rows {
        out.push(view(p, b.person_id).await?);
    }
    Ok(out)
}

/// The person of a MyKey ID an operator gives (as the console and API show them).
pub async fn get(p: &Provider, id: &str) -> Result<Option<PersonView>, AdminError> {
    let id = MyKeyId::from_stored(id.to_owned());
    let owned = id.clone();
    let exists =
        p.db.read(move |c| Ok(!store::persons::bindings_of(c, &owned)?.is_empty()))
            .await?;
    if !exists {
        return Ok(None);
    }
    Ok(Some(view(p, id).await?))
}

pub async fn live_sessions(
    p: &Provider,
    client_id: Option<&str>,
) -> Result<Vec<LiveSession>, AdminError> {
    let now = p.clock.unix();
    let client = client_id.map(str::to_owned);
    Ok(p.db
        .read(move |c| store::admin::views::live_sessions(c, client.as_deref(), now, 500))
        .await?)
}

/// Ends a browser session (and with it every client session inside it) for an operator.
pub async fn end_session(
    p: &Provider,
    who: &Principal,
    session_id: &str,
) -> Result<usize, AdminError> {
    let ended = sessions::end(p, session_id, sessions::EndReason::Admin).await?;
    let now = p.clock.unix();
    let event = Event::new(Kind::AdminSessionEnded, who.actor.clone())
        .data(json!({ "session_id": session_id, "client_sessions": ended.len() }));
    p.db.write(move |c| audit::record(c, &event, now)).await?;
    Ok(ended.len())
}

/// Moves everything of `source` to `target` in one transaction and marks `source` merged.
pub async fn merge(
    p: &Provider,
    who: &Principal,
    source: &str,
    target: &str,
    reason: &str,
) -> Result<usize, AdminError> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(AdminError::Invalid("a merge needs a reason".into()));
    }
    if source == target {
        return Err(AdminError::Invalid(
            "a person cannot be merged into itself".into(),
        ));
    }
    for id in [source, target] {
        if get(p, id).await?.is_none() {
            return Err(AdminError::NotFound("person"));
        }
    }
    let now = p.clock.unix();
    let (source, target) = (
        MyKeyId::from_stored(source.to_owned()),
        MyKeyId::from_stored(target.to_owned()),
    );
    let merged_by = who.actor.to_string();
    let event = Event::new(Kind::PersonMerged, who.actor.clone())
        .person(target.as_str())
        .data(json!({ "source": source.as_str(), "target": target.as_str(), "reason": reason }));
    let moved =
        p.db.write(move |c| {
            if store::admin::merged_into(c, source.as_str())?.is_some() {
                return Ok(None);
            }
            let n = store::admin::views::move_person(c, &source, &target)?;
            store::admin::insert_merge(
                c,
                source.as_str(),
                target.as_str(),
                &reason,
                &merged_by,
                now,
            )?;
            audit::record(c, &event, now)?;
            Ok(Some(n))
        })
        .await?;
    moved.ok_or_else(|| AdminError::Invalid("that person was already merged".into()))
}
