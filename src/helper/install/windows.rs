//! Windows: the `mykey` URL protocol and the host manifests, registered under
//! HKEY_CURRENT_USER with `reg.exe` (no administrator rights, no extra crate, no unsafe code).
//!
//! Paths are Windows strings (`\`), so the plan reads the same when tested on Linux.

use std::path::PathBuf;

use super::{manifest, Browser, Plan, PlannedFile, Registration, HOST_NAME};
use crate::helper::login::LINK_SCHEME;

/// One string value: `name` `None` is the key's default value (`reg add /ve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryValue {
    pub key: String,
    pub name: Option<String>,
    pub data: String,
}

impl RegistryValue {
    fn new(key: String, name: Option<&str>, data: String) -> RegistryValue {
        RegistryValue {
            key,
            name: name.map(str::to_owned),
            data,
        }
    }
}

/// `HKCU\Software\Classes\mykey`: the URL protocol (Microsoft, "Registering an Application
/// to a URI Scheme").
pub fn protocol_key() -> String {
    format!(r"HKCU\Software\Classes\{LINK_SCHEME}")
}

/// Where each browser looks the host up (per-user keys).
pub fn host_key(browser: Browser) -> String {
    let vendor = match browser {
        Browser::Chrome => r"Google\Chrome",
        Browser::Chromium => "Chromium",
        Browser::Edge => r"Microsoft\Edge",
        Browser::Firefox => "Mozilla",
    };
    format!(r"HKCU\Software\{vendor}\NativeMessagingHosts\{HOST_NAME}")
}

/// The manifests in `%LOCALAPPDATA%\mykey-helper\` (one for the Chromium family, one for
/// Firefox) and the registry values pointing at them and at the helper.
pub fn user_plan(local_app_data: &str, exe: &str) -> Plan {
    let folder = format!(r"{local_app_data}\mykey-helper");
    let chromium = format!(r"{folder}\{HOST_NAME}.chromium.json");
    let firefox = format!(r"{folder}\{HOST_NAME}.firefox.json");
    let keep = PathBuf::from(local_app_data);
    let files = vec![
        PlannedFile::new(PathBuf::from(&chromium), manifest::chromium(exe), &keep),
        PlannedFile::new(PathBuf::from(&firefox), manifest::firefox(exe), &keep),
    ];
    let protocol = protocol_key();
    let mut values = vec![
        RegistryValue::new(
            protocol.clone(),
            None,
            "URL:mykey (マイナンバーカードでログイン / My Number Card login)".to_owned(),
        ),
        RegistryValue::new(protocol.clone(), Some("URL Protocol"), String::new()),
        RegistryValue::new(
            format!(r"{protocol}\shell\open\command"),
            None,
            format!("\"{exe}\" login \"%1\""),
        ),
    ];
    for browser in Browser::ALL {
        let manifest = match browser {
            Browser::Firefox => &firefox,
            _ => &chromium,
        };
        values.push(RegistryValue::new(
            host_key(browser),
            None,
            manifest.clone(),
        ));
    }
    Plan {
        files,
        registration: Registration::Registry(values),
    }
}

/// `reg add` arguments for one value; `/f` overwrites without asking.
pub fn add_args(value: &RegistryValue) -> Vec<String> {
    let mut args = vec!["add".to_owned(), value.key.clone()];
    match &value.name {
        Some(name) => args.extend(["/v".to_owned(), name.clone()]),
        None => args.push("/ve".to_owned()),
    }
    args.extend([
        "/t".to_owned(),
        "REG_SZ".to_owned(),
        "/d".to_owned(),
        value.data.clone(),
        "/f".to_owned(),
    ]);
    args
}

