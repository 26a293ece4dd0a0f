//! S9: revocation fan-out. One resident logs in with the card in many browsers, each browser
//! signs in to every client; the card's certificate is then revoked by a CRL import, and the
//! clients' back-channel logout endpoints (`receiver`) time each logout token from the
//! import's start (T0).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use hyper::header;
use tokio::net::TcpListener;
use tokio::time::{timeout, Instant};

use crate::flows::{log_in, sso_with_consent, Card, Login, Site};
use crate::http::{location_path, Conn, Jar};
use crate::importer;
use crate::jwt::{self, Jwks};
use crate::oidc::{self, RpClient};
use crate::procfs;
use crate::receiver::{self, Receiver};
use crate::scenarios::resident_ip;
use crate::stats::{quantile, FanoutResult, Tally};

/// Source addresses of the fan-out's browsers start at 127.100.0.1, away from S6's residents.
const ADDRESS_BASE: u32 = 0x63_0000;
/// One browser's login and sign-ins to every client.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

pub struct FanoutPlan {
    pub addr: SocketAddr,
    /// The card file of the resident whose certificate the CRL revokes.
    pub card: PathBuf,
    /// Client `n` has its back-channel logout endpoint at `http://<listen>/logout/<n>`.
    pub clients: Vec<RpClient>,
    pub listen: SocketAddr,
    pub browsers: usize,
    pub concurrency: usize,
    /// How long after T0 missing logout tokens are waited for.
    pub timeout: Duration,
    pub mykey_bin: PathBuf,
    pub crl: PathBuf,
    pub server_pid: Option<u32>,
    /// The server's log, to count failed outbox claims after T0.
    pub server_log: Option<PathBuf>,
    pub target: String,
}

/// What the delivery loop logs when it cannot claim rows (it then sleeps 2 s).
const CLAIM_FAILED: &str = "outbox: cannot claim deliveries";

fn log_len(path: Option<&PathBuf>) -> Option<u64> {
    Some(std::fs::metadata(path?).ok()?.len())
}

/// Occurrences of `CLAIM_FAILED` in the log after byte `from`.
fn claim_failures(path: Option<&PathBuf>, from: Option<u64>) -> Option<u64> {
    let bytes = std::fs::read(path?).ok()?;
    let tail = bytes.get(usize::try_from(from?).ok()?..)?;
    let text = String::from_utf8_lossy(tail);
    Some(text.matches(CLAIM_FAILED).count() as u64)
}

/// What one browser left: the client sessions (`sid`, client index) it holds.
#[derive(Default)]
struct Browser {
    jar: Jar,
    sids: Vec<(String, usize)>,
    access_token: String,
}

/// Card login through client 0, then single sign-on (and consent, the first time) to every
/// other client. Sessions made before an error are kept: their logouts are owed too.
async fn one_browser(
    addr: SocketAddr,
    source: IpAddr,
    site: &Site,
    others: &[RpClient],
) -> (Browser, Option<anyhow::Error>) {
    let mut browser = Browser::default();
    let mut conn = Conn::new(addr, Some(source));
    let result = async {
        let first = log_in(&mut conn, site, Jar::default(), &[]).await?;
        browser.jar = first.jar;
        browser.access_token = first.tokens.access_token;
        let id_token = first.tokens.id_token.unwrap_or_default();
        browser.sids.push((jwt::sid_of_id_token(&id_token)?, 0));
        for (i, client) in others.iter().enumerate() {
            let tokens = sso_with_consent(&mut conn, &site.endpoints, client, &mut browser.jar)
                .await
                .with_context(|| format!("client {}", i + 1))?;
            let id_token = tokens.id_token.unwrap_or_default();
            browser.sids.push((jwt::sid_of_id_token(&id_token)?, i + 1));
        }
        Ok::<_, anyhow::Error>(())
    };
    let error = match timeout(BROWSER_TIMEOUT, result).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(_) => Some(anyhow::anyhow!("no login within {BROWSER_TIMEOUT:?}")),
    };
    (browser, error)
}

