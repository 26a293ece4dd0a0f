//! Identity verification: the four basic facts of a signature certificate, sealed for as long
//! as a grant (or the configured retention) needs them, released as OIDC4IDA
//! `verified_claims`, and a Security Event Token to every site that received them when the
//! certificate is revoked (the facts changed).

use aws_lc_rs::rand::SystemRandom;
use serde_json::{json, Map, Value};

use super::{Provider, ProviderError};
use crate::card::verify::VerifiedCertificate;
use crate::domain::secret::random_b64;
use crate::domain::MyKeyId;
use crate::oidc::verified_claims::{plain_claims, verified_claims, Evidence, FactValues};
use crate::store::identity::VerificationRow;
use crate::store::outbox::{OutboxRow, SECURITY_EVENT};
use crate::store::{self, DbConn};

/// The CAEP event type for a credential change (CAEP 1.0 §3.3).
pub const CREDENTIAL_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/credential-change";

/// What is sealed: the facts and where they came from.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SealedFacts {
    pub facts: FactValues,
    pub evidence: Evidence,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Reads the facts of a verified signature certificate into what is released.
pub fn facts_of(
    p: &Provider,
    cert: &VerifiedCertificate,
    now: time::OffsetDateTime,
) -> Option<SealedFacts> {
    let f = cert.facts.as_ref()?;
    // JPKI sex 3 (and 9) is released as "unknown" rather than left out, so a site can tell
    // "not known" from "not asked".
    let gender = f.sex.oidc_gender().unwrap_or("unknown");
    let issuer = p
        .trust
        .root(&cert.issuer_key_id)
        .map(|r| r.subject().to_owned())
        .unwrap_or_default();
    Some(SealedFacts {
        facts: FactValues {
            name: f.name.clone(),
            family_name: f.name_family.clone(),
            given_name: f.name_given.clone(),
            address: f.address.clone(),
            birthdate: f.birthdate.oidc_birthdate(),
            gender: gender.to_owned(),
            name_uses_substitutes: f.name_uses_substitutes,
            address_uses_substitutes: f.address_uses_substitutes,
        },
        evidence: Evidence {
            issuer,
            serial_number: cert.serial.clone(),
            created_at: rfc3339(now),
            verified_at: rfc3339(now),
        },
    })
}

/// A verification row with the facts sealed (aad = its id), ready to insert.
pub fn seal(
    p: &Provider,
    sign_binding_id: &str,
    facts: &SealedFacts,
    now: i64,
) -> Result<VerificationRow, ProviderError> {
    let id = random_b64(16);
    let plain = serde_json::to_vec(facts).map_err(|e| ProviderError::Internal(e.to_string()))?;
    let sealed = p
        .kek
        .seal(&id, &plain, &SystemRandom::new())
        .map_err(|e| ProviderError::Crypto(e.to_string()))?;
    let l = &p.settings.lifetimes;
    let keep = l
        .refresh_token
        .max(p.settings.verified_facts_retention)
        .as_secs() as i64;
    Ok(VerificationRow {
        id,
        // Set by the caller, in the transaction that finds or enrols the person.
        person_id: MyKeyId::from_stored(String::new()),
        sign_binding_id: sign_binding_id.to_owned(),
        sealed_facts: sealed,
        verified_at: now,
        expires_at: now + keep,
        revoked_at: None,
    })
}

/// The facts of a live verification, opened.
pub fn open(p: &Provider, row: &VerificationRow, now: i64) -> Option<SealedFacts> {
    if row.revoked_at.is_some() || row.expires_at <= now {
        return None;
    }
    let opened = p.kek.open(&row.id, &row.sealed_facts).ok()?;
    serde_json::from_slice(opened.as_bytes()).ok()
}

/// The extra claims (verified and plain) for one target of a request.
pub fn release(
    facts: &SealedFacts,
    verified: &std::collections::BTreeSet<crate::oidc::verified_claims::Fact>,
    plain: &std::collections::BTreeSet<crate::oidc::verified_claims::Fact>,
) -> Map<String, Value> {
    let mut out = plain_claims(&facts.facts, plain);
    if let Some(v) = verified_claims(&facts.facts, &facts.evidence, verified) {
        out.insert("verified_claims".to_owned(), v);
    }
    out
}

/// A signature certificate was revoked: its verifications stop, and every site that received
/// its facts gets a credential-change Security Event Token (RFC 8417, pushed per RFC 8935).
pub fn facts_changed(
    c: &mut DbConn,
    binding: &store::persons::BindingRow,
    reason: &str,
    revoked_at: i64,
    now: i64,
) -> diesel::QueryResult<usize> {
    store::identity::revoke_of_binding(c, &binding.id, now)?;
    let mut queued = 0;
    for client_id in store::identity::clients_that_received(c, &binding.id)? {
        let payload = json!({
            "credential_type": "x509",
            "change_type": "revoke",
            "event_timestamp": revoked_at,
            "x509_serial": binding.serial,
            "reason_admin": { "en": format!("The signature certificate was revoked ({reason}); the verified facts have changed.") },
        });
        // A client with a Shared Signals stream hears it there; others at their legacy
        // security_event_uri.
        if let Some(sent) = super::ssf::events::enqueue(
            c,
            &client_id,
            &binding.person_id,
            CREDENTIAL_CHANGE,
            payload,
            now,
        )? {
            queued += usize::from(sent);
            continue;
        }
        let Some(client) = store::clients::get(c, &client_id)? else {
            continue;
        };
        let Some(uri) = client.security_event_uri.filter(|_| client.enabled) else {
            continue;
        };
        let event = json!({
            "x509_issuer_key_id": binding.issuer_key_id,
            "x509_serial": binding.serial,
            "reason": reason,
            "revoked_at": revoked_at,
        });
        store::outbox::enqueue(
            c,
            &OutboxRow::due_now(
                SECURITY_EVENT,
                client_id,
                uri,
                None,
                binding.person_id.clone(),
                event.to_string(),
                now,
            ),
        )?;
        queued += 1;
    }
    Ok(queued)
}

/// The Security Event Token of an outbox row (RFC 8417 §2, CAEP credential-change).
pub fn security_event_token(
    p: &Provider,
    row: &OutboxRow,
    client: &crate::domain::Client,
) -> Result<String, ProviderError> {
    let now = p.clock.unix();
    let event: Value =
        serde_json::from_str(&row.event).map_err(|e| ProviderError::Internal(e.to_string()))?;
    let sub = super::grants::subject(p, client, &row.person_id);
    let claims = json!({
        "iss": p.settings.issuer_str(),
        "aud": client.id.as_str(),
        "iat": now,
        "jti": row.jti,
        "sub_id": { "format": "iss_sub", "iss": p.settings.issuer_str(), "sub": sub.as_str() },
        "events": {
            CREDENTIAL_CHANGE: {
                "credential_type": "x509",
                "change_type": "revoke",
                "event_timestamp": event["revoked_at"],
                "x509_serial": event["x509_serial"],
                "reason_admin": { "en": format!("The signature certificate was revoked ({}); the verified facts have changed.", event["reason"].as_str().unwrap_or("")) },
            }
        }
    });
    let keys = p.keys.snapshot();
    let key = keys
        .signing_key(client.id_token_alg, now)
        .ok_or_else(|| ProviderError::Crypto("no signing key".to_owned()))?;
    crate::jose::sign(key, Some("secevent+jwt"), &claims)
        .map_err(|e| ProviderError::Crypto(e.to_string()))
}
