//! Console sessions: kept server-side (only a hash of the cookie value is stored), ended by
//! logout, an idle timeout, an absolute timeout or the account being disabled.

use super::{AdminError, Principal, Role};
use crate::audit::{self, Actor, Event, Kind};
use crate::domain::secret::{constant_time_eq, hash_str, random_b64};
use crate::domain::Secret;
use crate::provider::Provider;
use crate::store;
use crate::store::admin::{AccountRow, SessionRow};

/// The console cookie (HttpOnly, SameSite=Strict, Path=/admin, Secure on https).
pub const COOKIE: &str = "mykey_admin";
/// A session unused this long ends (OWASP Session Management: 15–30 minutes for high value).
pub const IDLE_SECS: i64 = 30 * 60;
/// A session ends this long after login whatever its use.
pub const ABSOLUTE_SECS: i64 = 12 * 3600;
/// `last_seen_at` is written at most this often, so browsing is not a stream of writes.
const TOUCH_EVERY: i64 = 60;

/// A live console session.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub session: SessionRow,
    pub account: AccountRow,
    /// The form token of this session.
    pub csrf: String,
}

impl ConsoleSession {
    pub fn principal(&self) -> Principal {
        Principal {
            actor: Actor::Admin(self.account.username.clone()),
            role: Role::parse(&self.account.role).unwrap_or(Role::Viewer),
            account_id: Some(self.account.id.clone()),
            name: self.account.username.clone(),
        }
    }

    /// Whether a submitted form token is this session's (constant time).
    pub fn csrf_ok(&self, given: Option<&str>) -> bool {
        given.is_some_and(|g| constant_time_eq(g.as_bytes(), self.csrf.as_bytes()))
    }
}

/// The CSRF token bound to a session cookie value (synchronizer token derived from the
/// session secret, so nothing more is stored).
fn csrf_of(cookie: &str) -> String {
    hash_str(&format!("admin-csrf\0{cookie}"))
}

/// Starts a session for an account that just logged in; returns the cookie value.
pub async fn start(p: &Provider, account: &AccountRow) -> Result<Secret, AdminError> {
    let now = p.clock.unix();
    let cookie = Secret::generate(32);
    let row = SessionRow {
        id: random_b64(12),
        token_hash: cookie.hash(),
        account_id: account.id.clone(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + ABSOLUTE_SECS,
        ended_at: None,
    };
    p.db.write(move |c| store::admin::insert_session(c, &row))
        .await?;
    Ok(cookie)
}

/// The live session of a cookie value, refreshing its idle timer.
pub async fn current(p: &Provider, cookie: &str) -> Result<Option<ConsoleSession>, AdminError> {
    let now = p.clock.unix();
    let hash = Secret::new(cookie).hash();
    let found =
        p.db.read(move |c| store::admin::live_session(c, &hash, now - IDLE_SECS, now))
            .await?;
    let Some((session, account)) = found else {
        return Ok(None);
    };
    if now - session.last_seen_at >= TOUCH_EVERY {
        let id = session.id.clone();
        p.db.write(move |c| store::admin::touch_session(c, &id, now))
            .await?;
    }
    Ok(Some(ConsoleSession {
        session,
        account,
        csrf: csrf_of(cookie),
    }))
}

pub async fn end(p: &Provider, s: &ConsoleSession) -> Result<(), AdminError> {
    let now = p.clock.unix();
    let event = Event::new(Kind::AdminLogout, Actor::Admin(s.account.username.clone()));
    let id = s.session.id.clone();
    p.db.write(move |c| {
        store::admin::end_session(c, &id, now)?;
        audit::record(c, &event, now)
    })
    .await?;
    Ok(())
}
