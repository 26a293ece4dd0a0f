//! What a run measured: counts, latencies, error samples, and the JSON lines the report reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One worker's observations inside the measured window.
#[derive(Debug, Default)]
pub struct Tally {
    pub latencies_us: Vec<u32>,
    pub errors: u64,
    /// Error text → how often (the text is cut so that ids do not make every error unique).
    pub error_kinds: BTreeMap<String, u64>,
}

impl Tally {
    pub fn ok(&mut self, micros: u128) {
        self.latencies_us
            .push(u32::try_from(micros).unwrap_or(u32::MAX));
    }

    pub fn error(&mut self, message: &str) {
        self.errors += 1;
        let kind: String = message.chars().take(120).collect();
        *self.error_kinds.entry(kind).or_default() += 1;
    }

    pub fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
        for (k, n) in other.error_kinds {
            *self.error_kinds.entry(k).or_default() += n;
        }
    }
}

/// The value at quantile `q` (0..=1) of sorted samples, nearest-rank.
pub fn quantile(sorted: &[u32], q: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One line of the results file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Scenario(ScenarioResult),
    Rss(RssResult),
    /// S8: one `crl import` of a padded CRL.
    Ingest(IngestResult),
    /// S9: one revocation fan-out.
    Fanout(FanoutResult),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// Which server, backend and pinning, e.g. `mykey-sqlite`.
    pub target: String,
    /// `S1` … `S7`.
    pub scenario: String,
    /// Completed requests (or flows, or logins) per second in the window.
    pub rate: f64,
    pub ok: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// CPU the server process used in the window, in % of one core.
    pub server_cpu_pct: Option<f64>,
    /// CPU the load generator used in the window (near 100% means it was the limit).
    #[serde(default)]
    pub loadgen_cpu_pct: Option<f64>,
    /// The machine's 1-minute load average after the window.
    #[serde(default)]
    pub load_avg: Option<f64>,
    pub connections: usize,
    pub seconds: f64,
    pub error_samples: Vec<String>,
}

/// CPU use over a window, in % of one core, and the machine's load.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    pub server_pct: Option<f64>,
    pub loadgen_pct: Option<f64>,
    pub load_avg: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RssResult {
    pub target: String,
    /// `VmRSS` right after start, before any load.
    pub idle_kib: Option<u64>,
    /// `VmHWM` after all scenarios.
    pub peak_kib: Option<u64>,
}

/// S8: one `mykey-connect crl import` in its own process while the server runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IngestResult {
    pub target: String,
    /// `full` (the first padded CRL, after the small one) or `diff` (the next, one entry more).
    pub step: String,
    pub file_bytes: u64,
    /// From the import's own report.
    pub entries: Option<u64>,
    pub newly_revoked: Option<u64>,
    pub no_longer_listed: Option<u64>,
    /// Wall time of the importing process, start to exit.
    pub import_seconds: f64,
    /// Peak RSS (VmHWM / ru_maxrss) of the importing process.
    pub importer_peak_kib: Option<u64>,
    /// `wait4` (exact, through /usr/bin/time) or `sampled` (/proc every 2 ms: a lower bound).
    pub peak_method: String,
    /// From the import's end until the running server served the new CRL (its refresh loop).
    pub server_load_seconds: Option<f64>,
    /// CPU the server used from the import's start until then.
    pub server_cpu_seconds: Option<f64>,
    /// The server's VmRSS and VmHWM once it holds the new set.
    pub server_rss_kib: Option<u64>,
    pub server_hwm_kib: Option<u64>,
    pub errors: Vec<String>,
}

impl IngestResult {
    pub fn valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// S9: a revoked certificate's sessions ended by a CRL import, and the logout tokens that
/// reached the clients.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FanoutResult {
    pub target: String,
    pub clients: usize,
    pub browsers: usize,
    /// Client sessions seeded (each is owed one logout token).
    pub sessions: u64,
    pub seeding_seconds: f64,
    /// Wall time of `crl import` (T0 is its start).
    pub import_seconds: f64,
    /// Distinct expected `sid`s that arrived.
    pub delivered: u64,
    pub duplicates: u64,
    /// Arrival − T0 of the first, median, 99th percentile and last delivery, ms.
    pub first_ms: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// p99 of arrival − the import's end (the CRL ingested and committed, the process gone),
    /// ms; an arrival before that end counts as 0.
    #[serde(default)]
    pub p99_after_ingest_ms: f64,
    /// Deliveries per second between the first and the last arrival.
    pub rate: f64,
    /// Server CPU from T0 to the last delivery: seconds, and % of one core.
    pub server_cpu_seconds: Option<f64>,
    pub server_cpu_pct: Option<f64>,
    pub loadgen_cpu_pct: Option<f64>,
    pub load_avg: Option<f64>,
    /// Times the server's delivery loop failed to claim outbox rows after T0 and waited 2 s
    /// ("outbox: cannot claim deliveries" in its log), when the log was given.
    #[serde(default)]
    pub claim_failures: Option<u64>,
    pub errors: u64,
    pub error_samples: Vec<String>,
}

