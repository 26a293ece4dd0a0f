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

/// A refused change: field errors to show next to the form fields, or a failure.
#[derive(Debug)]
pub enum ChangeError {
    Fields(Vec<FieldError>),
    Failed(AdminError),
    NotFound,
}

impl From<crate::store::StoreError> for ChangeError {
    fn from(e: crate::store::StoreError) -> ChangeError {
        ChangeError::Failed(e.into())
    }
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

/// Registers a client; returns it and its secret (shown once).
pub async fn create(
    p: &Provider,
    who: &Principal,
    spec: &ClientSpec,
) -> Result<(Client, Option<Secret>), ChangeError> {
    let (secret, hash) = clients::new_secret();
    let client = clients::build_client(ClientId::generate(), spec, Some(hash))
        .map_err(ChangeError::Fields)?;
    clients::fetch_sector_document(&p.http, &client)
        .await
        .map_err(|e| ChangeError::Fields(vec![e]))?;
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
) -> Result<Client, ChangeError> {
    let (existing, created) = load(p, id)
        .await
        .map_err(ChangeError::Failed)?
        .ok_or(ChangeError::NotFound)?;
    // A client moving to a secret-based method gets a secret nobody has seen; the operator
    // rotates it to learn one.
    let secret_hash = existing
        .secret_hash
        .clone()
        .or_else(|| Some(clients::new_secret().1));
    let client = clients::build_client(existing.id.clone(), spec, secret_hash)
        .map_err(ChangeError::Fields)?;
    clients::fetch_sector_document(&p.http, &client)
        .await
        .map_err(|e| ChangeError::Fields(vec![e]))?;
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
) -> Result<Client, ChangeError> {
    let (existing, _) = load(p, id)
        .await
        .map_err(ChangeError::Failed)?
        .ok_or(ChangeError::NotFound)?;
    let mut spec = clients::spec_of(&existing);
    spec.enabled = Some(enabled);
    update(p, who, id, &spec).await
}

/// A new secret (shown once); the old one stops working at once on this node and within the
/// cache lifetime on others.
pub async fn rotate_secret(p: &Provider, who: &Principal, id: &str) -> Result<Secret, ChangeError> {
    let (existing, _) = load(p, id)
        .await
        .map_err(ChangeError::Failed)?
        .ok_or(ChangeError::NotFound)?;
    if !existing.auth_method.uses_secret() {
        return Err(ChangeError::Fields(vec![FieldError {
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

/// Deletes a client with its consents, sessions and tokens.
pub async fn delete(p: &Provider, who: &Principal, id: &str) -> Result<(), ChangeError> {
    let (existing, _) = load(p, id)
        .await
        .map_err(ChangeError::Failed)?
        .ok_or(ChangeError::NotFound)?;
    let now = p.clock.unix();
    let owned = id.to_owned();
    let event = Event::new(Kind::ClientDeleted, who.actor.clone())
        .client(id)
        .data(json!({ "before": clients::spec_of(&existing) }));
    p.db.write(move |c| {
        store::clients::delete(c, &owned)?;
        audit::record(c, &event, now)
    })
    .await?;
    p.clients.invalidate(id);
    Ok(())
}
