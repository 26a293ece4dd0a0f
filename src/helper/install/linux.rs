//! Linux: the desktop entry for `mykey://` links and where each browser reads host manifests,
//! for the current user (XDG base directories) or for every user (a package).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{
    home, manifest, Browser, InstallError, Plan, PlannedFile, Registration, DESKTOP_FILE,
    MANIFEST_FILE, SCHEME_MIME_TYPE,
};

/// The current user's folders (XDG Base Directory Specification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDirs {
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME`, else `~/.config`.
    pub config_home: PathBuf,
    /// `$XDG_DATA_HOME`, else `~/.local/share`.
    pub data_home: PathBuf,
}

impl UserDirs {
    pub fn from_env(env: &dyn Fn(&str) -> Option<OsString>) -> Result<UserDirs, InstallError> {
        let home = home(env)?;
        // The specification ignores a relative value.
        let xdg = |name: &str, default: &str| {
            env(name)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| home.join(default))
        };
        Ok(UserDirs {
            config_home: xdg("XDG_CONFIG_HOME", ".config"),
            data_home: xdg("XDG_DATA_HOME", ".local/share"),
            home,
        })
    }

    pub fn applications(&self) -> PathBuf {
        self.data_home.join("applications")
    }

    /// Where xdg-mime (and this helper, without it) records the default handler.
    pub fn mimeapps_list(&self) -> PathBuf {
        self.config_home.join("mimeapps.list")
    }

    /// Where older xdg-utils wrote it; cleaned on uninstall too.
    pub fn legacy_mimeapps_list(&self) -> PathBuf {
        self.applications().join("mimeapps.list")
    }
}

/// The desktop entry that makes the helper the handler of `mykey://` (Desktop Entry
/// Specification 1.5). Started by the desktop it has no terminal, so it asks through pinentry.
pub fn desktop_entry(exe: &str) -> String {
    format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Name=MyKey helper (My Number Card login)\n\
         Name[ja]=マイナンバーカードでログイン（MyKey ヘルパー）\n\
         Comment=Answers \"Log in with your My Number Card\" links with the card\n\
         Comment[ja]=「マイナンバーカードでログイン」のリンクにカードで応答します\n\
         Exec={} login %u\n\
         Terminal=false\n\
         NoDisplay=true\n\
         MimeType={SCHEME_MIME_TYPE};\n",
        exec_argument(exe)
    )
}

/// One argument of `Exec=`: quoted when it holds a reserved character, with `"`, `` ` ``,
/// `$` and `\` escaped inside the quotes; then the string escape (`\` → `\\`) and the field
/// code escape (`%` → `%%`) of the specification's "The Exec key".
pub fn exec_argument(argument: &str) -> String {
    const RESERVED: &[char] = &[
        ' ', '\t', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(', ')', '`',
    ];
    let quoted = if argument.contains(RESERVED) {
        let mut quoted = String::from("\"");
        for c in argument.chars() {
            if matches!(c, '"' | '`' | '$' | '\\') {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        quoted.push('"');
        quoted
    } else {
        argument.to_owned()
    };
    quoted.replace('\\', "\\\\").replace('%', "%%")
}

/// The current user's files: the desktop entry and one manifest per browser.
pub fn user_plan(dirs: &UserDirs, exe: &str) -> Plan {
    let mut files = vec![PlannedFile::new(
        dirs.applications().join(DESKTOP_FILE),
        desktop_entry(exe),
        &dirs.data_home,
    )];
    for browser in Browser::ALL {
        let (keep, folder) = match browser {
            Browser::Chromium => (&dirs.config_home, "chromium/NativeMessagingHosts"),
            Browser::Chrome => (&dirs.config_home, "google-chrome/NativeMessagingHosts"),
            Browser::Edge => (&dirs.config_home, "microsoft-edge/NativeMessagingHosts"),
            Browser::Firefox => (&dirs.home, ".mozilla/native-messaging-hosts"),
        };
        files.push(PlannedFile::new(
            keep.join(folder).join(MANIFEST_FILE),
            manifest::for_browser(browser, exe),
            keep,
        ));
    }
    Plan {
        files,
        registration: Registration::Xdg(dirs.clone()),
    }
}

