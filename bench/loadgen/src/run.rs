//! One target's run: discovery, seeding through the real login, then each scenario in turn,
//! each result printed and appended to the results file.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _};

use crate::driver::{self, Window};
use crate::flows::{log_in, sso_first_time, Login, Site};
use crate::http::{Conn, Jar};
use crate::jwt;
use crate::oidc::{self, RpClient, Tokens};
use crate::scenarios::{Scenario, Shared, Worker};
use crate::stats::{Cpu, Record, ScenarioResult};

/// Everything `run` was asked for.
pub struct Plan {
    pub addr: SocketAddr,
    /// A second node of the same deployment (S5/S5E alternate between the two).
    pub alt_addr: Option<SocketAddr>,
    pub client: RpClient,
    pub es256_client: Option<RpClient>,
    pub login: Login,
    pub scenarios: Vec<Scenario>,
    pub window: Window,
    pub connections: usize,
    pub login_concurrency: usize,
    pub server_pid: Option<u32>,
    pub target: String,
    pub out: Option<PathBuf>,
}

/// `client_id` and `client_secret` from the JSON of `mykey-connect client add --json` (the
/// node reference writes the same two keys).
pub fn read_client(path: &Path, redirect_uri: &str) -> anyhow::Result<RpClient> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).context("client JSON")?;
    match (v["client_id"].as_str(), v["client_secret"].as_str()) {
        (Some(id), Some(secret)) => Ok(RpClient::new(id, secret, redirect_uri)),
        _ => bail!("{} has no client_id and client_secret", path.display()),
    }
}

/// The session S5 reuses, and one token set per connection for S3, S4 and S7.
struct Seed {
    jar: Jar,
    tokens: Vec<Tokens>,
}

/// Fresh tokens through single sign-on with the seeded session. A server may forget a session
/// under load (node-oidc-provider's in-memory adapter is an LRU of 1,000 entries); then the
/// browser logs in once more through the real flow.
async fn seed(addr: SocketAddr, n: usize, site: &Site, seed: &mut Seed) -> anyhow::Result<()> {
    let mut conn = Conn::new(addr, None);
    if seed.jar.header().is_empty() {
        seed.jar = log_in(&mut conn, site, Jar::default(), &[])
            .await
            .context("seeding: the first login")?
            .jar;
    }
    seed.tokens.clear();
    for _ in 0..n {
        let tokens = match log_in(&mut conn, site, seed.jar.clone(), &[]).await {
            Ok(again) => again.tokens,
            Err(e) => {
                eprintln!("seeding: single sign-on failed ({e:#}); logging in again");
                let again = log_in(&mut conn, site, Jar::default(), &[])
                    .await
                    .context("seeding: logging in again")?;
                seed.jar = again.jar;
                again.tokens
            }
        };
        seed.tokens.push(tokens);
    }
    Ok(())
}

/// S5E's client meets the seeded browser once (consent), and its ID tokens must be ES256.
async fn first_es256_flow(addr: SocketAddr, site: &Site, jar: &mut Jar) -> anyhow::Result<()> {
    let client = site
        .es256_client
        .as_ref()
        .context("S5E needs --es256-client-file")?;
    let mut conn = Conn::new(addr, None);
    let tokens = sso_first_time(&mut conn, site, client, jar)
        .await
        .context("S5E: the first flow of the ES256 client")?;
    let alg = jwt::header_alg(tokens.id_token.as_deref().unwrap_or_default())?;
    if alg != "ES256" {
        bail!("S5E: the ES256 client's ID token is signed with {alg}");
    }
    Ok(())
}

pub async fn run(plan: Plan) -> anyhow::Result<bool> {
    let Plan {
        addr,
        alt_addr,
        client,
        es256_client,
        login,
        scenarios,
        window,
        connections,
        login_concurrency,
        server_pid,
        target,
        out,
    } = plan;
    let endpoints = oidc::discover(addr).await?;
    let extra = match login {
        Login::Card(_) => vec![("prompt", "consent")],
        Login::Dev { .. } => vec![],
    };
    let site = Arc::new(Site {
        endpoints,
        client,
        es256_client,
        login,
    });
    let mut seeded = Seed {
        jar: Jar::default(),
        tokens: Vec::new(),
    };
    let mut all_valid = true;
    for &scenario in &scenarios {
        if scenario.needs_tokens() {
            seed(addr, connections, &site, &mut seeded).await?;
        }
        if scenario == Scenario::SsoCodeFlowEs256 {
            first_es256_flow(addr, &site, &mut seeded.jar).await?;
        }
        let shared = Arc::new(Shared::new(
            addr,
            site.clone(),
            seeded.jar.header(),
            extra.clone(),
        ));
        let n = if scenario == Scenario::FullLogin {
            login_concurrency
        } else {
            connections
        };
        let token = |i: usize| {
            let t = seeded.tokens.get(i);
            match scenario {
                Scenario::Refresh => t.and_then(|t| t.refresh_token.clone()),
                _ => t.map(|t| t.access_token.clone()),
            }
            .unwrap_or_default()
        };
        let workers = (0..n)
            .map(|i| Worker {
                conn: Conn::new(addr, None),
                alt: alt_addr.map(|a| Conn::new(a, None)),
                token: token(i),
            })
            .collect();
        let outcome = driver::run(shared, scenario, workers, window, server_pid).await;
        let result = ScenarioResult::from_tally(
            &target,
            scenario.id(),
            outcome.tally,
            outcome.seconds,
            n,
            Cpu {
                server_pct: outcome.server_cpu_pct,
                loadgen_pct: outcome.loadgen_cpu_pct,
                load_avg: outcome.load_avg,
            },
        );
        print_line(scenario, &result);
        all_valid &= result.valid();
        if let Some(out) = &out {
            append(out, &Record::Scenario(result))?;
        }
    }
    Ok(all_valid)
}

fn print_line(scenario: Scenario, r: &ScenarioResult) {
    let pct = |c: Option<f64>| c.map_or_else(|| "n/a".to_owned(), |c| format!("{c:.0}%"));
    let (cpu, own) = (pct(r.server_cpu_pct), pct(r.loadgen_cpu_pct));
    println!(
        "{:<22} {} {:<13} {:>8.0} {:<8} p50 {:>6.2} ms p99 {:>7.2} ms errors {} CPU server {cpu} loadgen {own}",
        r.target,
        r.scenario,
        scenario.title().split(' ').next().unwrap_or_default(),
        r.rate,
        scenario.unit(),
        r.p50_ms,
        r.p99_ms,
        r.errors,
    );
    for sample in &r.error_samples {
        println!("    error: {sample}");
    }
}

/// Appends one JSON line.
pub fn append(path: &Path, record: &Record) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("{}", path.display()))?;
    writeln!(file, "{}", serde_json::to_string(record)?)?;
    Ok(())
}
