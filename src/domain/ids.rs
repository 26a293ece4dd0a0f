//! Identifiers: client ids, MyKey IDs (never leave the provider) and pairwise subjects.

use serde::{Deserialize, Serialize};

use super::secret::{random_b64, random_typed_id};

/// An OAuth client id: 1–128 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(s: &str) -> Option<ClientId> {
        let ok =
            !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        ok.then(|| ClientId(s.to_owned()))
    }

    /// 128 random bits in base64url, never beginning with `-` (see [`random_typed_id`]).
    pub fn generate() -> ClientId {
        ClientId(random_typed_id(16))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The provider's own id of a person: random, unguessable, bound to card certificates.
/// It is never put in a token or shown to a relying party.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MyKeyId(String);

impl MyKeyId {
    pub fn generate() -> MyKeyId {
        MyKeyId(random_b64(32))
    }

    pub fn from_stored(s: String) -> MyKeyId {
        MyKeyId(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for MyKeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MyKeyId([redacted])")
    }
}

/// The `sub` one relying party (sector) sees for one person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PairwiseSub(String);

impl PairwiseSub {
    pub fn from_computed(s: String) -> PairwiseSub {
        PairwiseSub(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PairwiseSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_client_ids_never_begin_with_a_hyphen() {
        for _ in 0..2_000 {
            let id = ClientId::generate();
            assert!(!id.as_str().starts_with('-'), "{id}");
            assert_eq!(id.as_str().len(), 22);
        }
    }
}