/// The keys an uninstall deletes (each with its subkeys), from the values of a plan.
pub fn keys_to_delete(values: &[RegistryValue]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for value in values {
        // A subkey goes with its parent key.
        let covered = keys
            .iter()
            .any(|k| value.key == *k || value.key.starts_with(&format!(r"{k}\")));
        if !covered {
            keys.push(value.key.clone());
        }
    }
    keys
}

/// `reg delete` arguments for one key.
pub fn delete_args(key: &str) -> Vec<String> {
    vec!["delete".to_owned(), key.to_owned(), "/f".to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: &str = r"C:\Users\taro\AppData\Local";
    const EXE: &str = r"C:\Users\taro\AppData\Local\Programs\mykey-helper\mykey-helper.exe";

    fn values() -> Vec<RegistryValue> {
        match user_plan(LOCAL, EXE).registration {
            Registration::Registry(values) => values,
            other => panic!("not a registry plan: {other:?}"),
        }
    }

    fn value(key: &str, name: Option<&str>) -> String {
        values()
            .into_iter()
            .find(|v| v.key == key && v.name.as_deref() == name)
            .map(|v| v.data)
            .unwrap_or_else(|| panic!("{key} {name:?} not in the plan"))
    }

    #[test]
    fn the_mykey_protocol_opens_login_with_the_quoted_url() {
        assert_eq!(
            value(r"HKCU\Software\Classes\mykey\shell\open\command", None),
            format!("\"{EXE}\" login \"%1\"")
        );
        assert_eq!(
            value(r"HKCU\Software\Classes\mykey", Some("URL Protocol")),
            ""
        );
        assert!(value(r"HKCU\Software\Classes\mykey", None).starts_with("URL:mykey"));
    }

    #[test]
    fn each_browser_key_points_at_its_manifest_in_local_app_data() {
        let chromium = r"C:\Users\taro\AppData\Local\mykey-helper\jp.mykey.helper.chromium.json";
        let firefox = r"C:\Users\taro\AppData\Local\mykey-helper\jp.mykey.helper.firefox.json";
        for (key, manifest) in [
            (
                r"HKCU\Software\Google\Chrome\NativeMessagingHosts\jp.mykey.helper",
                chromium,
            ),
            (
                r"HKCU\Software\Chromium\NativeMessagingHosts\jp.mykey.helper",
                chromium,
            ),
            (
                r"HKCU\Software\Microsoft\Edge\NativeMessagingHosts\jp.mykey.helper",
                chromium,
            ),
            (
                r"HKCU\Software\Mozilla\NativeMessagingHosts\jp.mykey.helper",
                firefox,
            ),
        ] {
            assert_eq!(value(key, None), manifest);
        }
        let plan = user_plan(LOCAL, EXE);
        let written: Vec<String> = plan
            .files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        assert_eq!(written, [chromium, firefox]);
        let manifest: serde_json::Value =
            serde_json::from_str(&plan.files[0].contents).expect("json");
        assert_eq!(manifest["path"], EXE);
    }

    #[test]
    fn reg_exe_gets_one_add_per_value_and_one_delete_per_key() {
        let values = values();
        assert_eq!(
            add_args(&values[1]),
            [
                "add",
                r"HKCU\Software\Classes\mykey",
                "/v",
                "URL Protocol",
                "/t",
                "REG_SZ",
                "/d",
                "",
                "/f"
            ]
        );
        assert_eq!(add_args(&values[2])[2], "/ve");
        assert_eq!(
            keys_to_delete(&values),
            [
                r"HKCU\Software\Classes\mykey",
                r"HKCU\Software\Chromium\NativeMessagingHosts\jp.mykey.helper",
                r"HKCU\Software\Google\Chrome\NativeMessagingHosts\jp.mykey.helper",
                r"HKCU\Software\Microsoft\Edge\NativeMessagingHosts\jp.mykey.helper",
                r"HKCU\Software\Mozilla\NativeMessagingHosts\jp.mykey.helper",
            ]
        );
        assert_eq!(
            delete_args(r"HKCU\Software\Classes\mykey"),
            ["delete", r"HKCU\Software\Classes\mykey", "/f"]
        );
    }
}
