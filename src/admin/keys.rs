//! Signing keys for operators: the list with each key's state (and the generations of the
//! code-sealing key), and rotation — a new key
//! published now that signs after the lead time, audited, and this node's key ring refreshed
//! at once.

use serde::Serialize;

use super::{AdminError, Principal};
use crate::domain::IdTokenAlg;
use crate::provider::{keyring, Provider};
use crate::store;

/// A signing key as operators see it (never its private part).
#[derive(Debug, Clone, Serialize)]
pub struct KeyView {
    pub kid: String,
    pub alg: String,
    /// `next` (published, not signing yet), `current`, `retiring` (replaced, still
    /// published while its tokens live) or `retired`.
    pub state: &'static str,
    pub activate_at: i64,
    pub retired_at: Option<i64>,
}

/// Every stored key, oldest first.
pub async fn list(p: &Provider) -> Result<Vec<KeyView>, AdminError> {
    let rows = p.db.read(store::keys::all).await?;
    let now = p.clock.unix();
    Ok(rows
        .into_iter()
        .map(|r| KeyView {
            state: match r.retired_at {
                Some(t) if t <= now => "retired",
                _ if r.activate_at > now => "next",
                Some(_) => "retiring",
                None => "current",
            },
            kid: r.kid,
            alg: r.alg,
            activate_at: r.activate_at,
            retired_at: r.retired_at,
        })
        .collect())
}

/// A generation of the key that seals authorization codes, as operators see it.
#[derive(Debug, Clone, Serialize)]
pub struct CodeKeyView {
    pub generation: i64,
    /// `next` (published, not sealing yet), `sealing`, or `opening` (replaced; opens the codes
    /// it sealed until they expire, then is deleted).
    pub state: &'static str,
    pub activate_at: i64,
}

/// Every live generation of the code key, oldest first.
pub async fn code_keys(p: &Provider) -> Result<Vec<CodeKeyView>, AdminError> {
    let rows = p.db.read(store::keys::code_keys).await?;
    let now = p.clock.unix();
    let sealing = rows
        .iter()
        .filter(|r| r.activate_at <= now)
        .map(|r| r.generation)
        .max();
    Ok(rows
        .into_iter()
        .map(|r| CodeKeyView {
            state: if r.activate_at > now {
                "next"
            } else if Some(r.generation) == sealing {
                "sealing"
            } else {
                "opening"
            },
            generation: r.generation,
            activate_at: r.activate_at,
        })
        .collect())
}

/// A key published by [`rotate`].
#[derive(Debug, Clone)]
pub struct Rotated {
    pub kid: String,
    pub alg: IdTokenAlg,
    /// When it starts signing (Unix seconds).
    pub signs_from: i64,
}

pub async fn rotate(
    p: &std::sync::Arc<Provider>,
    who: &Principal,
    alg: &str,
    lead: Option<i64>,
) -> Result<Rotated, AdminError> {
    let alg = IdTokenAlg::parse(alg)
        .ok_or_else(|| AdminError::Invalid("alg must be RS256, PS256 or ES256".into()))?;
    let lead = lead
        .unwrap_or(p.settings.lifetimes.key_rotation_lead.as_secs() as i64)
        .max(0);
    let now = p.clock.unix();
    let (provider, actor) = (p.clone(), who.actor.clone());
    // Key generation (RSA) takes CPU time: off the async threads.
    tokio::task::spawn_blocking(move || {
        let kid = keyring::rotate(&provider.db, &provider.kek, alg, lead, now, &actor)
            .map_err(|e| AdminError::Invalid(e.to_string()))?;
        provider
            .keys
            .refresh(&provider.db, &provider.kek, now)
            .map_err(|e| AdminError::Invalid(e.to_string()))?;
        Ok(Rotated {
            kid,
            alg,
            signs_from: now + lead,
        })
    })
    .await
    .map_err(|e| AdminError::Invalid(e.to_string()))?
}
