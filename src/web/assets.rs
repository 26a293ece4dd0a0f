//! Static files embedded from `static/`, served under a content-hash URL with long caching.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Embedded;

/// URL of every embedded file: `/static/<first 12 hex of SHA-256>/<name>`.
pub struct Assets {
    urls: HashMap<String, String>,
    /// Resolved once for templates.
    pub style: String,
    pub login_js: String,
}

impl Assets {
    pub fn new() -> Assets {
        let urls: HashMap<String, String> = Embedded::iter()
            .filter_map(|name| {
                let file = Embedded::get(&name)?;
                let hash = hex::encode(&file.metadata.sha256_hash()[..6]);
                Some((name.to_string(), format!("/static/{hash}/{name}")))
            })
            .collect();
        let url = |n: &str| urls.get(n).cloned().unwrap_or_default();
        Assets {
            style: url("style.css"),
            login_js: url("login.js"),
            urls,
        }
    }

    pub fn url(&self, name: &str) -> Option<&str> {
        self.urls.get(name).map(String::as_str)
    }
}

impl Default for Assets {
    fn default() -> Assets {
        Assets::new()
    }
}

/// The asset table is computed once from the embedded files (immutable, so a static is fine).
pub fn assets() -> &'static Assets {
    static ASSETS: std::sync::LazyLock<Assets> = std::sync::LazyLock::new(Assets::new);
    &ASSETS
}

/// `GET /static/{version}/{name}`: any version serves the current file, so a page cached
/// across a deploy still gets its assets; the hash only busts caches.
pub async fn serve(path: web::Path<(String, String)>) -> HttpResponse {
    let (_version, name) = path.into_inner();
    match Embedded::get(&name) {
        Some(file) => {
            let mime = mime_guess::from_path(&name).first_or_octet_stream();
            HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, mime.essence_str().to_owned()))
                .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
                .body(file.data.into_owned())
        }
        None => HttpResponse::NotFound().finish(),
    }
}
