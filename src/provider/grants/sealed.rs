//! Sealed authorization codes. The grant a code stands for travels inside the code, encrypted
//! and authenticated under a provider key (AES-256-GCM-SIV, random nonce), so issuing a code at
//! `/authorize` writes nothing; redeeming it at `/token` records it, and that record keeps it
//! single-use (see `store::grants::redeem_sealed_code`).
//!
//! The sealed grant names the client session, not the person: the MyKey ID stays in the
//! database, and the person is read from the client session when the code is redeemed.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM_SIV, NONCE_LEN};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::domain::secret::{hash_str, random_bytes};
use crate::domain::{MyKeyId, Secret};
use crate::store::grants::CodeRow;

/// Marks a sealed code and its layout; a stored code is 43 characters of base64url and never
/// contains a dot.
const PREFIX: &str = "s1.";
/// Binds a sealed value to this use of the key.
const AAD: &[u8] = b"mykey-connect authorization code s1";
/// The largest grant sealed into a code, in bytes before encryption: the code is then at most
/// about 720 characters (an ordinary grant makes one of about 350). A larger grant, from a long
/// `claims` request, is stored instead, so that a code stays within what RPs handle.
const MAX_SEALED_GRANT: usize = 512;
/// A field's length that stands for "absent".
const NONE: u16 = u16::MAX;

/// The key that seals and opens codes; every node of a deployment holds the same one.
pub struct CodeSeal {
    key: LessSafeKey,
}

impl std::fmt::Debug for CodeSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeSeal([redacted])")
    }
}

impl CodeSeal {
    /// A seal from 32 key bytes.
    pub fn new(key: &[u8]) -> Result<CodeSeal, &'static str> {
        let key =
            UnboundKey::new(&AES_256_GCM_SIV, key).map_err(|_| "the code key must be 32 bytes")?;
        Ok(CodeSeal {
            key: LessSafeKey::new(key),
        })
    }

    /// The code for a grant, or `None` when the grant is larger than [`MAX_SEALED_GRANT`] (the
    /// caller stores it instead). The row's `code_hash`, `person_id` and `redeemed_at` are not
    /// sealed.
    pub fn seal(&self, row: &CodeRow) -> Option<Secret> {
        let mut out = Vec::with_capacity(NONCE_LEN + 320);
        let nonce: [u8; NONCE_LEN] = random_bytes(NONCE_LEN).try_into().ok()?;
        out.extend_from_slice(&nonce);
        encode(row, &mut out)?;
        if out.len() - NONCE_LEN > MAX_SEALED_GRANT {
            return None;
        }
        let mut body = out.split_off(NONCE_LEN);
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD),
                &mut body,
            )
            .ok()?;
        out.extend_from_slice(&body);
        let mut code = String::with_capacity(PREFIX.len() + out.len() * 4 / 3 + 4);
        code.push_str(PREFIX);
        URL_SAFE_NO_PAD.encode_string(&out, &mut code);
        Some(Secret::new(code))
    }

    /// The grant inside a sealed code, with `code_hash` set and `person_id` empty. `None` for a
    /// stored code and for anything this key did not seal (forged, altered, truncated).
    pub fn open(&self, code: &str) -> Option<CodeRow> {
        let bytes = URL_SAFE_NO_PAD.decode(code.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(AAD), &mut body)
            .ok()?;
        let mut row = decode(plain)?;
        row.code_hash = hash_str(code);
        Some(row)
    }

    /// Whether a code presented at `/token` is in the sealed form (opened or not).
    pub fn is_sealed_form(code: &str) -> bool {
        code.starts_with(PREFIX)
    }
}

