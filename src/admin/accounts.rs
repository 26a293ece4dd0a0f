//! Admin accounts: creation, listing, disabling, password resets, TOTP set-up, and the login
//! check with its lockout (ten wrong passwords lock the account for fifteen minutes) and a
//! per-address limit.

use serde::Serialize;
use serde_json::json;

use super::password::{self, Password};
use super::{totp, AdminError, Role};
use crate::audit::{self, Actor, Event, Kind};
use crate::domain::secret::{random_b64, random_bytes};
use crate::jose::Kek;
use crate::store::admin::AccountRow;
use crate::store::{self, Db};

/// Wrong passwords in a row that lock an account.
pub const LOCK_AFTER: i32 = 10;
/// How long a locked account stays locked.
pub const LOCK_SECS: i64 = 15 * 60;
/// Wrong passwords from one address within [`ADDRESS_WINDOW`] before it is refused outright.
pub const ADDRESS_LIMIT: i64 = 30;
pub const ADDRESS_WINDOW: i64 = 15 * 60;

/// An account as listed (no hashes, no keys).
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    pub id: String,
    pub username: String,
    pub role: String,
    pub totp: bool,
    pub disabled: bool,
    pub locked_until: Option<i64>,
    pub created_at: i64,
}

impl From<&AccountRow> for AccountView {
    fn from(r: &AccountRow) -> AccountView {
        AccountView {
            id: r.id.clone(),
            username: r.username.clone(),
            role: r.role.clone(),
            totp: r.totp_secret.is_some(),
            disabled: r.disabled,
            locked_until: r.locked_until,
            created_at: r.created_at,
        }
    }
}

fn check_username(name: &str) -> Result<(), AdminError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b));
    ok.then_some(()).ok_or(AdminError::BadUsername)
}

pub fn create(
    db: &Db,
    username: &str,
    password: &Password,
    role: Role,
    actor: &Actor,
    now: i64,
) -> Result<AccountView, AdminError> {
    check_username(username)?;
    password.check_policy()?;
    let row = AccountRow {
        id: random_b64(12),
        username: username.to_owned(),
        password_hash: password::hash(password, &random_bytes(16))?,
        role: role.as_str().to_owned(),
        totp_secret: None,
        totp_pending: None,
        totp_last_step: None,
        failed_logins: 0,
        locked_until: None,
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    let view = AccountView::from(&row);
    let event = Event::new(Kind::AdminAccountCreated, actor.clone())
        .data(json!({ "username": username, "role": role.as_str() }));
    db.write_blocking(|c| {
        store::admin::insert_account(c, &row)?;
        audit::record(c, &event, now)
    })
    .map_err(|e| {
        if e.is_unique_violation() {
            AdminError::UsernameTaken(username.to_owned())
        } else {
            e.into()
        }
    })?;
    Ok(view)
}

pub fn list(db: &Db) -> Result<Vec<AccountView>, AdminError> {
    let rows = db.read_blocking(store::admin::accounts)?;
    Ok(rows.iter().map(AccountView::from).collect())
}

fn by_name(db: &Db, username: &str) -> Result<AccountRow, AdminError> {
    db.read_blocking(|c| store::admin::account_by_name(c, username))?
        .ok_or(AdminError::NotFound("account"))
}

/// Disables an account and ends its sessions.
pub fn disable(db: &Db, username: &str, actor: &Actor, now: i64) -> Result<(), AdminError> {
    let row = by_name(db, username)?;
    let event =
        Event::new(Kind::AdminAccountDisabled, actor.clone()).data(json!({ "username": username }));
    db.write_blocking(|c| {
        store::admin::set_disabled(c, &row.id, true, now)?;
        store::admin::end_sessions_of(c, &row.id, now)?;
        audit::record(c, &event, now)
    })?;
    Ok(())
}

/// Sets a new password, clears a lockout and ends the account's sessions.
pub fn reset_password(
    db: &Db,
    username: &str,
    password: &Password,
    actor: &Actor,
    now: i64,
) -> Result<(), AdminError> {
    password.check_policy()?;
    let row = by_name(db, username)?;
    let hash = password::hash(password, &random_bytes(16))?;
    let event =
        Event::new(Kind::AdminPasswordReset, actor.clone()).data(json!({ "username": username }));
    db.write_blocking(|c| {
        store::admin::set_password(c, &row.id, &hash, now)?;
        store::admin::set_disabled(c, &row.id, false, now)?;
        store::admin::end_sessions_of(c, &row.id, now)?;
        audit::record(c, &event, now)
    })?;
    Ok(())
}

/// Why a login was refused. The console shows one message for all but `Locked` and
/// `AddressLimited`, so user names cannot be probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    BadCredentials,
    Locked { until: i64 },
    AddressLimited,
}

