//! Operations endpoints: liveness, readiness (database reachable), Prometheus metrics.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::provider::revocation::{freshness, Freshness};
use crate::provider::Provider;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Ready when the database answers. Revocation freshness is reported, not fatal: a stale root
/// fails new logins closed (spec §4), while existing sessions and tokens keep working.
pub async fn readyz(p: web::Data<Provider>) -> HttpResponse {
    let database = p.db.ping().await;
    p.metrics.database_up.set(i64::from(database.is_ok()));
    let now = p.clock.now();
    let revocation: serde_json::Map<String, serde_json::Value> = p
        .trust
        .roots()
        .iter()
        .map(|r| {
            (
                r.key_id().to_owned(),
                json!(freshness(&p, r.key_id(), now).as_str()),
            )
        })
        .collect();
    let body = json!({
        "database": if database.is_ok() { "ok" } else { "unreachable" },
        "revocation": revocation,
    });
    if database.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

pub async fn metrics(p: web::Data<Provider>) -> HttpResponse {
    let now = p.clock.now();
    for r in p.trust.roots() {
        let labels = [r.key_id(), r.purpose().as_str()];
        let f = freshness(&p, r.key_id(), now);
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
    if let Ok(counts) = p.db.read(crate::store::outbox::counts).await {
        p.metrics.outbox.reset();
        for (client, status, n) in counts {
            p.metrics
                .outbox
                .with_label_values(&[client.as_str(), status.as_str()])
                .set(n);
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(p.metrics.render())
}