fn next_address(counter: &AtomicU32) -> IpAddr {
    loop {
        if let Some(ip) = resident_ip(counter.fetch_add(1, Ordering::Relaxed)) {
            return IpAddr::V4(ip);
        }
    }
}

/// Seeds `browsers` browser sessions, `concurrency` at a time; the first one alone, so that
/// the person consents to each client once.
async fn seed(
    plan: &FanoutPlan,
    site: Arc<Site>,
    others: Arc<Vec<RpClient>>,
    errors: &mut Tally,
) -> Vec<Browser> {
    let addresses = Arc::new(AtomicU32::new(ADDRESS_BASE));
    let (first, error) = one_browser(plan.addr, next_address(&addresses), &site, &others).await;
    if let Some(e) = error {
        errors.error(&format!("seeding: {e:#}"));
    }
    let mut browsers = vec![first];
    let next = Arc::new(AtomicUsize::new(1));
    let mut tasks = Vec::new();
    for _ in 0..plan.concurrency {
        let (site, others, addresses, next) = (
            site.clone(),
            others.clone(),
            addresses.clone(),
            next.clone(),
        );
        let (addr, total) = (plan.addr, plan.browsers);
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                done.push(one_browser(addr, next_address(&addresses), &site, &others).await);
            }
            done
        }));
    }
    for task in tasks {
        match task.await {
            Ok(done) => {
                for (browser, error) in done {
                    if let Some(e) = error {
                        errors.error(&format!("seeding: {e:#}"));
                    }
                    browsers.push(browser);
                }
            }
            Err(e) => errors.error(&format!("seeding task failed: {e}")),
        }
    }
    browsers
}

/// After the fan-out: the browser's session no longer signs in, its access token is dead.
async fn check_ended(
    addr: SocketAddr,
    site: &Site,
    browser: &Browser,
    errors: &mut Tally,
) -> anyhow::Result<()> {
    let mut conn = Conn::new(addr, None);
    let (e, c) = (&site.endpoints, &site.client);
    let pending = oidc::authorization_request(e, c, &[]);
    let cookie = browser.jar.header();
    let r = conn
        .get(&pending.path, &[(header::COOKIE, cookie.as_str())])
        .await?;
    let to = r.location.as_deref().map(location_path).unwrap_or_default();
    if !to.starts_with("/login/") {
        errors.error(&format!(
            "after revocation, authorize with the old session answered {} to {to:.40}",
            r.status
        ));
    }
    let r = oidc::introspect(&mut conn, e, c, &browser.access_token).await?;
    if r.status != 200 || !r.text().contains("\"active\":false") {
        errors.error(&format!(
            "after revocation, introspection answered {}: {}",
            r.status,
            r.excerpt()
        ));
    }
    Ok(())
}

