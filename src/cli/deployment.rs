//! Commands on the deployment itself rather than through a running provider's operations:
//! `config check`, `migrate [--dry-run]`, `healthcheck`, `backup`, `restore`. None of them opens
//! the provider first (a restore must find the database closed; a check must not create one).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{logging, service, CliError};
use crate::admin::{backup, Principal};
use crate::clock::Clock;
use crate::config::{ConfigError, Settings};
use crate::provider::preflight;
use crate::store::db::DatabaseUrl;
use crate::store::{Backend, Db};

/// Where the Debian package installs the settings.
pub const SYSTEM_CONFIG: &str = "/etc/mykey-connect/config.toml";

fn env() -> Vec<(String, String)> {
    std::env::vars().collect()
}

/// The settings of a command: loaded, logging set up, warnings logged. A command run without a
/// settings file on a machine where the package installed one is told so: it would otherwise
/// quietly use a database in the current folder.
pub fn settings(file: Option<&Path>) -> Result<Settings, ConfigError> {
    let env = env();
    let loaded = Settings::check(file, &env)?;
    logging::init(loaded.settings.log_format);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let database_given = env.iter().any(|(k, _)| k == "MYKEY_DATABASE_URL");
    if file.is_none() && !database_given && Path::new(SYSTEM_CONFIG).is_file() {
        tracing::warn!(
            "no settings file given: using the defaults (database {}); the installed service \
             reads {SYSTEM_CONFIG}: pass --config {SYSTEM_CONFIG} (or set MYKEY_CONFIG)",
            loaded.settings.database_url
        );
    }
    Ok(loaded.settings)
}

/// `config check`: the settings in force as TOML with their sources (secrets masked), or every
/// problem found in them and in what they point at.
pub fn config_check(file: Option<&Path>) -> Result<String, CliError> {
    let mut out = match file {
        Some(f) => format!(
            "# settings from {}, then MYKEY_* variables, then defaults\n",
            f.display()
        ),
        None => "# no settings file: MYKEY_* variables, then defaults\n".to_owned(),
    };
    let loaded = match Settings::check(file, &env()) {
        Ok(loaded) => loaded,
        Err(ConfigError::Invalid(problems)) => {
            print!("{out}");
            let list: String = problems.iter().map(|p| format!("\n  - {p}")).collect();
            return Err(CliError::Failed(format!(
                "{} problem(s) in the settings:{list}",
                problems.len()
            )));
        }
        Err(e) => {
            print!("{out}");
            return Err(CliError::Failed(e.to_string()));
        }
    };
    out.push_str(&loaded.render());
    let found = preflight::check(&loaded.settings);
    for warning in loaded.warnings.iter().chain(&found.warnings) {
        out.push_str(&format!("# warning: {warning}\n"));
    }
    if found.problems.is_empty() {
        out.push_str("# the settings are valid\n");
        return Ok(out);
    }
    let list: String = found
        .problems
        .iter()
        .map(|p| format!("\n  - {p}"))
        .collect();
    print!("{out}");
    Err(CliError::Failed(format!(
        "{} problem(s) in the settings:{list}",
        found.problems.len()
    )))
}

/// `migrate`: applies what is pending; `--dry-run` lists it and applies nothing (nor creates a
/// SQLite database that does not exist yet).
pub fn migrate(settings: &Settings, dry_run: bool) -> Result<String, CliError> {
    let store = |e: crate::store::StoreError| CliError::Failed(e.to_string());
    let url = DatabaseUrl::parse(&settings.database_url).map_err(store)?;
    let missing = url.backend == Backend::Sqlite && !Path::new(&url.target).exists();
    if dry_run {
        let pending = if missing {
            crate::store::db::known_migrations()
        } else {
            Db::connect_for_command(&settings.database_url)
                .and_then(|db| db.pending_migrations())
                .map_err(store)?
        };
        let mut out = match (pending.len(), missing) {
            (0, _) => "the database is up to date: no pending migration\n".to_owned(),
            (n, true) => format!(
                "no database at {} yet: migrate would create it and apply {n} migration(s):\n",
                url.target
            ),
            (n, false) => format!("{n} pending migration(s), oldest first (nothing applied):\n"),
        };
        for name in pending {
            out.push_str(&format!("  {name}\n"));
        }
        return Ok(out);
    }
    // Not `Db::open_for_command`, which migrates without saying what it applied.
    let db = Db::connect_for_command(&settings.database_url).map_err(store)?;
    let pending = db.pending_migrations().map_err(store)?;
    let applied = db.migrate().map_err(store)?;
    // By name when they are the ones found pending (another node may migrate at once).
    let names = if pending.len() == applied.len() {
        pending
    } else {
        applied
    };
    let mut out = format!("{} migration(s) applied\n", names.len());
    for name in names {
        out.push_str(&format!("  {name}\n"));
    }
    Ok(out)
}

/// `healthcheck`: whether the provider listening at the settings' address answers `/healthz`.
pub fn healthcheck(settings: &Settings) -> Result<String, CliError> {
    service::healthcheck(&settings.listen, Duration::from_secs(5))
        .map(|status| format!("healthy: {status}\n"))
        .map_err(|e| CliError::Failed(format!("unhealthy: {e}")))
}

pub fn backup(settings: &Settings, file: &Path, with_key: bool) -> Result<String, CliError> {
    let now = Clock::system().unix();
    backup::backup(settings, &Principal::cli(), file, with_key, now)
        .map(|done| done.to_string())
        .map_err(|e| CliError::Failed(e.to_string()))
}

pub fn restore(settings: &Settings, file: &Path, key: Option<PathBuf>) -> Result<String, CliError> {
    let now = Clock::system().unix();
    backup::restore(settings, &Principal::cli(), file, key.as_deref(), now)
        .map(|done| done.to_string())
        .map_err(|e| CliError::Failed(e.to_string()))
}
