//! Operators: accounts with Argon2id passwords and optional TOTP, console sessions, API keys,
//! roles, and the audited operations the console, the admin API and the CLI share.

pub mod accounts;
pub mod api_keys;
pub mod backup;
pub mod clients;
pub mod keys;
pub mod password;
pub mod persons;
pub mod revocation;
pub mod sessions;
pub mod totp;

use crate::audit::Actor;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a password needs at least {0} characters")]
    WeakPassword(usize),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("a user name is 1–64 letters, digits, '.', '_', '-' or '@'")]
    BadUsername,
    #[error("the user name {0} is taken")]
    UsernameTaken(String),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("the key-encryption key cannot seal or open a TOTP key: {0}")]
    Seal(String),
}

impl From<diesel::result::Error> for AdminError {
    fn from(e: diesel::result::Error) -> AdminError {
        AdminError::Store(StoreError::Query(e))
    }
}

/// What a caller may do: `admin` everything, `viewer` read only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Viewer,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn can_write(self) -> bool {
        self == Role::Admin
    }
}

/// An authenticated operator (console session or API key) and what the audit log calls them.
#[derive(Debug, Clone)]
pub struct Principal {
    pub actor: Actor,
    pub role: Role,
    /// The console account, for its own settings (TOTP); `None` for API keys.
    pub account_id: Option<String>,
    pub name: String,
}
