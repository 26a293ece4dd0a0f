//! Prometheus metrics of one provider instance (its own registry, no globals).

use prometheus::{IntCounterVec, IntGauge, Opts, Registry};

pub struct Metrics {
    pub registry: Registry,
    pub http_requests: IntCounterVec,
    pub logins: IntCounterVec,
    pub tokens_issued: IntCounterVec,
    pub token_errors: IntCounterVec,
    pub sessions_ended: IntCounterVec,
    pub database_up: IntGauge,
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
            database_up: IntGauge::new(
                "mykey_database_up",
                "1 when the last readiness check reached the database.",
            )
            .unwrap_or_else(|e| panic!("metric: {e}")),
            registry,
        };
        metrics
            .registry
            .register(Box::new(metrics.database_up.clone()))
            .unwrap_or_else(|e| panic!("metric: {e}"));
        metrics
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
