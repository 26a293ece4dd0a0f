//! HTTP: the actix application, its routes (one `configure` per area), security headers.

pub mod admin;
pub mod assets;
pub mod authorize;
pub mod body;
pub mod card;
pub mod client_address;
pub mod consent;
pub mod cookies;
pub mod error;
pub mod i18n;
pub mod login;
pub mod logout;
pub mod oidc;
pub mod ops;
pub mod ssf;
pub mod transaction;
pub mod views;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, Service as _};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, App as ActixApp, HttpServer};
use futures_util::FutureExt as _;

use crate::oidc::discovery::paths;
use crate::provider::Provider;

/// A running provider: the bound port and the server future.
pub struct App {
    pub port: u16,
    pub provider: Arc<Provider>,
    server: Server,
}

impl App {
    /// Binds the listener and prepares the server; `Provider::open` has already migrated.
    pub fn build(provider: Arc<Provider>) -> std::io::Result<App> {
        let listener = TcpListener::bind(&provider.settings.listen)?;
        Self::with_listener(provider, listener)
    }

    pub fn with_listener(provider: Arc<Provider>, listener: TcpListener) -> std::io::Result<App> {
        Self::with_routes(provider, listener, Arc::new(|_| {}))
    }

    /// Like [`App::with_listener`], with extra routes (the demo site mounts itself this way).
    pub fn with_routes(
        provider: Arc<Provider>,
        listener: TcpListener,
        extra: Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>,
    ) -> std::io::Result<App> {
        let port = listener.local_addr()?.port();
        let data = web::Data::from(provider.clone());
        let workers = match provider.settings.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let server = HttpServer::new(move || {
            ActixApp::new()
                .app_data(data.clone())
                .wrap_fn(|req, srv| {
                    let route = route_label(req.path());
                    let provider = req.app_data::<web::Data<Provider>>().cloned();
                    srv.call(req).map(move |res| {
                        res.map(|mut res| {
                            security_headers(res.headers_mut(), provider.as_ref().map(|p| &***p));
                            if let Some(p) = provider {
                                let class = match res.status().as_u16() / 100 {
                                    2 => "2xx",
                                    3 => "3xx",
                                    4 => "4xx",
                                    _ => "5xx",
                                };
                                p.metrics
                                    .http_requests
                                    .with_label_values(&[route, class])
                                    .inc();
                            }
                            res
                        })
                    })
                })
                .configure(configure)
                .configure(admin::configure)
                .configure(|cfg| extra(cfg))
        })
        .workers(workers)
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(App {
            port,
            provider,
            server,
        })
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGINT/SIGTERM stop it gracefully).
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Every route, registered in one place.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Resident pages: errors as pages.
    let page = |path: &str| web::resource(path.to_owned()).wrap(error::page_errors());
    cfg.service(
        page(paths::AUTHORIZE)
            .route(web::get().to(authorize::authorize))
            .route(web::post().to(authorize::authorize)),
    )
    .service(
        page(paths::END_SESSION)
            .route(web::get().to(logout::end_session))
            .route(web::post().to(logout::end_session)),
    )
    .service(page("/login/{id}").route(web::get().to(login::page)))
    .service(page("/login/{id}/complete").route(web::post().to(login::complete)))
    .service(page("/login/{id}/failed").route(web::get().to(login::failed)))
    .service(page("/login/{id}/cancel").route(web::get().to(login::cancel)))
    .service(
        page("/consent/{id}")
            .route(web::get().to(consent::page))
            .route(web::post().to(consent::decide)),
    );
    // Machine endpoints: JSON errors.
    cfg.route(paths::DISCOVERY, web::get().to(oidc::discovery))
        .route(paths::JWKS, web::get().to(oidc::jwks))
        .route(paths::TOKEN, web::post().to(oidc::token))
        .route(paths::PAR, web::post().to(oidc::par))
        .route(paths::USERINFO, web::get().to(oidc::userinfo))
        .route(paths::USERINFO, web::post().to(oidc::userinfo))
        .route(paths::REVOKE, web::post().to(oidc::revoke))
        .route(paths::INTROSPECT, web::post().to(oidc::introspect))
        .route("/card/challenges/{id}", web::get().to(card::document))
        .route(
            "/card/challenges/{id}/response",
            web::post().to(card::respond),
        )
        .route("/card/challenges/{id}/status", web::get().to(card::status))
        .route("/static/{version}/{name}", web::get().to(assets::serve))
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics));
    ssf::configure(cfg);
}

/// The metrics label of a request: its endpoint or area (bounded; matching the route table a
/// second time per request cost a few percent of the hot paths).
fn route_label(path: &str) -> &'static str {
    const EXACT: [&str; 12] = [
        paths::DISCOVERY,
        paths::JWKS,
        paths::AUTHORIZE,
        paths::TOKEN,
        paths::PAR,
        paths::USERINFO,
        paths::REVOKE,
        paths::INTROSPECT,
        paths::END_SESSION,
        "/healthz",
        "/readyz",
        "/metrics",
    ];
    if let Some(p) = EXACT.iter().find(|p| **p == path) {
        return p;
    }
    const PREFIXES: [(&str, &str); 9] = [
        ("/login/", "/login/{id}"),
        ("/consent/", "/consent/{id}"),
        ("/card/challenges/", "/card/challenges/{id}"),
        ("/static/", "/static"),
        ("/admin/api/", "/admin/api"),
        ("/admin", "/admin"),
        ("/demo/", "/demo"),
        ("/.well-known/ssf", "/.well-known/ssf-configuration"),
        ("/ssf/", "/ssf"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .map_or("other", |(_, label)| label)
}

/// CSP without inline script, no framing, no sniffing; `no-store` unless a handler chose.
fn security_headers(h: &mut header::HeaderMap, p: Option<&Provider>) {
    let set = |h: &mut header::HeaderMap, name: header::HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
         connect-src 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::CACHE_CONTROL, "no-store");
    if p.is_some_and(|p| p.settings.secure_cookies()) {
        set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
}
