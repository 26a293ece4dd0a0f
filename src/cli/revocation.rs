//! `mykey-connect crl import|status` and `linkage import`.

use std::path::{Path, PathBuf};

use super::CliError;
use crate::admin::{self, AdminError, Principal};
use crate::clock::rfc3339;
use crate::provider::revocation::{load_stored_crls, ImportError};
use crate::provider::Provider;

/// Imports each file; a file already imported is reported, not an error. Fails (after trying
/// every file) when one was refused.
pub async fn crl_import(p: &Provider, files: &[PathBuf]) -> Result<String, CliError> {
    let mut out = String::new();
    let mut failed = false;
    for file in files {
        let bytes = std::fs::read(file).map_err(|e| CliError::read(file, e))?;
        let through = format!("file:{}", file.display());
        match admin::revocation::upload_crl(p, &Principal::cli(), &through, bytes).await {
            Ok(r) => out.push_str(&format!(
                "{}: imported CRL {} of root {} ({}): {} entries, {} newly revoked, {} no longer listed, {} person(s) logged out, {} renewal(s) carried over\n",
                file.display(), r.crl_number, r.root_key_id, r.purpose, r.entries, r.newly_revoked,
                r.no_longer_listed, r.terminated, r.superseded
            )),
            Err(AdminError::Crl(ImportError::AlreadySeen)) => out.push_str(&format!("{}: already imported (or refused) before; nothing to do\n", file.display())),
            Err(e) => {
                failed = true;
                out.push_str(&format!("{}: {e}; nothing changed\n", file.display()));
            }
        }
    }
    if failed {
        Err(CliError::Failed(out))
    } else {
        Ok(out)
    }
}

pub async fn crl_status(p: &Provider) -> Result<String, CliError> {
    // A command's provider starts without revocation data; freshness is read from it.
    load_stored_crls(p).map_err(AdminError::from)?;
    let status = admin::revocation::status(p).await?;
    let mut out = String::from("root (key id)                                                     purpose  number  thisUpdate            nextUpdate            entries  freshness\n");
    for r in status.roots {
        out.push_str(&format!(
            "{:<65} {:<8} {:<7} {:<21} {:<21} {:<8} {}\n",
            r.root_key_id,
            r.purpose,
            r.crl_number,
            rfc3339(r.this_update),
            rfc3339(r.next_update),
            r.entries,
            r.freshness
        ));
    }
    for (root, purpose) in admin::revocation::roots_without_crl(p) {
        out.push_str(&format!(
            "{root:<65} {purpose:<8} no CRL imported: logins with this root fail closed\n"
        ));
    }
    Ok(out)
}

pub async fn linkage_import(p: &Provider, file: &Path) -> Result<String, CliError> {
    let bytes = std::fs::read(file).map_err(|e| CliError::read(file, e))?;
    let r = admin::revocation::upload_linkage(p, &Principal::cli(), &bytes).await?;
    let mut out = format!(
        "{}: {} record(s): {} linked, {} already known, {} for certificates never used here\n",
        file.display(),
        r.records,
        r.linked,
        r.duplicates,
        r.unknown_old
    );
    if r.conflicts > 0 {
        out.push_str(&format!(
            "{} new certificate(s) already belong to another person: merge them in the admin console\n",
            r.conflicts
        ));
    }
    Ok(out)
}
