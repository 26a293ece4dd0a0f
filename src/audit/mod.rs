//! The audit trail (証跡): events recorded inside the transactions that cause them, chained
//! by hash afterwards, verifiable end to end, exportable, prunable behind a signed checkpoint.
//!
//! Request transactions only insert into `audit_inbox` (no shared head to lock, so token
//! issuance on several nodes never queues behind the chain); [`chain::drain`] — one chainer
//! per deployment — gives inbox rows their `seq`, `prev_hash` and `hash` in batches.

pub mod chain;
pub mod export;
pub mod hooks;
pub mod prune;
pub mod verify;

use serde_json::Value;

use crate::store::audit::NewInboxRow;
use crate::store::{self, DbConn};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot sign the checkpoint: {0}")]
    Sign(String),
    #[error("the audit inbox did not drain: another chainer holds the lock")]
    Busy,
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

/// What happened. The string forms are stable: filters, exports and tests use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    LoginEnrolled,
    LoginSucceeded,
    LoginFailed,
    ConsentGranted,
    ConsentDenied,
    TokenIssued,
    CodeReplayed,
    RefreshReused,
    TokenRevoked,
    SessionEnded,
    ClientCreated,
    ClientUpdated,
    ClientDeleted,
    ClientSecretRotated,
    AdminLogin,
    AdminLoginFailed,
    AdminLocked,
    AdminLogout,
    AdminTotpEnabled,
    AdminAccountCreated,
    AdminAccountDisabled,
    AdminPasswordReset,
    ApiKeyCreated,
    ApiKeyRevoked,
    PersonMerged,
    KeysRotated,
    CodeKeyRotated,
    BackupCreated,
    DatabaseRestored,
    AuditPruned,
    AdminSessionEnded,
    CrlImported,
    LinkageImported,
    PersonTerminated,
    LogoutDelivery,
    /// A receiver created, changed, paused or deleted its Shared Signals stream.
    StreamChanged,
}

