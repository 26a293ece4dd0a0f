//! Operations endpoints: liveness, readiness (database reachable), Prometheus metrics.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::provider::Provider;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

pub async fn readyz(p: web::Data<Provider>) -> HttpResponse {
    let database = p.db.ping().await;
    p.metrics.database_up.set(i64::from(database.is_ok()));
    let body = json!({
        "database": if database.is_ok() { "ok" } else { "unreachable" },
    });
    if database.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

pub async fn metrics(p: web::Data<Provider>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(p.metrics.render())
}
