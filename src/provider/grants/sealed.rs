//! Sealed authorization codes. The grant a code stands for travels inside the code, encrypted
//! and authenticated under a provider key (AES-256-GCM-SIV, random nonce), so issuing a code at
//! `/authorize` writes nothing; redeeming it at `/token` records it, and that record keeps it
//! single-use (see `store::grants::redeem_sealed_code`).
//!
//! The key has generations: a code names the generation that sealed it, the newest active
//! generation seals, and older ones still open the codes they sealed until those expire.
//!
//! The sealed grant names the client session, not the person: the MyKey ID stays in the
//! database, and the person is read from the client session when the code is redeemed.

use std::sync::{Arc, RwLock};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM_SIV, NONCE_LEN};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::domain::secret::{hash_str, random_bytes};
use crate::domain::{MyKeyId, Secret};
use crate::store::grants::CodeRow;

/// Marks a sealed code and its layout: the generation (4 bytes, big-endian), the nonce, the
/// sealed grant. A stored code is 43 characters of base64url and never contains a dot.
const PREFIX: &str = "s2.";
/// Binds a sealed value to this use of the key; the generation follows it.
const AAD: &[u8] = b"mykey-connect authorization code s2";
/// Codes of versions before generations: no generation in the code, sealed by generation 1.
const PREFIX_V1: &str = "s1.";
const AAD_V1: &[u8] = b"mykey-connect authorization code s1";
/// Bytes naming the generation.
const GENERATION_LEN: usize = 4;
/// The largest grant sealed into a code, in bytes before encryption: the code is then at most
/// about 730 characters (an ordinary grant makes one of about 360). A larger grant, from a long
/// `claims` request, is stored instead, so that a code stays within what RPs handle.
const MAX_SEALED_GRANT: usize = 512;
/// A field's length that stands for "absent".
const NONE: u16 = u16::MAX;

/// One generation of the key.
struct Generation {
    number: u32,
    key: LessSafeKey,
    /// Seals codes from this time on (unix seconds).
    activate_at: i64,
}

/// The keys that seal and open codes; every node of a deployment holds the same generations.
pub struct CodeSeal {
    /// Oldest first.
    generations: Vec<Generation>,
}

impl std::fmt::Debug for CodeSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let numbers: Vec<u32> = self.generations.iter().map(|g| g.number).collect();
        write!(f, "CodeSeal(generations {numbers:?}, keys [redacted])")
    }
}

impl CodeSeal {
    /// A seal of one generation, 1, active from the start of time.
    pub fn new(key: &[u8]) -> Result<CodeSeal, &'static str> {
        CodeSeal::with_generations(&[(1, key, i64::MIN)])
    }

    /// A seal from generations (number, 32 key bytes, activation time).
    pub fn with_generations(keys: &[(u32, &[u8], i64)]) -> Result<CodeSeal, &'static str> {
        let mut generations = keys
            .iter()
            .map(|&(number, key, activate_at)| {
                let key = UnboundKey::new(&AES_256_GCM_SIV, key)
                    .map_err(|_| "a code key must be 32 bytes")?;
                Ok(Generation {
                    number,
                    key: LessSafeKey::new(key),
                    activate_at,
                })
            })
            .collect::<Result<Vec<_>, &'static str>>()?;
        generations.sort_by_key(|g| g.number);
        Ok(CodeSeal { generations })
    }

    /// The generation that seals at `now`: the newest active one.
    pub fn sealing_generation(&self, now: i64) -> Option<u32> {
        self.sealer(now).map(|g| g.number)
    }

    fn sealer(&self, now: i64) -> Option<&Generation> {
        self.generations
            .iter()
            .filter(|g| g.activate_at <= now)
            .max_by_key(|g| g.number)
    }

    /// The code for a grant, sealed by the generation active when the grant was made, or
    /// `None` when the grant is larger than [`MAX_SEALED_GRANT`] (the caller stores it
    /// instead). The row's `code_hash`, `person_id` and `redeemed_at` are not sealed.
    pub fn seal(&self, row: &CodeRow) -> Option<Secret> {
        let generation = self.sealer(row.created_at)?;
        let number = generation.number.to_be_bytes();
        let mut out = Vec::with_capacity(GENERATION_LEN + NONCE_LEN + 320);
        let nonce: [u8; NONCE_LEN] = random_bytes(NONCE_LEN).try_into().ok()?;
        out.extend_from_slice(&number);
        out.extend_from_slice(&nonce);
        encode(row, &mut out)?;
        let header = GENERATION_LEN + NONCE_LEN;
        if out.len() - header > MAX_SEALED_GRANT {
            return None;
        }
        let mut body = out.split_off(header);
        generation
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(number)),
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
    /// stored code and for anything these keys did not seal (forged, altered, truncated, or
    /// sealed by a generation retired since).
    pub fn open(&self, code: &str) -> Option<CodeRow> {
        let (number, aad_bytes, bytes) = if let Some(rest) = code.strip_prefix(PREFIX) {
            let bytes = URL_SAFE_NO_PAD.decode(rest).ok()?;
            let number: [u8; GENERATION_LEN] = bytes.get(..GENERATION_LEN)?.try_into().ok()?;
            let body = bytes[GENERATION_LEN..].to_vec();
            (u32::from_be_bytes(number), aad(number), body)
        } else {
            let rest = code.strip_prefix(PREFIX_V1)?;
            (1, AAD_V1.to_vec(), URL_SAFE_NO_PAD.decode(rest).ok()?)
        };
        let generation = self.generations.iter().find(|g| g.number == number)?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = generation
            .key
            .open_in_place(nonce, Aad::from(aad_bytes), &mut body)
            .ok()?;
        let mut row = decode(plain)?;
        row.code_hash = hash_str(code);
        Some(row)
    }

    /// Whether a code presented at `/token` is in a sealed form (opened or not).
    pub fn is_sealed_form(code: &str) -> bool {
        code.starts_with(PREFIX) || code.starts_with(PREFIX_V1)
    }
}

fn aad(generation: [u8; GENERATION_LEN]) -> Vec<u8> {
    [AAD, &generation[..]].concat()
}

/// The node's current [`CodeSeal`], replaced as a whole when the generations change.
pub struct CodeKeyRing {
    current: RwLock<Arc<CodeSeal>>,
}

impl CodeKeyRing {
    pub fn new(seal: CodeSeal) -> CodeKeyRing {
        CodeKeyRing {
            current: RwLock::new(Arc::new(seal)),
        }
    }

    pub fn snapshot(&self) -> Arc<CodeSeal> {
        self.current
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    pub fn replace(&self, seal: CodeSeal) {
        let seal = Arc::new(seal);
        match self.current.write() {
            Ok(mut g) => *g = seal,
            Err(p) => *p.into_inner() = seal,
        }
    }

    /// [`CodeSeal::seal`] with the current generations.
    pub fn seal(&self, row: &CodeRow) -> Option<Secret> {
        self.snapshot().seal(row)
    }

    /// [`CodeSeal::open`] with the current generations.
    pub fn open(&self, code: &str) -> Option<CodeRow> {
        self.snapshot().open(code)
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
#[path = "sealed_tests.rs"]
mod tests;
