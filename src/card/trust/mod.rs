//! The trust store: J-LIS root certificates per purpose, matched to what they signed by key.

use std::path::{Path, PathBuf};

use x509_parser::pem::Pem;

use super::certificate::MIN_RSA_BITS;
use super::jpki::Purpose;

mod root;

pub use root::Root;

/// The public J-LIS roots shipped in `roots/` (see roots/README.md for their fingerprints).
const JLIS_ROOTS: [(Purpose, &str, &[u8]); 4] = [
    (
        Purpose::Auth,
        "auth_ca_2015.pem",
        include_bytes!("../../../roots/auth/auth_ca_2015.pem"),
    ),
    (
        Purpose::Auth,
        "auth_ca_2023.pem",
        include_bytes!("../../../roots/auth/auth_ca_2023.pem"),
    ),
    (
        Purpose::Sign,
        "sign_ca_2015.pem",
        include_bytes!("../../../roots/sign/sign_ca_2015.pem"),
    ),
    (
        Purpose::Sign,
        "sign_ca_2023.pem",
        include_bytes!("../../../roots/sign/sign_ca_2023.pem"),
    ),
];

/// File names a root folder may hold; anything else (a README) is ignored.
const ROOT_FILE_EXTENSIONS: [&str; 4] = ["pem", "crt", "cer", "der"];

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    #[error("cannot read the root folder or file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: not a PEM or DER X.509 certificate")]
    NotACertificate { origin: String },
    #[error(
        "{origin}: a root must be a CA certificate with an RSA key of at least {MIN_RSA_BITS} bits"
    )]
    UnsuitableRoot { origin: String },
    #[error("{origin}: the subject names the {named} purpose but the root was given for {given}")]
    WrongPurpose {
        origin: String,
        named: Purpose,
        given: Purpose,
    },
    #[error("{origin}: this key is already trusted for the {existing} purpose")]
    KeyInBothPurposes { origin: String, existing: Purpose },
}

/// Roots per purpose. Cheap to share behind an `Arc`; read-only once built.
#[derive(Debug, Default)]
pub struct TrustStore {
    roots: Vec<Root>,
}

impl TrustStore {
    /// A store with no roots: trusts nothing until roots are added.
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// The production default: the public J-LIS roots shipped in `roots/`.
    pub fn jlis() -> Result<TrustStore, TrustError> {
        let mut store = TrustStore::new();
        for (purpose, name, pem) in JLIS_ROOTS {
            store.add_pem(purpose, pem, name)?;
        }
        Ok(store)
    }

    /// Reads `<dir>/auth` and `<dir>/sign` (either may be missing), laid out like `roots/`.
    pub fn load_dir(dir: &Path) -> Result<TrustStore, TrustError> {
        let mut store = TrustStore::new();
        for purpose in [Purpose::Auth, Purpose::Sign] {
            let sub = dir.join(purpose.as_str());
            if sub.is_dir() {
                store.add_folder(purpose, &sub)?;
            }
        }
        Ok(store)
    }

    /// Adds every certificate file of `dir` (PEM or DER) as a root of `purpose`, in name order.
    /// Returns how many roots were added.
    pub fn add_folder(&mut self, purpose: Purpose, dir: &Path) -> Result<usize, TrustError> {
        let io = |source| TrustError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let wanted = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ROOT_FILE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
            if wanted && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        let mut added = 0;
        for path in files {
            let bytes = std::fs::read(&path).map_err(|source| TrustError::Io {
                path: path.clone(),
                source,
            })?;
            added += self.add_pem(purpose, &bytes, &path.display().to_string())?;
        }
        Ok(added)
    }

    /// Adds the certificates of a PEM file (or a single DER certificate) as roots of
    /// `purpose`. `origin` names the input in errors. Returns how many were added.
    pub fn add_pem(
        &mut self,
        purpose: Purpose,
        bytes: &[u8],
        origin: &str,
    ) -> Result<usize, TrustError> {
        if !bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            return self.add_der(purpose, bytes, origin).map(|_| 1);
        }
        let mut added = 0;
        for pem in Pem::iter_from_buffer(bytes) {
            let pem = pem.map_err(|_| TrustError::NotACertificate {
                origin: origin.to_owned(),
            })?;
            if pem.label == "CERTIFICATE" {
                self.add_der(purpose, &pem.contents, origin)?;
                added += 1;
            }
        }
        if added == 0 {
            return Err(TrustError::NotACertificate {
                origin: origin.to_owned(),
            });
        }
        Ok(added)
    }

    /// Adds one DER certificate as a root of `purpose`. Adding a root twice is harmless.
    pub fn add_der(
        &mut self,
        purpose: Purpose,
        der: &[u8],
        origin: &str,
    ) -> Result<&Root, TrustError> {
        let root = Root::from_der(purpose, der, origin)?;
        match self.roots.iter().position(|r| r.key_id() == root.key_id()) {
            Some(i) if self.roots[i].purpose() != purpose => Err(TrustError::KeyInBothPurposes {
                origin: origin.to_owned(),
                existing: self.roots[i].purpose(),
            }),
            Some(i) => Ok(&self.roots[i]),
            None => {
                self.roots.push(root);
                Ok(&self.roots[self.roots.len() - 1])
            }
        }
    }

    pub fn roots(&self) -> &[Root] {
        &self.roots
    }

    /// The root with this [`jpki::key_id`].
    pub fn root(&self, key_id: &str) -> Option<&Root> {
        self.roots.iter().find(|r| r.key_id() == key_id)
    }

    /// Whether some root has this subjectKeyIdentifier.
    pub(crate) fn has_key_identifier(&self, key_identifier: &[u8]) -> bool {
        self.roots
            .iter()
            .any(|r| r.key_identifier() == Some(key_identifier))
    }

    /// The root whose key made `signature` over `signed`. Candidates are the roots whose
    /// subjectKeyIdentifier equals `authority_key_id` (RFC 5280 §4.2.1.1), or every root when
    /// none does; never chosen by name, since root generations share one DN. Roots of
    /// `preferred` are tried first, so the usual case costs one RSA verification.
    pub(crate) fn issuer_of(
        &self,
        authority_key_id: Option<&[u8]>,
        preferred: Option<Purpose>,
        signed: &[u8],
        signature: &[u8],
    ) -> Option<&Root> {
        let by_key_id =
            |r: &&Root| authority_key_id.is_some() && r.key_identifier() == authority_key_id;
        let any_by_key_id = self.roots.iter().any(|r| by_key_id(&r));
        let candidate = |r: &&Root| !any_by_key_id || by_key_id(r);
        let first = |r: &&Root| preferred.is_none_or(|p| r.purpose() == p);
        self.roots
            .iter()
            .filter(candidate)
            .filter(first)
            .chain(self.roots.iter().filter(candidate).filter(|r| !first(r)))
            .find(|r| r.signed(signed, signature))
    }
}

#[cfg(test)]
mod tests;
