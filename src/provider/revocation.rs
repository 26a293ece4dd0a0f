//! Revocation data in (docs/card-login.md §4 step 3, DESIGN "Revocation-driven session
//! termination"): CRLs checked against the trust store, refused when their number does not
//! grow, stored whole, diffed, and turned into terminations — every session of a person whose
//! bound certificate is revoked ends, their tokens die, and every client session is owed a
//! back-channel logout. A renewal (`superseded` with a linked successor) moves nobody out.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::digest;

use super::sessions::EndReason;
use super::Provider;
use crate::audit::Actor;
use crate::card::crl::{Crl, CrlError};
use crate::card::jpki::{Purpose, RevocationReason};
use crate::card::revocation::{RevocationSet, SerialKey};
use crate::domain::secret::random_b64;
use crate::domain::MyKeyId;
use crate::store::persons::BindingRow;
use crate::store::revocation::{CrlImportRow, CrlRow, RowLock, TerminationRow};
use crate::store::states::BindingStatus;
use crate::store::{self, DbConn, StoreError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("CRL refused: {0}")]
    Refused(#[from] CrlError),
    #[error("this CRL was already offered")]
    AlreadySeen,
    #[error("the CRL is stale: its nextUpdate ({next_update}) has passed")]
    Stale { next_update: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ImportError {
    /// Label for metrics and the import history.
    pub fn outcome(&self) -> &'static str {
        match self {
            ImportError::Refused(CrlError::RolledBack { .. }) => "rolled_back",
            ImportError::Refused(CrlError::NotNewer { .. }) => "not_newer",
            ImportError::Refused(CrlError::UnknownIssuer) => "unknown_issuer",
            ImportError::Refused(CrlError::BadSignature) => "bad_signature",
            ImportError::Refused(CrlError::Garbage(_)) => "garbage",
            ImportError::Refused(_) => "invalid",
            ImportError::AlreadySeen => "already_seen",
            ImportError::Stale { .. } => "stale",
            ImportError::Store(_) => "database_error",
        }
    }
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub root_key_id: String,
    pub purpose: String,
    pub crl_number: String,
    pub entries: usize,
    pub newly_revoked: usize,
    pub no_longer_listed: usize,
    /// Persons logged out everywhere.
    pub terminated: usize,
    /// Renewed certificates retired without a logout.
    pub superseded: usize,
    pub sessions_ended: usize,
    /// Signature certificates revoked: their facts changed.
    pub facts_changed: usize,
    /// Security Event Tokens queued for sites that had received those facts.
    pub security_events: usize,
}

/// Imports one CRL (DER or PEM) from `source` (a file name, URL, `cli`, `console`, …) for the
/// provider itself (the watched folder, a polled URL). Given owned DER bytes, it keeps them:
/// a national CRL is tens of megabytes.
pub async fn import_crl(
    p: &Provider,
    bytes: impl Into<Vec<u8>>,
    source: &str,
) -> Result<ImportReport, ImportError> {
    import_crl_by(p, bytes, source, Actor::System).await
}

/// [`import_crl`] on behalf of `actor` (an operator), whom the audit trail names.
pub async fn import_crl_by(
    p: &Provider,
    bytes: impl Into<Vec<u8>>,
    source: &str,
    actor: Actor,
) -> Result<ImportReport, ImportError> {
    let der = pem_to_der(bytes.into());
    let sha256 = hex::encode(digest::digest(&digest::SHA256, &der));
    let result = import(p, der, &sha256, source, actor.clone()).await;
    match &result {
        Ok(report) => {
            p.metrics.crl_imports.with_label_values(&["imported"]).inc();
            tracing::info!(
                root = %report.root_key_id, crl_number = %report.crl_number, entries = report.entries,
                newly_revoked = report.newly_revoked, terminated = report.terminated,
                superseded = report.superseded, %source, "CRL imported"
            );
        }
        Err(ImportError::AlreadySeen) => {}
        Err(e) => {
            p.metrics
                .crl_imports
                .with_label_values(&[e.outcome()])
                .inc();
            tracing::warn!(error = %e, %source, "CRL refused; nothing changed");
            let row = CrlImportRow {
                id: random_b64(12),
                sha256: sha256.clone(),
                root_key_id: None,
                crl_number: None,
                this_update: None,
                next_update: None,
                entry_count: None,
                newly_revoked: 0,
                no_longer_listed: 0,
                terminated: 0,
                source: source.to_owned(),
                outcome: e.outcome().to_owned(),
                error: Some(e.to_string()),
                imported_at: p.clock.unix(),
            };
            if !matches!(e, ImportError::Store(_)) {
                let _ =
                    p.db.write(move |c| {
                        store::revocation::record_import(c, &row)?;
                        let data = serde_json::json!({ "source": row.source, "error": row.error });
                        crate::audit::hooks::crl_import(
                            c,
                            &actor,
                            None,
                            &row.outcome,
                            data,
                            row.imported_at,
                        )
                    })
                    .await;
            }
        }
    }
    result
}

/// A PEM CRL's DER; anything else is taken as DER.
fn pem_to_der(bytes: Vec<u8>) -> Vec<u8> {
    let text = std::str::from_utf8(&bytes).unwrap_or("");
    if let Some(start) = text.find("-----BEGIN X509 CRL-----") {
        let body = &text[start + 24..];
        if let Some(end) = body.find("-----END X509 CRL-----") {
            let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
            if let Ok(der) = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
            {
                return der;
            }
        }
    }
    bytes
}

async fn import(
    p: &Provider,
    der: Vec<u8>,
    sha256: &str,
    source: &str,
    actor: Actor,
) -> Result<ImportReport, ImportError> {
    let seen = {
        let sha = sha256.to_owned();
        p.db.read(move |c| store::revocation::import_seen(c, &sha))
            .await?
    };
    if seen {
        return Err(ImportError::AlreadySeen);
    }
    // Parsing a million entries is CPU work: off the async threads.
    let (der, set) = {
        let trust = p.trust.clone();
        tokio::task::spawn_blocking(move || {
            let set = RevocationSet::from_crl(&Crl::parse(&der, &trust)?)?;
            Ok::<_, CrlError>((der, set))
        })
        .await
        .map_err(|e| ImportError::Store(StoreError::Unavailable(e.to_string())))??
    };
    let info = set.info().clone();
    let grace = time::Duration::seconds(p.settings.revocation_stale_grace.as_secs() as i64);
    if info.next_update + grace < p.clock.now() {
        return Err(ImportError::Stale {
            next_update: info
                .next_update
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        });
    }
    let root = info.root_key_id.clone();
    let previous = previous_set(p, &root).await?;
    if let Some(prev) = &previous {
        prev.check_successor(&set)?;
    }
    let set = Arc::new(set);
    let now = p.clock.unix();
    let newly_revoked = match &previous {
        Some(prev) => set.not_in(prev).count(),
        None => set.len(),
    };
    let no_longer_listed = previous
        .as_ref()
        .map_or(0, |prev| prev.not_in(&set).count());
    let row = CrlRow {
        root_key_id: root.clone(),
        purpose: info.purpose.as_str().to_owned(),
        crl_number: info.crl_number.to_string(),
        this_update: info.this_update.unix_timestamp(),
        next_update: info.next_update.unix_timestamp(),
        entry_count: set.len() as i64,
        sha256: sha256.to_owned(),
        der,
        source: source.to_owned(),
        imported_at: now,
    };
    let mut report = ImportReport {
        root_key_id: root.clone(),
        purpose: row.purpose.clone(),
        crl_number: row.crl_number.clone(),
        entries: set.len(),
        newly_revoked,
        no_longer_listed,
        ..ImportReport::default()
    };
    let (tx_set, tx_report, number) = (set.clone(), report.clone(), info.crl_number.clone());
    let outcome =
        p.db.write_offloaded(move |c| {
            // The database decides: another node may have imported a newer CRL meanwhile, or
            // be importing one now (the row stays locked until this transaction ends).
            let root = &row.root_key_id;
            if let Some(have) = store::revocation::crl_number_locked(c, root, RowLock::Update)? {
                if let Ok(have) = have.parse::<crate::card::crl::CrlNumber>() {
                    if number <= have {
                        return Ok(Err(if number == have {
                            CrlError::NotNewer { number }
                        } else {
                            CrlError::RolledBack { have, got: number }
                        }));
                    }
                }
            }
            let mut report = tx_report;
            apply(c, &tx_set, &row, now, &mut report)?;
            store::revocation::store_crl(c, &row)?;
            store::revocation::record_import(
                c,
                &CrlImportRow {
                    id: random_b64(12),
                    sha256: row.sha256.clone(),
                    root_key_id: Some(row.root_key_id.clone()),
                    crl_number: Some(row.crl_number.clone()),
                    this_update: Some(row.this_update),
                    next_update: Some(row.next_update),
                    entry_count: Some(row.entry_count),
                    newly_revoked: report.newly_revoked as i64,
                    no_longer_listed: report.no_longer_listed as i64,
                    terminated: report.terminated as i64,
                    source: row.source.clone(),
                    outcome: "imported".to_owned(),
                    error: None,
                    imported_at: now,
                },
            )?;
            let data = serde_json::json!({ "crl_number": row.crl_number, "source": row.source, "newly_revoked": report.newly_revoked, "terminated": report.terminated, "superseded": report.superseded });
            crate::audit::hooks::crl_import(c, &actor, Some(&row.root_key_id), "imported", data, now)?;
            Ok(Ok(report))
        })
        .await?;
    report = outcome?;
    install(p, set);
    for (action, n) in [
        ("terminated", report.terminated),
        ("superseded", report.superseded),
    ] {
        p.metrics
            .terminations
            .with_label_values(&[action])
            .inc_by(n as u64);
    }
    p.deliveries.notify_one();
    Ok(report)
}

/// Replaces this node's in-memory set unless it already holds a newer one.
fn install(p: &Provider, set: Arc<RevocationSet>) {
    if let Err(e) = p.revocation.install_shared(set) {
        tracing::debug!(error = %e, "in-memory revocation set already newer");
    }
}

/// The set the new CRL is compared with: this node's, if it is the stored one; else the
/// stored CRL parsed again (another node imported it).
async fn previous_set(p: &Provider, root: &str) -> Result<Option<Arc<RevocationSet>>, ImportError> {
    let owned = root.to_owned();
    let stored =
        p.db.read(move |c| store::revocation::crl_number(c, &owned))
            .await?;
    let Some(stored) = stored else {
        return Ok(None);
    };
    if let Some(local) = p.revocation.set(root) {
        if local.info().crl_number.to_string() == stored {
            return Ok(Some(local));
        }
    }
    let owned = root.to_owned();
    let row =
        p.db.read(move |c| store::revocation::crl(c, &owned))
            .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let trust = p.trust.clone();
    let set = tokio::task::spawn_blocking(move || {
        RevocationSet::from_crl(&Crl::parse(&row.der, &trust)?)
    })
    .await
    .map_err(|e| ImportError::Store(StoreError::Unavailable(e.to_string())))??;
    Ok(Some(Arc::new(set)))
}

/// Applies a new revoked set to the bindings of its root, inside the import transaction.
fn apply(
    c: &mut DbConn,
    set: &RevocationSet,
    crl: &CrlRow,
    now: i64,
    report: &mut ImportReport,
) -> diesel::QueryResult<()> {
    for binding in store::revocation::bindings_of_root(c, &crl.root_key_id, BindingStatus::Active)?
    {
        let Some(entry) = SerialKey::from_hex(&binding.serial).and_then(|k| set.get(&k)) else {
            continue;
        };
        let at = entry.at.unix_timestamp();
        let reason = entry.reason;
        if reason == RevocationReason::Superseded && has_linked_successor(c, &binding)? {
            store::revocation::set_binding_status(
                c,
                &binding.id,
                BindingStatus::Superseded,
                Some(reason.as_str()),
                Some(at),
            )?;
            report.superseded += 1;
            continue;
        }
        store::revocation::set_binding_status(
            c,
            &binding.id,
            BindingStatus::Revoked,
            Some(reason.as_str()),
            Some(at),
        )?;
        if binding.purpose != Purpose::Auth.as_str() {
            // A revoked signature certificate means "the facts changed", not "log out".
            report.facts_changed += 1;
            report.security_events +=
                super::identity::facts_changed(c, &binding, reason.as_str(), at, now)?;
            continue;
        }
        let ended = terminate_person(c, &binding.person_id, now)?;
        store::revocation::insert_termination(
            c,
            &TerminationRow {
                id: random_b64(12),
                person_id: binding.person_id.clone(),
                binding_id: binding.id.clone(),
                root_key_id: crl.root_key_id.clone(),
                serial: binding.serial.clone(),
                reason: reason.as_str().to_owned(),
                revoked_at: at,
                crl_number: crl.crl_number.clone(),
                sessions_ended: ended as i64,
                terminated_at: now,
            },
        )?;
        let (person, serial) = (&binding.person_id, &binding.serial);
        crate::audit::hooks::terminated(
            c,
            person,
            serial,
            reason.as_str(),
            &crl.crl_number,
            ended,
            now,
        )?;
        report.terminated += 1;
        report.sessions_ended += ended;
    }
    // A released hold (RFC 5280 §5.3.1 certificateHold) gives the binding back.
    for binding in store::revocation::bindings_of_root(c, &crl.root_key_id, BindingStatus::Revoked)?
    {
        let held =
            binding.revoked_reason.as_deref() == Some(RevocationReason::CertificateHold.as_str());
        let listed = SerialKey::from_hex(&binding.serial)
            .and_then(|k| set.get(&k))
            .is_some();
        if held && !listed {
            store::revocation::set_binding_status(
                c,
                &binding.id,
                BindingStatus::Active,
                None,
                None,
            )?;
        }
    }
    Ok(())
}

/// A linkage record names a successor of this certificate bound to the same person.
fn has_linked_successor(c: &mut DbConn, binding: &BindingRow) -> diesel::QueryResult<bool> {
    for link in store::revocation::successors(c, &binding.issuer_key_id, &binding.serial)? {
        if let Some(next) =
            store::persons::find_binding(c, &link.new_issuer_key_id, &link.new_serial)?
        {
            if next.person_id == binding.person_id {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Ends every live session of a person and revokes all their tokens; returns how many
/// sessions ended. Each client session gets its back-channel logout queued. Set-based: a person
/// with a thousand sessions costs a handful of statements, not a thousand.
pub fn terminate_person(
    c: &mut DbConn,
    person_id: &MyKeyId,
    now: i64,
) -> diesel::QueryResult<usize> {
    let reason = EndReason::Revoked.as_str();
    let (sessions, live) = store::sessions::end_all_of_person(c, person_id, reason, now)?;
    store::grants::revoke_person(c, person_id, now)?;
    super::outbox::enqueue_logouts(c, &live, now)?;
    super::ssf::events::sessions_revoked(
        c,
        &live,
        "policy",
        "The card's certificate was revoked.",
        now,
    )?;
    let mut clients_of: HashMap<&str, Vec<String>> = HashMap::new();
    for cs in &live {
        clients_of
            .entry(&cs.session_id)
            .or_default()
            .push(cs.client_id.clone());
    }
    for session in &sessions {
        let clients = clients_of.remove(session.as_str()).unwrap_or_default();
        crate::audit::hooks::person_session_ended(
            c,
            Some(person_id),
            session,
            reason,
            &clients,
            now,
        )?;
    }
    Ok(sessions.len())
}

/// Loads every stored CRL this node does not hold yet into memory (start-up, and when
/// another node imported one). Blocking: call off the async threads.
pub fn load_stored_crls(p: &Provider) -> Result<usize, StoreError> {
    let headers = p.db.read_blocking(store::revocation::crl_headers)?;
    let mut loaded = 0;
    for h in headers {
        if holds(p, &h.root_key_id, &h.crl_number) {
            continue;
        }
        let Some(row) =
            p.db.read_blocking(|c| store::revocation::crl(c, &h.root_key_id))?
        else {
            continue;
        };
        match Crl::parse(&row.der, &p.trust).and_then(|crl| RevocationSet::from_crl(&crl)) {
            Ok(set) => {
                install(p, Arc::new(set));
                loaded += 1;
            }
            // A stored CRL of a root no longer trusted (the configuration changed).
            Err(e) => tracing::warn!(root = %h.root_key_id, error = %e, "stored CRL not loaded"),
        }
    }
    Ok(loaded)
}

/// Whether this node checks certificates against every stored CRL (`stored`: root and CRL
/// number, from [`store::revocation::crl_numbers`]). False when `crl import` or another node
/// stored a newer CRL since this node's last refresh. Roots this node does not trust are
/// not its concern (their CRLs do not load here).
pub fn is_current(p: &Provider, stored: &[(String, String)]) -> bool {
    stored
        .iter()
        .all(|(root, number)| p.trust.root(root).is_none() || holds(p, root, number))
}

/// Whether this node's in-memory set for `root` is the stored CRL numbered `number`.
fn holds(p: &Provider, root: &str, number: &str) -> bool {
    p.revocation
        .set(root)
        .is_some_and(|set| set.info().crl_number.to_string() == number)
}

/// Freshness of one root's revocation data at `now` (readiness, metrics, the console).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// Past nextUpdate but inside the configured grace.
    InGrace,
    /// Past nextUpdate and the grace: new logins with this root fail closed.
    Stale,
    /// No CRL was ever imported for this root.
    Missing,
}

impl Freshness {
    pub fn as_str(self) -> &'static str {
        match self {
            Freshness::Fresh => "fresh",
            Freshness::InGrace => "in_grace",
            Freshness::Stale => "stale",
            Freshness::Missing => "missing",
        }
    }
}

pub fn freshness(p: &Provider, root_key_id: &str, now: time::OffsetDateTime) -> Freshness {
    let Some(set) = p.revocation.set(root_key_id) else {
        return Freshness::Missing;
    };
    let next = set.info().next_update;
    let grace = time::Duration::seconds(p.settings.revocation_stale_grace.as_secs() as i64);
    if now <= next {
        Freshness::Fresh
    } else if now <= next + grace {
        Freshness::InGrace
    } else {
        Freshness::Stale
    }
}
