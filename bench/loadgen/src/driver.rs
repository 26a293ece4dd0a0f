//! Runs one scenario: N workers for a warm-up then a measured window (or up to a request
//! count), the server's CPU sampled over the window.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{sleep_until, timeout, Instant};

use crate::procfs;
use crate::scenarios::{Scenario, Shared, Worker};
use crate::stats::Tally;

/// How long and how much.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub warmup: Duration,
    pub measure: Duration,
    /// Stop once this many operations completed inside the window.
    pub max_ops: Option<u64>,
    /// Operations per second all workers together start at most (a soak at part of the peak);
    /// unpaced (as fast as answers come) without it.
    pub rate: Option<f64>,
}

/// A request or flow that takes longer than this is an error (and its connection is dropped).
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// What a run measured.
pub struct Outcome {
    pub tally: Tally,
    pub seconds: f64,
    pub server_cpu_pct: Option<f64>,
    pub loadgen_cpu_pct: Option<f64>,
    /// The machine's 1-minute load average at the end of the window (other work competes).
    pub load_avg: Option<f64>,
}

pub async fn run(
    shared: Arc<Shared>,
    scenario: Scenario,
    workers: Vec<Worker>,
    window: Window,
    server_pid: Option<u32>,
) -> Outcome {
    let start = Instant::now();
    let measure_from = start + window.warmup;
    let end = measure_from + window.measure;
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(workers.len());
    // Each worker starts one operation every `n / rate` seconds.
    let pace = window
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(workers.len() as f64 / r));
    for worker in workers {
        let (shared, done) = (shared.clone(), done.clone());
        tasks.push(tokio::spawn(work(
            worker,
            shared,
            scenario,
            (measure_from, end),
            done,
            window.max_ops,
            pace,
        )));
    }
    let cpu = tokio::spawn(async move {
        let me = std::process::id();
        sleep_until(measure_from).await;
        let before = (
            server_pid.and_then(procfs::cpu_seconds),
            procfs::cpu_seconds(me),
        );
        let t0 = Instant::now();
        sleep_until(end).await;
        let after = (
            server_pid.and_then(procfs::cpu_seconds),
            procfs::cpu_seconds(me),
        );
        let secs = t0.elapsed().as_secs_f64();
        let pct = |a: Option<f64>, b: Option<f64>| Some(100.0 * (b? - a?) / secs);
        (pct(before.0, after.0), pct(before.1, after.1))
    });
    let mut tally = Tally::default();
    for task in tasks {
        match task.await {
            Ok(t) => tally.merge(t),
            Err(e) => tally.error(&format!("worker failed: {e}")),
        }
    }
    let finished = Instant::now().min(end);
    let seconds = finished
        .saturating_duration_since(measure_from)
        .as_secs_f64()
        .max(1e-3);
    let (server_cpu_pct, loadgen_cpu_pct) = if finished < end {
        // Stopped early at the request count: the CPU sample would cover idle time.
        cpu.abort();
        (None, None)
    } else {
        cpu.await.unwrap_or((None, None))
    };
    Outcome {
        tally,
        seconds,
        server_cpu_pct,
        loadgen_cpu_pct,
        load_avg: procfs::load_average(),
    }
}

async fn work(
    mut worker: Worker,
    shared: Arc<Shared>,
    scenario: Scenario,
    (measure_from, end): (Instant, Instant),
    done: Arc<AtomicU64>,
    max_ops: Option<u64>,
    pace: Option<Duration>,
) -> Tally {
    let mut tally = Tally::default();
    let mut slot = Instant::now();
    loop {
        if let Some(pace) = pace {
            sleep_until(slot).await;
            // A late operation does not make the next ones come in a burst.
            slot = (slot + pace).max(Instant::now());
        }
        let t0 = Instant::now();
        if t0 >= end || max_ops.is_some_and(|m| done.load(Ordering::Relaxed) >= m) {
            return tally;
        }
        let result = timeout(STEP_TIMEOUT, worker.step(&shared, scenario)).await;
        let t1 = Instant::now();
        let measured = t1 >= measure_from && t1 <= end;
        match result {
            Ok(Ok(())) => {
                if measured {
                    tally.ok(t1.duration_since(t0).as_micros());
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            // Every unexpected answer counts, in the warm-up too: such a run is not valid.
            Ok(Err(e)) => {
                tally.error(&format!("{e:#}"));
                worker.conn.reset();
            }
            Err(_) => {
                tally.error(&format!("no answer within {STEP_TIMEOUT:?}"));
                worker.conn.reset();
            }
        }
    }
}
