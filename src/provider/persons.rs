//! Persons behind certificates: the first user-authentication certificate enrols a person with
//! a random MyKey ID; later logins resolve through the binding; a signature certificate is
//! bound to the same person (or refused when it is another person's).

use super::identity::{facts_of, seal};
use super::{Provider, ProviderError};
use crate::card::jpki::Purpose;
use crate::card::protocol::CardErrorCode;
use crate::card::verify::VerifiedCertificate;
use crate::domain::secret::random_b64;
use crate::domain::MyKeyId;
use crate::store::persons::BindingRow;
use crate::store::revocation::RowLock;
use crate::store::states::BindingStatus;
use crate::store::{self, DbConn, StoreError};

/// Who answered, and the facts read if the signature certificate was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub person_id: MyKeyId,
    pub verification_id: Option<String>,
}

fn binding(purpose: Purpose, person: &MyKeyId, cert: &VerifiedCertificate, now: i64) -> BindingRow {
    BindingRow {
        id: random_b64(16),
        person_id: person.clone(),
        purpose: purpose.as_str().to_owned(),
        issuer_key_id: cert.issuer_key_id.clone(),
        serial: cert.serial.clone(),
        not_after: cert.not_after.unix_timestamp(),
        status: BindingStatus::Active,
        revoked_reason: None,
        revoked_at: None,
        created_at: now,
    }
}

/// Finds or enrols the person of `auth` and, for identity verification, binds `sign` to them
/// and seals its facts — all in one transaction, which `record` (what the caller keeps of the
/// person found: the answered challenge) joins. `checked`: each root's stored CRL number
/// that the certificates were verified against. `Ok(None)`: a certificate was about to be
/// bound for the first time, and a newer CRL of its root has been stored since; nothing was
/// written, verify again against it.
pub async fn resolve(
    p: &Provider,
    auth: &VerifiedCertificate,
    sign: Option<&VerifiedCertificate>,
    checked: &[(String, String)],
    record: impl Fn(&mut DbConn, &Resolved) -> diesel::QueryResult<()> + Clone + Send + 'static,
) -> Result<Option<Resolved>, ProviderError> {
    let now_t = p.clock.now();
    let now = now_t.unix_timestamp();
    let facts = match sign {
        Some(cert) => Some(facts_of(p, cert, now_t).ok_or(CardErrorCode::WrongCertificatePurpose)?),
        None => None,
    };
    for _attempt in 0..2 {
        // Sealing needs the binding id, so both ids are chosen before the transaction.
        let sign_binding_id = random_b64(16);
        let (auth, sign, checked) = (auth.clone(), sign.cloned(), checked.to_vec());
        let sealed = match (&facts, sign.is_some()) {
            (Some(f), true) => Some(seal(p, &sign_binding_id, f, now)?),
            _ => None,
        };
        let record = record.clone();
        let result =
            p.db.write(move |c| {
                let resolved = resolve_in(
                    c,
                    &auth,
                    sign.as_ref(),
                    &checked,
                    sign_binding_id,
                    sealed,
                    now,
                )?;
                if let Ok(Some(found)) = &resolved {
                    record(c, found)?;
                }
                Ok(resolved)
            })
            .await;
        match result {
            Ok(Ok(resolved)) => return Ok(resolved),
            Ok(Err(code)) => return Err(code.into()),
            // The same card enrolled concurrently by another answer: read theirs.
            Err(e) if e.is_unique_violation() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ProviderError::Store(StoreError::Unavailable(
        "enrolment kept conflicting".to_owned(),
    )))
}

/// Whether the stored CRL of `cert`'s root is still the one it was verified against, read
/// with the row locked for share: an import under way either commits first (and its number
/// is read here) or waits for this transaction (and then finds the binding made in it).
fn crl_unchanged(
    c: &mut DbConn,
    cert: &VerifiedCertificate,
    checked: &[(String, String)],
) -> diesel::QueryResult<bool> {
    let stored = store::revocation::crl_number_locked(c, &cert.issuer_key_id, RowLock::Share)?;
    let verified = checked
        .iter()
        .find(|(root, _)| *root == cert.issuer_key_id)
        .map(|(_, number)| number);
    Ok(stored.as_ref() == verified)
}

fn resolve_in(
    c: &mut DbConn,
    auth: &VerifiedCertificate,
    sign: Option<&VerifiedCertificate>,
    checked: &[(String, String)],
    sign_binding_id: String,
    sealed: Option<store::identity::VerificationRow>,
    now: i64,
) -> diesel::QueryResult<Result<Option<Resolved>, CardErrorCode>> {
    let auth_binding = store::persons::find_binding(c, &auth.issuer_key_id, &auth.serial)?;
    let sign_binding = match (sign, &sealed) {
        (Some(sign), Some(_)) => {
            store::persons::find_binding(c, &sign.issuer_key_id, &sign.serial)?
        }
        _ => None,
    };
    // A certificate bound for the first time must not be one a CRL stored meanwhile revokes:
    // the import that stored it looked only at the bindings there were.
    let first_seen = [
        auth_binding.is_none().then_some(auth),
        sign.filter(|_| sealed.is_some() && sign_binding.is_none()),
    ];
    for cert in first_seen.into_iter().flatten() {
        if !crl_unchanged(c, cert, checked)? {
            return Ok(Ok(None));
        }
    }
    let person_id = match auth_binding {
        Some(b) if b.status == BindingStatus::Active => {
            if b.not_after == 0 {
                // A binding made from a linkage record learns its expiry at first use.
                store::persons::set_not_after(c, &b.id, auth.not_after.unix_timestamp())?;
            }
            b.person_id
        }
        Some(_) => return Ok(Err(CardErrorCode::CertificateRevoked)),
        None => {
            let person = MyKeyId::generate();
            store::persons::insert_person(c, &person, now)?;
            store::persons::insert_binding(c, &binding(Purpose::Auth, &person, auth, now))?;
            crate::audit::hooks::enrolled(c, &person, now)?;
            tracing::info!("enrolled a new person");
            person
        }
    };
    let (Some(sign), Some(mut verification)) = (sign, sealed) else {
        return Ok(Ok(Some(Resolved {
            person_id,
            verification_id: None,
        })));
    };
    let binding_id = match sign_binding {
        // Another person's signature certificate next to this card's: refused.
        Some(b) if b.person_id != person_id => return Ok(Err(CardErrorCode::UntrustedCertificate)),
        Some(b) if b.status != BindingStatus::Active => {
            return Ok(Err(CardErrorCode::CertificateRevoked))
        }
        Some(b) => b.id,
        None => {
            let mut row = binding(Purpose::Sign, &person_id, sign, now);
            row.id = sign_binding_id;
            store::persons::insert_binding(c, &row)?;
            row.id
        }
    };
    verification.person_id = person_id.clone();
    verification.sign_binding_id = binding_id;
    store::identity::insert(c, &verification)?;
    Ok(Ok(Some(Resolved {
        person_id,
        verification_id: Some(verification.id),
    })))
}
