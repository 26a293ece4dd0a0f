//! One struct per template; templates loop and branch, Rust formats.

use askama::Template;

use super::assets::{assets, Assets};
use super::error::PageError;
use super::i18n::Texts;

pub fn render(t: &impl Template) -> Result<String, askama::Error> {
    t.render()
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub t: &'static Texts,
    pub assets: &'static Assets,
    pub other_lang_url: Option<String>,
    pub e: &'a PageError,
}

impl<'a> ErrorPage<'a> {
    pub fn new(e: &'a PageError) -> ErrorPage<'a> {
        ErrorPage {
            t: e.lang.texts(),
            assets: assets(),
            other_lang_url: None,
            e,
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub t: &'static Texts,
    pub assets: &'static Assets,
    pub other_lang_url: Option<String>,
    pub client_name: String,
    pub logo_uri: Option<String>,
    pub match_code: String,
    pub helper_link: String,
    pub challenge_url: String,
    pub challenge_id: String,
    pub status_url: String,
    pub complete_url: String,
    pub failed_url: String,
    pub csrf: String,
    pub expires_iso: String,
    pub expires_local: String,
    /// The site asks for identity verification: the helper will ask the signature password.
    pub verify: bool,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    pub t: &'static Texts,
    pub assets: &'static Assets,
    pub other_lang_url: Option<String>,
    pub client_name: String,
    pub client_host: String,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub items: Vec<String>,
    /// Verified facts to be released: (label, value as shown to the person).
    pub facts: Vec<(String, String)>,
    /// The person may log in without the facts (none is essential).
    pub allow_without_facts: bool,
    pub action: String,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    pub t: &'static Texts,
    pub assets: &'static Assets,
    pub other_lang_url: Option<String>,
    pub action: String,
    pub csrf: String,
    pub carried: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "logged_out.html")]
pub struct LoggedOutPage {
    pub t: &'static Texts,
    pub assets: &'static Assets,
    pub other_lang_url: Option<String>,
}
