//! Admin API keys: random bearer secrets shown once, stored as hashes, revocable, each with a
//! role.

use serde::Serialize;
use serde_json::json;

use super::{AdminError, Principal, Role};
use crate::audit::{self, Actor, Event, Kind};
use crate::domain::secret::{random_b64, random_typed_id};
use crate::domain::Secret;
use crate::provider::Provider;
use crate::store;
use crate::store::admin::ApiKeyRow;

/// Prefix of every key, so leaked keys are recognisable by secret scanners.
pub const PREFIX: &str = "mkc_";
/// `last_used_at` is written at most this often.
const TOUCH_EVERY: i64 = 60;

#[derive(Debug, Clone, Serialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl From<&ApiKeyRow> for ApiKeyView {
    fn from(r: &ApiKeyRow) -> ApiKeyView {
        ApiKeyView {
            id: r.id.clone(),
            name: r.name.clone(),
            role: r.role.clone(),
            created_by: r.created_by.clone(),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// Creates a key; the secret is returned once and only its hash is kept.
pub async fn create(
    p: &Provider,
    who: &Principal,
    name: &str,
    role: Role,
) -> Result<(ApiKeyView, Secret), AdminError> {
    let (actor, now) = (&who.actor, p.clock.unix());
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AdminError::Invalid(
            "a key needs a name of 1–100 characters".into(),
        ));
    }
    let secret = Secret::new(format!("{PREFIX}{}", random_b64(32)));
    let row = ApiKeyRow {
        // Typed into `mykey-connect admin api-key revoke ID`: never beginning with `-`.
        id: random_typed_id(9),
        name: name.to_owned(),
        key_hash: secret.hash(),
        role: role.as_str().to_owned(),
        created_by: actor.to_string(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    let event = Event::new(Kind::ApiKeyCreated, actor.clone())
        .data(json!({ "key_id": row.id, "name": name, "role": role.as_str() }));
    let view = ApiKeyView::from(&row);
    p.db.write(move |c| {
        store::admin::insert_api_key(c, &row)?;
        audit::record(c, &event, now)
    })
    .await?;
    Ok((view, secret))
}

pub async fn list(p: &Provider) -> Result<Vec<ApiKeyView>, AdminError> {
    Ok(p.db
        .read(store::admin::api_keys)
        .await?
        .iter()
        .map(ApiKeyView::from)
        .collect())
}

pub async fn revoke(p: &Provider, who: &Principal, id: &str) -> Result<(), AdminError> {
    let now = p.clock.unix();
    let event = Event::new(Kind::ApiKeyRevoked, who.actor.clone()).data(json!({ "key_id": id }));
    let owned = id.to_owned();
    let n =
        p.db.write(move |c| {
            let n = store::admin::revoke_api_key(c, &owned, now)?;
            if n > 0 {
                audit::record(c, &event, now)?;
            }
            Ok(n)
        })
        .await?;
    if n == 0 {
        return Err(AdminError::NotFound("live API key"));
    }
    Ok(())
}

/// The principal of a bearer key, if it is a live one.
pub async fn authenticate(p: &Provider, bearer: &str) -> Result<Option<Principal>, AdminError> {
    if !bearer.starts_with(PREFIX) || bearer.len() > 128 {
        return Ok(None);
    }
    let now = p.clock.unix();
    let hash = Secret::new(bearer).hash();
    let Some(row) =
        p.db.read(move |c| store::admin::api_key_by_hash(c, &hash))
            .await?
    else {
        return Ok(None);
    };
    if row.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY) {
        let id = row.id.clone();
        p.db.write(move |c| store::admin::touch_api_key(c, &id, now))
            .await?;
    }
    Ok(Some(Principal {
        actor: Actor::ApiKey(row.name.clone()),
        role: Role::parse(&row.role).unwrap_or(Role::Viewer),
        account_id: None,
        name: row.name,
    }))
}
