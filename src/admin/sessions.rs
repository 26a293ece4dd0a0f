//! Console sessions: kept server-side (only a hash of the cookie value is stored), ended by
//! logout, an idle timeout, an absolute timeout or the account being disabled.

use super::{AdminError, Principal, Role};
use crate::audit::{self, Actor, Event, Kind};
use crate::domain::secret::{constant_time_eq, hash_str, random_b64};
use crate::domain::Secret;
use crate::store::admin::{AccountRow, SessionRow};
use crate::store::{self, Db};

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
pub fn start(db: &Db, account: &AccountRow, now: i64) -> Result<Secret, AdminError> {
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
    db.write_blocking(|c| store::admin::insert_session(c, &row))?;
    Ok(cookie)
}

/// The live session of a cookie value, refreshing its idle timer.
pub fn current(db: &Db, cookie: &str, now: i64) -> Result<Option<ConsoleSession>, AdminError> {
    let hash = Secret::new(cookie).hash();
    let found = db.read_blocking(|c| store::admin::live_session(c, &hash, now - IDLE_SECS, now))?;
    let Some((session, account)) = found else {
        return Ok(None);
    };
    if now - session.last_seen_at >= TOUCH_EVERY {
        db.write_blocking(|c| store::admin::touch_session(c, &session.id, now))?;
    }
    Ok(Some(ConsoleSession {
        session,
        account,
        csrf: csrf_of(cookie),
    }))
}

pub fn end(db: &Db, s: &ConsoleSession, now: i64) -> Result<(), AdminError> {
    let event = Event::new(Kind::AdminLogout, Actor::Admin(s.account.username.clone()));
    db.write_blocking(|c| {
        store::admin::end_session(c, &s.session.id, now)?;
        audit::record(c, &event, now)
    })?;
    Ok(())
}
