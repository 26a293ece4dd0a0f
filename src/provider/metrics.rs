//! Prometheus metrics of one provider instance (its own registry, no globals).

use prometheus::core::{Collector, Desc, Describer};
use prometheus::proto::MetricFamily;
use prometheus::{IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

use crate::store::Db;

pub struct Metrics {
    pub registry: Registry,
    pub http_requests: IntCounterVec,
    pub logins: IntCounterVec,
    pub tokens_issued: IntCounterVec,
    pub token_errors: IntCounterVec,
    pub sessions_ended: IntCounterVec,
    pub deliveries: IntCounterVec,
    pub crl_imports: IntCounterVec,
    pub terminations: IntCounterVec,
    pub database_up: IntGauge,
    /// 0 fresh, 1 past nextUpdate within the grace, 2 stale (fail closed), 3 no CRL.
    pub crl_freshness: IntGaugeVec,
    pub crl_next_update: IntGaugeVec,
    pub outbox: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels)
                .unwrap_or_else(|e| panic!("metric {name}: {e}"));
            registry
                .register(Box::new(c.clone()))
                .unwrap_or_else(|e| panic!("metric {name}: {e}"));
            c
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            IntGaugeVec::new(Opts::new(name, help), labels)
                .unwrap_or_else(|e| panic!("metric {name}: {e}"))
        };
        let metrics = Metrics {
            http_requests: counter(
                "mykey_http_requests_total",
                "HTTP requests by route pattern and status class.",
                &["route", "status"],
            ),
            logins: counter(
                "mykey_card_logins_total",
                "Card challenge responses by outcome (accepted or the card-login error code).",
                &["result"],
            ),
            tokens_issued: counter(
                "mykey_tokens_issued_total",
                "Token endpoint successes by grant type.",
                &["grant_type"],
            ),
            token_errors: counter(
                "mykey_token_errors_total",
                "Token endpoint refusals by OAuth error code.",
                &["error"],
            ),
            sessions_ended: counter(
                "mykey_sessions_ended_total",
                "Browser sessions ended, by reason.",
                &["reason"],
            ),
            deliveries: counter(
                "mykey_deliveries_total",
                "Outbox delivery attempts by kind, client and outcome (delivered, retry, dead).",
                &["kind", "client_id", "outcome"],
            ),
            crl_imports: counter(
                "mykey_crl_imports_total",
                "CRLs offered, by outcome (imported, or the reason they were refused).",
                &["outcome"],
            ),
            terminations: counter(
                "mykey_revocation_terminations_total",
                "Bound certificates handled after revocation (terminated, superseded, reactivated).",
                &["action"],
            ),
            database_up: IntGauge::new(
                "mykey_database_up",
                "1 when the last readiness check reached the database.",
            )
            .unwrap_or_else(|e| panic!("metric: {e}")),
            crl_freshness: gauge(
                "mykey_crl_freshness",
                "Revocation data per root: 0 fresh, 1 in grace, 2 stale (new logins fail), 3 no CRL.",
                &["root", "purpose"],
            ),
            crl_next_update: gauge(
                "mykey_crl_next_update_seconds",
                "nextUpdate of the newest CRL per root, Unix seconds.",
                &["root", "purpose"],
            ),
            outbox: gauge(
                "mykey_outbox_deliveries",
                "Outbox rows per client and status (pending, delivered, dead).",
                &["client_id", "status"],
            ),
            registry,
        };
        metrics
            .registry
            .register(Box::new(metrics.database_up.clone()))
            .unwrap_or_else(|e| panic!("metric: {e}"));
        for g in [
            &metrics.crl_freshness,
            &metrics.crl_next_update,
            &metrics.outbox,
        ] {
            metrics
                .registry
                .register(Box::new(g.clone()))
                .unwrap_or_else(|e| panic!("metric: {e}"));
        }
        metrics
    }

    /// Exposes what the database handle counts itself, read at each scrape.
    pub fn watch_database(&self, db: Db) {
        self.registry
            .register(Box::new(DatabaseCounters::new(db)))
            .unwrap_or_else(|e| panic!("metric: {e}"));
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let encoder = prometheus::TextEncoder::new();
        encoder
            .encode_to_string(&self.registry.gather())
            .unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// What the SQLite handle counts itself, read at each scrape:
/// `mykey_sqlite_checkpoint_stalls_total` ([`Db::checkpoint_stalls`]), and the group commit's
/// `mykey_sqlite_write_groups_total` and `mykey_sqlite_grouped_writes_total`
/// ([`Db::write_groups`]; writes ÷ groups is how many writes a commit carries).
struct DatabaseCounters {
    db: Db,
    counters: [(Opts, Desc); 3],
}

impl DatabaseCounters {
    fn new(db: Db) -> DatabaseCounters {
        let counter = |name: &str, help: &str| {
            let opts = Opts::new(name, help);
            let desc = opts.describe().unwrap_or_else(|e| panic!("metric: {e}"));
            (opts, desc)
        };
        DatabaseCounters {
            db,
            counters: [
                counter(
                    "mykey_sqlite_checkpoint_stalls_total",
                    "SQLite commits that waited for a checkpoint slowed down by the disk (see README).",
                ),
                counter(
                    "mykey_sqlite_write_groups_total",
                    "SQLite transactions that committed request handlers' writes together.",
                ),
                counter(
                    "mykey_sqlite_grouped_writes_total",
                    "Request handlers' writes committed in those transactions.",
                ),
            ],
        }
    }
}

impl Collector for DatabaseCounters {
    fn desc(&self) -> Vec<&Desc> {
        self.counters.iter().map(|(_, d)| d).collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let (groups, writes) = self.db.write_groups();
        let values = [self.db.checkpoint_stalls(), groups, writes];
        self.counters
            .iter()
            .zip(values)
            .flat_map(|((opts, _), value)| {
                let counter =
                    IntCounter::with_opts(opts.clone()).unwrap_or_else(|e| panic!("metric: {e}"));
                counter.inc_by(value);
                counter.collect()
            })
            .collect()
    }
}
