//! `mykey-loadgen`: drives the benchmark scenarios S1–S7 against an OpenID provider, records
//! memory, and writes the results table (see bench/run.sh and BENCHMARKS.md).

mod driver;
mod flows;
mod http;
mod oidc;
mod procfs;
mod report;
mod run;
mod scenarios;
mod stats;

use std::net::{SocketAddr, ToSocketAddrs as _};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use clap::{Parser, Subcommand, ValueEnum};

use crate::flows::{Card, Login};
use crate::scenarios::Scenario;
use crate::stats::{Record, RssResult};

#[derive(Parser)]
#[command(
    name = "mykey-loadgen",
    about = "Benchmark load generator for mykey-connect"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Server {
    /// mykey-connect: logins with a software card.
    Mykey,
    /// node-oidc-provider with devInteractions.
    Node,
}

#[derive(Subcommand)]
enum Command {
    /// Seed through the real login, then run scenarios and print (and append) results.
    Run {
        /// The server's base URL (loopback), e.g. http://127.0.0.1:8080.
        #[arg(long)]
        base_url: String,
        #[arg(long, value_enum)]
        server: Server,
        /// JSON with client_id and client_secret (`mykey-connect client add --json`).
        #[arg(long)]
        client_file: PathBuf,
        #[arg(long, default_value = "http://127.0.0.1:9/callback")]
        redirect_uri: String,
        /// CARD file of the software card (mykey).
        #[arg(long)]
        card: Option<PathBuf>,
        /// Login name for devInteractions (node).
        #[arg(long, default_value = "resident-1")]
        account: String,
        /// Comma-separated, e.g. S1,S2,S5.
        #[arg(long, default_value = "S1,S2,S3,S4,S5,S6,S7")]
        scenarios: String,
        /// Seconds measured per scenario.
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
        /// Seconds run before measuring.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        /// Stop a scenario early after this many completed operations.
        #[arg(long)]
        max_ops: Option<u64>,
        /// Keep-alive connections (S1–S5, S7).
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Residents logging in at once (S6); each login has its own connection and address.
        #[arg(long, default_value_t = 16)]
        login_concurrency: usize,
        /// Server process id, for its CPU use during each window.
        #[arg(long)]
        server_pid: Option<u32>,
        /// Name of this server/backend/pinning combination in the results.
        #[arg(long)]
        target: String,
        /// Results file (JSON lines) to append to.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Record a process's memory: VmRSS when idle, VmHWM (peak) after the load.
    Rss {
        #[arg(long)]
        pid: u32,
        #[arg(long)]
        target: String,
        #[arg(long, value_parser = ["idle", "peak"])]
        phase: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Time RSA-2048 PKCS#1 v1.5 SHA-256 signatures with the card's key through aws-lc-rs,
    /// the library the provider signs ID tokens with: a yardstick for S5–S7.
    SignSpeed {
        #[arg(long)]
        card: PathBuf,
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
    },
    /// Write the markdown table of a results file into BENCHMARKS.md (or print it).
    Report {
        #[arg(long)]
        results: PathBuf,
        #[arg(long)]
        machine: String,
        #[arg(long)]
        date: String,
        #[arg(long)]
        commit: String,
        #[arg(long)]
        settings: String,
        /// The document whose results part is replaced; without it the table is printed.
        #[arg(long)]
        into: Option<PathBuf>,
    },
}

fn socket_addr(base_url: &str) -> anyhow::Result<SocketAddr> {
    let url = url::Url::parse(base_url).context("--base-url")?;
    if url.scheme() != "http" {
        bail!("the load generator speaks plain http to a loopback server");
    }
    let host = url
        .host_str()
        .ok_or_else(|| anyhow!("--base-url has no host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| anyhow!("{host} does not resolve"))?;
    // Load is only ever sent to this machine.
    if !addr.ip().is_loopback() {
        bail!("{addr} is not a loopback address");
    }
    Ok(addr)
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run {
            base_url,
            server,
            client_file,
            redirect_uri,
            card,
            account,
            scenarios,
            duration,
            warmup,
            max_ops,
            connections,
            login_concurrency,
            server_pid,
            target,
            out,
        } => {
            let scenarios = scenarios
                .split(',')
                .map(|s| Scenario::parse(s).ok_or_else(|| anyhow!("unknown scenario {s}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let login = match server {
                Server::Mykey => {
                    let path = card.ok_or_else(|| anyhow!("--card is needed for mykey"))?;
                    Login::Card(Card::load(&path)?)
                }
                Server::Node => Login::Dev { account },
            };
            let plan = run::Plan {
                addr: socket_addr(&base_url)?,
                client: run::read_client(&client_file, &redirect_uri)?,
                login,
                scenarios,
                window: driver::Window {
                    warmup: Duration::from_secs_f64(warmup),
                    measure: Duration::from_secs_f64(duration),
                    max_ops,
                },
                connections: connections.max(1),
                login_concurrency: login_concurrency.max(1),
                server_pid,
                target,
                out,
            };
            // One thread: bench/run.sh pins the load generator to its own core.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            if !runtime.block_on(run::run(plan))? {
                eprintln!("some scenarios had errors: their figures are not valid");
                std::process::exit(2);
            }
        }
        Command::Rss {
            pid,
            target,
            phase,
            out,
        } => {
            let (idle_kib, peak_kib) = match phase.as_str() {
                "idle" => (procfs::status_kib(pid, "VmRSS"), None),
                _ => (None, procfs::status_kib(pid, "VmHWM")),
            };
            if idle_kib.is_none() && peak_kib.is_none() {
                bail!("cannot read /proc/{pid}/status");
            }
            let record = RssResult {
                target,
                idle_kib,
                peak_kib,
            };
            println!("{}", serde_json::to_string(&record)?);
            run::append(&out, &Record::Rss(record))?;
        }
        Command::SignSpeed { card, seconds } => {
            let card = Card::load(&card)?;
            let message = [0x5a_u8; 200];
            let start = std::time::Instant::now();
            let mut n = 0u64;
            while start.elapsed().as_secs_f64() < seconds {
                card.sign(&message)?;
                n += 1;
            }
            let per_sec = n as f64 / start.elapsed().as_secs_f64();
            println!(
                "RSA-2048 sign (aws-lc-rs): {per_sec:.0}/s, {:.3} ms each",
                1000.0 / per_sec
            );
        }
        Command::Report {
            results,
            machine,
            date,
            commit,
            settings,
            into,
        } => {
            let records = report::merge_rss(report::read(&results)?);
            let header = report::Header {
                machine,
                date,
                commit,
                settings,
            };
            let table = report::markdown(&records, &header);
            match into {
                Some(path) => {
                    let doc = std::fs::read_to_string(&path).unwrap_or_default();
                    std::fs::write(&path, report::splice(&doc, &table))?;
                    println!("results written into {}", path.display());
                }
                None => print!("{table}"),
            }
        }
    }
    Ok(())
}
