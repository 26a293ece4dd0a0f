//! The test CA: its two roots, its folder on disk, and its state (issuing lives in `issue.rs`,
//! CRLs in `crl.rs`).

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::error::TestkitError;
use super::keys::{pem_decode, pem_encode};
use super::root::{issue_root, load_root, Root};
use super::state::{write_atomic, CaState, IssuedCertificate, Revocation, STATE_FILE};
use crate::card::jpki::{self, Purpose};

/// A test J-LIS CA: one root per purpose, every issued certificate, revocations, CRL numbers.
///
/// Folder layout (`init`/`open`): `auth-root.der`, `auth-root.pem`, `auth-root.key.pem`
/// (PKCS#8, mode 0600), the same three for `sign-root`, and `state.json`. The state is saved
/// after every change. `ephemeral()` keeps everything in memory.
#[derive(Debug)]
pub struct TestCa {
    dir: Option<PathBuf>,
    auth: Root,
    sign: Root,
    pub(crate) state: CaState,
}

fn file_stem(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Auth => "auth-root",
        Purpose::Sign => "sign-root",
    }
}

impl TestCa {
    /// Creates a CA in `dir` (created if missing), refusing a folder that already holds one.
    pub fn init(dir: &Path, now: OffsetDateTime) -> Result<TestCa, TestkitError> {
        if dir.join(STATE_FILE).exists() {
            return Err(TestkitError::CaFolder {
                path: dir.display().to_string(),
                reason: "it already holds a CA".to_owned(),
            });
        }
        std::fs::create_dir_all(dir).map_err(|e| TestkitError::io(dir, e))?;
        let mut ca = TestCa::ephemeral(now)?;
        ca.dir = Some(dir.to_path_buf());
        for root in [&ca.auth, &ca.sign] {
            let stem = dir.join(file_stem(root.purpose));
            write_atomic(&stem.with_extension("der"), &root.cert_der, false)?;
            let pem = pem_encode("CERTIFICATE", &root.cert_der);
            write_atomic(&stem.with_extension("pem"), pem.as_bytes(), false)?;
            let key = pem_encode("PRIVATE KEY", &root.key.pkcs8_der()?);
            write_atomic(&stem.with_extension("key.pem"), key.as_bytes(), true)?;
        }
        ca.save()?;
        Ok(ca)
    }

    pub fn open(dir: &Path) -> Result<TestCa, TestkitError> {
        let load = |purpose: Purpose| -> Result<Root, TestkitError> {
            let stem = dir.join(file_stem(purpose));
            let cert_path = stem.with_extension("der");
            let cert = std::fs::read(&cert_path).map_err(|e| TestkitError::io(&cert_path, e))?;
            let key_path = stem.with_extension("key.pem");
            let key_text =
                std::fs::read_to_string(&key_path).map_err(|e| TestkitError::io(&key_path, e))?;
            let key =
                pem_decode("PRIVATE KEY", &key_text).ok_or_else(|| TestkitError::CaFolder {
                    path: dir.display().to_string(),
                    reason: format!("{} is not a PKCS#8 PEM key", key_path.display()),
                })?;
            load_root(purpose, cert, &key)
        };
        Ok(TestCa {
            dir: Some(dir.to_path_buf()),
            auth: load(Purpose::Auth)?,
            sign: load(Purpose::Sign)?,
            state: CaState::load(dir)?,
        })
    }

    /// A CA that lives only in memory, for fast tests.
    pub fn ephemeral(now: OffsetDateTime) -> Result<TestCa, TestkitError> {
        Ok(TestCa {
            dir: None,
            auth: issue_root(Purpose::Auth, now)?,
            sign: issue_root(Purpose::Sign, now)?,
            state: CaState::new(),
        })
    }

    /// The folder the CA lives in; `None` when ephemeral.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    pub fn root_der(&self, purpose: Purpose) -> &[u8] {
        &self.root(purpose).cert_der
    }

    pub fn root_pem(&self, purpose: Purpose) -> String {
        pem_encode("CERTIFICATE", self.root_der(purpose))
    }

    /// `card::jpki::key_id` of the root: how bindings, CRLs and linkage name this issuer.
    pub fn root_key_id(&self, purpose: Purpose) -> String {
        jpki::key_id(&self.root(purpose).spki_der)
    }

    /// Every certificate issued, oldest first.
    pub fn issued(&self) -> &[IssuedCertificate] {
        &self.state.issued
    }

    /// Every revocation, oldest first.
    pub fn revocations(&self) -> &[Revocation] {
        &self.state.revoked
    }

    /// The cRLNumber of the last CRL issued for `purpose`; 0 before the first.
    pub fn last_crl_number(&self, purpose: Purpose) -> u64 {
        match purpose {
            Purpose::Auth => self.state.crl_numbers.auth,
            Purpose::Sign => self.state.crl_numbers.sign,
        }
    }

    pub(crate) fn root(&self, purpose: Purpose) -> &Root {
        match purpose {
            Purpose::Auth => &self.auth,
            Purpose::Sign => &self.sign,
        }
    }

    pub(crate) fn save(&self) -> Result<(), TestkitError> {
        match &self.dir {
            Some(dir) => self.state.save(dir),
            None => Ok(()),
        }
    }
}
