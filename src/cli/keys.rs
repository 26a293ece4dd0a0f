//! `mykey-connect keys list|rotate`.

use crate::clock::rfc3339;
use crate::config::Settings;
use crate::domain::IdTokenAlg;
use crate::provider::{keyring, secrets, StartError};
use crate::store::{self, Db};

pub fn list(settings: &Settings, now: i64) -> Result<String, StartError> {
    let db = Db::open_for_command(&settings.database_url).map_err(StartError::Store)?;
    let rows = db.read_blocking(store::keys::all)?;
    let mut out = String::from("kid                                          alg    state      activate_at                 retired_at\n");
    for r in rows {
        let state = match r.retired_at {
            Some(t) if t <= now => "retired",
            _ if r.activate_at > now => "next",
            Some(_) => "retiring",
            None => "current",
        };
        out.push_str(&format!(
            "{:<44} {:<6} {:<10} {:<27} {}\n",
            r.kid,
            r.alg,
            state,
            rfc3339(r.activate_at),
            r.retired_at.map(rfc3339).unwrap_or_default()
        ));
    }
    Ok(out)
}

/// Publishes a new key now; it signs after `lead` seconds, when the old one retires.
pub fn rotate(
    settings: &Settings,
    alg: IdTokenAlg,
    lead: Option<i64>,
    now: i64,
) -> Result<String, StartError> {
    let db = Db::open_for_command(&settings.database_url).map_err(StartError::Store)?;
    let kek = secrets::key_encryption_key(settings, &db)?;
    let lead = lead.unwrap_or(settings.lifetimes.key_rotation_lead.as_secs() as i64);
    let kid = keyring::rotate(&db, &kek, alg, lead, now)?;
    Ok(format!(
        "new {} key {kid} published now; it signs from {} (every node picks it up within a minute)\n",
        alg.as_str(),
        rfc3339(now + lead)
    ))
}