impl Kind {
    pub const ALL: [Kind; 36] = [
        Kind::LoginEnrolled,
        Kind::LoginSucceeded,
        Kind::LoginFailed,
        Kind::ConsentGranted,
        Kind::ConsentDenied,
        Kind::TokenIssued,
        Kind::CodeReplayed,
        Kind::RefreshReused,
        Kind::TokenRevoked,
        Kind::SessionEnded,
        Kind::ClientCreated,
        Kind::ClientUpdated,
        Kind::ClientDeleted,
        Kind::ClientSecretRotated,
        Kind::AdminLogin,
        Kind::AdminLoginFailed,
        Kind::AdminLocked,
        Kind::AdminLogout,
        Kind::AdminTotpEnabled,
        Kind::AdminAccountCreated,
        Kind::AdminAccountDisabled,
        Kind::AdminPasswordReset,
        Kind::ApiKeyCreated,
        Kind::ApiKeyRevoked,
        Kind::PersonMerged,
        Kind::KeysRotated,
        Kind::CodeKeyRotated,
        Kind::BackupCreated,
        Kind::DatabaseRestored,
        Kind::AuditPruned,
        Kind::AdminSessionEnded,
        Kind::CrlImported,
        Kind::LinkageImported,
        Kind::PersonTerminated,
        Kind::LogoutDelivery,
        Kind::StreamChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::LoginEnrolled => "login.enrolled",
            Kind::LoginSucceeded => "login.succeeded",
            Kind::LoginFailed => "login.failed",
            Kind::ConsentGranted => "consent.granted",
            Kind::ConsentDenied => "consent.denied",
            Kind::TokenIssued => "token.issued",
            Kind::CodeReplayed => "code.replayed",
            Kind::RefreshReused => "refresh.reused",
            Kind::TokenRevoked => "token.revoked",
            Kind::SessionEnded => "session.ended",
            Kind::ClientCreated => "client.created",
            Kind::ClientUpdated => "client.updated",
            Kind::ClientDeleted => "client.deleted",
            Kind::ClientSecretRotated => "client.secret_rotated",
            Kind::AdminLogin => "admin.login",
            Kind::AdminLoginFailed => "admin.login_failed",
            Kind::AdminLocked => "admin.locked",
            Kind::AdminLogout => "admin.logout",
            Kind::AdminTotpEnabled => "admin.totp_enabled",
            Kind::AdminAccountCreated => "admin.account_created",
            Kind::AdminAccountDisabled => "admin.account_disabled",
            Kind::AdminPasswordReset => "admin.password_reset",
            Kind::ApiKeyCreated => "api_key.created",
            Kind::ApiKeyRevoked => "api_key.revoked",
            Kind::PersonMerged => "person.merged",
            Kind::KeysRotated => "keys.rotated",
            Kind::CodeKeyRotated => "code_key.rotated",
            Kind::BackupCreated => "database.backed_up",
            Kind::DatabaseRestored => "database.restored",
            Kind::AuditPruned => "audit.pruned",
            Kind::AdminSessionEnded => "admin.session_ended",
            Kind::CrlImported => "crl.imported",
            Kind::LinkageImported => "linkage.imported",
            Kind::PersonTerminated => "person.terminated",
            Kind::LogoutDelivery => "logout.delivery",
            Kind::StreamChanged => "ssf.stream_changed",
        }
    }
}

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The provider itself (expiry, background work).
    System,
    /// The card holder, through the helper and the login pages.
    Resident,
    /// A relying party at the token, revocation or introspection endpoints.
    Client(String),
    /// An operator in the console.
    Admin(String),
    /// A caller of the admin API.
    ApiKey(String),
    /// The command line on the server.
    Cli,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::System => f.write_str("system"),
            Actor::Resident => f.write_str("resident"),
            Actor::Client(id) => write!(f, "client:{id}"),
            Actor::Admin(name) => write!(f, "admin:{name}"),
            Actor::ApiKey(name) => write!(f, "api-key:{name}"),
            Actor::Cli => f.write_str("cli"),
        }
    }
}

/// One audited fact. `data` never holds PINs, secrets, tokens, codes or the person's facts.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: Kind,
    pub actor: Actor,
    pub client_id: Option<String>,
    pub person_id: Option<String>,
    pub data: Value,
}

impl Event {
    pub fn new(kind: Kind, actor: Actor) -> Event {
        Event {
            kind,
            actor,
            client_id: None,
            person_id: None,
            data: Value::Object(Default::default()),
        }
    }

    pub fn client(mut self, id: impl Into<String>) -> Event {
        self.client_id = Some(id.into());
        self
    }

    pub fn person(mut self, id: impl Into<String>) -> Event {
        self.person_id = Some(id.into());
        self
    }

    pub fn data(mut self, data: Value) -> Event {
        self.data = data;
        self
    }
}

/// Appends an event to the inbox inside the caller's transaction: it is recorded exactly when
/// what it describes commits.
pub fn record(conn: &mut DbConn, event: &Event, now: i64) -> diesel::QueryResult<()> {
    store::audit::insert_inbox(conn, &Rendered::of(event).row(now))
}

/// An event with its actor and data rendered as text: [`Rendered::row`] is the inbox row that
/// [`record`] stores.
pub struct Rendered<'e> {
    event: &'e Event,
    actor: String,
    data: String,
}

impl<'e> Rendered<'e> {
    pub fn of(event: &'e Event) -> Rendered<'e> {
        Rendered {
            event,
            actor: event.actor.to_string(),
            data: event.data.to_string(),
        }
    }

    pub fn row(&self, now: i64) -> NewInboxRow<'_> {
        NewInboxRow {
            time: now,
            kind: self.event.kind.as_str(),
            actor: &self.actor,
            client_id: self.event.client_id.as_deref(),
            person_id: self.event.person_id.as_deref(),
            data: &self.data,
        }
    }
}
