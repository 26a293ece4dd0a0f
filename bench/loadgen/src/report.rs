//! The markdown results table from a results file, and its place in BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::scenarios::Scenario;
use crate::stats::{FanoutResult, IngestResult, Record, RssResult, ScenarioResult};

pub const START_MARK: &str = "<!-- bench:results:start (bench/run.sh rewrites this part) -->";
pub const END_MARK: &str = "<!-- bench:results:end -->";

/// The goals for mykey-connect on SQLite, server pinned to one core.
fn goal(scenario: &str) -> Option<f64> {
    match scenario {
        "S1" | "S2" => Some(60_000.0),
        "S3" => Some(30_000.0),
        "S5" => Some(2_600.0),
        "S5E" => Some(10_000.0),
        "S6" => Some(1_200.0),
        _ => None,
    }
}
const GOAL_IDLE_MB: f64 = 30.0;
const GOAL_PEAK_MB: f64 = 60.0;
/// S8: a 1,000,000-entry CRL imported within 10 s, the importer within 256 MB.
const GOAL_INGEST_SECONDS: f64 = 10.0;
const GOAL_INGEST_MB: f64 = 256.0;
/// S9: 99% of the logout tokens delivered within 2 s after the CRL is ingested (the import's
/// end; the figure from the import's start is shown beside it).
const GOAL_FANOUT_P99_MS: f64 = 2000.0;
/// The target that gets the goal column, and the one every ratio divides by.
const GOAL_TARGET: &str = "mykey-sqlite";
const REFERENCE: &str = "node";

/// Facts about the run printed above the tables.
pub struct Header {
    pub machine: String,
    pub date: String,
    pub commit: String,
    pub settings: String,
}

pub fn read(path: &Path) -> anyhow::Result<Vec<Record>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("results line {l:.80}")))
        .collect()
}

/// Idle and peak arrive as separate lines: one memory record per target.
pub fn merge_rss(records: Vec<Record>) -> Vec<Record> {
    let mut merged: Vec<RssResult> = Vec::new();
    let mut out = Vec::new();
    for record in records {
        match record {
            Record::Rss(m) => match merged.iter_mut().find(|x| x.target == m.target) {
                Some(x) => {
                    x.idle_kib = m.idle_kib.or(x.idle_kib);
                    x.peak_kib = m.peak_kib.or(x.peak_kib);
                }
                None => merged.push(m),
            },
            other => out.push(other),
        }
    }
    out.extend(merged.into_iter().map(Record::Rss));
    out
}

fn title(target: &str) -> String {
    match target {
        "node" => "node-oidc-provider 9 (pinned)".to_owned(),
        "mykey-sqlite" => "mykey SQLite (pinned)".to_owned(),
        "mykey-postgres" => "mykey PostgreSQL (pinned)".to_owned(),
        "mykey-sqlite-unpinned" => "mykey SQLite (unpinned)".to_owned(),
        "mykey-postgres-2nodes" => {
            "mykey PostgreSQL, 2 nodes round-robin (both pinned to one core)".to_owned()
        }
        other => other.to_owned(),
    }
}

fn thousands(x: f64) -> String {
    let n = x.round() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn figure(r: &ScenarioResult) -> String {
    if r.valid() {
        thousands(r.rate)
    } else {
        format!("{} ⚠ {} errors, not valid", thousands(r.rate), r.errors)
    }
}

fn mb(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1}", k as f64 * 1024.0 / 1e6))
        .unwrap_or_else(|| "—".to_owned())
}

