//! Admin API keys: random bearer secrets shown once, stored as hashes, revocable, each with a
//! role.

use serde::Serialize;
use serde_json::json;

use super::{AdminError, Principal, Role};
use crate::audit::{self, Actor, Event, Kind};
use crate::domain::secret::random_b64;
use crate::domain::Secret;
use crate::store::admin::ApiKeyRow;
use crate::store::{self, Db};

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
pub fn create(
    db: &Db,
    name: &str,
    role: Role,
    actor: &Actor,
    now: i64,
) -> Result<(ApiKeyView, Secret), AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AdminError::Invalid(
            "a key needs a name of 1–100 characters".into(),
        ));
    }
    let secret = Secret::new(format!("{PREFIX}{}", random_b64(32)));
    let row = ApiKeyRow {
        id: random_b64(9),
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
    db.write_blocking(|c| {
        store::admin::insert_api_key(c, &row)?;
        audit::record(c, &event, now)
    })?;
    Ok((ApiKeyView::from(&row), secret))
}

pub fn list(db: &Db) -> Result<Vec<ApiKeyView>, AdminError> {
    Ok(db
        .read_blocking(store::admin::api_keys)?
        .iter()
        .map(ApiKeyView::from)
        .collect())
}

pub fn revoke(db: &Db, id: &str, actor: &Actor, now: i64) -> Result<(), AdminError> {
    let event = Event::new(Kind::ApiKeyRevoked, actor.clone()).data(json!({ "key_id": id }));
    let n = db.write_blocking(|c| {
        let n = store::admin::revoke_api_key(c, id, now)?;
        if n > 0 {
            audit::record(c, &event, now)?;
        }
        Ok(n)
    })?;
    if n == 0 {
        return Err(AdminError::NotFound("live API key"));
    }
    Ok(())
}

/// The principal of a bearer key, if it is a live one.
pub fn authenticate(db: &Db, bearer: &str, now: i64) -> Result<Option<Principal>, AdminError> {
    if !bearer.starts_with(PREFIX) || bearer.len() > 128 {
        return Ok(None);
    }
    let hash = Secret::new(bearer).hash();
    let Some(row) = db.read_blocking(|c| store::admin::api_key_by_hash(c, &hash))? else {
        return Ok(None);
    };
    if row.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY) {
        db.write_blocking(|c| store::admin::touch_api_key(c, &row.id, now))?;
    }
    Ok(Some(Principal {
        actor: Actor::ApiKey(row.name.clone()),
        role: Role::parse(&row.role).unwrap_or(Role::Viewer),
        account_id: None,
        name: row.name,
    }))
}
