//! What the operations endpoints report: readiness (the database answers; revocation
//! freshness per trusted root) and the metrics, with the gauges read at each scrape.

use super::revocation::{freshness, Freshness};
use super::Provider;
use crate::store;

/// Readiness: ready when the database answers. Revocation freshness is reported, not fatal:
/// a stale root fails new logins closed (docs/card-login.md §4), while existing sessions and
/// tokens keep working.
pub struct Readiness {
    pub database: bool,
    /// Each trusted root's key id and the freshness of its CRL.
    pub revocation: Vec<(String, Freshness)>,
}

pub async fn readiness(p: &Provider) -> Readiness {
    let database = p.db.ping().await.is_ok();
    p.metrics.database_up.set(i64::from(database));
    let now = p.clock.now();
    Readiness {
        database,
        revocation: p
            .trust
            .roots()
            .iter()
            .map(|r| (r.key_id().to_owned(), freshness(p, r.key_id(), now)))
            .collect(),
    }
}

/// The Prometheus text of this node, with the CRL and outbox gauges read now.
pub async fn scrape(p: &Provider) -> String {
    let now = p.clock.now();
    for r in p.trust.roots() {
        let labels = [r.key_id(), r.purpose().as_str()];
        let f = freshness(p, r.key_id(), now);
        p.metrics
            .crl_freshness
            .with_label_values(&labels)
            .set(match f {
                Freshness::Fresh => 0,
                Freshness::InGrace => 1,
                Freshness::Stale => 2,
                Freshness::Missing => 3,
            });
        if let Some(set) = p.revocation.set(r.key_id()) {
            p.metrics
                .crl_next_update
                .with_label_values(&labels)
                .set(set.info().next_update.unix_timestamp());
        }
    }
    if let Ok(counts) = p.db.read(store::outbox::counts).await {
        p.metrics.outbox.reset();
        for (client, status, n) in counts {
            p.metrics
                .outbox
                .with_label_values(&[client.as_str(), status.as_str()])
                .set(n);
        }
    }
    p.metrics.render()
}