/// The markdown: run facts, throughput with ratios and goals, latency and CPU, memory.
pub fn markdown(records: &[Record], h: &Header) -> String {
    let scenarios: Vec<&ScenarioResult> = records
        .iter()
        .filter_map(|r| match r {
            Record::Scenario(s) => Some(s),
            _ => None,
        })
        .collect();
    let rss: Vec<&RssResult> = records
        .iter()
        .filter_map(|r| match r {
            Record::Rss(m) => Some(m),
            _ => None,
        })
        .collect();
    let ingests: Vec<&IngestResult> = records
        .iter()
        .filter_map(|r| match r {
            Record::Ingest(i) => Some(i),
            _ => None,
        })
        .collect();
    let fanouts: Vec<&FanoutResult> = records
        .iter()
        .filter_map(|r| match r {
            Record::Fanout(f) => Some(f),
            _ => None,
        })
        .collect();
    let mut targets: Vec<&str> = Vec::new();
    for t in scenarios
        .iter()
        .map(|s| s.target.as_str())
        .chain(rss.iter().map(|m| m.target.as_str()))
        .chain(ingests.iter().map(|i| i.target.as_str()))
        .chain(fanouts.iter().map(|f| f.target.as_str()))
    {
        if !targets.contains(&t) {
            targets.push(t);
        }
    }
    let find = |t: &str, s: &str| {
        scenarios
            .iter()
            .rev()
            .find(|r| r.target == t && r.scenario == s)
    };
    let mut md = String::new();
    let _ = writeln!(md, "Generated by `bash bench/run.sh` on {}.\n", h.date);
    let _ = writeln!(md, "- Machine: {}", h.machine);
    let _ = writeln!(md, "- Commit: `{}`", h.commit);
    let _ = writeln!(md, "- {}\n", h.settings);

    let mut head = String::from("| scenario | goal |");
    let mut rule = String::from("|---|---|");
    for t in &targets {
        let _ = write!(head, " {} |", title(t));
        rule.push_str("---|");
        if *t != REFERENCE && targets.contains(&REFERENCE) {
            head.push_str(" × node |");
            rule.push_str("---|");
        }
    }
    head.push_str(" goal met (SQLite) |");
    rule.push_str("---|");
    let _ = writeln!(md, "{head}\n{rule}");
    for s in Scenario::ALL {
        let id = s.id();
        let goal_text = goal(id)
            .map(|g| format!("≥ {} {}", thousands(g), s.unit()))
            .unwrap_or_else(|| "(record)".to_owned());
        let _ = write!(md, "| {id} {} ({}) | {goal_text} |", s.title(), s.unit());
        let reference = find(REFERENCE, id).filter(|r| r.valid());
        for t in &targets {
            let cell = find(t, id).map(|r| figure(r)).unwrap_or_else(|| "—".into());
            let _ = write!(md, " {cell} |");
            if *t != REFERENCE && targets.contains(&REFERENCE) {
                let ratio = match (find(t, id).filter(|r| r.valid()), reference) {
                    (Some(r), Some(n)) if n.rate > 0.0 => format!("{:.1}×", r.rate / n.rate),
                    _ => "—".to_owned(),
                };
                let _ = write!(md, " {ratio} |");
            }
        }
        let met = match (goal(id), find(GOAL_TARGET, id)) {
            (Some(g), Some(r)) if r.valid() => {
                if r.rate >= g { "yes" } else { "**no**" }.to_owned()
            }
            (Some(_), Some(_)) => "**no** (errors)".to_owned(),
            _ => "—".to_owned(),
        };
        let _ = writeln!(md, " {met} |");
    }
    revocation_rows(&mut md, &targets, &ingests, &fanouts);
    let _ = write!(
        md,
        "| S10 RSS idle / peak (MB) | ≤ {GOAL_IDLE_MB:.0} / ≤ {GOAL_PEAK_MB:.0} |"
    );
    let memory = |t: &str| rss.iter().rev().find(|m| m.target == t);
    for t in &targets {
        let cell = memory(t)
            .map(|m| format!("{} / {}", mb(m.idle_kib), mb(m.peak_kib)))
            .unwrap_or_else(|| "—".into());
        let _ = write!(md, " {cell} |");
        if *t != REFERENCE && targets.contains(&REFERENCE) {
            md.push_str(" — |");
        }
    }
    let met = memory(GOAL_TARGET)
        .and_then(|m| Some((m.idle_kib?, m.peak_kib?)))
        .map(|(idle, peak)| {
            let ok = idle as f64 * 1024.0 / 1e6 <= GOAL_IDLE_MB
                && peak as f64 * 1024.0 / 1e6 <= GOAL_PEAK_MB;
            if ok { "yes" } else { "**no**" }.to_owned()
        })
        .unwrap_or_else(|| "—".into());
    let _ = writeln!(md, " {met} |\n");

    if !scenarios.is_empty() {
        let _ = writeln!(
            md,
            "Per run: latency, the CPU each side used over the measured window (% of one core), \
             what one fully used server core would serve at that cost (rate ÷ server CPU), and the \
             machine's 1-minute load average (other processes share these 2 cores):\n"
        );
        let _ = writeln!(
            md,
            "| scenario | target | p50 / p99 ms | server CPU | per server core | load generator CPU | load avg |\n|---|---|---|---|---|---|---|"
        );
        let pct = |c: Option<f64>| c.map_or_else(|| "—".to_owned(), |c| format!("{c:.0}%"));
        for s in Scenario::ALL {
            for t in &targets {
                let Some(r) = find(t, s.id()) else { continue };
                let _ = writeln!(
                    md,
                    "| {} | {} | {:.2} / {:.2} | {} | {} | {} | {} |",
                    s.id(),
                    title(t),
                    r.p50_ms,
                    r.p99_ms,
                    pct(r.server_cpu_pct),
                    r.per_server_core().map_or_else(
                        || "—".to_owned(),
                        |c| format!("{} {}", thousands(c), s.unit())
                    ),
                    pct(r.loadgen_cpu_pct),
                    r.load_avg
                        .map_or_else(|| "—".to_owned(), |l| format!("{l:.1}")),
                );
            }
        }
    }
    revocation_details(&mut md, &targets, &ingests, &fanouts);
    let errors: Vec<String> = scenarios
        .iter()
        .filter(|r| !r.valid())
        .map(|r| {
            format!(
                "- {} {}: {} errors ({})",
                r.target,
                r.scenario,
                r.errors,
                r.error_samples.join("; ")
            )
        })
        .chain(
            ingests
                .iter()
                .filter(|r| !r.valid())
                .map(|r| format!("- {} S8 ({}): {}", r.target, r.step, r.errors.join("; "))),
        )
        .chain(fanouts.iter().filter(|r| !r.valid()).map(|r| {
            format!(
                "- {} S9: {} errors, {} of {} logout tokens ({})",
                r.target,
                r.errors,
                r.delivered,
                r.sessions,
                r.error_samples.join("; ")
            )
        }))
        .collect();
    if !errors.is_empty() {
        blank_line(&mut md);
        let _ = writeln!(md, "Runs with errors (not valid figures):\n");
        for e in errors {
            let _ = writeln!(md, "{e}");
        }
    }
    md
}

