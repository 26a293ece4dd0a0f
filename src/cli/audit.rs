//! `mykey-connect audit verify|export|prune`.

use std::time::Duration;

use clap::Subcommand;

use crate::audit::{chain, export, prune, verify, Actor};
use crate::config::Settings;
use crate::provider::{secrets, KeyRing};
use crate::store::{self, Db};

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

/// Returns the text to print and whether the command succeeded.
pub fn run(settings: &Settings, command: &AuditCommand, now: i64) -> Result<String, String> {
    let db = Db::open_for_command(&settings.database_url).map_err(|e| e.to_string())?;
    chain::drain_blocking(&db, PATIENCE).map_err(|e| e.to_string())?;
    match command {
        AuditCommand::Verify { json } => {
            let report = db
                .read_blocking(|c| {
                    let keys = verify::published_keys(c)?;
                    verify::verify(c, &keys)
                })
                .map_err(|e| e.to_string())?;
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
                Err(text.trim_end().to_owned())
            }
        }
        AuditCommand::Export { output } => {
            let mut rows = Vec::new();
            let mut after = i64::MIN;
            loop {
                let page = db
                    .read_blocking(|c| store::audit::page_after(c, after, 1000))
                    .map_err(|e| e.to_string())?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                rows.extend(page);
            }
            let mut buf = Vec::new();
            export::write_jsonl(&mut buf, &rows).map_err(|e| e.to_string())?;
            match output {
                Some(path) => {
                    std::fs::write(path, &buf).map_err(|e| e.to_string())?;
                    Ok(format!(
                        "{} entries written to {}\n",
                        rows.len(),
                        path.display()
                    ))
                }
                None => Ok(String::from_utf8_lossy(&buf).into_owned()),
            }
        }
        AuditCommand::Prune { keep_days } => {
            let kek = secrets::key_encryption_key(settings, &db).map_err(|e| e.to_string())?;
            let keys = KeyRing::open(&db, &kek, 0, now).map_err(|e| e.to_string())?;
            let before = now - i64::from(*keep_days) * 86_400;
            match prune::prune(
                &db,
                &*keys.snapshot(),
                settings.issuer_str(),
                before,
                now,
                Actor::Cli,
            )
            .map_err(|e| e.to_string())?
            {
                Some(seq) => Ok(format!(
                    "pruned entries through {seq}; a signed checkpoint keeps the rest verifiable\n"
                )),
                None => Ok("nothing older than the retention\n".to_owned()),
            }
        }
    }
}
