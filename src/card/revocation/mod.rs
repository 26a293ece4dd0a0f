//! Revocation data: what verification asks, and an in-memory store of CRL-derived sets.

mod set;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use time::OffsetDateTime;

use super::crl::{Crl, CrlError};
use super::jpki::RevocationReason;
use super::trust::TrustStore;

pub use set::{RevocationSet, RevokedEntry, SerialKey};

/// What the revocation data says about one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationStatus {
    /// Not listed, and the data is within its validity (≤ nextUpdate).
    Good,
    /// Listed by the root's CRL (whether or not that CRL is still current).
    Revoked {
        reason: RevocationReason,
        at: OffsetDateTime,
    },
    /// Not listed, but the data is past its nextUpdate. Carries nextUpdate so the verifier
    /// can apply its grace period.
    Stale { next_update: OffsetDateTime },
    /// No CRL was ever loaded for that root.
    NoData,
}

/// Where verification looks up revocation. The provider implements this over its database;
/// [`InMemoryRevocation`] serves tests, the demo and single-node use.
pub trait RevocationSource: Send + Sync {
    /// `root_key_id` is [`super::jpki::key_id`] of the issuing root, `serial` is
    /// [`super::jpki::serial_hex`] of the certificate.
    fn status(&self, root_key_id: &str, serial: &str, now: OffsetDateTime) -> RevocationStatus;
}

/// The outcome of loading a CRL: the set it replaced (if any) and the new one.
#[derive(Debug, Clone)]
pub struct RevocationUpdate {
    pub previous: Option<Arc<RevocationSet>>,
    pub current: Arc<RevocationSet>,
}

impl RevocationUpdate {
    /// Certificates the new CRL revokes that the previous one did not list (all of them on a
    /// root's first CRL): the provider ends the sessions bound to them.
    pub fn newly_revoked(&self) -> Box<dyn Iterator<Item = RevokedEntry> + '_> {
        match &self.previous {
            Some(previous) => Box::new(self.current.not_in(previous)),
            None => Box::new(self.current.iter()),
        }
    }

    /// Certificates the previous CRL listed and the new one does not.
    pub fn no_longer_listed(&self) -> Box<dyn Iterator<Item = RevokedEntry> + '_> {
        match &self.previous {
            Some(previous) => Box::new(previous.not_in(&self.current)),
            None => Box::new(std::iter::empty()),
        }
    }
}

/// Revocation sets kept in memory, one per root, replaced atomically by newer CRLs.
#[derive(Debug, Default)]
pub struct InMemoryRevocation {
    sets: RwLock<HashMap<String, Arc<RevocationSet>>>,
}

impl InMemoryRevocation {
    pub fn new() -> InMemoryRevocation {
        InMemoryRevocation::default()
    }

    /// Checks a DER CRL against `trust`, reads it into a set and installs it.
    pub fn load_crl(&self, trust: &TrustStore, der: &[u8]) -> Result<RevocationUpdate, CrlError> {
        let crl = Crl::parse(der, trust)?;
        self.install(RevocationSet::from_crl(&crl)?)
    }

    /// Installs `set` for its root unless the root already has a CRL at least as new
    /// (`RolledBack` / `NotNewer`).
    pub fn install(&self, set: RevocationSet) -> Result<RevocationUpdate, CrlError> {
        self.install_shared(Arc::new(set))
    }

    /// [`InMemoryRevocation::install`] for a set already shared (the provider keeps using it
    /// to diff the next CRL).
    pub fn install_shared(
        &self,
        current: Arc<RevocationSet>,
    ) -> Result<RevocationUpdate, CrlError> {
        let mut sets = self.sets.write().unwrap_or_else(PoisonError::into_inner);
        let key = &current.info().root_key_id;
        let previous = sets.get(key).cloned();
        if let Some(previous) = &previous {
            previous.check_successor(&current)?;
        }
        sets.insert(key.clone(), Arc::clone(&current));
        Ok(RevocationUpdate { previous, current })
    }

    /// The set currently installed for a root.
    pub fn set(&self, root_key_id: &str) -> Option<Arc<RevocationSet>> {
        let sets = self.sets.read().unwrap_or_else(PoisonError::into_inner);
        sets.get(root_key_id).cloned()
    }
}

impl RevocationSource for InMemoryRevocation {
    fn status(&self, root_key_id: &str, serial: &str, now: OffsetDateTime) -> RevocationStatus {
        let sets = self.sets.read().unwrap_or_else(PoisonError::into_inner);
        match sets.get(root_key_id) {
            Some(set) => set.status(serial, now),
            None => RevocationStatus::NoData,
        }
    }
}
