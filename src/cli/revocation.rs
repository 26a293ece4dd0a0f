//! `mykey-connect crl import|status` and `linkage import`.

use std::path::Path;

use crate::clock::rfc3339;
use crate::provider::revocation::{freshness, import_crl, ImportError};
use crate::provider::Provider;
use crate::store;

pub async fn crl_import(p: &Provider, files: &[std::path::PathBuf]) -> Result<String, String> {
    let mut out = String::new();
    let mut failed = false;
    for file in files {
        let bytes =
            std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        match import_crl(p, bytes, &format!("cli:{}", file.display())).await {
            Ok(r) => out.push_str(&format!(
                "{}: imported CRL {} of root {} ({}): {} entries, {} newly revoked, {} no longer listed, {} person(s) logged out, {} renewal(s) carried over\n",
                file.display(), r.crl_number, r.root_key_id, r.purpose, r.entries, r.newly_revoked,
                r.no_longer_listed, r.terminated, r.superseded
            )),
            Err(ImportError::AlreadySeen) => out.push_str(&format!("{}: already imported (or refused) before; nothing to do\n", file.display())),
            Err(e) => {
                failed = true;
                out.push_str(&format!("{}: {e}; nothing changed\n", file.display()));
            }
        }
    }
    if failed {
        Err(out)
    } else {
        Ok(out)
    }
}

pub async fn crl_status(p: &Provider) -> Result<String, String> {
    let headers =
        p.db.read(store::revocation::crl_headers)
            .await
            .map_err(|e| e.to_string())?;
    let now = p.clock.now();
    let mut out = String::from("root (key id)                                                     purpose  number  thisUpdate            nextUpdate            entries  freshness\n");
    for h in headers {
        out.push_str(&format!(
            "{:<65} {:<8} {:<7} {:<21} {:<21} {:<8} {}\n",
            h.root_key_id,
            h.purpose,
            h.crl_number,
            rfc3339(h.this_update),
            rfc3339(h.next_update),
            h.entry_count,
            freshness(p, &h.root_key_id, now).as_str()
        ));
    }
    for root in p.trust.roots() {
        if p.revocation.set(root.key_id()).is_none() {
            out.push_str(&format!(
                "{:<65} {:<8} no CRL imported: logins with this root fail closed\n",
                root.key_id(),
                root.purpose().as_str()
            ));
        }
    }
    Ok(out)
}

pub async fn linkage_import(p: &Provider, file: &Path) -> Result<String, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let r = crate::provider::linkage::import_linkage(p, &bytes)
        .await
        .map_err(|e| e.to_string())?;
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