/// The grant's fields in a fixed order: strings as a big-endian u16 length and UTF-8 bytes
/// ([`NONE`] for an absent one), times as big-endian i64. `None` if a string is too long to
/// encode.
fn encode(row: &CodeRow, out: &mut Vec<u8>) -> Option<()> {
    fn text(out: &mut Vec<u8>, s: Option<&str>) -> Option<()> {
        match s {
            None => out.extend_from_slice(&NONE.to_be_bytes()),
            Some(s) => {
                let len = u16::try_from(s.len()).ok().filter(|&l| l != NONE)?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
        Some(())
    }
    text(out, Some(&row.grant_id))?;
    text(out, Some(&row.client_id))?;
    text(out, Some(&row.client_session_id))?;
    text(out, Some(&row.redirect_uri))?;
    text(out, Some(&row.scope))?;
    text(out, row.nonce.as_deref())?;
    text(out, Some(&row.code_challenge))?;
    text(out, Some(&row.amr))?;
    text(out, Some(&row.acr))?;
    text(out, row.claims.as_deref())?;
    text(out, row.verification_id.as_deref())?;
    for t in [row.auth_time, row.created_at, row.expires_at] {
        out.extend_from_slice(&t.to_be_bytes());
    }
    Some(())
}

/// The inverse of [`encode`]; `None` unless the bytes are exactly one encoded grant.
fn decode(mut b: &[u8]) -> Option<CodeRow> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if b.len() < n {
            return None;
        }
        let (head, tail) = b.split_at(n);
        *b = tail;
        Some(head)
    }
    fn text(b: &mut &[u8]) -> Option<Option<String>> {
        let len = u16::from_be_bytes(take(b, 2)?.try_into().ok()?);
        if len == NONE {
            return Some(None);
        }
        let s = std::str::from_utf8(take(b, len.into())?).ok()?;
        Some(Some(s.to_owned()))
    }
    fn time(b: &mut &[u8]) -> Option<i64> {
        Some(i64::from_be_bytes(take(b, 8)?.try_into().ok()?))
    }
    let grant_id = text(&mut b)??;
    let client_id = text(&mut b)??;
    let client_session_id = text(&mut b)??;
    let redirect_uri = text(&mut b)??;
    let scope = text(&mut b)??;
    let nonce = text(&mut b)?;
    let code_challenge = text(&mut b)??;
    let amr = text(&mut b)??;
    let acr = text(&mut b)??;
    let claims = text(&mut b)?;
    let verification_id = text(&mut b)?;
    let auth_time = time(&mut b)?;
    let created_at = time(&mut b)?;
    let expires_at = time(&mut b)?;
    if !b.is_empty() {
        return None;
    }
    Some(CodeRow {
        code_hash: String::new(),
        grant_id,
        client_id,
        client_session_id,
        // Not in the code: read from the client session when the code is redeemed.
        person_id: MyKeyId::from_stored(String::new()),
        redirect_uri,
        scope,
        nonce,
        code_challenge,
        auth_time,
        amr,
        acr,
        claims,
        created_at,
        expires_at,
        redeemed_at: None,
        verification_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> CodeRow {
        CodeRow {
            code_hash: String::new(),
            grant_id: "g-1".into(),
            client_id: "shop".into(),
            client_session_id: "cs-1".into(),
            person_id: MyKeyId::from_stored("mykey-id-that-must-not-travel".into()),
            redirect_uri: "https://shop.example.jp/callback".into(),
            scope: "openid name".into(),
            nonce: Some("n-0S6_WzA2Mj".into()),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGWSstw-cM".into(),
            auth_time: 1_700_000_000,
            amr: "sc pin hwk".into(),
            acr: "urn:mykey:acr:card".into(),
            claims: None,
            created_at: 1_700_000_100,
            expires_at: 1_700_000_160,
            redeemed_at: None,
            verification_id: None,
        }
    }

    fn seal() -> CodeSeal {
        CodeSeal::new(&[7u8; 32]).expect("key")
    }

    #[test]
    fn a_sealed_code_opens_to_the_grant_it_was_issued_for_without_the_person() {
        let s = seal();
        let code = s.seal(&grant()).expect("sealed");
        assert!(CodeSeal::is_sealed_form(code.expose()));
        let opened = s.open(code.expose()).expect("opens");
        assert_eq!(opened.code_hash, code.hash());
        assert_eq!(
            opened.person_id.as_str(),
            "",
            "the MyKey ID is not in the code"
        );
        let want = CodeRow {
            code_hash: opened.code_hash.clone(),
            person_id: MyKeyId::from_stored(String::new()),
            ..grant()
        };
        // Debug hides a MyKey ID: the field is compared above.
        assert_eq!(format!("{opened:?}"), format!("{want:?}"));
        assert!(code.expose().len() < 300, "{}", code.expose().len());
    }

    #[test]
    fn two_codes_for_the_same_grant_differ() {
        let s = seal();
        let (a, b) = (s.seal(&grant()).expect("a"), s.seal(&grant()).expect("b"));
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn an_altered_truncated_or_foreign_code_does_not_open() {
        let s = seal();
        let code = s.seal(&grant()).expect("sealed").expose().to_owned();
        for i in [3, code.len() / 2, code.len() - 1] {
            let mut altered = code.clone().into_bytes();
            altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(altered).expect("ascii");
            assert!(s.open(&altered).is_none(), "altered at {i}");
        }
        assert!(s.open(&code[..code.len() - 4]).is_none());
        assert!(s.open("s1.").is_none());
        assert!(s.open(Secret::generate(32).expose()).is_none());
        let other = CodeSeal::new(&[8u8; 32]).expect("key");
        assert!(other.open(&code).is_none(), "another deployment's key");
    }

    #[test]
    fn a_grant_larger_than_the_limit_is_not_sealed() {
        let s = seal();
        let mut big = grant();
        big.claims = Some(format!(r#"{{"id_token":{{"x":"{}"}}}}"#, "a".repeat(600)));
        assert!(s.seal(&big).is_none());
        big.claims = Some(r#"{"id_token":{"name":null}}"#.into());
        let code = s.seal(&big).expect("small claims fit");
        assert_eq!(
            s.open(code.expose()).expect("opens").claims.as_deref(),
            Some(r#"{"id_token":{"name":null}}"#)
        );
    }
}
