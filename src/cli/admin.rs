//! `mykey-connect admin create|list|disable|reset-password|api-key …`.

use std::io::BufRead as _;

use clap::{Args, Subcommand};

use crate::admin::password::Password;
use crate::admin::{accounts, api_keys, Role};
use crate::audit::Actor;
use crate::config::Settings;
use crate::store::Db;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a console account (the password is asked for, never taken from arguments).
    Create {
        username: String,
        /// admin (everything) or viewer (read only).
        #[arg(long, default_value = "admin")]
        role: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    List,
    /// Disable an account and end its sessions.
    Disable {
        username: String,
    },
    /// Set a new password; also clears a lockout and re-enables the account.
    ResetPassword {
        username: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Admin API keys.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key; it is printed once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "viewer")]
        role: String,
    },
    List,
    Revoke {
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct PasswordSource {
    /// Read the password from the first line of standard input instead of a prompt.
    #[arg(long)]
    pub password_stdin: bool,
}

impl PasswordSource {
    fn read(&self) -> Result<Password, String> {
        if self.password_stdin {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the password: {e}"))?;
            return Ok(Password::new(line.trim_end_matches(['\r', '\n'])));
        }
        let first = rpassword::prompt_password("New password: ").map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("Repeat it: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the two passwords differ".to_owned());
        }
        Ok(Password::new(first))
    }
}

fn role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "--role must be admin or viewer".to_owned())
}

pub fn run(settings: &Settings, command: &AdminCommand, now: i64) -> Result<String, String> {
    let db = Db::open_for_command(&settings.database_url).map_err(|e| e.to_string())?;
    let err = |e: crate::admin::AdminError| e.to_string();
    match command {
        AdminCommand::Create {
            username,
            role: r,
            password,
        } => {
            let role = role(r)?;
            let account =
                accounts::create(&db, username, &password.read()?, role, &Actor::Cli, now)
                    .map_err(err)?;
            Ok(format!(
                "created {} account {}\n",
                account.role, account.username
            ))
        }
        AdminCommand::List => {
            let mut out = String::new();
            for a in accounts::list(&db).map_err(err)? {
                let state = if a.disabled {
                    "disabled"
                } else if a.locked_until.is_some_and(|t| t > now) {
                    "locked"
                } else {
                    "active"
                };
                out.push_str(&format!(
                    "{:<24} {:<7} {:<9} totp={}\n",
                    a.username, a.role, state, a.totp
                ));
            }
            Ok(out)
        }
        AdminCommand::Disable { username } => {
            accounts::disable(&db, username, &Actor::Cli, now).map_err(err)?;
            Ok(format!("disabled {username}; its sessions have ended\n"))
        }
        AdminCommand::ResetPassword { username, password } => {
            accounts::reset_password(&db, username, &password.read()?, &Actor::Cli, now)
                .map_err(err)?;
            Ok(format!("new password set for {username}\n"))
        }
        AdminCommand::ApiKey(ApiKeyCommand::Create { name, role: r }) => {
            let (key, secret) =
                api_keys::create(&db, name, role(r)?, &Actor::Cli, now).map_err(err)?;
            Ok(format!(
                "id:   {}\nrole: {}\nkey:  {}\n(shown once: only its hash is kept)\n",
                key.id,
                key.role,
                secret.expose()
            ))
        }
        AdminCommand::ApiKey(ApiKeyCommand::List) => {
            let mut out = String::new();
            for k in api_keys::list(&db).map_err(err)? {
                out.push_str(&format!(
                    "{:<14} {:<7} {:<8} {}\n",
                    k.id,
                    k.role,
                    if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "live"
                    },
                    k.name
                ));
            }
            Ok(out)
        }
        AdminCommand::ApiKey(ApiKeyCommand::Revoke { id }) => {
            api_keys::revoke(&db, id, &Actor::Cli, now).map_err(err)?;
            Ok(format!("revoked API key {id}\n"))
        }
    }
}
