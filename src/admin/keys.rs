//! Signing-key rotation for operators: a new key published now that signs after the lead
//! time, audited, and this node's key ring refreshed at once.

use serde_json::json;

use super::{AdminError, Principal};
use crate::audit::{self, Event, Kind};
use crate::domain::IdTokenAlg;
use crate::provider::{keyring, Provider};

pub async fn rotate(
    p: &std::sync::Arc<Provider>,
    who: &Principal,
    alg: &str,
    lead: Option<i64>,
) -> Result<String, AdminError> {
    let alg = IdTokenAlg::parse(alg)
        .ok_or_else(|| AdminError::Invalid("alg must be RS256 or ES256".into()))?;
    let lead = lead
        .unwrap_or(p.settings.lifetimes.key_rotation_lead.as_secs() as i64)
        .max(0);
    let now = p.clock.unix();
    let event = Event::new(Kind::KeysRotated, who.actor.clone());
    let provider = p.clone();
    tokio::task::spawn_blocking(move || {
        let kid = keyring::rotate(&provider.db, &provider.kek, alg, lead, now)
            .map_err(|e| AdminError::Invalid(e.to_string()))?;
        let event = event.data(json!({ "kid": kid, "alg": alg.as_str(), "lead": lead }));
        provider
            .db
            .write_blocking(|c| audit::record(c, &event, now))?;
        provider
            .keys
            .refresh(&provider.db, &provider.kek, now)
            .map_err(|e| AdminError::Invalid(e.to_string()))?;
        Ok(kid)
    })
    .await
    .map_err(|e| AdminError::Invalid(e.to_string()))?
}
