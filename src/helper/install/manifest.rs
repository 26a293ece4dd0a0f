//! The native-messaging host manifests: which program a browser starts for `jp.mykey.helper`
//! and which extension may ask it to.

use serde_json::json;

use super::{Browser, CHROMIUM_EXTENSION_ORIGIN, FIREFOX_EXTENSION_ID, HOST_NAME};

const DESCRIPTION: &str =
    "マイナンバーカードでログイン — mykey-helper / Log in with your My Number Card";

/// The manifest for Chromium, Chrome and Edge: `exe` started with stdio, for our extension
/// only (developer.chrome.com/docs/extensions/develop/concepts/native-messaging).
pub fn chromium(exe: &str) -> String {
    pretty(&json!({
        "name": HOST_NAME,
        "description": DESCRIPTION,
        "path": exe,
        "type": "stdio",
        "allowed_origins": [CHROMIUM_EXTENSION_ORIGIN],
    }))
}

/// The manifest for Firefox, which names extensions by id, not by origin (MDN, "Native
/// manifests").
pub fn firefox(exe: &str) -> String {
    pretty(&json!({
        "name": HOST_NAME,
        "description": DESCRIPTION,
        "path": exe,
        "type": "stdio",
        "allowed_extensions": [FIREFOX_EXTENSION_ID],
    }))
}

pub fn for_browser(browser: Browser, exe: &str) -> String {
    match browser {
        Browser::Chromium | Browser::Chrome | Browser::Edge => chromium(exe),
        Browser::Firefox => firefox(exe),
    }
}

fn pretty(value: &serde_json::Value) -> String {
    // Serializing a json! value cannot fail; the fallback keeps clippy's unwrap rule.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> serde_json::Value {
        serde_json::from_str(text).expect("a manifest is JSON")
    }

    #[test]
    fn the_chromium_manifest_lets_only_our_extension_start_the_helper() {
        let manifest = parsed(&chromium("/usr/bin/mykey-helper"));
        assert_eq!(manifest["name"], "jp.mykey.helper");
        assert_eq!(manifest["path"], "/usr/bin/mykey-helper");
        assert_eq!(manifest["type"], "stdio");
        assert_eq!(
            manifest["allowed_origins"],
            json!(["chrome-extension://dojcljefpojahfgnhmnhomlimaofgnoc/"])
        );
        assert!(manifest.get("allowed_extensions").is_none());
    }

    #[test]
    fn the_firefox_manifest_names_the_extension_by_id() {
        let manifest = parsed(&firefox("/usr/bin/mykey-helper"));
        assert_eq!(manifest["name"], "jp.mykey.helper");
        assert_eq!(manifest["path"], "/usr/bin/mykey-helper");
        assert_eq!(
            manifest["allowed_extensions"],
            json!(["mykey-helper@mykey-connect.jp"])
        );
        assert!(manifest.get("allowed_origins").is_none());
    }

    #[test]
    fn a_windows_path_survives_json_escaping() {
        let exe = r"C:\Users\山田\AppData\Local\mykey-helper\mykey-helper.exe";
        assert!(chromium(exe).contains(r#""path": "C:\\Users\\山田\\AppData"#));
        assert_eq!(parsed(&chromium(exe))["path"], exe);
    }
}
