//! Peak memory and time of loading a large CRL into a revocation set (BENCHMARKS.md).
//!
//! `cargo run --release --example crl_memory [entries]` (default 1,000,000). The CRL is made
//! by the test kit in this process, then loaded in a fresh child process so that VmHWM (peak
//! resident set, /proc/self/status) counts the load alone: the CRL bytes read from disk plus
//! the set built from them.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use mykey_connect::card::jpki::Purpose;
use mykey_connect::card::revocation::InMemoryRevocation;
use mykey_connect::card::trust::TrustStore;
use mykey_connect::testkit::TestCa;
use time::macros::datetime;
use time::Duration;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, dir] = args.as_slice() {
        if mode == "measure" {
            return measure(Path::new(dir));
        }
    }
    let entries: usize = args
        .get(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let issued_at = datetime!(2025-11-25 10:00 UTC);
    let mut ca = TestCa::ephemeral(issued_at)?;
    let crl = ca.crl_padded(
        Purpose::Auth,
        issued_at,
        issued_at + Duration::days(1),
        entries,
    )?;
    std::fs::write(dir.path().join("root.der"), ca.root_der(Purpose::Auth))?;
    std::fs::write(dir.path().join("list.crl"), &crl)?;
    drop(crl);
    let status = Command::new(std::env::current_exe()?)
        .arg("measure")
        .arg(dir.path())
        .status()?;
    anyhow::ensure!(status.success(), "the measuring process failed: {status}");
    Ok(())
}

fn measure(dir: &Path) -> anyhow::Result<()> {
    let mut trust = TrustStore::new();
    trust.add_der(
        Purpose::Auth,
        &std::fs::read(dir.join("root.der"))?,
        "root.der",
    )?;
    let store = InMemoryRevocation::new();
    let before = status_kib("VmRSS")?;
    let started = Instant::now();
    let crl = std::fs::read(dir.join("list.crl"))?;
    let update = store.load_crl(&trust, &crl)?;
    let elapsed = started.elapsed();
    let peak = status_kib("VmHWM")?;
    let set = &update.current;
    println!("CRL size:            {:.1} MB", crl.len() as f64 / 1e6);
    println!("entries:             {}", set.len());
    println!("read + load time:    {:.2} s", elapsed.as_secs_f64());
    println!(
        "set memory:          {:.1} MB ({} bytes/entry)",
        set.memory_bytes() as f64 / 1e6,
        set.memory_bytes() / set.len().max(1)
    );
    println!("RSS before load:     {:.1} MB", before as f64 / 1024.0);
    println!("peak RSS (VmHWM):    {:.1} MB", peak as f64 / 1024.0);
    println!(
        "peak growth of load: {:.1} MB",
        (peak - before) as f64 / 1024.0
    );
    drop(crl);
    println!(
        "RSS with the set only: {:.1} MB",
        status_kib("VmRSS")? as f64 / 1024.0
    );
    Ok(())
}

/// A `kB` line of /proc/self/status, e.g. `VmHWM`.
fn status_kib(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .ok_or_else(|| anyhow::anyhow!("{field} missing from /proc/self/status"))?;
    Ok(line.trim().trim_end_matches("kB").trim().parse()?)
}