/// Ends `md` with one empty line, as markdown needs between a table and what follows.
fn blank_line(md: &mut String) {
    if !md.ends_with("\n\n") {
        md.push('\n');
    }
}

fn mb_f(kib: Option<u64>) -> Option<f64> {
    kib.map(|k| k as f64 * 1024.0 / 1e6)
}

fn seconds(s: Option<f64>) -> String {
    s.map_or_else(|| "—".to_owned(), |s| format!("{s:.2} s"))
}

/// The S8 cell: import wall time / importer peak of the full CRL, then of the diff.
fn ingest_cell(runs: &[&IngestResult]) -> String {
    let mut parts = Vec::new();
    for r in runs {
        let peak = mb_f(r.importer_peak_kib).map_or_else(|| "?".to_owned(), |m| format!("{m:.0}"));
        let what = if r.step == "full" {
            String::new()
        } else {
            format!("{}: ", r.step)
        };
        let mut cell = format!("{what}{:.2} s / {peak} MB", r.import_seconds);
        if !r.valid() {
            cell.push_str(" ⚠ errors, not valid");
        }
        parts.push(cell);
    }
    parts.join("; ")
}

fn fanout_cell(r: &FanoutResult) -> String {
    let mut cell = format!(
        "{:.2} s ({:.2} s from the start)",
        r.p99_after_ingest_ms / 1000.0,
        r.p99_ms / 1000.0
    );
    if !r.valid() {
        let _ = write!(
            cell,
            " ⚠ {} errors ({} of {} delivered), not valid",
            r.errors, r.delivered, r.sessions
        );
    }
    cell
}

