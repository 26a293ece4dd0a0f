//! Client changes made by operators: validated with the provider's registration rules, written
//! together with their audit entry (before/after) in one transaction, and dropped from this
//! node's client cache.

use serde_json::json;

use super::{AdminError, Principal};
use crate::audit::{self, Event, Kind};
use crate::domain::{Client, ClientId, Secret};
use crate::provider::clients::{self, ClientSpec, FieldError};
use crate::provider::Provider;
use crate::store;
use crate::store::clients::ClientRow;

fn not_found() -> AdminError {
    AdminError::NotFound("client")
}

/// The stored client and when it was created.
pub async fn load(p: &Provider, id: &str) -> Result<Option<(Client, i64)>, AdminError> {
    let owned = id.to_owned();
    let row = p.db.read(move |c| store::clients::get(c, &owned)).await?;
    Ok(row.and_then(|r| {
        let created = r.created_at;
        r.into_client().ok().map(|c| (c, created))
    }))
}

async fn existing(p: &Provider, id: &str) -> Result<(Client, i64), AdminError> {
    load(p, id).await?.ok_or_else(not_found)
}

pub async fn list(p: &Provider, search: Option<&str>) -> Result<Vec<Client>, AdminError> {
    let rows = p.db.read(store::clients::list).await?;
    let needle = search
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    Ok(rows
        .into_iter()
        .filter_map(|r| r.into_client().ok())
        .filter(|c| match &needle {
            Some(n) => {
                c.name.to_lowercase().contains(n)
                    || c.id.as_str().to_lowercase().contains(n)
                    || c.redirect_uris
                        .iter()
                        .any(|u| u.as_str().contains(n.as_str()))
            }
            None => true,
        })
        .collect())
}

/// A client built from a spec, with its sector document checked (OIDC Core §8.1).
async fn valid(
    p: &Provider,
    id: ClientId,
    spec: &ClientSpec,
    secret_hash: Option<String>,
) -> Result<Client, AdminError> {
    let client = clients::build_client(id, spec, secret_hash).map_err(AdminError::Fields)?;
    clients::fetch_sector_document(&p.http, &client)
        .await
        .map_err(|e| AdminError::Fields(vec![e]))?;
    Ok(client)
}

/// Registers a client; returns it and its secret (shown once).
pub async fn create(
    p: &Provider,
    who: &Principal,
    spec: &ClientSpec,
) -> Result<(Client, Option<Secret>), AdminError> {
    let (secret, hash) = clients::new_secret();
    let client = valid(p, ClientId::generate(), spec, Some(hash)).await?;
    let now = p.clock.unix();
    let row = ClientRow::from_client(&client, now, now);
    let event = Event::new(Kind::ClientCreated, who.actor.clone())
        .client(client.id.as_str())
        .data(json!({ "after": clients::spec_of(&client) }));
    p.db.write(move |c| {
        store::clients::insert(c, &row)?;
        audit::record(c, &event, now)
    })
    .await?;
    p.clients.invalidate(client.id.as_str());
    let secret = client.auth_method.uses_secret().then_some(secret);
    Ok((client, secret))
}

/// Replaces a client's settings, keeping its id and secret.
pub async fn update(
    p: &Provider,
    who: &Principal,
    id: &str,
    spec: &ClientSpec,
) -> Result<Client, AdminError> {
    let (existing, created) = existing(p, id).await?;
    // A client moving to a secret-based method gets a secret nobody has seen; the operator
    // rotates it to learn one.
    let secret_hash = existing
        .secret_hash
        .clone()
        .or_else(|| Some(clients::new_secret().1));
    let client = valid(p, existing.id.clone(), spec, secret_hash).await?;
    let now = p.clock.unix();
    let row = ClientRow::from_client(&client, created, now);
    let event = Event::new(Kind::ClientUpdated, who.actor.clone())
        .client(client.id.as_str())
        .data(json!({
            "before": clients::spec_of(&existing),
            "after": clients::spec_of(&client),
        }));
    p.db.write(move |c| {
        store::clients::update(c, &row)?;
        audit::record(c, &event, now)
    })
    .await?;
    p.clients.invalidate(id);
    Ok(client)
}

/// Enables or disables a client without touching anything else.
pub async fn set_enabled(
    p: &Provider,
    who: &Principal,
    id: &str,
    enabled: bool,
) -> Result<Client, AdminError> {
    let (existing, _) = existing(p, id).await?;
    let mut spec = clients::spec_of(&existing);
    spec.enabled = Some(enabled);
    update(p, who, id, &spec).await
}

/// A new secret (shown once); the old one stops working at once on this node and within the
/// cache lifetime on others.
pub async fn rotate_secret(p: &Provider, who: &Principal, id: &str) -> Result<Secret, AdminError> {
    let (existing, _) = existing(p, id).await?;
    if !existing.auth_method.uses_secret() {
        return Err(AdminError::Fields(vec![FieldError {
            field: "auth_method",
            message: format!("{} uses no secret", existing.auth_method.as_str()),
        }]));
    }
    let (secret, hash) = clients::new_secret();
    let now = p.clock.unix();
    let owned = id.to_owned();
    let event = Event::new(Kind::ClientSecretRotated, who.actor.clone()).client(id);
    p.db.write(move |c| {
        store::clients::set_secret_hash(c, &owned, &hash, now)?;
        audit::record(c, &event, now)
    })
    .await?;
    p.clients.invalidate(id);
    Ok(secret)
}

/// Deletes a client with its consents, sessions and tokens. Its live client sessions end, and
/// each gets a back-channel logout (`provider::clients::remove`). Returns how many were queued.
pub async fn delete(p: &Provider, who: &Principal, id: &str) -> Result<usize, AdminError> {
    let (existing, _) = existing(p, id).await?;
    let event = Event::new(Kind::ClientDeleted, who.actor.clone())
        .client(id)
        .data(json!({ "before": clients::spec_of(&existing) }));
    let queued = clients::remove(p, &existing, event).await?;
    p.clients.invalidate(id);
    Ok(queued)
}
