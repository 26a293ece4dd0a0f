//! The admin surface: the console under `/admin` (askama pages, Japanese and English, no
//! script needed) and the JSON API under `/admin/api/v1` with its OpenAPI document.

pub mod api;
mod auth;
mod client_form;
mod clients;
pub mod guard;
pub mod pages;
pub mod records;
mod revocation;
pub mod texts;
pub mod views;

use actix_web::web;

/// Every admin route. The API scope comes first: `/admin` would otherwise claim it.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/admin/api/v1").configure(api::configure))
        .service(web::scope("/admin").configure(console));
}

fn console(cfg: &mut web::ServiceConfig) {
    use web::{get, post};
    cfg.app_data(web::FormConfig::default().limit(256 * 1024))
        .route("", get().to(auth::home))
        .route("/", get().to(auth::home))
        .route("/login", get().to(auth::login_form))
        .route("/login", post().to(auth::login))
        .route("/logout", post().to(auth::logout))
        .route("/lang", get().to(auth::switch_lang))
        .route("/account", get().to(auth::account))
        .route("/account/totp", post().to(auth::totp_begin))
        .route("/account/totp/confirm", post().to(auth::totp_confirm))
        .route("/clients", get().to(clients::list))
        .route("/clients", post().to(clients::create))
        .route("/clients/new", get().to(clients::new))
        .route("/clients/{id}", get().to(clients::show))
        .route("/clients/{id}", post().to(clients::update))
        .route("/clients/{id}/secret", post().to(clients::rotate_secret))
        .route("/clients/{id}/enabled", post().to(clients::set_enabled))
        .route("/clients/{id}/delete", get().to(clients::confirm_delete))
        .route("/clients/{id}/delete", post().to(clients::delete))
        .route("/sessions", get().to(pages::sessions))
        .route("/sessions/{id}/end", post().to(pages::end_session))
        .route("/persons", get().to(pages::persons))
        .route("/persons/merge", post().to(pages::merge))
        .route("/persons/{id}", get().to(pages::person))
        .route("/keys", get().to(pages::keys))
        .route("/keys/rotate", post().to(pages::rotate_keys))
        .route("/revocation", get().to(revocation::show))
        .route("/revocation/crl", post().to(revocation::upload_crl))
        .route("/revocation/linkage", post().to(revocation::upload_linkage))
        .route("/audit", get().to(records::audit))
        .route("/audit/export", get().to(records::export))
        .route("/api-keys", get().to(records::api_keys_page))
        .route("/api-keys", post().to(records::create_api_key))
        .route("/api-keys/{id}/revoke", post().to(records::revoke_api_key));
}