/// The S8 and S9 rows of the main table: mykey-connect only (node has no CRLs or logouts).
fn revocation_rows(
    md: &mut String,
    targets: &[&str],
    ingests: &[&IngestResult],
    fanouts: &[&FanoutResult],
) {
    let ingest_of = |t: &str| -> Vec<&IngestResult> {
        let mut runs: Vec<&IngestResult> = Vec::new();
        for step in ["full", "diff"] {
            if let Some(r) = ingests
                .iter()
                .rev()
                .find(|r| r.target == t && r.step == step)
            {
                runs.push(r);
            }
        }
        runs
    };
    let fanout_of = |t: &str| fanouts.iter().rev().find(|r| r.target == t).copied();
    let with_node = targets.contains(&REFERENCE);
    let missing = |t: &str| if t == REFERENCE { "n/a" } else { "—" }.to_owned();

    let entries = ingests
        .iter()
        .find(|r| r.step == "full")
        .and_then(|r| r.entries)
        .map_or_else(String::new, |n| {
            format!(", {} entries", thousands(n as f64))
        });
    let _ = write!(
        md,
        "| S8 CRL ingest{entries} (`crl import` wall time / importer peak RSS; then the diff to the next) | ≤ {GOAL_INGEST_SECONDS:.0} s / ≤ {GOAL_INGEST_MB:.0} MB |"
    );
    for t in targets {
        let runs = ingest_of(t);
        let cell = if runs.is_empty() {
            missing(t)
        } else {
            ingest_cell(&runs)
        };
        let _ = write!(md, " {cell} |");
        if *t != REFERENCE && with_node {
            md.push_str(" — |");
        }
    }
    let runs = ingest_of(GOAL_TARGET);
    let met = if runs.is_empty() {
        "—"
    } else if runs.iter().any(|r| !r.valid()) {
        "**no** (errors)"
    } else if runs.iter().all(|r| {
        r.import_seconds <= GOAL_INGEST_SECONDS
            && mb_f(r.importer_peak_kib).is_some_and(|m| m <= GOAL_INGEST_MB)
    }) {
        "yes"
    } else {
        "**no**"
    };
    let _ = writeln!(md, " {met} |");

    let sessions = fanouts.first().map_or_else(String::new, |r| {
        format!(", {} client sessions", thousands(r.sessions as f64))
    });
    let _ = write!(
        md,
        "| S9 revocation fan-out{sessions} (p99 from the import's end, the CRL ingested, to the logout token's arrival; in brackets from the import's start) | ≤ {:.0} s p99 |",
        GOAL_FANOUT_P99_MS / 1000.0
    );
    for t in targets {
        let cell = fanout_of(t).map_or_else(|| missing(t), fanout_cell);
        let _ = write!(md, " {cell} |");
        if *t != REFERENCE && with_node {
            md.push_str(" — |");
        }
    }
    let met = match fanout_of(GOAL_TARGET) {
        None => "—",
        Some(r) if !r.valid() => "**no** (errors)",
        Some(r) if r.p99_after_ingest_ms <= GOAL_FANOUT_P99_MS => "yes",
        Some(_) => "**no**",
    };
    let _ = writeln!(md, " {met} |");
}

