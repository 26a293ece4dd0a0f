//! Admin accounts: creation, listing, disabling, password resets, TOTP set-up, and the login
//! check with its lockout (ten wrong passwords lock the account for fifteen minutes) and a
//! per-address limit.

use serde::Serialize;
use serde_json::json;

use super::password::{self, Password};
use super::{totp, AdminError, Principal, Role};
use crate::audit::{self, Actor, Event, Kind};
use crate::domain::secret::{random_b64, random_bytes};
use crate::jose::Kek;
use crate::provider::Provider;
use crate::store;
pub use crate::store::admin::AccountRow;

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

pub async fn create(
    p: &Provider,
    who: &Principal,
    username: &str,
    password: &Password,
    role: Role,
) -> Result<AccountView, AdminError> {
    check_username(username)?;
    password.check_policy()?;
    let now = p.clock.unix();
    let row = AccountRow {
        id: random_b64(12),
        username: username.to_owned(),
        password_hash: password::hash_new(password).await?,
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
    let event = Event::new(Kind::AdminAccountCreated, who.actor.clone())
        .data(json!({ "username": username, "role": role.as_str() }));
    p.db.write(move |c| {
        store::admin::insert_account(c, &row)?;
        audit::record(c, &event, now)
    })
    .await
    .map_err(|e| {
        if e.is_unique_violation() {
            AdminError::UsernameTaken(username.to_owned())
        } else {
            e.into()
        }
    })?;
    Ok(view)
}

pub async fn list(p: &Provider) -> Result<Vec<AccountView>, AdminError> {
    let rows = p.db.read(store::admin::accounts).await?;
    Ok(rows.iter().map(AccountView::from).collect())
}

async fn by_name(p: &Provider, username: &str) -> Result<AccountRow, AdminError> {
    let owned = username.to_owned();
    p.db.read(move |c| store::admin::account_by_name(c, &owned))
        .await?
        .ok_or(AdminError::NotFound("account"))
}

/// Disables an account and ends its sessions.
pub async fn disable(p: &Provider, who: &Principal, username: &str) -> Result<(), AdminError> {
    let row = by_name(p, username).await?;
    let now = p.clock.unix();
    let event = Event::new(Kind::AdminAccountDisabled, who.actor.clone())
        .data(json!({ "username": username }));
    p.db.write(move |c| {
        store::admin::set_disabled(c, &row.id, true, now)?;
        store::admin::end_sessions_of(c, &row.id, now)?;
        audit::record(c, &event, now)
    })
    .await?;
    Ok(())
}

/// Sets a new password, clears a lockout and ends the account's sessions.
pub async fn reset_password(
    p: &Provider,
    who: &Principal,
    username: &str,
    password: &Password,
) -> Result<(), AdminError> {
    password.check_policy()?;
    let row = by_name(p, username).await?;
    let hash = password::hash_new(password).await?;
    let now = p.clock.unix();
    let event = Event::new(Kind::AdminPasswordReset, who.actor.clone())
        .data(json!({ "username": username }));
    p.db.write(move |c| {
        store::admin::set_password(c, &row.id, &hash, now)?;
        store::admin::set_disabled(c, &row.id, false, now)?;
        store::admin::end_sessions_of(c, &row.id, now)?;
        audit::record(c, &event, now)
    })
    .await?;
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
pub async fn authenticate(
    p: &Provider,
    username: &str,
    password: &Password,
    code: Option<&str>,
    address: &str,
) -> Result<Result<AccountRow, Refusal>, AdminError> {
    let now = p.clock.unix();
    let from = address.to_owned();
    let recent =
        p.db.read(move |c| store::admin::failures_from(c, &from, now - ADDRESS_WINDOW))
            .await?;
    if recent >= ADDRESS_LIMIT {
        return Ok(Err(Refusal::AddressLimited));
    }
    let name = username.to_owned();
    let row =
        p.db.read(move |c| store::admin::account_by_name(c, &name))
            .await?;
    let Some(row) = row else {
        let _ = password::verify_off(password, password::dummy_hash()).await;
        fail(p, None, username, address, "unknown_user", now).await?;
        return Ok(Err(Refusal::BadCredentials));
    };
    if let Some(until) = row.locked_until.filter(|u| *u > now) {
        return Ok(Err(Refusal::Locked { until }));
    }
    if !password::verify_off(password, &row.password_hash).await || row.disabled {
        let reason = if row.disabled {
            "disabled"
        } else {
            "wrong_password"
        };
        return Ok(Err(
            fail(p, Some(&row), username, address, reason, now).await?
        ));
    }
    if let Some(sealed) = &row.totp_secret {
        let key = open_totp(&p.kek, &row.id, sealed)?;
        let step = code.and_then(|c| totp::matching_step(&key, c, now));
        let fresh = match step {
            Some(step) => {
                let id = row.id.clone();
                p.db.write(move |c| store::admin::use_totp_step(c, &id, step))
                    .await?
            }
            None => false,
        };
        if !fresh {
            return Ok(Err(fail(
                p,
                Some(&row),
                username,
                address,
                "wrong_code",
                now,
            )
            .await?));
        }
    }
    let event = Event::new(Kind::AdminLogin, Actor::Admin(username.to_owned()))
        .data(json!({ "address": address, "totp": row.totp_secret.is_some() }));
    let id = row.id.clone();
    p.db.write(move |c| {
        store::admin::record_success(c, &id)?;
        audit::record(c, &event, now)
    })
    .await?;
    Ok(Ok(row))
}

async fn fail(
    p: &Provider,
    row: Option<&AccountRow>,
    username: &str,
    address: &str,
    reason: &str,
    now: i64,
) -> Result<Refusal, AdminError> {
    let id = row.map(|r| r.id.clone());
    let event = Event::new(Kind::AdminLoginFailed, Actor::Admin(username.to_owned()))
        .data(json!({ "address": address, "reason": reason }));
    let (username, address) = (username.to_owned(), address.to_owned());
    let locked =
        p.db.write(move |c| {
            store::admin::insert_failure(c, &random_b64(12), &address, now)?;
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
        })
        .await?;
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
pub async fn begin_totp(
    p: &Provider,
    account: &AccountRow,
    issuer: &str,
) -> Result<(String, String), AdminError> {
    let now = p.clock.unix();
    let key = random_bytes(totp::KEY_LEN);
    let sealed = p
        .kek
        .seal(
            &totp_label(&account.id),
            &key,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .map_err(|e| AdminError::Seal(e.to_string()))?;
    let id = account.id.clone();
    p.db.write(move |c| store::admin::set_totp_pending(c, &id, Some(&sealed), now))
        .await?;
    Ok((
        totp::otpauth_uri(issuer, &account.username, &key),
        totp::base32(&key),
    ))
}

/// Confirms the pending key with a code from it; from then on logins need a code.
pub async fn confirm_totp(p: &Provider, account_id: &str, code: &str) -> Result<bool, AdminError> {
    let now = p.clock.unix();
    let owned = account_id.to_owned();
    let row =
        p.db.read(move |c| store::admin::account(c, &owned))
            .await?
            .ok_or(AdminError::NotFound("account"))?;
    let Some(sealed) = &row.totp_pending else {
        return Ok(false);
    };
    let key = open_totp(&p.kek, &row.id, sealed)?;
    let Some(step) = totp::matching_step(&key, code, now) else {
        return Ok(false);
    };
    let event = Event::new(Kind::AdminTotpEnabled, Actor::Admin(row.username.clone()));
    p.db.write(move |c| {
        store::admin::confirm_totp(c, &row.id, step, now)?;
        audit::record(c, &event, now)
    })
    .await?;
    Ok(true)
}
