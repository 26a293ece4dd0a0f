//! Renewal linkage in (J-LIS 新旧紐付け): the new certificate is bound to the person the old
//! one was bound to, so the next login with the new card finds the same MyKey ID and every
//! site keeps seeing the same `sub`.

use super::{Provider, ProviderError};
use crate::audit::Actor;
use crate::card::linkage::LinkageFile;
use crate::domain::secret::random_b64;
use crate::store;
use crate::store::persons::BindingRow;
use crate::store::revocation::LinkageRow;
use crate::store::states::BindingStatus;

/// What an import did, record by record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkageReport {
    pub records: usize,
    /// New certificates now bound to the old certificate's person.
    pub linked: usize,
    /// Records already imported before.
    pub duplicates: usize,
    /// The old certificate was never used here: nothing to carry over (kept for later).
    pub unknown_old: usize,
    /// The new certificate already enrolled as another person: an operator must merge.
    pub conflicts: usize,
}

/// Imports a `mykey-linkage/1` document (README "Linkage file format") for `actor`, whom the
/// audit entry of the import names.
pub async fn import_linkage(
    p: &Provider,
    bytes: &[u8],
    actor: &Actor,
) -> Result<LinkageReport, ProviderError> {
    let file = LinkageFile::from_json(bytes).map_err(|e| ProviderError::Invalid(e.to_string()))?;
    let actor = actor.clone();
    let now = p.clock.unix();
    let report =
        p.db.write(move |c| {
            let mut report = LinkageReport {
                records: file.records.len(),
                ..LinkageReport::default()
            };
            for r in &file.records {
                let old = store::persons::find_binding(c, &r.old.issuer_key_id, &r.old.serial)?;
                let mut row = LinkageRow {
                    id: random_b64(12),
                    purpose: r.purpose.as_str().to_owned(),
                    old_issuer_key_id: r.old.issuer_key_id.clone(),
                    old_serial: r.old.serial.clone(),
                    new_issuer_key_id: r.new.issuer_key_id.clone(),
                    new_serial: r.new.serial.clone(),
                    linked_at: r.linked_at.unix_timestamp(),
                    imported_at: now,
                    person_id: old.as_ref().map(|b| b.person_id.clone()),
                };
                if !store::revocation::insert_linkage(c, &row)? {
                    report.duplicates += 1;
                    continue;
                }
                let Some(old) = old else {
                    report.unknown_old += 1;
                    continue;
                };
                match store::persons::find_binding(c, &r.new.issuer_key_id, &r.new.serial)? {
                    Some(existing) if existing.person_id == old.person_id => report.linked += 1,
                    Some(_) => {
                        row.person_id = None;
                        report.conflicts += 1;
                    }
                    None => {
                        store::persons::insert_binding(
                            c,
                            &BindingRow {
                                id: random_b64(16),
                                person_id: old.person_id.clone(),
                                purpose: r.purpose.as_str().to_owned(),
                                issuer_key_id: r.new.issuer_key_id.clone(),
                                serial: r.new.serial.clone(),
                                // Learnt at the first login with the new card.
                                not_after: 0,
                                status: BindingStatus::Active,
                                revoked_reason: None,
                                revoked_at: None,
                                created_at: now,
                            },
                        )?;
                        report.linked += 1;
                    }
                }
            }
            let data = serde_json::json!({
                "records": report.records, "linked": report.linked, "duplicates": report.duplicates,
                "unknown_old": report.unknown_old, "conflicts": report.conflicts,
            });
            crate::audit::hooks::linkage_import(c, &actor, data, now)?;
            Ok(report)
        })
        .await?;
    if report.conflicts > 0 {
        tracing::warn!(
            conflicts = report.conflicts,
            "linkage names new certificates already enrolled as other persons; merge them in the console"
        );
    }
    tracing::info!(
        records = report.records,
        linked = report.linked,
        unknown_old = report.unknown_old,
        "linkage imported"
    );
    Ok(report)
}
