//! Scheduled key rotation, run by the background leader (one node at a time): the next signing
//! key is published `key_rotation_lead` before it signs, and a new generation of the key that
//! seals authorization codes is published [`CODE_KEY_LEAD`] before it seals. Each rotation is
//! audited. A retired signing key leaves JWKS once the tokens it signed have expired (see
//! `keyring`); a code-key generation is deleted once every code it sealed has expired.

use std::sync::Arc;

use serde_json::json;

use super::{keyring, secrets, Provider, StartError};
use crate::audit::{self, Actor, Event, Kind};
use crate::domain::IdTokenAlg;
use crate::store::keys::{CodeKeyRow, SigningKeyRow};
use crate::store::{self};

/// A new code-key generation is published this long before it seals: every node re-reads the
/// keys every 30 s (`background::KEY_REFRESH`), so each holds it before any code it seals
/// reaches another node.
pub const CODE_KEY_LEAD: i64 = 120;

/// How long past a code's expiry its generation is kept anyway (clocks of nodes differ).
const CODE_KEY_GRACE: i64 = 300;

/// What a pass did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotated {
    /// A signing key published, signing from `activate_at`.
    SigningKey {
        kid: String,
        alg: IdTokenAlg,
        activate_at: i64,
    },
    /// A code-key generation published, sealing from `activate_at`.
    CodeKey { generation: i64, activate_at: i64 },
    /// Code-key generations deleted: every code they sealed has expired.
    CodeKeysRetired { generations: Vec<i64> },
}

/// Whether the newest key of `alg` has signed long enough that its successor is due now. A
/// successor already published (not yet signing) means nothing is due.
fn signing_due(
    rows: &[SigningKeyRow],
    alg: IdTokenAlg,
    interval: i64,
    lead: i64,
    now: i64,
) -> bool {
    let want = keyring::jose_alg(alg).as_str();
    rows.iter()
        .filter(|r| r.alg == want)
        .max_by_key(|r| r.activate_at)
        .is_some_and(|newest| {
            newest.activate_at <= now && now >= newest.activate_at + interval - lead
        })
}

/// The generations whose every code has expired: superseded by a later generation that has
/// sealed for longer than a code lives.
fn expired_generations(rows: &[CodeKeyRow], code_ttl: i64, now: i64) -> Vec<i64> {
    rows.iter()
        .filter(|g| {
            rows.iter().any(|later| {
                later.generation > g.generation
                    && later.activate_at + code_ttl + CODE_KEY_GRACE < now
            })
        })
        .map(|g| g.generation)
        .collect()
}

