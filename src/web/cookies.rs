//! The provider's two cookies: the browser binding of login transactions and the SSO session.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;

use crate::domain::secret::hash_str;
use crate::domain::Secret;

/// Binds authorization transactions and challenges to one browser (docs/card-login.md §1).
pub const BROWSER: &str = "mykey_browser";
/// The single sign-on session.
pub const SESSION: &str = "mykey_session";

pub fn build(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        // Lax: sent when an RP sends the browser to /authorize, never on cross-site POSTs.
        .same_site(SameSite::Lax)
        .secure(secure)
        .finish()
}

pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut c = build(name, String::new(), secure);
    c.make_removal();
    c
}

pub fn value(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The browser binding secret: the existing one, or a new one to set.
pub fn browser_binding(req: &HttpRequest) -> (Secret, bool) {
    match value(req, BROWSER) {
        Some(v) => (Secret::new(v), false),
        None => (Secret::generate(32), true),
    }
}

/// A form token tied to the browser binding and one transaction (double-submit style; the
/// SameSite cookie already blocks cross-site POSTs, this also stops same-site forgeries).
pub fn csrf_token(binding: &Secret, scope: &str) -> String {
    hash_str(&format!("csrf\0{}\0{scope}", binding.expose()))
}
