//! S8: the import of a large CRL by `mykey-connect crl import` next to the running server:
//! the importer's wall time and peak memory, then how long until the server serves the new
//! CRL (it re-reads stored CRLs every 10 s) and its memory once it holds the new set.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::time::{sleep, Instant};

use crate::http::Conn;
use crate::importer;
use crate::procfs;
use crate::stats::IngestResult;

pub struct IngestPlan {
    pub addr: SocketAddr,
    pub mykey_bin: PathBuf,
    pub crl: PathBuf,
    pub step: String,
    pub server_pid: u32,
    /// How long to wait for the server to serve the new CRL.
    pub server_wait: Duration,
    pub target: String,
}

/// The `nextUpdate` the server reports for its user-authentication root
/// (`mykey_crl_next_update_seconds`): it changes when the server installs a new CRL.
async fn served_next_update(conn: &mut Conn) -> Option<f64> {
    let r = conn.get("/metrics", &[]).await.ok()?;
    if r.status != 200 {
        return None;
    }
    r.text().lines().find_map(|line| {
        let rest = line.strip_prefix("mykey_crl_next_update_seconds{")?;
        let (labels, value) = rest.split_once('}')?;
        labels
            .contains("purpose=\"auth\"")
            .then(|| value.trim().parse().ok())?
    })
}

pub async fn run(plan: IngestPlan) -> anyhow::Result<IngestResult> {
    let mut conn = Conn::new(plan.addr, None);
    let before = served_next_update(&mut conn).await;
    let file_bytes = std::fs::metadata(&plan.crl).map(|m| m.len()).unwrap_or(0);
    let cpu_before = procfs::cpu_seconds(plan.server_pid);
    let import = importer::run(&plan.mykey_bin, &plan.crl)?;
    let mut errors = Vec::new();
    if !import.success {
        errors.push(format!("crl import failed: {}", import.said()));
    } else if !import.stdout.contains("imported CRL") {
        errors.push(format!("crl import did not import: {}", import.said()));
    }
    // The server's refresh loop picks the stored CRL up; poll what it serves.
    let imported_at = Instant::now();
    let deadline = imported_at + plan.server_wait;
    let mut server_load_seconds = None;
    while import.success && Instant::now() < deadline {
        let now = served_next_update(&mut conn).await;
        if now.is_some() && now != before {
            server_load_seconds = Some(imported_at.elapsed().as_secs_f64());
            break;
        }
        sleep(Duration::from_millis(50)).await;
    }
    let cpu_after = procfs::cpu_seconds(plan.server_pid);
    if import.success && server_load_seconds.is_none() {
        errors.push(format!(
            "the server did not serve the new CRL within {:?}",
            plan.server_wait
        ));
    }
    Ok(IngestResult {
        target: plan.target,
        step: plan.step,
        file_bytes,
        entries: import.figure("entries"),
        newly_revoked: import.figure("newly revoked"),
        no_longer_listed: import.figure("no longer listed"),
        import_seconds: import.seconds,
        importer_peak_kib: import.peak_kib,
        peak_method: import.peak_method.to_owned(),
        server_load_seconds,
        server_cpu_seconds: cpu_before.zip(cpu_after).map(|(a, b)| b - a),
        server_rss_kib: procfs::status_kib(plan.server_pid, "VmRSS"),
        server_hwm_kib: procfs::status_kib(plan.server_pid, "VmHWM"),
        errors,
    })
}
