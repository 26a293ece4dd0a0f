//! Operators: accounts with Argon2id passwords and optional TOTP, console sessions, API keys,
//! roles, and the audited operations the console, the admin API and the CLI share. Every
//! change an operator makes goes through a function here, which writes its audit entry in the
//! transaction that makes the change, whoever (console, API key, command line) asked.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod clients;
pub mod keys;
pub mod password;
pub mod persons;
pub mod revocation;
pub mod sessions;
pub mod totp;

use crate::audit::Actor;
use crate::provider::clients::FieldError;
use crate::provider::revocation::ImportError;
use crate::provider::ProviderError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A client's settings break the registration rules, field by field.
    #[error("the client is not valid:\n{}", fields_text(.0))]
    Fields(Vec<FieldError>),
    /// A CRL that was not imported.
    #[error(transparent)]
    Crl(#[from] ImportError),
    /// The audit trail could not be read, chained or pruned.
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    /// A refusal or failure of a provider operation (a linkage file that does not parse, …).
    #[error(transparent)]
    Provider(#[from] ProviderError),
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

fn fields_text(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("  {}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("\n")
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

impl Principal {
    /// The operator at the server's command line: may do everything, audited as `cli`.
    pub fn cli() -> Principal {
        Principal {
            actor: Actor::Cli,
            role: Role::Admin,
            account_id: None,
            name: "cli".to_owned(),
        }
    }

    /// The provider acting on its own behalf (the demo setting itself up).
    pub fn system() -> Principal {
        Principal {
            actor: Actor::System,
            role: Role::Admin,
            account_id: None,
            name: "system".to_owned(),
        }
    }
}
