//! Pairwise subject identifiers (OIDC Core §8.1) and sector rules.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::domain::{MyKeyId, PairwiseSub, RedirectUri};

/// The key for subject derivation; shared by every node, never shown.
pub struct PairwiseKey(hmac::Key);

impl PairwiseKey {
    pub fn new(secret: &[u8]) -> PairwiseKey {
        PairwiseKey(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }
}

impl std::fmt::Debug for PairwiseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PairwiseKey([redacted])")
    }
}

/// `sub = base64url(HMAC-SHA256(key, sector ‖ 0x00 ‖ mykey_id))` (DESIGN.md).
pub fn subject(key: &PairwiseKey, sector: &str, person: &MyKeyId) -> PairwiseSub {
    let mut ctx = hmac::Context::with_key(&key.0);
    ctx.update(sector.as_bytes());
    ctx.update(&[0]);
    ctx.update(person.as_str().as_bytes());
    PairwiseSub::from_computed(URL_SAFE_NO_PAD.encode(ctx.sign()))
}

/// Why redirect URIs and a sector do not fit together (OIDC Core §8.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SectorError {
    #[error("at least one redirect URI is required")]
    NoRedirectUri,
    #[error("redirect URIs must name a host, or register a sector_identifier_uri")]
    NoHost,
    #[error("redirect URIs on several hosts need a sector_identifier_uri (OIDC Core §8.1)")]
    SeveralHosts,
    #[error("the sector_identifier_uri must return a JSON array of URIs")]
    NotAnArray,
    #[error("the sector_identifier_uri document does not list {0}")]
    NotListed(String),
}

/// Without a sector_identifier_uri every redirect URI must share one host, which is the sector
/// (OIDC Core §8.1).
pub fn sector_of_redirect_uris(uris: &[RedirectUri]) -> Result<String, SectorError> {
    let mut hosts = uris.iter().map(|u| u.host().unwrap_or_default());
    let first = hosts.next().ok_or(SectorError::NoRedirectUri)?;
    if first.is_empty() {
        return Err(SectorError::NoHost);
    }
    if hosts.any(|h| h != first) {
        return Err(SectorError::SeveralHosts);
    }
    Ok(first)
}

/// Checks a fetched sector identifier document: a JSON array that lists every redirect URI.
pub fn check_sector_document(body: &[u8], uris: &[RedirectUri]) -> Result<(), SectorError> {
    let listed: Vec<String> = serde_json::from_slice(body).map_err(|_| SectorError::NotAnArray)?;
    match uris
        .iter()
        .find(|u| !listed.iter().any(|l| l == u.as_str()))
    {
        Some(missing) => Err(SectorError::NotListed(missing.as_str().to_owned())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_person_gets_one_sub_per_sector_and_different_subs_across_sectors() {
        let key = PairwiseKey::new(&[7u8; 32]);
        let person = MyKeyId::from_stored("person-1".into());
        let a1 = subject(&key, "a.example.jp", &person);
        let a2 = subject(&key, "a.example.jp", &person);
        let b = subject(&key, "b.example.jp", &person);
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        let other = subject(
            &key,
            "a.example.jp",
            &MyKeyId::from_stored("person-2".into()),
        );
        assert_ne!(a1, other);
    }

    #[test]
    fn redirect_uris_on_two_hosts_need_a_sector_identifier() {
        let uris = [
            RedirectUri::parse("https://a.example.jp/cb").expect("valid"),
            RedirectUri::parse("https://b.example.jp/cb").expect("valid"),
        ];
        assert!(sector_of_redirect_uris(&uris).is_err());
        assert_eq!(
            sector_of_redirect_uris(&uris[..1]).expect("one host"),
            "a.example.jp"
        );
        let doc = br#"["https://a.example.jp/cb","https://b.example.jp/cb"]"#;
        assert!(check_sector_document(doc, &uris).is_ok());
        assert!(check_sector_document(br#"["https://a.example.jp/cb"]"#, &uris).is_err());
    }
}
