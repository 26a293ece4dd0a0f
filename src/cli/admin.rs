//! `mykey-connect admin create|list|disable|reset-password|api-key …`.

use std::io::BufRead as _;

use clap::{Args, Subcommand};

use super::CliError;
use crate::admin::password::Password;
use crate::admin::{accounts, api_keys, Principal, Role};
use crate::provider::Provider;

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
        /// the key's id (ids made before 2026-12 may begin with `-`)
        #[arg(allow_hyphen_values = true)]
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
    fn read(&self) -> Result<Password, CliError> {
        if self.password_stdin {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| CliError::read(std::path::Path::new("the password"), e))?;
            return Ok(Password::new(line.trim_end_matches(['\r', '\n'])));
        }
        let prompt = |text| {
            rpassword::prompt_password(text)
                .map_err(|e| CliError::read(std::path::Path::new("the password"), e))
        };
        let first = prompt("New password: ")?;
        let again = prompt("Repeat it: ")?;
        if first != again {
            return Err(CliError::Usage("the two passwords differ".to_owned()));
        }
        Ok(Password::new(first))
    }
}

fn role(text: &str) -> Result<Role, CliError> {
    Role::parse(text).ok_or_else(|| CliError::Usage("--role must be admin or viewer".to_owned()))
}

pub async fn run(p: &Provider, command: &AdminCommand) -> Result<String, CliError> {
    let (cli, now) = (Principal::cli(), p.clock.unix());
    match command {
        AdminCommand::Create {
            username,
            role: r,
            password,
        } => {
            let role = role(r)?;
            let account = accounts::create(p, &cli, username, &password.read()?, role).await?;
            Ok(format!(
                "created {} account {}\n",
                account.role, account.username
            ))
        }
        AdminCommand::List => {
            let mut out = String::new();
            for a in accounts::list(p).await? {
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
            accounts::disable(p, &cli, username).await?;
            Ok(format!("disabled {username}; its sessions have ended\n"))
        }
        AdminCommand::ResetPassword { username, password } => {
            accounts::reset_password(p, &cli, username, &password.read()?).await?;
            Ok(format!("new password set for {username}\n"))
        }
        AdminCommand::ApiKey(ApiKeyCommand::Create { name, role: r }) => {
            let (key, secret) = api_keys::create(p, &cli, name, role(r)?).await?;
            Ok(format!(
                "id:   {}\nrole: {}\nkey:  {}\n(shown once: only its hash is kept)\n",
                key.id,
                key.role,
                secret.expose()
            ))
        }
        AdminCommand::ApiKey(ApiKeyCommand::List) => {
            let mut out = String::new();
            for k in api_keys::list(p).await? {
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
            api_keys::revoke(p, &cli, id).await?;
            Ok(format!("revoked API key {id}\n"))
        }
    }
}
