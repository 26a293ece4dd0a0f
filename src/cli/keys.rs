//! `mykey-connect keys list|rotate`.

use std::sync::Arc;

use super::CliError;
use crate::admin::{self, Principal};
use crate::clock::rfc3339;
use crate::provider::Provider;

pub async fn list(p: &Provider) -> Result<String, CliError> {
    let mut out = String::from("kid                                          alg    state      activate_at                 retired_at\n");
    for k in admin::keys::list(p).await? {
        out.push_str(&format!(
            "{:<44} {:<6} {:<10} {:<27} {}\n",
            k.kid,
            k.alg,
            k.state,
            rfc3339(k.activate_at),
            k.retired_at.map(rfc3339).unwrap_or_default()
        ));
    }
    Ok(out)
}

/// Publishes a new key now; it signs after `lead` seconds, when the old one retires.
pub async fn rotate(p: &Arc<Provider>, alg: &str, lead: Option<i64>) -> Result<String, CliError> {
    let r = admin::keys::rotate(p, &Principal::cli(), alg, lead).await?;
    Ok(format!(
        "new {} key {} published now; it signs from {} (every node picks it up within a minute)\n",
        r.alg.as_str(),
        r.kid,
        rfc3339(r.signs_from)
    ))
}
