//! Headless Chromium for the console tests: a chromedriver on a free port (ended on drop), a
//! fresh browser profile per operator, and what an operator does: open, type, click, read,
//! take screenshots. Missing Chromium fails the test with what to install.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

const PATIENCE: Duration = Duration::from_secs(20);

fn tool(var: &str, default: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var_os(var).unwrap_or_else(|| default.into()));
    assert!(
        path.is_file(),
        "{} is missing: install Chromium and ChromeDriver (`apt-get install chromium \
         chromium-driver`, as bash .ci/run does) or set {var}",
        path.display()
    );
    path
}

pub struct Driver {
    child: Child,
    port: u16,
    chromium: PathBuf,
}

impl Driver {
    pub async fn start() -> Driver {
        let chromium = tool("MYKEY_TEST_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = tool("MYKEY_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver {
            child,
            port,
            chromium,
        };
        // W3C WebDriver §8.3: poll /status until ready.
        let deadline = Instant::now() + PATIENCE;
        loop {
            let ready = match reqwest::get(format!("http://127.0.0.1:{port}/status")).await {
                Ok(r) => r
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A fresh headless browser whose pages ask for `lang`, phone-sized when `phone`.
    pub async fn browser(&self, lang: &str, phone: bool) -> Chrome {
        let profile = tempfile::tempdir().expect("profile");
        let size = if phone { "390,844" } else { "1200,900" };
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--disable-sync", "--disable-background-networking",
                         format!("--window-size={size}"), format!("--lang={lang}"),
                         format!("--user-data-dir={}", profile.path().display())],
                "prefs": { "intl": { "accept_languages": lang } },
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!("an object literal")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session");
        Chrome {
            client,
            _profile: profile,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Chrome {
    pub client: Client,
    _profile: tempfile::TempDir,
}

impl Chrome {
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .path()
            .to_owned()
    }

    pub async fn wait_for(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        while self.client.find(Locator::Css(css)).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "{css} never appeared on {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.expect(css);
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    /// Chooses a file in a file input, as the operator does in the file dialog.
    pub async fn choose_file(&self, css: &str, path: &std::path::Path) {
        let field = self.client.find(Locator::Css(css)).await.expect(css);
        field
            .send_keys(&path.display().to_string())
            .await
            .expect("choose the file");
    }

    /// Clicks and waits for the next page (a new document, not the one clicked in) to have
    /// `then`.
    pub async fn click(&self, css: &str, then: &str) {
        self.client
            .execute("window.mykeyOldPage = true;", vec![])
            .await
            .expect("mark the page");
        self.client
            .find(Locator::Css(css))
            .await
            .expect(css)
            .click()
            .await
            .expect("click");
        let deadline = Instant::now() + PATIENCE;
        loop {
            let old = self
                .client
                .execute("return window.mykeyOldPage === true;", vec![])
                .await
                .map(|v| v == Value::Bool(true))
                .unwrap_or(true);
            if !old && self.client.find(Locator::Css(then)).await.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "after clicking {css}, {then} never appeared"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .expect(css)
            .text()
            .await
            .expect("text")
    }

    pub async fn lang(&self) -> String {
        self.client
            .execute("return document.documentElement.lang", vec![])
            .await
            .expect("lang")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Fetches a same-origin URL from the page (with the page's cookies) and returns the body.
    pub async fn fetch_text(&self, url: &str) -> String {
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 fetch(arguments[0]).then(r => r.text()).then(done, e => done('ERROR ' + e));",
                vec![json!(url)],
            )
            .await
            .expect("fetch")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// `artifacts/screenshots/admin/<name>.png` (not committed).
    pub async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts/screenshots/admin");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    pub async fn close(self) {
        self.client.close().await.expect("close");
    }
}
