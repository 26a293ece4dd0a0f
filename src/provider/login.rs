//! Card login (docs/card-login.md §1–§6): challenges, verifying the helper's answer, resolving or
//! enrolling the person, and the browser's view of the outcome.

use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

use super::persons::Resolved;
use super::{Provider, ProviderError};
use crate::card::jpki::Purpose;
use crate::card::message::{signed_message, PROTOCOL_VERSION};
use crate::card::protocol::{
    CardErrorCode, ChallengeDocument, ChallengePurpose, ChallengeResponse, ChallengeState,
    ChallengeStatus,
};
use crate::card::verify::{verify_card_signature, VerifiedCertificate};
use crate::domain::secret::{random_b64, random_digits};
use crate::store::requests::ChallengeRow;
use crate::store::states::ChallengeProgress;
use crate::store::{self, DbConn, StoreError};

pub fn challenge_url(p: &Provider, id: &str) -> String {
    p.url(&format!("/card/challenges/{id}"))
}

/// The link the helper registers for (spec §1): `mykey://login?challenge=<URL>`.
pub fn helper_link(challenge_url: &str) -> String {
    format!(
        "mykey://login?challenge={}",
        percent_encoding::utf8_percent_encode(challenge_url, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// Creates a challenge for an authorization transaction (spec §1).
pub async fn create_challenge(
    p: &Provider,
    auth_request_id: &str,
    purpose: ChallengePurpose,
) -> Result<ChallengeRow, StoreError> {
    let now = p.clock.unix();
    let row = ChallengeRow {
        id: random_b64(16),
        auth_request_id: auth_request_id.to_owned(),
        nonce: random_b64(32),
        purpose: purpose.as_str().to_owned(),
        match_code: random_digits(4),
        created_at: now,
        expires_at: now + p.settings.lifetimes.challenge.as_secs() as i64,
        state: ChallengeProgress::Pending,
        error: None,
        person_id: None,
        answered_at: None,
        consumed_at: None,
        verification_id: None,
    };
    let insert = row.clone();
    p.db.write(move |c| store::requests::insert_challenge(c, &insert))
        .await?;
    Ok(row)
}

/// The document the helper fetches (spec §2).
pub async fn document(p: &Provider, id: &str) -> Result<ChallengeDocument, ProviderError> {
    let (row, client_name) = load(p, id).await?;
    if row.expires_at <= p.clock.unix() {
        return Err(CardErrorCode::ExpiredChallenge.into());
    }
    Ok(ChallengeDocument {
        version: PROTOCOL_VERSION.to_owned(),
        issuer: p.settings.issuer_str().to_owned(),
        nonce: row.nonce,
        purpose: ChallengePurpose::parse(&row.purpose).unwrap_or(ChallengePurpose::Login),
        client_name,
        match_code: row.match_code,
        expires_at: row.expires_at,
        response_uri: format!("{}/response", challenge_url(p, &row.id)),
        challenge_id: row.id,
    })
}

async fn load(p: &Provider, id: &str) -> Result<(ChallengeRow, String), ProviderError> {
    let owned = id.to_owned();
    let found =
        p.db.read(move |c| store::requests::challenge_view(c, &owned))
            .await?;
    let Some(view) = found else {
        return Err(CardErrorCode::UnknownChallenge.into());
    };
    let client = match view.client_id {
        Some(id) => p.clients.get(&id).await?,
        None => None,
    };
    let name = client.map(|c| c.name.clone()).unwrap_or_default();
    Ok((view.challenge, name))
}

/// Verifies the helper's answer (spec §4) and records the outcome for the browser.
pub async fn answer(
    p: &Arc<Provider>,
    id: &str,
    response: &ChallengeResponse,
) -> Result<(), ProviderError> {
    let now = p.clock.unix();
    let owned = id.to_owned();
    // Step 1: exists, not expired, not answered; claimed atomically. Claim first, read after:
    // a row read before the claim could be stale when two answers race.
    let (claimed, view, crl_numbers) =
        p.db.write(move |c| {
            let claimed = store::requests::claim_challenge(c, &owned, now)?;
            let view = store::requests::challenge_view(c, &owned)?;
            Ok((claimed, view, store::revocation::crl_numbers(c)?))
        })
        .await?;
    let Some(view) = view else {
        return Err(CardErrorCode::UnknownChallenge.into());
    };
    let row = view.challenge;
    if !claimed {
        return Err(
            if row.state != ChallengeProgress::Pending || row.expires_at > now {
                CardErrorCode::ChallengeAlreadyUsed
            } else {
                CardErrorCode::ExpiredChallenge
            }
            .into(),
        );
    }
    let ending = Ending {
        challenge_id: row.id.clone(),
        client_id: view.client_id,
        now,
    };
    let outcome = verify_against_stored_crls(p, &row, response, crl_numbers, &ending).await;
    let error = match &outcome {
        Ok(_) => None,
        Err(ProviderError::Card(code)) => Some(code.as_str()),
        Err(_) => Some("temporarily_unavailable"),
    };
    p.metrics
        .logins
        .with_label_values(&[error.unwrap_or("accepted")])
        .inc();
    // A person found was recorded in the transaction that found them; a failure is here.
    if let Some(error) = error.map(str::to_owned) {
        p.db.write(move |c| ending.record(c, None, Some(&error)))
            .await?;
    }
    outcome.map(drop)
}

/// How an answered challenge ends: completed with its person (and the facts read, if any)
/// or failed with an error code, and the login's audit event.
#[derive(Clone)]
struct Ending {
    challenge_id: String,
    client_id: Option<String>,
    now: i64,
}

impl Ending {
    fn record(
        &self,
        c: &mut DbConn,
        resolved: Option<&Resolved>,
        error: Option<&str>,
    ) -> diesel::QueryResult<()> {
        let person = resolved.map(|r| &r.person_id);
        store::requests::finish_challenge(
            c,
            &self.challenge_id,
            person,
            resolved.and_then(|r| r.verification_id.as_deref()),
            error,
        )?;
        crate::audit::hooks::login_outcome(c, self.client_id.as_deref(), person, error, self.now)
    }
}

/// Verifies the answer against the CRLs stored now and resolves the person. `stored`: each
/// root's stored CRL number, read when the answer was claimed. A CRL stored since this node's
/// last refresh (`crl import`, another node) is loaded first, so it counts from this answer,
/// not the next refresh; one stored while this answer binds a certificate for the first time
/// sends the answer round once more.
async fn verify_against_stored_crls(
    p: &Arc<Provider>,
    row: &ChallengeRow,
    response: &ChallengeResponse,
    mut stored: Vec<(String, String)>,
    ending: &Ending,
) -> Result<Resolved, ProviderError> {
    for _round in 0..2 {
        if !super::revocation::is_current(p, &stored) {
            let q = p.clone();
            tokio::task::spawn_blocking(move || super::revocation::load_stored_crls(&q))
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))??;
        }
        if let Some(resolved) = verify_and_resolve(p, row, response, &stored, ending).await? {
            return Ok(resolved);
        }
        stored = p.db.read(store::revocation::crl_numbers).await?;
    }
    Err(
        StoreError::Unavailable("revocation data changed twice during one card answer".into())
            .into(),
    )
}

async fn verify_and_resolve(
    p: &Provider,
    row: &ChallengeRow,
    response: &ChallengeResponse,
    stored: &[(String, String)],
    ending: &Ending,
) -> Result<Option<Resolved>, ProviderError> {
    let purpose = ChallengePurpose::parse(&row.purpose).unwrap_or(ChallengePurpose::Login);
    let message = signed_message(
        p.settings.issuer_str(),
        &row.id,
        &row.nonce,
        purpose,
        row.expires_at,
    );
    let auth = verify_one(
        p,
        Purpose::Auth,
        &response.auth_certificate,
        &response.auth_signature,
        &message,
    )?;
    let sign = match purpose {
        ChallengePurpose::Verify => {
            let (Some(cert), Some(sig)) = (&response.sign_certificate, &response.sign_signature)
            else {
                return Err(CardErrorCode::InvalidRequest.into());
            };
            Some(verify_one(p, Purpose::Sign, cert, sig, &message)?)
        }
        ChallengePurpose::Login => None,
    };
    let ending = ending.clone();
    let record = move |c: &mut DbConn, r: &Resolved| ending.record(c, Some(r), None);
    super::persons::resolve(p, &auth, sign.as_ref(), stored, record).await
}

fn verify_one(
    p: &Provider,
    purpose: Purpose,
    certificate_b64: &str,
    signature_b64url: &str,
    message: &[u8],
) -> Result<VerifiedCertificate, ProviderError> {
    let certificate = STANDARD
        .decode(certificate_b64.trim())
        .map_err(|_| CardErrorCode::InvalidRequest)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64url.trim().trim_end_matches('='))
        .map_err(|_| CardErrorCode::InvalidRequest)?;
    let verified = verify_card_signature(
        &p.trust,
        p.revocation.as_ref(),
        &p.verify_policy(),
        purpose,
        &certificate,
        message,
        &signature,
        p.clock.now(),
    )?;
    Ok(verified)
}

