//! Revocation data in: CRLs checked against the trust store and installed for verification.

use super::Provider;
use crate::card::crl::CrlError;
use crate::card::revocation::RevocationUpdate;

/// Imports one DER CRL (signature, issuer, CRL number must increase).
pub async fn import_crl(p: &Provider, der: &[u8]) -> Result<RevocationUpdate, CrlError> {
    let update = p.revocation.load_crl(&p.trust, der)?;
    let info = update.current.info();
    tracing::info!(
        root = %info.root_key_id,
        crl_number = %info.crl_number,
        entries = info.entry_count,
        "CRL imported"
    );
    Ok(update)
}
