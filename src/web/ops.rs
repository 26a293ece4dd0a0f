//! Operations endpoints: liveness, readiness (database reachable), Prometheus metrics.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::provider::{health, Provider};

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Ready when the database answers (`provider::health::readiness`).
pub async fn readyz(p: web::Data<Provider>) -> HttpResponse {
    let ready = health::readiness(&p).await;
    let revocation: serde_json::Map<String, serde_json::Value> = ready
        .revocation
        .iter()
        .map(|(root, f)| (root.clone(), json!(f.as_str())))
        .collect();
    let body = json!({
        "database": if ready.database { "ok" } else { "unreachable" },
        "revocation": revocation,
    });
    if ready.database {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

pub async fn metrics(p: web::Data<Provider>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(health::scrape(&p).await)
}
