//! What operators see and do about revocation: CRL freshness per root, recent imports and
//! terminations, back-channel logout delivery status per client, and uploads of CRLs and
//! linkage files (recorded with the operator as their source).

use serde::Serialize;

use super::{AdminError, Principal};
use crate::provider::{linkage, revocation, Provider};
use crate::store;

#[derive(Debug, Clone, Serialize)]
pub struct RootStatus {
    pub root_key_id: String,
    pub purpose: String,
    pub crl_number: String,
    pub this_update: i64,
    pub next_update: i64,
    pub entries: i64,
    pub freshness: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportLine {
    pub root_key_id: Option<String>,
    pub crl_number: Option<String>,
    pub outcome: String,
    pub error: Option<String>,
    pub newly_revoked: i64,
    pub terminated: i64,
    pub source: String,
    pub imported_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TerminationLine {
    pub person_id: String,
    pub serial: String,
    pub reason: String,
    pub crl_number: String,
    pub sessions_ended: i64,
    pub terminated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryCount {
    pub client_id: String,
    pub status: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub roots: Vec<RootStatus>,
    pub imports: Vec<ImportLine>,
    pub terminations: Vec<TerminationLine>,
    pub deliveries: Vec<DeliveryCount>,
}

pub async fn status(p: &Provider) -> Result<Status, AdminError> {
    let (headers, imports, terminations, counts) =
        p.db.read(|c| {
            Ok((
                store::revocation::crl_headers(c)?,
                store::revocation::recent_imports(c, 20)?,
                store::revocation::recent_terminations(c, 20)?,
                store::outbox::counts(c)?,
            ))
        })
        .await?;
    let now = p.clock.now();
    Ok(Status {
        roots: headers
            .into_iter()
            .map(|h| RootStatus {
                freshness: revocation::freshness(p, &h.root_key_id, now).as_str(),
                root_key_id: h.root_key_id,
                purpose: h.purpose,
                crl_number: h.crl_number,
                this_update: h.this_update,
                next_update: h.next_update,
                entries: h.entry_count,
            })
            .collect(),
        imports: imports
            .into_iter()
            .map(|i| ImportLine {
                root_key_id: i.root_key_id,
                crl_number: i.crl_number,
                outcome: i.outcome,
                error: i.error,
                newly_revoked: i.newly_revoked,
                terminated: i.terminated,
                source: i.source,
                imported_at: i.imported_at,
            })
            .collect(),
        terminations: terminations
            .into_iter()
            .map(|t| TerminationLine {
                person_id: t.person_id.into_string(),
                serial: t.serial,
                reason: t.reason,
                crl_number: t.crl_number,
                sessions_ended: t.sessions_ended,
                terminated_at: t.terminated_at,
            })
            .collect(),
        deliveries: counts
            .into_iter()
            .map(|(client_id, status, count)| DeliveryCount {
                client_id,
                status,
                count,
            })
            .collect(),
    })
}

/// The trusted roots for which no CRL is loaded: logins with their certificates fail closed.
pub fn roots_without_crl(p: &Provider) -> Vec<(String, &'static str)> {
    p.trust
        .roots()
        .iter()
        .filter(|root| p.revocation.set(root.key_id()).is_none())
        .map(|root| (root.key_id().to_owned(), root.purpose().as_str()))
        .collect()
}

/// The CRL import's source label: who uploaded it, through what.
fn source(who: &Principal, through: &str) -> String {
    format!("{through}:{}", who.actor)
}

/// The largest CRL or linkage file an operator may upload (console or API): a CRL of a few
/// million entries.
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

/// Imports an operator's CRL (DER or PEM); `through`: `console`, `api`, or the file name the
/// command line read. Audited as `crl.imported` with the operator as actor.
pub async fn upload_crl(
    p: &Provider,
    who: &Principal,
    through: &str,
    bytes: impl Into<Vec<u8>>,
) -> Result<revocation::ImportReport, AdminError> {
    Ok(revocation::import_crl_by(p, bytes, &source(who, through), who.actor.clone()).await?)
}

/// Imports an operator's linkage file. Audited as `linkage.imported`.
pub async fn upload_linkage(
    p: &Provider,
    who: &Principal,
    bytes: &[u8],
) -> Result<linkage::LinkageReport, AdminError> {
    Ok(linkage::import_linkage(p, bytes, &who.actor).await?)
}