/// One pass of the schedule at `now` (blocking). Refreshes this node's keys when it changed
/// anything; other nodes pick the change up at their next refresh.
pub fn run_due_blocking(p: &Provider, now: i64) -> Result<Vec<Rotated>, StartError> {
    let mut done = Vec::new();
    if let Some(interval) = p.settings.key_rotation_interval {
        let lead = p.settings.lifetimes.key_rotation_lead.as_secs() as i64;
        let rows = p.db.read_blocking(store::keys::all)?;
        for alg in IdTokenAlg::ALL {
            if !signing_due(&rows, alg, interval.as_secs() as i64, lead, now) {
                continue;
            }
            // Audited by the rotation itself, as the system.
            let kid = keyring::rotate(&p.db, &p.kek, alg, lead, now, &Actor::System)?;
            tracing::info!(%kid, alg = alg.as_str(), activate_at = now + lead, "signing key rotated on schedule");
            done.push(Rotated::SigningKey {
                kid,
                alg,
                activate_at: now + lead,
            });
        }
    }
    let rows = p.db.read_blocking(store::keys::code_keys)?;
    if let (Some(interval), Some(newest)) = (p.settings.code_key_rotation_interval, rows.last()) {
        let due = newest.activate_at + interval.as_secs() as i64 - CODE_KEY_LEAD;
        if newest.activate_at <= now && now >= due {
            let generation = newest.generation + 1;
            let activate_at = now + CODE_KEY_LEAD;
            let row = secrets::new_code_key(&p.kek, generation, now, activate_at)?;
            let event = Event::new(Kind::CodeKeyRotated, Actor::System)
                .data(json!({ "generation": generation, "activate_at": activate_at }));
            let inserted = p.db.write_blocking(|c| {
                store::keys::insert_code_key(c, &row)?;
                audit::record(c, &event, now)
            });
            match inserted {
                Ok(()) => {
                    tracing::info!(generation, activate_at, "code key rotated on schedule");
                    done.push(Rotated::CodeKey {
                        generation,
                        activate_at,
                    });
                }
                // Another node published this generation first (a lease handed over).
                Err(e) if e.is_unique_violation() => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let code_ttl = p.settings.lifetimes.code.as_secs() as i64;
    let expired = expired_generations(&rows, code_ttl, now);
    if !expired.is_empty() {
        p.db.write_blocking(|c| store::keys::delete_code_keys(c, &expired))?;
        tracing::info!(generations = ?expired, "code key generations retired");
        done.push(Rotated::CodeKeysRetired {
            generations: expired,
        });
    }
    if !done.is_empty() {
        refresh(p, now)?;
    }
    Ok(done)
}

/// [`run_due_blocking`] at the provider's time, off the async threads.
pub async fn run_due(p: &Arc<Provider>) -> Result<Vec<Rotated>, StartError> {
    let q = p.clone();
    tokio::task::spawn_blocking(move || run_due_blocking(&q, q.clock.unix()))
        .await
        .map_err(|e| StartError::Config(e.to_string()))?
}

/// Re-reads signing keys and code-key generations (rotations made by another node or command,
/// keys activating or leaving JWKS).
pub fn refresh(p: &Provider, now: i64) -> Result<(), StartError> {
    p.keys.refresh(&p.db, &p.kek, now)?;
    let rows = p.db.read_blocking(store::keys::code_keys)?;
    p.codes.replace(secrets::open_code_keys(&rows, &p.kek)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alg: &str, activate_at: i64) -> SigningKeyRow {
        SigningKeyRow {
            kid: format!("{alg}-{activate_at}"),
            alg: alg.to_owned(),
            sealed_private_key: String::new(),
            public_jwk: String::new(),
            created_at: activate_at,
            activate_at,
            retired_at: None,
        }
    }

    fn generation(generation: i64, activate_at: i64) -> CodeKeyRow {
        CodeKeyRow {
            generation,
            sealed_key: String::new(),
            created_at: activate_at,
            activate_at,
        }
    }

    #[test]
    fn the_next_signing_key_is_due_a_lead_before_the_interval_ends_and_only_once() {
        let rows = vec![key("RS256", 1_000), key("ES256", 5_000)];
        let due = |now| signing_due(&rows, IdTokenAlg::Rs256, 86_400, 3_600, now);
        assert!(!due(1_000 + 86_400 - 3_601));
        assert!(due(1_000 + 86_400 - 3_600));
        assert!(!signing_due(
            &rows,
            IdTokenAlg::Es256,
            86_400,
            3_600,
            1_000 + 86_400 - 3_600
        ));
        let published = vec![key("RS256", 1_000), key("RS256", 1_000 + 86_400)];
        assert!(
            !signing_due(
                &published,
                IdTokenAlg::Rs256,
                86_400,
                3_600,
                1_000 + 86_400 - 3_000
            ),
            "its successor is already published"
        );
    }

    #[test]
    fn a_code_key_generation_is_kept_until_the_codes_it_sealed_have_expired() {
        let rows = vec![
            generation(1, 0),
            generation(2, 10_000),
            generation(3, 20_000),
        ];
        let ttl = 60;
        assert_eq!(
            expired_generations(&rows, ttl, 10_000 + ttl + CODE_KEY_GRACE),
            Vec::<i64>::new()
        );
        assert_eq!(
            expired_generations(&rows, ttl, 10_001 + ttl + CODE_KEY_GRACE),
            vec![1]
        );
        assert_eq!(
            expired_generations(&rows, ttl, 20_001 + ttl + CODE_KEY_GRACE),
            vec![1, 2]
        );
    }
}
