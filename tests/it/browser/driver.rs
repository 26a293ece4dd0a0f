//! Debian's Chromium and ChromeDriver for tests: finding them, one chromedriver per test on a
//! free port (shut down on drop), and fresh headless sessions with a chosen page language.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tempfile::TempDir;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The browser and its driver, both present.
#[derive(Debug, Clone)]
pub struct Tools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

impl Tools {
    /// Debian's paths, or `MYKEY_TEST_CHROMIUM` / `MYKEY_TEST_CHROMEDRIVER`; a missing one
    /// fails the test (never a silent skip).
    pub fn find() -> Tools {
        let chromium = std::env::var_os("MYKEY_TEST_CHROMIUM").unwrap_or(CHROMIUM.into());
        let driver = std::env::var_os("MYKEY_TEST_CHROMEDRIVER").unwrap_or(CHROMEDRIVER.into());
        Tools::at(Path::new(&chromium), Path::new(&driver)).unwrap_or_else(|m| panic!("{m}"))
    }

    /// The tools at these paths, or what to install.
    pub fn at(chromium: &Path, chromedriver: &Path) -> Result<Tools, String> {
        let missing: Vec<String> = [chromium, chromedriver]
            .iter()
            .filter(|p| !p.is_file())
            .map(|p| p.display().to_string())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the headless browser tests need Chromium and ChromeDriver, and {} is missing: \
                 install them with `apt-get install chromium chromium-driver` (bash .ci/run does), \
                 or point MYKEY_TEST_CHROMIUM and MYKEY_TEST_CHROMEDRIVER at them",
                missing.join(" and ")
            ));
        }
        Ok(Tools {
            chromium: chromium.to_owned(),
            chromedriver: chromedriver.to_owned(),
        })
    }
}

/// A chromedriver process on a free loopback port.
pub struct ChromeDriver {
    child: Child,
    port: u16,
    chromium: PathBuf,
}

impl ChromeDriver {
    pub async fn start(tools: &Tools) -> ChromeDriver {
        ChromeDriver::start_with_env(tools, &[]).await
    }

    /// A chromedriver whose browsers, and the programs they start (a native-messaging host),
    /// see these environment variables as well as the test's.
    pub async fn start_with_env(tools: &Tools, env: &[(&str, &Path)]) -> ChromeDriver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", tools.chromedriver.display()));
        let driver = ChromeDriver {
            child,
            port,
            chromium: tools.chromium.clone(),
        };
        driver.wait_until_ready().await;
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `GET /status` (W3C WebDriver §8.3) until the driver says it is ready.
    async fn wait_until_ready(&self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let ready = match http.get(format!("{}/status", self.url())).send().await {
                Ok(r) => r
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver on port {} did not become ready",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A fresh headless Chromium (its own profile folder) asking for pages in `accept_language`.
    pub async fn browser(&self, accept_language: &str) -> Browser {
        self.browser_with(accept_language, None).await
    }

    /// The same, with an unpacked extension loaded and, when given, a native-messaging host
    /// manifest in the profile (`<user-data-dir>/NativeMessagingHosts/<name>.json`), where
    /// Chromium looks for the current user's hosts.
    pub async fn browser_with(
        &self,
        accept_language: &str,
        extension: Option<&Extension>,
    ) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let lang = accept_language.split(',').next().unwrap_or("ja");
        let mut extra = Vec::new();
        if let Some(extension) = extension {
            let dir = extension.dir.display();
            extra.push(format!("--disable-extensions-except={dir}"));
            extra.push(format!("--load-extension={dir}"));
            if let Some((name, manifest)) = &extension.host_manifest {
                let hosts = profile.path().join("NativeMessagingHosts");
                std::fs::create_dir_all(&hosts).expect("NativeMessagingHosts folder");
                std::fs::write(hosts.join(format!("{name}.json")), manifest)
                    .expect("host manifest");
            }
        }
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-zygote".to_owned(),
            "--disable-crash-reporter".to_owned(),
            "--disable-breakpad".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-quic".to_owned(),
            "--window-size=1024,900".to_owned(),
            format!("--lang={lang}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        args.extend(extra);
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": args,
                "prefs": { "intl": { "accept_languages": accept_language } },
            },
            // Console messages, CSP violations among them, for `Browser::console`.
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver cannot start {} (do the Chromium and ChromeDriver versions \
                     match?): {e}",
                    self.chromium.display()
                )
            });
        Browser {
            client,
            _profile: profile,
        }
    }
}

impl Drop for ChromeDriver {
    /// Asks chromedriver to quit its browsers and exit (even when a test failed half-way),
    /// and kills it if it does not.
    fn drop(&mut self) {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
            let request = format!(
                "GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
                self.port
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An unpacked extension for [`ChromeDriver::browser_with`], and the native-messaging host
/// manifest (host name, JSON text) to install for it.
pub struct Extension {
    pub dir: PathBuf,
    pub host_manifest: Option<(String, String)>,
}

/// One browser session; close it with [`Browser::close`].
pub struct Browser {
    pub client: Client,
    _profile: TempDir,
}

/// One console message.
#[derive(Debug, Clone)]
pub struct ConsoleEntry {
    pub level: String,
    pub message: String,
}

impl Browser {
    /// The console messages since the last call (ChromeDriver's `POST /session/{id}/se/log`).
    pub async fn console(&self) -> Vec<ConsoleEntry> {
        let entries = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("chromedriver returns the browser log");
        entries
            .as_array()
            .expect("log entries")
            .iter()
            .map(|e| ConsoleEntry {
                level: e["level"].as_str().unwrap_or_default().to_owned(),
                message: e["message"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }

    pub async fn close(self) {
        self.client.close().await.expect("the browser quits");
    }
}

/// ChromeDriver's log command (not in W3C WebDriver; Selenium's `get_log("browser")`).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}
