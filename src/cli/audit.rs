//! `mykey-connect audit verify|export|prune`.

use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;

use super::CliError;
use crate::admin::audit::{self as trail, Filter};
use crate::admin::Principal;
use crate::provider::Provider;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Chain what is waiting, then check every entry; exits non-zero naming the first broken one.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Write the log as JSON Lines (to standard output, or a file).
    Export {
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Delete entries older than the retention, behind a checkpoint signed with the current key.
    Prune {
        /// Keep this many days of entries.
        #[arg(long)]
        keep_days: u32,
    },
}

/// How long a command waits for another node's chainer to finish its batch.
const PATIENCE: Duration = Duration::from_secs(30);

/// The text to print; a broken chain is an error whose text is the report.
pub async fn run(p: &Arc<Provider>, command: &AuditCommand) -> Result<String, CliError> {
    match command {
        AuditCommand::Verify { json } => {
            let report = trail::verify(p, PATIENCE).await?;
            let text = if *json {
                format!("{}\n", serde_json::to_string(&report).unwrap_or_default())
            } else {
                match &report.broken {
                    None => format!(
                        "audit chain OK: {} entries, head {} ({}){}\n",
                        report.entries,
                        report.head_seq,
                        report.head_hash,
                        if report.checkpoint_seq > 0 {
                            format!(", after a signed checkpoint at {}", report.checkpoint_seq)
                        } else {
                            String::new()
                        }
                    ),
                    Some(b) => format!("audit chain BROKEN at entry {}: {}\n", b.seq, b.reason),
                }
            };
            if report.ok() {
                Ok(text)
            } else {
                Err(CliError::Failed(text.trim_end().to_owned()))
            }
        }
        AuditCommand::Export { output } => {
            let body = trail::export(p, Filter::default(), PATIENCE).await?;
            match output {
                Some(path) => {
                    std::fs::write(path, &body).map_err(|source| CliError::Write {
                        path: path.display().to_string(),
                        source,
                    })?;
                    let entries = body.iter().filter(|b| **b == b'\n').count();
                    Ok(format!("{entries} entries written to {}\n", path.display()))
                }
                None => Ok(String::from_utf8_lossy(&body).into_owned()),
            }
        }
        AuditCommand::Prune { keep_days } => {
            match trail::prune(p, &Principal::cli(), *keep_days, PATIENCE).await? {
                Some(seq) => Ok(format!(
                    "pruned entries through {seq}; a signed checkpoint keeps the rest verifiable\n"
                )),
                None => Ok("nothing older than the retention\n".to_owned()),
            }
        }
    }
}
