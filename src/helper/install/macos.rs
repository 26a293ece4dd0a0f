//! macOS: host manifests under Application Support, and an AppleScript app that receives
//! `mykey://` links as Apple Events (`open location`) and runs the helper's login.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{manifest, Browser, Plan, PlannedFile, Registration, HOST_NAME, MANIFEST_FILE};
use crate::helper::login::LINK_SCHEME;

/// The app Launch Services opens `mykey://` links with, and the script it is compiled from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppBundle {
    pub app: PathBuf,
    pub script: PathBuf,
}

/// The bundle id of the app; Launch Services keys the scheme's handler on it.
pub const APP_BUNDLE_ID: &str = "jp.mykey.helper.links";

const LSREGISTER: &str = "/System/Library/Frameworks/CoreServices.framework/Frameworks/LaunchServices.framework/Support/lsregister";

/// `~/Library/Application Support/…/NativeMessagingHosts/` of each browser, the AppleScript
/// source next to them, and `~/Applications/MyKey Helper.app`.
pub fn user_plan(home: &Path, exe: &str) -> Plan {
    let support = home.join("Library/Application Support");
    let mut files: Vec<PlannedFile> = Browser::ALL
        .into_iter()
        .map(|browser| {
            let folder = match browser {
                Browser::Chrome => "Google/Chrome",
                Browser::Chromium => "Chromium",
                Browser::Edge => "Microsoft Edge",
                Browser::Firefox => "Mozilla",
            };
            PlannedFile::new(
                support
                    .join(folder)
                    .join("NativeMessagingHosts")
                    .join(MANIFEST_FILE),
                manifest::for_browser(browser, exe),
                &support,
            )
        })
        .collect();
    let script = support.join("mykey-helper/open-location.applescript");
    files.push(PlannedFile::new(script.clone(), applescript(exe), &support));
    Plan {
        files,
        registration: Registration::MacApp(AppBundle {
            app: home.join("Applications/MyKey Helper.app"),
            script,
        }),
    }
}

/// The app's script: the URL of the Apple Event goes, shell-quoted, to `mykey-helper login`,
/// which asks the PIN through pinentry-mac. In the background, so that the applet quits.
pub fn applescript(exe: &str) -> String {
    format!(
        "-- mykey-helper: opens mykey:// links (\"Log in with your My Number Card\").\n\
         on open location theURL\n\
         \tdo shell script (quoted form of \"{}\") & \" login \" & (quoted form of theURL) & \" > /dev/null 2>&1 &\"\n\
         end open location\n",
        applescript_string(exe)
    )
}

/// The inside of an AppleScript string literal.
fn applescript_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The Info.plist entry claiming the scheme (`CFBundleURLTypes`), as `plutil -json` takes it.
pub fn url_types_json() -> String {
    json!([{
        "CFBundleURLName": HOST_NAME,
        "CFBundleURLSchemes": [LINK_SCHEME],
    }])
    .to_string()
}

/// The commands that build and register the app, in order (run on a Mac).
pub fn build_commands(bundle: &AppBundle) -> Vec<Vec<String>> {
    let app = bundle.app.display().to_string();
    let plist = bundle.app.join("Contents/Info.plist").display().to_string();
    let owned = |args: &[&str]| args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    vec![
        owned(&[
            "osacompile",
            "-o",
            &app,
            &bundle.script.display().to_string(),
        ]),
        owned(&[
            "plutil",
            "-replace",
            "CFBundleIdentifier",
            "-string",
            APP_BUNDLE_ID,
            &plist,
        ]),
        owned(&[
            "plutil",
            "-replace",
            "CFBundleURLTypes",
            "-json",
            &url_types_json(),
            &plist,
        ]),
        // No Dock icon for an app that only hands a URL on.
        owned(&["plutil", "-replace", "LSUIElement", "-bool", "YES", &plist]),
        // The edited Info.plist no longer matches osacompile's signature: sign again (ad hoc).
        owned(&["codesign", "--force", "--sign", "-", &app]),
        owned(&[LSREGISTER, "-f", &app]),
    ]
}

/// The command that forgets the app, before it is deleted.
pub fn unregister_command(bundle: &AppBundle) -> Vec<String> {
    vec![
        LSREGISTER.to_owned(),
        "-u".to_owned(),
        bundle.app.display().to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_go_to_each_browsers_application_support_folder() {
        let plan = user_plan(Path::new("/Users/taro"), "/usr/local/bin/mykey-helper");
        let paths: Vec<String> = plan
            .files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        for expected in [
            "/Users/taro/Library/Application Support/Google/Chrome/NativeMessagingHosts/jp.mykey.helper.json",
            "/Users/taro/Library/Application Support/Chromium/NativeMessagingHosts/jp.mykey.helper.json",
            "/Users/taro/Library/Application Support/Microsoft Edge/NativeMessagingHosts/jp.mykey.helper.json",
            "/Users/taro/Library/Application Support/Mozilla/NativeMessagingHosts/jp.mykey.helper.json",
            "/Users/taro/Library/Application Support/mykey-helper/open-location.applescript",
        ] {
            assert!(paths.contains(&expected.to_owned()), "{expected} in {paths:?}");
        }
        assert_eq!(
            plan.registration,
            Registration::MacApp(AppBundle {
                app: PathBuf::from("/Users/taro/Applications/MyKey Helper.app"),
                script: PathBuf::from(
                    "/Users/taro/Library/Application Support/mykey-helper/open-location.applescript"
                ),
            })
        );
    }

    #[test]
    fn the_applescript_hands_the_quoted_url_to_login() {
        let script = applescript("/Users/taro/bin/my \"key\"/mykey-helper");
        assert!(script.contains("on open location theURL\n"), "{script}");
        assert!(
            script.contains(
                "do shell script (quoted form of \"/Users/taro/bin/my \\\"key\\\"/mykey-helper\") & \" login \" & (quoted form of theURL) & \" > /dev/null 2>&1 &\""
            ),
            "{script}"
        );
        assert!(script.contains("end open location\n"));
    }

    #[test]
    fn the_info_plist_claims_the_mykey_scheme() {
        let types: serde_json::Value = serde_json::from_str(&url_types_json()).expect("json");
        assert_eq!(
            types,
            json!([{"CFBundleURLName": "jp.mykey.helper", "CFBundleURLSchemes": ["mykey"]}])
        );
    }

    #[test]
    fn the_app_is_compiled_edited_signed_then_registered() {
        let bundle = AppBundle {
            app: PathBuf::from("/Users/taro/Applications/MyKey Helper.app"),
            script: PathBuf::from("/tmp/s.applescript"),
        };
        let commands = build_commands(&bundle);
        let programs: Vec<&str> = commands.iter().map(|c| c[0].as_str()).collect();
        assert_eq!(
            programs,
            [
                "osacompile",
                "plutil",
                "plutil",
                "plutil",
                "codesign",
                LSREGISTER
            ]
        );
        assert_eq!(
            commands[0],
            [
                "osacompile",
                "-o",
                "/Users/taro/Applications/MyKey Helper.app",
                "/tmp/s.applescript"
            ]
        );
        assert_eq!(commands[2][2], "CFBundleURLTypes");
        assert_eq!(
            commands[2][5],
            "/Users/taro/Applications/MyKey Helper.app/Contents/Info.plist"
        );
        assert_eq!(unregister_command(&bundle)[1], "-u");
    }
}
