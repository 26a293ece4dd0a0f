//! A provider with operators: an admin and a viewer account, API keys of both roles, and a
//! console client that keeps cookies and sends the headers a browser sends.

use std::collections::HashMap;
use std::sync::Mutex;

use mykey_connect::admin::password::Password;
use mykey_connect::admin::{accounts, api_keys, Principal, Role};
use reqwest::header;

use crate::provider::browser::{between, unescape};
use crate::provider::support::{Db, TestProvider};

pub const ADMIN: &str = "alice";
pub const VIEWER: &str = "victor";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Ops {
    pub tp: TestProvider,
    pub admin_key: String,
    pub viewer_key: String,
}

impl Ops {
    pub async fn start(db: Db) -> Ops {
        Ops::start_with(db, &[]).await
    }

    /// `extra`: more `MYKEY_*` settings for the provider.
    pub async fn start_with(db: Db, extra: &[(&str, &str)]) -> Ops {
        let tp = TestProvider::start_with(db, extra).await;
        let (p, cli) = (&tp.provider, Principal::cli());
        for (name, role) in [(ADMIN, Role::Admin), (VIEWER, Role::Viewer)] {
            accounts::create(p, &cli, name, &Password::new(PASSWORD), role)
                .await
                .expect("account");
        }
        let mut keys = Vec::new();
        for role in [Role::Admin, Role::Viewer] {
            let (_, secret) = api_keys::create(p, &cli, "tests", role)
                .await
                .expect("api key");
            keys.push(secret.expose().to_owned());
        }
        let (admin_key, viewer_key) = (keys[0].clone(), keys[1].clone());
        Ops {
            tp,
            admin_key,
            viewer_key,
        }
    }

    pub fn console(&self) -> Console {
        Console::new(&self.tp.issuer)
    }

    /// An admin API call with `key` (or none).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, String) {
        let mut req =
            reqwest::Client::new().request(method, self.tp.url(&format!("/admin/api/v1{path}")));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("api request");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body"))
    }

    /// An admin API call whose body is raw bytes (CRL uploads).
    pub async fn api_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, String) {
        let mut req = reqwest::Client::new()
            .request(method, self.tp.url(&format!("/admin/api/v1{path}")))
            .header("content-type", "application/pkix-crl")
            .body(body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.expect("api request");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body"))
    }

    pub async fn api_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let (status, text) = self
            .api(method, path, Some(&self.admin_key.clone()), body)
            .await;
        assert!((200..300).contains(&status), "{path}: {status} {text}");
        serde_json::from_str(&text).expect("json")
    }
}

/// A cookie-keeping console client; POSTs carry the page's form token and the issuer's Origin
/// unless a test says otherwise.
pub struct Console {
    base: String,
    http: reqwest::Client,
    cookies: Mutex<HashMap<String, String>>,
    pub csrf: Mutex<String>,
    pub lang: Option<&'static str>,
}

pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub headers: header::HeaderMap,
    pub body: String,
}

impl Console {
    pub fn new(base: &str) -> Console {
        Console {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: Mutex::new(HashMap::new()),
            csrf: Mutex::new(String::new()),
            lang: None,
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let jar = self
            .cookies
            .lock()
            .expect("jar")
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut req = req.header(header::COOKIE, jar);
        if let Some(l) = self.lang {
            req = req.header(header::ACCEPT_LANGUAGE, l);
        }
        let resp = req.send().await.expect("request");
        for set in resp.headers().get_all(header::SET_COOKIE) {
            let text = set.to_str().expect("cookie");
            if let Some((k, v)) = text.split(';').next().and_then(|p| p.split_once('=')) {
                let mut jar = self.cookies.lock().expect("jar");
                if v.is_empty() || text.contains("Max-Age=0") {
                    jar.remove(k);
                } else {
                    jar.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        let reply = Reply {
            status: resp.status().as_u16(),
            location: resp
                .headers()
                .get(header::LOCATION)
                .map(|v| v.to_str().expect("location").to_owned()),
            headers: resp.headers().clone(),
            body: resp.text().await.expect("body"),
        };
        if let Some(token) = between(&reply.body, "name=\"csrf\" value=\"", "\"") {
            *self.csrf.lock().expect("csrf") = unescape(token);
        }
        reply
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().expect("jar").get(name).cloned()
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// A POST with the current form token added, from the console's own origin.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        let csrf = self.csrf.lock().expect("csrf").clone();
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", &csrf));
        let origin = self.base.clone();
        self.post_raw(path, &fields, Some(&origin)).await
    }

    /// An upload form (`multipart/form-data`), as a browser sends it: the text fields, the
    /// chosen file (field, file name, content) if any, and the page's CSRF token.
    pub async fn upload(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, Vec<u8>)>,
    ) -> Reply {
        let csrf = self.csrf.lock().expect("csrf").clone();
        let mut form = reqwest::multipart::Form::new().text("csrf", csrf);
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        if let Some((name, file_name, content)) = file {
            let part = reqwest::multipart::Part::bytes(content).file_name(file_name.to_owned());
            form = form.part(name.to_owned(), part);
        }
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .multipart(form)
            .header(header::ORIGIN, self.base.clone());
        self.send(req).await
    }

    /// A POST of this body with this content type, from the console's own origin.
    pub async fn post_body(&self, path: &str, content_type: &str, body: reqwest::Body) -> Reply {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, content_type)
            .header(header::ORIGIN, self.base.clone())
            .body(body);
        self.send(req).await
    }

    /// A POST exactly as given: these fields, this Origin (or none).
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> Reply {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        self.send(req).await
    }

    /// Logs in through the form; returns the reply to the POST.
    pub async fn login(&self, user: &str, password: &str, code: Option<&str>) -> Reply {
        let page = self.get("/admin/login").await;
        assert_eq!(page.status, 200, "{}", page.body);
        self.post(
            "/admin/login",
            &[
                ("username", user),
                ("password", password),
                ("code", code.unwrap_or("")),
            ],
        )
        .await
    }
}

/// The text of the element with this id (`id="x">TEXT<`), unescaped.
pub fn text_of(html: &str, id: &str) -> Option<String> {
    between(html, &format!("id=\"{id}\">"), "<").map(unescape)
}
