//! A browser for tests: keeps cookies, never follows redirects by itself, reads the pages, and
//! has a resident use the helper with a software card when the login page asks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mykey_connect::helper::login::{login, LoginOptions};
use mykey_connect::helper::softcard::SoftCard;
use reqwest::header;

use super::support::Site;
use crate::helper::ScriptedPerson;

pub struct Browser {
    http: reqwest::Client,
    cookies: Mutex<HashMap<String, String>>,
    pub accept_language: Option<String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: Mutex::new(HashMap::new()),
            accept_language: None,
        }
    }

    fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().expect("jar");
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Gives the browser a cookie it kept from before (a session of an earlier version).
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .expect("jar")
            .insert(name.to_owned(), value.to_owned());
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().expect("jar").get(name).cloned()
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let mut req = req.header(header::COOKIE, self.cookie_header());
        if let Some(l) = &self.accept_language {
            req = req.header(header::ACCEPT_LANGUAGE, l);
        }
        let resp = req.send().await.expect("request");
        {
            let mut jar = self.cookies.lock().expect("jar");
            for set in resp.headers().get_all(header::SET_COOKIE) {
                let text = set.to_str().expect("cookie text");
                let pair = text.split(';').next().unwrap_or_default();
                if let Some((k, v)) = pair.split_once('=') {
                    if v.is_empty() || text.contains("Max-Age=0") {
                        jar.remove(k);
                    } else {
                        jar.insert(k.to_owned(), v.to_owned());
                    }
                }
            }
        }
        Page {
            status: resp.status().as_u16(),
            location: resp
                .headers()
                .get(header::LOCATION)
                .map(|v| v.to_str().expect("location").to_owned()),
            body: resp.text().await.expect("body"),
        }
    }

    pub async fn get(&self, url: &str) -> Page {
        self.send(self.http.get(url)).await
    }

    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Page {
        self.send(self.http.post(url).form(form)).await
    }
}

/// `&quot;`-style entities back to text (askama escapes attribute values).
pub fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text after `marker` up to `end`.
pub fn between<'a>(html: &'a str, marker: &str, end: &str) -> Option<&'a str> {
    let start = html.find(marker)? + marker.len();
    let len = html[start..].find(end)?;
    Some(&html[start..start + len])
}

pub fn input_value(html: &str, name: &str) -> Option<String> {
    between(html, &format!("name=\"{name}\" value=\""), "\"").map(unescape)
}

/// What the login page offers.
#[derive(Debug, Clone)]
pub struct LoginPage {
    pub path: String,
    pub challenge_url: String,
    pub challenge_id: String,
    pub status_url: String,
    pub match_code: String,
    pub csrf: String,
}

impl LoginPage {
    pub fn parse(path: &str, html: &str) -> LoginPage {
        LoginPage {
            path: path.to_owned(),
            challenge_url: unescape(
                between(
                    html,
                    "<code id=\"helper-command\">mykey-helper login ",
                    "</code>",
                )
                .expect("helper command on the login page"),
            ),
            challenge_id: input_value(html, "challenge").expect("challenge id"),
            status_url: unescape(between(html, "data-status-url=\"", "\"").expect("status url")),
            match_code: between(
                html,
                "<strong class=\"match-code\" aria-describedby=\"match-help\">",
                "</strong>",
            )
            .expect("match code")
            .to_owned(),
            csrf: input_value(html, "csrf").expect("csrf"),
        }
    }
}

/// The resident runs the helper against the challenge with the card file and PIN (blocking).
pub async fn use_helper(
    challenge_url: &str,
    card: &Path,
    pin: &'static str,
    now: i64,
) -> Result<mykey_connect::helper::login::LoginOutcome, mykey_connect::helper::login::LoginError> {
    use_helper_typing(challenge_url, card, &[pin], now).await
}

/// The same, typing each answer in turn (the PIN, then the signature password if asked).
pub async fn use_helper_typing(
    challenge_url: &str,
    card: &Path,
    answers: &[&'static str],
    now: i64,
) -> Result<mykey_connect::helper::login::LoginOutcome, mykey_connect::helper::login::LoginError> {
    let (url, card, answers) = (
        challenge_url.to_owned(),
        PathBuf::from(card),
        answers.to_vec(),
    );
    tokio::task::spawn_blocking(move || {
        let softcard = SoftCard::open(&card).expect("software card");
        let mut person = ScriptedPerson::typing(&answers);
        login(
            &url,
            softcard,
            &mut person,
            &LoginOptions { assume_yes: true },
            now,
        )
    })
    .await
    .expect("helper thread")
}

/// Polls the status URL as the login page's script does, until the state is not pending.
pub async fn wait_for_state(b: &Browser, tp: &impl Site, status_url: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = b.get(&tp.url(status_url)).await;
        assert_eq!(page.status, 200, "status endpoint: {}", page.body);
        let v: serde_json::Value = serde_json::from_str(&page.body).expect("status json");
        if v["state"] != "pending" {
            return v;
        }
        assert!(Instant::now() < deadline, "the challenge stayed pending");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A whole login in the browser: authorize → login page → helper → status → complete →
/// consent (approved when asked) → the redirect back to the client, which is returned.
pub async fn log_in(b: &Browser, tp: &impl Site, authorize_url: &str, card: &Path) -> String {
    let first = b.get(authorize_url).await;
    let location = first
        .location
        .clone()
        .unwrap_or_else(|| panic!("authorize answered {}: {}", first.status, first.body));
    if location.starts_with("/consent/") {
        return approve_consent(b, tp, &location).await;
    }
    if !location.starts_with("/login/") {
        return location;
    }
    let page = b.get(&tp.url(&location)).await;
    assert_eq!(page.status, 200, "login page: {}", page.body);
    let login_page = LoginPage::parse(&location, &page.body);
    let outcome = use_helper(&login_page.challenge_url, card, "1234", tp.now())
        .await
        .expect("the helper's answer is accepted");
    assert_eq!(
        outcome.match_code, login_page.match_code,
        "helper shows the page's match code"
    );
    let state = wait_for_state(b, tp, &login_page.status_url).await;
    assert_eq!(state["state"], "completed", "{state}");
    finish_login(b, tp, &login_page).await
}

/// Presses Continue and approves consent if asked; returns the redirect to the client.
pub async fn finish_login(b: &Browser, tp: &impl Site, login_page: &LoginPage) -> String {
    let done = b
        .post_form(
            &tp.url(&format!("{}/complete", login_page.path)),
            &[
                ("challenge", &login_page.challenge_id),
                ("csrf", &login_page.csrf),
            ],
        )
        .await;
    let location = done
        .location
        .clone()
        .unwrap_or_else(|| panic!("complete answered {}: {}", done.status, done.body));
    if !location.starts_with("/consent/") {
        return location;
    }
    approve_consent(b, tp, &location).await
}

pub async fn approve_consent(b: &Browser, tp: &impl Site, consent_path: &str) -> String {
    let page = b.get(&tp.url(consent_path)).await;
    assert_eq!(page.status, 200, "consent page: {}", page.body);
    let csrf = input_value(&page.body, "csrf").expect("csrf on consent page");
    let approved = b
        .post_form(
            &tp.url(consent_path),
            &[("decision", "approve"), ("csrf", &csrf)],
        )
        .await;
    approved
        .location
        .unwrap_or_else(|| panic!("consent answered {}: {}", approved.status, approved.body))
}

/// Query parameters of a redirect URL.
pub fn query(url: &str) -> HashMap<String, String> {
    let parsed = url::Url::parse(url).expect("absolute redirect");
    parsed.query_pairs().into_owned().collect()
}