/// What the browser holding the transaction sees (spec §6).
pub async fn status(
    p: &Provider,
    id: &str,
    transaction_cookie_hash: &str,
) -> Result<Option<ChallengeStatus>, ProviderError> {
    let owned = id.to_owned();
    let found =
        p.db.read(move |c| store::requests::challenge_view(c, &owned))
            .await?;
    let Some((row, Some(cookie_hash))) = found.map(|v| (v.challenge, v.cookie_hash)) else {
        return Ok(None);
    };
    if !crate::domain::secret::constant_time_eq(
        cookie_hash.as_bytes(),
        transaction_cookie_hash.as_bytes(),
    ) {
        return Ok(None);
    }
    let now = p.clock.unix();
    Ok(Some(state_of(&row, now)))
}

pub fn state_of(row: &ChallengeRow, now: i64) -> ChallengeStatus {
    let (state, error) = match row.state {
        ChallengeProgress::Completed => (ChallengeState::Completed, None),
        ChallengeProgress::Failed => (
            ChallengeState::Failed,
            row.error.as_deref().and_then(CardErrorCode::parse),
        ),
        _ if row.expires_at <= now => (ChallengeState::Expired, None),
        _ => (ChallengeState::Pending, None),
    };
    ChallengeStatus { state, error }
}
