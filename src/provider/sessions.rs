//! Browser sessions: started by a card login, ended by logout, revocation or expiry. Ending a
//! session revokes the tokens of every client session in it.

use super::Provider;
use crate::domain::secret::random_b64;
use crate::domain::{MyKeyId, Secret};
use crate::store::sessions::{BrowserSessionRow, ClientSessionRow};
use crate::store::{self, DbConn, StoreError};

/// Why a session ended (stored, counted, and later told to RPs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Logout,
    Replaced,
    Revoked,
    Expired,
    Admin,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::Replaced => "replaced",
            EndReason::Revoked => "revoked",
            EndReason::Expired => "expired",
            EndReason::Admin => "admin",
        }
    }
}

/// A session about to start: its cookie and id are chosen before the transaction that learns
/// whose it is (the card login's completion, [`NewSession::insert`]).
pub struct NewSession {
    /// The cookie's value, for the browser only (the database keeps its hash).
    pub cookie: Secret,
    id: String,
    amr: String,
    acr: String,
    now: i64,
    expires_at: i64,
}

impl NewSession {
    /// A session logged in now with `amr` and `acr`, for the configured session lifetime.
    pub fn new(p: &Provider, amr: &str, acr: &str) -> NewSession {
        let now = p.clock.unix();
        NewSession {
            cookie: Secret::generate(32),
            id: random_b64(16),
            amr: amr.to_owned(),
            acr: acr.to_owned(),
            now,
            expires_at: now + p.settings.lifetimes.session.as_secs() as i64,
        }
    }

    /// When it ends unless the person logs in again or out first.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// Stores the session of `person_id` inside the caller's transaction.
    pub fn insert(
        &self,
        conn: &mut DbConn,
        person_id: MyKeyId,
    ) -> diesel::QueryResult<BrowserSessionRow> {
        let row = BrowserSessionRow {
            id: self.id.clone(),
            cookie_hash: self.cookie.hash(),
            person_id,
            auth_time: self.now,
            amr: self.amr.clone(),
            acr: self.acr.clone(),
            created_at: self.now,
            expires_at: self.expires_at,
            ended_at: None,
            end_reason: None,
        };
        store::sessions::insert(conn, &row)?;
        Ok(row)
    }
}

/// The live session of a session cookie.
pub async fn current(p: &Provider, cookie: &str) -> Result<Option<BrowserSessionRow>, StoreError> {
    let hash = Secret::new(cookie).hash();
    let now = p.clock.unix();
    p.db.read(move |c| store::sessions::active_by_cookie(c, &hash, now))
        .await
}

/// The live session a browser cookie names, with what single sign-on at `client_id` needs
/// (see [`store::sessions::sso_view`]): one database call.
pub async fn sso_view(
    p: &Provider,
    cookie: &str,
    client_id: &str,
) -> Result<Option<store::sessions::SsoView>, StoreError> {
    let hash = Secret::new(cookie).hash();
    let owned = (hash.clone(), client_id.to_owned());
    let now = p.clock.unix();
    p.db.read_hot(
        async |c| store::sessions::sso_view_async(c, &hash, client_id, now).await,
        move |c| store::sessions::sso_view(c, &owned.0, &owned.1, now),
    )
    .await
}

/// Ends one session; returns the client sessions that were live in it.
pub async fn end(
    p: &Provider,
    session_id: &str,
    reason: EndReason,
) -> Result<Vec<ClientSessionRow>, StoreError> {
    let now = p.clock.unix();
    let id = session_id.to_owned();
    let ended = p.db.write(move |c| end_in(c, &id, reason, now)).await?;
    told_ended(p, reason);
    Ok(ended)
}

/// After a session ended in a committed transaction ([`end_in`]): the outbox is woken for its
/// back-channel logouts, and the end is counted.
pub fn told_ended(p: &Provider, reason: EndReason) {
    p.deliveries.notify_one();
    p.metrics
        .sessions_ended
        .with_label_values(&[reason.as_str()])
        .inc();
}

/// Ends a session inside the caller's transaction: marks it and its client sessions ended,
/// revokes their tokens and queues a back-channel logout for every client session — whatever
/// ended it (logout, revocation, expiry, an operator).
pub fn end_in(
    conn: &mut DbConn,
    session_id: &str,
    reason: EndReason,
    now: i64,
) -> diesel::QueryResult<Vec<ClientSessionRow>> {
    let live = store::sessions::end(conn, session_id, reason.as_str(), now)?;
    let ids: Vec<String> = live.iter().map(|s| s.id.clone()).collect();
    if !ids.is_empty() {
        store::grants::revoke_client_sessions(conn, &ids, now)?;
        super::outbox::enqueue_logouts(conn, &live, now)?;
        // CAEP session-revoked: a session ended by someone other than the person.
        let by = match reason {
            EndReason::Admin => Some(("admin", "An operator ended the session.")),
            EndReason::Revoked => Some(("policy", "The card's certificate was revoked.")),
            _ => None,
        };
        if let Some((entity, why)) = by {
            super::ssf::events::sessions_revoked(conn, &live, entity, why, now)?;
        }
    }
    let clients: Vec<String> = live.iter().map(|s| s.client_id.clone()).collect();
    crate::audit::hooks::session_ended(conn, session_id, reason.as_str(), &clients, now)?;
    Ok(live)
}