/// The detail tables of S8 and S9.
fn revocation_details(
    md: &mut String,
    targets: &[&str],
    ingests: &[&IngestResult],
    fanouts: &[&FanoutResult],
) {
    let pct = |c: Option<f64>| c.map_or_else(|| "—".to_owned(), |c| format!("{c:.0}%"));
    if !ingests.is_empty() {
        blank_line(md);
        let _ = writeln!(
            md,
            "S8 CRL ingest: `mykey-connect crl import` as its own process next to the running server \
             (peak RSS by {}); the server serves a CRL another process imported after its next \
             10-second refresh of the stored CRLs:\n",
            if ingests.iter().all(|r| r.peak_method == "wait4") {
                "`wait4` through GNU time"
            } else {
                "`wait4` through GNU time, or sampling `/proc` where marked"
            }
        );
        let _ = writeln!(
            md,
            "| target | CRL | entries (newly revoked / no longer listed) | size | `crl import` wall time | importer peak RSS | server serves it after | server CPU until then | server RSS / peak after |\n|---|---|---|---|---|---|---|---|---|"
        );
        for t in targets {
            for r in ingests.iter().filter(|r| r.target == *t) {
                let count =
                    |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| thousands(n as f64));
                let peak = format!(
                    "{} MB{}",
                    mb(r.importer_peak_kib),
                    if r.peak_method == "wait4" {
                        ""
                    } else {
                        " (sampled)"
                    }
                );
                let _ = writeln!(
                    md,
                    "| {} | {} | {} ({} / {}) | {:.1} MB | {:.2} s | {peak} | {} | {} | {} / {} MB |",
                    title(t),
                    r.step,
                    count(r.entries),
                    count(r.newly_revoked),
                    count(r.no_longer_listed),
                    r.file_bytes as f64 / 1e6,
                    r.import_seconds,
                    seconds(r.server_load_seconds),
                    seconds(r.server_cpu_seconds),
                    mb(r.server_rss_kib),
                    mb(r.server_hwm_kib),
                );
            }
        }
    }
    if !fanouts.is_empty() {
        blank_line(md);
        let _ = writeln!(
            md,
            "S9 revocation fan-out: T0 is the start of `mykey-connect crl import` of the CRL that \
             revokes the resident's certificate; each time is a logout token's arrival at its \
             client after T0 (the server finds outbox rows another process wrote by looking \
             every 200 ms); \"p99 after ingest\": the 99th percentile from the import's end \
             (T0 + its wall time), when the CRL is ingested; server CPU from T0 to the last \
             arrival; failed outbox claims: how often the server's delivery loop logged \
             `outbox: cannot claim deliveries` after T0 (it waits 2 s after each):\n"
        );
        let _ = writeln!(
            md,
            "| target | client sessions (browsers × clients) | seeding | `crl import` | first / p50 / p99 / last ms | p99 after ingest ms | deliveries/s | server CPU | load generator CPU | repeats | failed outbox claims | load avg |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
        );
        for t in targets {
            for r in fanouts.iter().filter(|r| r.target == *t) {
                let cpu = match (r.server_cpu_seconds, r.server_cpu_pct) {
                    (Some(s), Some(p)) => format!("{s:.2} s ({p:.0}%)"),
                    _ => "—".to_owned(),
                };
                let _ = writeln!(
                    md,
                    "| {} | {} ({} × {}) | {:.1} s | {:.2} s | {:.0} / {:.0} / {:.0} / {:.0} | {:.0} | {} | {cpu} | {} | {} | {} | {} |",
                    title(t),
                    thousands(r.sessions as f64),
                    r.browsers,
                    r.clients,
                    r.seeding_seconds,
                    r.import_seconds,
                    r.first_ms,
                    r.p50_ms,
                    r.p99_ms,
                    r.max_ms,
                    r.p99_after_ingest_ms,
                    thousands(r.rate),
                    pct(r.loadgen_cpu_pct),
                    r.duplicates,
                    r.claim_failures.map_or_else(|| "—".to_owned(), |n| n.to_string()),
                    r.load_avg.map_or_else(|| "—".to_owned(), |l| format!("{l:.1}")),
                );
            }
        }
    }
}

/// Replaces the part between the marks in `doc`, or appends a results section.
pub fn splice(doc: &str, table: &str) -> String {
    let block = format!("{START_MARK}\n{table}{END_MARK}");
    match (doc.find(START_MARK), doc.find(END_MARK)) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{block}{}", &doc[..a], &doc[b + END_MARK.len()..])
        }
        _ => format!("{}\n## Results\n\n{block}\n", doc.trim_end()),
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