/// Every user's files under `root` (`/`, or a package's staging folder when `staged`).
pub fn system_plan(root: &Path, exe: &str, staged: bool) -> Plan {
    let applications = root.join("usr/share/applications");
    let mut files = vec![(applications.join(DESKTOP_FILE), desktop_entry(exe))];
    for browser in Browser::ALL {
        let folder = match browser {
            Browser::Chromium => "etc/chromium/native-messaging-hosts",
            Browser::Chrome => "etc/opt/chrome/native-messaging-hosts",
            Browser::Edge => "etc/opt/edge/native-messaging-hosts",
            Browser::Firefox => "usr/lib/mozilla/native-messaging-hosts",
        };
        files.push((
            root.join(folder).join(MANIFEST_FILE),
            manifest::for_browser(browser, exe),
        ));
    }
    let files = files
        .into_iter()
        .map(|(path, contents)| {
            // A staging folder is emptied completely; on `/`, folders others may use stay.
            let keep = match (staged, path.parent()) {
                (false, Some(parent)) => parent.to_owned(),
                _ => root.to_owned(),
            };
            PlannedFile::new(path, contents, &keep)
        })
        .collect();
    Plan {
        files,
        registration: if staged {
            Registration::FilesOnly
        } else {
            Registration::DesktopDatabase(applications)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    fn paths(plan: &Plan) -> Vec<String> {
        plan.files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect()
    }

    #[test]
    fn the_desktop_entry_opens_mykey_links_with_login_and_stays_out_of_menus() {
        let entry = desktop_entry("/usr/bin/mykey-helper");
        for line in [
            "[Desktop Entry]",
            "Type=Application",
            "Exec=/usr/bin/mykey-helper login %u",
            "MimeType=x-scheme-handler/mykey;",
            "Terminal=false",
            "NoDisplay=true",
            "Name[ja]=マイナンバーカードでログイン（MyKey ヘルパー）",
        ] {
            assert!(entry.lines().any(|l| l == line), "{line:?} in\n{entry}");
        }
        assert!(entry.lines().any(|l| l.starts_with("Name=")));
    }

    #[test]
    fn exec_arguments_are_quoted_and_escaped_as_the_specification_says() {
        assert_eq!(
            exec_argument("/usr/bin/mykey-helper"),
            "/usr/bin/mykey-helper"
        );
        assert_eq!(
            exec_argument("/home/taro/My Apps/mykey-helper"),
            "\"/home/taro/My Apps/mykey-helper\""
        );
        assert_eq!(exec_argument("/opt/a$b"), "\"/opt/a\\\\$b\"");
        assert_eq!(exec_argument("/opt/a\\b"), "\"/opt/a\\\\\\\\b\"");
        assert_eq!(exec_argument("/opt/100%/x"), "/opt/100%%/x");
    }

    #[test]
    fn the_user_plan_follows_xdg_base_directories_and_firefox_reads_the_home_folder() {
        let dirs = UserDirs::from_env(&env_of(&[("HOME", "/home/taro")])).expect("dirs");
        assert_eq!(
            paths(&user_plan(&dirs, "/usr/bin/mykey-helper")),
            [
                "/home/taro/.local/share/applications/mykey-helper.desktop",
                "/home/taro/.config/chromium/NativeMessagingHosts/jp.mykey.helper.json",
                "/home/taro/.config/google-chrome/NativeMessagingHosts/jp.mykey.helper.json",
                "/home/taro/.config/microsoft-edge/NativeMessagingHosts/jp.mykey.helper.json",
                "/home/taro/.mozilla/native-messaging-hosts/jp.mykey.helper.json",
            ]
        );
        let moved = UserDirs::from_env(&env_of(&[
            ("HOME", "/home/taro"),
            ("XDG_CONFIG_HOME", "/cfg"),
            ("XDG_DATA_HOME", "relative/is/ignored"),
        ]))
        .expect("dirs");
        assert_eq!(moved.config_home, Path::new("/cfg"));
        assert_eq!(moved.data_home, Path::new("/home/taro/.local/share"));
        assert!(matches!(
            UserDirs::from_env(&env_of(&[])),
            Err(InstallError::NoHome)
        ));
    }

    #[test]
    fn the_system_plan_writes_the_package_folders_of_each_browser() {
        let plan = system_plan(Path::new("/tmp/stage"), "/usr/bin/mykey-helper", true);
        assert_eq!(
            paths(&plan),
            [
                "/tmp/stage/usr/share/applications/mykey-helper.desktop",
                "/tmp/stage/etc/chromium/native-messaging-hosts/jp.mykey.helper.json",
                "/tmp/stage/etc/opt/chrome/native-messaging-hosts/jp.mykey.helper.json",
                "/tmp/stage/etc/opt/edge/native-messaging-hosts/jp.mykey.helper.json",
                "/tmp/stage/usr/lib/mozilla/native-messaging-hosts/jp.mykey.helper.json",
            ]
        );
        assert_eq!(plan.registration, Registration::FilesOnly);
        assert!(plan.files[1]
            .contents
            .contains("\"path\": \"/usr/bin/mykey-helper\""));
        let live = system_plan(Path::new("/"), "/usr/bin/mykey-helper", false);
        assert_eq!(
            live.registration,
            Registration::DesktopDatabase(PathBuf::from("/usr/share/applications"))
        );
        assert_eq!(
            live.files[1].keep,
            Path::new("/etc/chromium/native-messaging-hosts")
        );
    }
}
