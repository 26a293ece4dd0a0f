//! What a person does and sees in the browser: waiting for a page, reading it, clicking by the
//! visible label, screenshots, and checking a page stays self-contained under its CSP.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::{json, Value};

use super::driver::Browser;

/// Long enough for the login page's script (it polls every second) on a busy 2-core machine.
const PATIENCE: Duration = Duration::from_secs(20);

/// Where screenshots go (`artifacts/` is git-ignored); created on first use.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

impl Browser {
    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current URL")
            .path()
            .to_owned()
    }

    /// Polls until the address bar's path satisfies `arrived` (pages that move on by
    /// themselves are followed without fixed sleeps).
    pub async fn wait_for_path(&self, what: &str, arrived: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let path = self.path().await;
            if arrived(&path) {
                return path;
            }
            assert!(
                Instant::now() < deadline,
                "the browser never reached {what}; it stayed at {path}: {}",
                self.text("main").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls until an element matching `css` is on the page.
    pub async fn wait_for(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.has(css).await {
            assert!(
                Instant::now() < deadline,
                "{css} never appeared on {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether an element matching `css` is on the page and visible (not `hidden`).
    pub async fn shown(&self, css: &str) -> bool {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.is_displayed().await.expect("displayed"),
            Err(_) => false,
        }
    }

    pub async fn has(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("find")
            .is_empty()
    }

    /// The rendered text of the element, as a person reads it.
    pub async fn text(&self, css: &str) -> String {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"));
        element.text().await.expect("text")
    }

    /// The text of an element even inside a closed `<details>`.
    pub async fn text_content(&self, css: &str) -> String {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"));
        element
            .prop("textContent")
            .await
            .expect("textContent")
            .unwrap_or_default()
    }

    pub async fn lang(&self) -> String {
        let html = self.client.find(Locator::Css("html")).await.expect("html");
        html.attr("lang").await.expect("lang").unwrap_or_default()
    }

    /// Clicks the link or button whose visible label is exactly `label`.
    pub async fn click(&self, label: &str) {
        let xpath =
            format!("//a[normalize-space()='{label}'] | //button[normalize-space()='{label}']");
        let found = self.client.find(Locator::XPath(&xpath)).await;
        let Ok(element) = found else {
            panic!("nothing labelled {label:?} on {}", self.path().await);
        };
        element.click().await.expect("click");
    }

    /// The whole page as `artifacts/screenshots/<name>.png` (the window grows to fit it).
    pub async fn screenshot(&self, name: &str) {
        let sizes = self
            .client
            .execute(
                "return [document.documentElement.scrollHeight,
                         window.outerHeight - window.innerHeight];",
                vec![],
            )
            .await
            .expect("page height");
        let px = |i: usize| sizes[i].as_u64().expect("a height in pixels");
        let (page, frame) = (px(0), px(1));
        let (width, usual) = self.client.get_window_size().await.expect("window size");
        let height = (page + frame).clamp(usual, 4000);
        self.client
            .set_window_size(width as u32, height as u32)
            .await
            .expect("resize");
        let png = self.client.screenshot().await.expect("screenshot");
        self.client
            .set_window_size(width as u32, usual as u32)
            .await
            .expect("resize back");
        std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write PNG");
    }

    /// The page loaded nothing from elsewhere, has no inline script or style, its stylesheet
    /// applies, and the console is clean; then proves the CSP is in force by failing to run
    /// an inline script, and that the console check would have seen it.
    pub async fn assert_self_contained(&self, page: &str) {
        let facts = self
            .client
            .execute(
                "const origin = location.origin + '/';
                 const foreign = (u) => !u.startsWith(origin) && !u.startsWith('data:');
                 return {
                   inline_scripts: [...document.scripts].filter((s) => !s.src).length,
                   scripts: [...document.scripts].map((s) => s.src).filter(foreign),
                   inline_styles: document.querySelectorAll('style, [style]').length,
                   resources: performance.getEntriesByType('resource')
                     .map((e) => e.name).filter(foreign),
                   background: getComputedStyle(document.body).backgroundColor,
                 };",
                vec![],
            )
            .await
            .expect("page facts");
        let expected = json!({
            "inline_scripts": 0,
            "scripts": [],
            "inline_styles": 0,
            "resources": [],
            // static/style.css: --bg #f6f7f9
            "background": "rgb(246, 247, 249)",
        });
        assert_eq!(facts, expected, "{page}: self-contained and styled");
        let console = self.console().await;
        assert!(
            console.iter().all(|e| e.level != "SEVERE"),
            "{page}: errors in the console: {console:#?}"
        );

        let ran = self
            .client
            .execute(
                "const s = document.createElement('script');
                 s.textContent = 'window.inlineScriptRan = true;';
                 document.head.appendChild(s);
                 return window.inlineScriptRan === true;",
                vec![],
            )
            .await
            .expect("inline script probe");
        assert_eq!(
            ran,
            Value::Bool(false),
            "{page}: the CSP lets inline script run"
        );
        let deadline = Instant::now() + PATIENCE;
        loop {
            let console = self.console().await;
            if console
                .iter()
                .any(|e| e.level == "SEVERE" && e.message.contains("Content Security Policy"))
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{page}: the blocked inline script never showed in the console: {console:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
