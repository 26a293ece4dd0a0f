//! `mykey-loadgen`: drives the benchmark scenarios S1–S7 against an OpenID provider, times
//! CRL ingest (S8) and the revocation fan-out (S9) of mykey-connect, records memory, and
//! writes the results table (see bench/run.sh and BENCHMARKS.md).

mod driver;
mod fanout;
mod flows;
mod http;
mod importer;
mod ingest;
mod jwt;
mod oidc;
mod procfs;
mod receiver;
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
        /// A second node of the same deployment: S5 and S5E send every other request there
        /// (round-robin per request, the code redeemed at the node that did not issue it).
        #[arg(long)]
        alt_base_url: Option<String>,
        #[arg(long, value_enum)]
        server: Server,
        /// JSON with client_id and client_secret (`mykey-connect client add --json`).
        #[arg(long)]
        client_file: PathBuf,
        /// A second client with ES256 ID tokens, for S5E (same JSON, same redirect URI).
        #[arg(long)]
        es256_client_file: Option<PathBuf>,
        #[arg(long, default_value = "http://127.0.0.1:9/callback")]
        redirect_uri: String,
        /// CARD file of the software card (mykey).
        #[arg(long)]
        card: Option<PathBuf>,
        /// Login name for devInteractions (node).
        #[arg(long, default_value = "resident-1")]
        account: String,
        /// Comma-separated, e.g. S1,S2,S5.
        /// S5E needs --es256-client-file.
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
        /// Start at most this many operations per second (all connections together): a soak
        /// at part of the peak (bench/soak.sh). Unpaced without it.
        #[arg(long)]
        rate: Option<f64>,
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
    /// S8: run `mykey-connect crl import CRL` (its wall time and peak RSS), then wait until
    /// the running server serves the new CRL and record its memory.
    Ingest {
        /// The server's base URL (loopback), for /metrics.
        #[arg(long)]
        base_url: String,
        /// The mykey-connect binary; it reads the same MYKEY_* environment as the server.
        #[arg(long)]
        mykey_bin: PathBuf,
        #[arg(long)]
        crl: PathBuf,
        /// `full` or `diff`: which import of the scenario this is.
        #[arg(long)]
        step: String,
        #[arg(long)]
        server_pid: u32,
        /// Seconds to wait for the server to load the new CRL.
        #[arg(long, default_value_t = 30.0)]
        server_wait: f64,
        #[arg(long)]
        target: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// S9: seed client sessions of one resident through the real flows, receive the clients'
    /// back-channel logouts, revoke with `mykey-connect crl import CRL` and time the deliveries.
    Fanout {
        #[arg(long)]
        base_url: String,
        /// CARD file of the resident whose certificate CRL revokes.
        #[arg(long)]
        card: PathBuf,
        /// One per client, in order: client n's back-channel logout URI must be
        /// http://LISTEN/logout/n.
        #[arg(long = "client-file", required = true)]
        client_files: Vec<PathBuf>,
        #[arg(long, default_value = "http://127.0.0.1:9/callback")]
        redirect_uri: String,
        /// Where the clients' logout endpoints listen (loopback).
        #[arg(long)]
        listen: SocketAddr,
        /// Browser sessions of the resident (each signs in to every client).
        #[arg(long, default_value_t = 1000)]
        browsers: usize,
        /// Browsers seeded at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Seconds after the import's start to wait for every logout token.
        #[arg(long, default_value_t = 120.0)]
        timeout: f64,
        #[arg(long)]
        mykey_bin: PathBuf,
        #[arg(long)]
        crl: PathBuf,
        #[arg(long)]
        server_pid: Option<u32>,
        /// The server's log file: failed outbox claims after T0 are counted.
        #[arg(long)]
        server_log: Option<PathBuf>,
        #[arg(long)]
        target: String,
        #[arg(long)]
        out: Option<PathBuf>,
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

/// One thread: bench/run.sh pins the load generator to its own core.
fn single_thread() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run {
            base_url,
            alt_base_url,
            server,
            client_file,
            es256_client_file,
            redirect_uri,
            card,
            account,
            scenarios,
            duration,
            warmup,
            max_ops,
            rate,
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
                alt_addr: alt_base_url.as_deref().map(socket_addr).transpose()?,
                client: run::read_client(&client_file, &redirect_uri)?,
                es256_client: es256_client_file
                    .map(|f| run::read_client(&f, &redirect_uri))
                    .transpose()?,
                login,
                scenarios,
                window: driver::Window {
                    warmup: Duration::from_secs_f64(warmup),
                    measure: Duration::from_secs_f64(duration),
                    max_ops,
                    rate,
                },
                connections: connections.max(1),
                login_concurrency: login_concurrency.max(1),
                server_pid,
                target,
                out,
            };
            if !single_thread()?.block_on(run::run(plan))? {
                eprintln!("some scenarios had errors: their figures are not valid");
                std::process::exit(2);
            }
        }
        Command::Ingest {
            base_url,
            mykey_bin,
            crl,
            step,
            server_pid,
            server_wait,
            target,
            out,
        } => {
            let plan = ingest::IngestPlan {
                addr: socket_addr(&base_url)?,
                mykey_bin,
                crl,
                step,
                server_pid,
                server_wait: Duration::from_secs_f64(server_wait),
                target,
            };
            let r = single_thread()?.block_on(ingest::run(plan))?;
            let mb = |k: Option<u64>| {
                k.map_or_else(
                    || "n/a".to_owned(),
                    |k| format!("{:.1}", k as f64 * 1024.0 / 1e6),
                )
            };
            println!(
                "{:<22} S8 {:<4} {} entries: import {:.2} s, importer peak {} MB ({}); server loaded it after {} s, RSS {} MB",
                r.target,
                r.step,
                r.entries.map_or_else(|| "?".to_owned(), |n| n.to_string()),
                r.import_seconds,
                mb(r.importer_peak_kib),
                r.peak_method,
                r.server_load_seconds.map_or_else(|| "n/a".to_owned(), |s| format!("{s:.2}")),
                mb(r.server_rss_kib),
            );
            for e in &r.errors {
                println!("    error: {e}");
            }
            let valid = r.valid();
            if let Some(out) = &out {
                run::append(out, &Record::Ingest(r))?;
            }
            if !valid {
                std::process::exit(2);
            }
        }
        Command::Fanout {
            base_url,
            card,
            client_files,
            redirect_uri,
            listen,
            browsers,
            concurrency,
            timeout,
            mykey_bin,
            crl,
            server_pid,
            server_log,
            target,
            out,
        } => {
            if !listen.ip().is_loopback() {
                bail!("{listen} is not a loopback address");
            }
            let clients = client_files
                .iter()
                .map(|f| run::read_client(f, &redirect_uri))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let plan = fanout::FanoutPlan {
                addr: socket_addr(&base_url)?,
                card,
                clients,
                listen,
                browsers: browsers.max(1),
                concurrency: concurrency.max(1),
                timeout: Duration::from_secs_f64(timeout),
                mykey_bin,
                crl,
                server_pid,
                server_log,
                target,
            };
            let r = single_thread()?.block_on(fanout::run(plan))?;
            println!(
                "{:<22} S9 {} of {} logout tokens (+{} repeats): import {:.2} s; after T0 first {:.0} ms, p50 {:.0} ms, p99 {:.0} ms, last {:.0} ms; {:.0}/s; server CPU {} errors {}",
                r.target,
                r.delivered,
                r.sessions,
                r.duplicates,
                r.import_seconds,
                r.first_ms,
                r.p50_ms,
                r.p99_ms,
                r.max_ms,
                r.rate,
                r.server_cpu_pct.map_or_else(|| "n/a".to_owned(), |c| format!("{c:.0}%")),
                r.errors,
            );
            if let Some(n @ 1..) = r.claim_failures {
                println!("    the server failed to claim outbox rows {n} time(s) after T0 (2 s retry each)");
            }
            for sample in &r.error_samples {
                println!("    error: {sample}");
            }
            let valid = r.valid();
            if let Some(out) = &out {
                run::append(out, &Record::Fanout(r))?;
            }
            if !valid {
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