impl FanoutResult {
    pub fn valid(&self) -> bool {
        self.errors == 0 && self.delivered > 0 && self.delivered == self.sessions
    }
}

impl Tally {
    /// The most frequent error kinds, as `n× text`.
    pub fn samples(&self, n: usize) -> Vec<String> {
        let mut kinds: Vec<(&String, &u64)> = self.error_kinds.iter().collect();
        kinds.sort_by_key(|k| std::cmp::Reverse(*k.1));
        kinds
            .into_iter()
            .take(n)
            .map(|(k, c)| format!("{c}× {k}"))
            .collect()
    }
}

impl ScenarioResult {
    pub fn from_tally(
        target: &str,
        scenario: &str,
        mut tally: Tally,
        seconds: f64,
        connections: usize,
        cpu: Cpu,
    ) -> ScenarioResult {
        tally.latencies_us.sort_unstable();
        let ms = |us: u32| f64::from(us) / 1000.0;
        let mut kinds: Vec<(String, u64)> = tally.error_kinds.into_iter().collect();
        kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
        ScenarioResult {
            target: target.to_owned(),
            scenario: scenario.to_owned(),
            rate: tally.latencies_us.len() as f64 / seconds,
            ok: tally.latencies_us.len() as u64,
            errors: tally.errors,
            p50_ms: ms(quantile(&tally.latencies_us, 0.50)),
            p99_ms: ms(quantile(&tally.latencies_us, 0.99)),
            server_cpu_pct: cpu.server_pct,
            loadgen_cpu_pct: cpu.loadgen_pct,
            load_avg: cpu.load_avg,
            connections,
            seconds,
            error_samples: kinds
                .into_iter()
                .take(5)
                .map(|(k, n)| format!("{n}× {k}"))
                .collect(),
        }
    }

    /// Operations per second of server CPU: what one fully used core would serve, which the
    /// load of other processes on this shared machine does not change.
    pub fn per_server_core(&self) -> Option<f64> {
        self.server_cpu_pct
            .filter(|c| *c > 1.0)
            .map(|c| self.rate / (c / 100.0))
    }

    /// A run with errors is not a valid figure.
    pub fn valid(&self) -> bool {
        self.errors == 0 && self.ok > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let sorted: Vec<u32> = (1..=100).collect();
        assert_eq!(quantile(&sorted, 0.5), 50);
        assert_eq!(quantile(&sorted, 0.99), 99);
        assert_eq!(quantile(&sorted, 1.0), 100);
        assert_eq!(quantile(&[7], 0.99), 7);
        assert_eq!(quantile(&[], 0.5), 0);
    }

    #[test]
    fn a_run_with_any_error_is_not_valid_and_its_errors_are_grouped() {
        let mut t = Tally::default();
        t.ok(1500);
        t.error("token endpoint answered 400");
        t.error("token endpoint answered 400");
        let r = ScenarioResult::from_tally("mykey-sqlite", "S5", t, 1.0, 1, Cpu::default());
        assert!(!r.valid());
        assert_eq!(r.error_samples, ["2× token endpoint answered 400"]);
        assert_eq!(r.p50_ms, 1.5);
    }

    #[test]
    fn capacity_per_server_core_scales_the_rate_by_the_cpu_used() {
        let mut t = Tally::default();
        (0..500).for_each(|_| t.ok(100));
        let cpu = Cpu {
            server_pct: Some(25.0),
            ..Cpu::default()
        };
        let r = ScenarioResult::from_tally("mykey-sqlite", "S1", t, 1.0, 1, cpu);
        assert_eq!(r.per_server_core(), Some(2000.0));
    }
}
