//! `mykey-connect`: the provider command line. Parses, loads settings, calls the library.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use mykey_connect::cli::{self, clients::ClientArgs, deployment};
use mykey_connect::clock::Clock;
use mykey_connect::provider::Provider;
use mykey_connect::web::App;

#[derive(Parser)]
#[command(
    name = "mykey-connect",
    version,
    about = "OpenID Connect provider for the My Number Card"
)]
struct Cli {
    /// Settings file (TOML); MYKEY_* environment variables override it.
    #[arg(long, short, global = true, env = "MYKEY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the provider.
    Serve,
    /// Run a self-contained demo: test CA, a software card, a demo site, SQLite in a folder.
    Demo {
        /// Folder for the demo's database, CA and card.
        #[arg(long, default_value = "mykey-demo")]
        dir: PathBuf,
        /// Address to listen on (the issuer is http://ADDRESS).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Apply database migrations and exit.
    Migrate {
        /// List the pending migrations; apply nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The settings: check them and show the ones in force.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Exit 0 when the provider of these settings answers /healthz (container health checks).
    Healthcheck,
    /// Copy the SQLite database (while the provider runs) into FILE, and verify the copy.
    Backup {
        file: PathBuf,
        /// Also copy the key-encryption key file to FILE.kek (keep it apart from the backup).
        #[arg(long)]
        with_key: bool,
    },
    /// Replace the SQLite database with the backup FILE (the provider must be stopped).
    Restore {
        file: PathBuf,
        /// The key-encryption key file that opens the backup (default: FILE.kek, then the
        /// deployment's own).
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Manage client sites.
    #[command(subcommand)]
    Client(Box<ClientCommand>),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Console accounts and admin API keys.
    #[command(subcommand)]
    Admin(cli::admin::AdminCommand),
    /// The audit trail: verify, export, prune.
    #[command(subcommand)]
    Audit(cli::audit::AuditCommand),
    /// Revocation data: import CRLs, show their freshness.
    #[command(subcommand)]
    Crl(CrlCommand),
    /// Renewal linkage (J-LIS old → new certificate records).
    #[command(subcommand)]
    Linkage(LinkageCommand),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Load the settings as `serve` would, check what they point at, and print them with where
    /// each value came from (secrets masked); exit 1 listing every problem.
    Check,
}

#[derive(Subcommand)]
enum CrlCommand {
    /// Verify and import CRL files (DER or PEM); ends the sessions of revoked persons.
    Import { files: Vec<PathBuf> },
    /// The newest CRL of every root and whether it is fresh.
    Status,
}

#[derive(Subcommand)]
enum LinkageCommand {
    /// Import a mykey-linkage/1 file.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Register a site; prints its client_id and (once) its secret.
    Add {
        #[command(flatten)]
        args: ClientArgs,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    Show {
        /// the client id
        #[arg(allow_hyphen_values = true)]
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change the given fields.
    Update {
        /// the client id
        #[arg(allow_hyphen_values = true)]
        id: String,
        #[command(flatten)]
        args: ClientArgs,
        #[arg(long)]
        json: bool,
    },
    /// Delete a site with its consents, sessions and tokens.
    Remove {
        /// the client id
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Issue a new secret (shown once); the old one stops working at once.
    RotateSecret {
        /// the client id
        #[arg(allow_hyphen_values = true)]
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    List,
    /// Publish a new signing key now; it signs after the lead time.
    Rotate {
        #[arg(long, default_value = "RS256")]
        alg: String,
        /// Seconds between publication and first use (default: key_rotation_lead).
        #[arg(long)]
        lead_time: Option<i64>,
    },
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let clock = Clock::system();
    match cli.command {
        Command::Demo { dir, listen } => {
            return mykey_connect::demo::run(&dir, &listen).await;
        }
        Command::Serve => {
            let settings = deployment::settings(cli.config.as_deref())?;
            tracing::info!(settings = ?settings, "starting");
            let provider = Arc::new(Provider::open(settings, clock).context("start-up failed")?);
            let app = App::build(provider.clone()).context("cannot listen")?;
            tracing::info!(
                port = app.port,
                issuer = provider.settings.issuer_str(),
                "serving"
            );
            mykey_connect::provider::background::spawn(provider.clone());
            cli::service::ready(&provider.settings.listen);
            let served = app.run().await;
            cli::service::stopping();
            return Ok(served?);
        }
        Command::Config(ConfigCommand::Check) => {
            print!("{}", deployment::config_check(cli.config.as_deref())?);
            return Ok(());
        }
        _ => {}
    }
    let settings = deployment::settings(cli.config.as_deref())?;
    let done = match &cli.command {
        Command::Migrate { dry_run } => Some(deployment::migrate(&settings, *dry_run)),
        Command::Healthcheck => Some(deployment::healthcheck(&settings)),
        Command::Backup { file, with_key } => Some(deployment::backup(&settings, file, *with_key)),
        Command::Restore { file, key } => Some(deployment::restore(&settings, file, key.clone())),
        _ => None,
    };
    if let Some(done) = done {
        print!("{}", done?);
        return Ok(());
    }
    let p = cli::open(settings, clock)?;
    let out = match cli.command {
        Command::Client(c) => match *c {
            ClientCommand::Add { args, json } => cli::clients::add(&p, &args, json).await,
            ClientCommand::List { json } => cli::clients::list(&p, json).await,
            ClientCommand::Show { id, json } => cli::clients::show(&p, &id, json).await,
            ClientCommand::Update { id, args, json } => {
                cli::clients::update(&p, &id, &args, json).await
            }
            ClientCommand::Remove { id } => cli::clients::remove(&p, &id).await,
            ClientCommand::RotateSecret { id, json } => {
                cli::clients::rotate_secret(&p, &id, json).await
            }
        },
        Command::Keys(KeysCommand::List) => cli::keys::list(&p).await,
        Command::Keys(KeysCommand::Rotate { alg, lead_time }) => {
            cli::keys::rotate(&p, &alg, lead_time).await
        }
        Command::Admin(c) => cli::admin::run(&p, &c).await,
        Command::Audit(c) => cli::audit::run(&p, &c).await,
        Command::Crl(CrlCommand::Import { files }) => cli::revocation::crl_import(&p, &files).await,
        Command::Crl(CrlCommand::Status) => cli::revocation::crl_status(&p).await,
        Command::Linkage(LinkageCommand::Import { file }) => {
            cli::revocation::linkage_import(&p, &file).await
        }
        Command::Serve
        | Command::Demo { .. }
        | Command::Config(_)
        | Command::Migrate { .. }
        | Command::Healthcheck
        | Command::Backup { .. }
        | Command::Restore { .. } => unreachable!("handled above"),
    }?;
    print!("{out}");
    Ok(())
}