pub async fn run(plan: FanoutPlan) -> anyhow::Result<FanoutResult> {
    if plan.clients.is_empty() {
        bail!("no clients");
    }
    let listener = TcpListener::bind(plan.listen)
        .await
        .with_context(|| format!("listening on {}", plan.listen))?;
    let endpoints = oidc::discover(plan.addr).await?;
    let client_ids = plan.clients.iter().map(|c| c.client_id.clone()).collect();
    let rx = Receiver::new(endpoints.issuer.clone(), client_ids);
    tokio::spawn(receiver::serve(listener, rx.clone()));

    let mut clients = plan.clients.clone();
    let others = Arc::new(clients.split_off(1));
    let card = Card::load(&plan.card)?;
    let site = Arc::new(Site {
        endpoints,
        client: clients.remove(0),
        es256_client: None,
        login: Login::Card(card),
    });
    let mut errors = Tally::default();
    let seeding_start = Instant::now();
    let browsers = seed(&plan, site.clone(), others.clone(), &mut errors).await;
    let seeding_seconds = seeding_start.elapsed().as_secs_f64();
    let mut expected: HashMap<String, usize> = HashMap::new();
    for (sid, client) in browsers.iter().flat_map(|b| b.sids.iter()) {
        if expected.insert(sid.clone(), *client).is_some() {
            errors.error("seeding: the same sid in two client sessions");
        }
    }
    let sessions = expected.len() as u64;
    println!(
        "{:<22} S9 seeded {sessions} client sessions in {} browsers in {seeding_seconds:.1} s",
        plan.target,
        browsers.len()
    );
    // Anything that arrived before the revocation was counted as an error by the receiver.
    rx.expect(expected);

    let me = std::process::id();
    let cpu_before = (
        plan.server_pid.and_then(procfs::cpu_seconds),
        procfs::cpu_seconds(me),
    );
    let log_at_t0 = log_len(plan.server_log.as_ref());
    let t0 = Instant::now();
    let (bin, crl) = (plan.mykey_bin.clone(), plan.crl.clone());
    let import = tokio::task::spawn_blocking(move || importer::run(&bin, &crl)).await??;
    if !import.success {
        errors.error(&format!("crl import failed: {}", import.said()));
    } else if import.figure("person(s) logged out") != Some(1) {
        errors.error(&format!(
            "crl import did not log one person out: {}",
            import.said()
        ));
    }
    let complete = rx.wait_complete(t0 + plan.timeout).await;
    let window = t0.elapsed().as_secs_f64();
    let cpu_after = (
        plan.server_pid.and_then(procfs::cpu_seconds),
        procfs::cpu_seconds(me),
    );
    if !complete {
        eprintln!(
            "{}: S9 not every logout token arrived within {:?}",
            plan.target, plan.timeout
        );
    }
    if let Some(first) = browsers.first() {
        check_ended(plan.addr, &site, first, &mut errors).await?;
    }
    let mut conn = Conn::new(plan.addr, None);
    let keys = conn.get(&site.endpoints.jwks, &[]).await?;
    rx.verify_signatures(&Jwks::parse(&keys.body)?);

    let received = rx.finish();
    errors.merge(received.errors);
    let mut micros: Vec<u32> = received
        .arrivals
        .iter()
        .map(|a| u32::try_from(a.duration_since(t0).as_micros()).unwrap_or(u32::MAX))
        .collect();
    micros.sort_unstable();
    let ingest_us = (import.seconds * 1e6) as u32;
    let after_ingest: Vec<u32> = micros
        .iter()
        .map(|us| us.saturating_sub(ingest_us))
        .collect();
    let ms = |us: u32| f64::from(us) / 1000.0;
    let (first, last) = (
        micros.first().copied().unwrap_or(0),
        micros.last().copied().unwrap_or(0),
    );
    let span = f64::from(last.saturating_sub(first)) / 1e6;
    let delivered = micros.len() as u64;
    let cpu = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
    let server_cpu_seconds = cpu(cpu_before.0, cpu_after.0);
    Ok(FanoutResult {
        target: plan.target.clone(),
        clients: plan.clients.len(),
        browsers: browsers.len(),
        sessions,
        seeding_seconds,
        import_seconds: import.seconds,
        delivered,
        duplicates: received.duplicates,
        first_ms: ms(first),
        p50_ms: ms(quantile(&micros, 0.50)),
        p99_ms: ms(quantile(&micros, 0.99)),
        max_ms: ms(last),
        p99_after_ingest_ms: ms(quantile(&after_ingest, 0.99)),
        rate: if span > 0.0 {
            delivered as f64 / span
        } else {
            0.0
        },
        server_cpu_seconds,
        server_cpu_pct: server_cpu_seconds.map(|s| 100.0 * s / window),
        loadgen_cpu_pct: cpu(cpu_before.1, cpu_after.1).map(|s| 100.0 * s / window),
        load_avg: procfs::load_average(),
        claim_failures: claim_failures(plan.server_log.as_ref(), log_at_t0),
        errors: errors.errors,
        error_samples: errors.samples(5),
    })
}