/// Checks a console login: address limit, lockout, password, then the TOTP code when the
/// account has one. Every failure is counted and audited.
pub fn authenticate(
    db: &Db,
    kek: &Kek,
    username: &str,
    password: &Password,
    code: Option<&str>,
    address: &str,
    now: i64,
) -> Result<Result<AccountRow, Refusal>, AdminError> {
    let recent =
        db.read_blocking(|c| store::admin::failures_from(c, address, now - ADDRESS_WINDOW))?;
    if recent >= ADDRESS_LIMIT {
        return Ok(Err(Refusal::AddressLimited));
    }
    let row = db.read_blocking(|c| store::admin::account_by_name(c, username))?;
    let Some(row) = row else {
        let _ = password::verify(password, password::dummy_hash());
        fail(db, None, username, address, "unknown_user", now)?;
        return Ok(Err(Refusal::BadCredentials));
    };
    if let Some(until) = row.locked_until.filter(|u| *u > now) {
        return Ok(Err(Refusal::Locked { until }));
    }
    if !password::verify(password, &row.password_hash) || row.disabled {
        let reason = if row.disabled {
            "disabled"
        } else {
            "wrong_password"
        };
        return Ok(Err(fail(db, Some(&row), username, address, reason, now)?));
    }
    if let Some(sealed) = &row.totp_secret {
        let key = open_totp(kek, &row.id, sealed)?;
        let step = code.and_then(|c| totp::matching_step(&key, c, now));
        let fresh = match step {
            Some(step) => db.write_blocking(|c| store::admin::use_totp_step(c, &row.id, step))?,
            None => false,
        };
        if !fresh {
            return Ok(Err(fail(
                db,
                Some(&row),
                username,
                address,
                "wrong_code",
                now,
            )?));
        }
    }
    let event = Event::new(Kind::AdminLogin, Actor::Admin(username.to_owned()))
        .data(json!({ "address": address, "totp": row.totp_secret.is_some() }));
    db.write_blocking(|c| {
        store::admin::record_success(c, &row.id)?;
        audit::record(c, &event, now)
    })?;
    Ok(Ok(row))
}

fn fail(
    db: &Db,
    row: Option<&AccountRow>,
    username: &str,
    address: &str,
    reason: &str,
    now: i64,
) -> Result<Refusal, AdminError> {
    let id = row.map(|r| r.id.clone());
    let event = Event::new(Kind::AdminLoginFailed, Actor::Admin(username.to_owned()))
        .data(json!({ "address": address, "reason": reason }));
    let locked = db.write_blocking(|c| {
        store::admin::insert_failure(c, &random_b64(12), address, now)?;
        audit::record(c, &event, now)?;
        let Some(id) = &id else {
            return Ok(false);
        };
        let failed = store::admin::record_failure(c, id, LOCK_AFTER, now + LOCK_SECS)?;
        if failed >= LOCK_AFTER {
            let locked = Event::new(Kind::AdminLocked, Actor::System)
                .data(json!({ "username": username, "until": now + LOCK_SECS }));
            audit::record(c, &locked, now)?;
            return Ok(true);
        }
        Ok(false)
    })?;
    Ok(if locked {
        Refusal::Locked {
            until: now + LOCK_SECS,
        }
    } else {
        Refusal::BadCredentials
    })
}

/// The AAD label a TOTP key is sealed under, tying it to its account.
fn totp_label(account_id: &str) -> String {
    format!("totp:{account_id}")
}

fn open_totp(kek: &Kek, account_id: &str, sealed: &str) -> Result<Vec<u8>, AdminError> {
    kek.open(&totp_label(account_id), sealed)
        .map(|k| k.as_bytes().to_vec())
        .map_err(|e| AdminError::Seal(e.to_string()))
}

/// Starts TOTP set-up: a new key kept pending until a code from it is confirmed. Returns the
/// otpauth URI to show as a QR code (and the key in base32 for typing).
pub fn begin_totp(
    db: &Db,
    kek: &Kek,
    account: &AccountRow,
    issuer: &str,
    now: i64,
) -> Result<(String, String), AdminError> {
    let key = random_bytes(totp::KEY_LEN);
    let sealed = kek
        .seal(
            &totp_label(&account.id),
            &key,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .map_err(|e| AdminError::Seal(e.to_string()))?;
    db.write_blocking(|c| store::admin::set_totp_pending(c, &account.id, Some(&sealed), now))?;
    Ok((
        totp::otpauth_uri(issuer, &account.username, &key),
        totp::base32(&key),
    ))
}

/// Confirms the pending key with a code from it; from then on logins need a code.
pub fn confirm_totp(
    db: &Db,
    kek: &Kek,
    account_id: &str,
    code: &str,
    now: i64,
) -> Result<bool, AdminError> {
    let row = db
        .read_blocking(|c| store::admin::account(c, account_id))?
        .ok_or(AdminError::NotFound("account"))?;
    let Some(sealed) = &row.totp_pending else {
        return Ok(false);
    };
    let key = open_totp(kek, &row.id, sealed)?;
    let Some(step) = totp::matching_step(&key, code, now) else {
        return Ok(false);
    };
    let event = Event::new(Kind::AdminTotpEnabled, Actor::Admin(row.username.clone()));
    db.write_blocking(|c| {
        store::admin::confirm_totp(c, &row.id, step, now)?;
        audit::record(c, &event, now)
    })?;
    Ok(true)
}
