//! Registering the helper for the current user or a package: `mykey://` links and the
//! native-messaging host manifests of Chromium, Chrome, Edge and Firefox.
//!
//! Each platform's plan is data (files with their contents, and how links are registered),
//! built and tested on any machine; [`install`] and [`uninstall`] carry it out here.

mod apply;
pub mod linux;
pub mod macos;
pub mod manifest;
pub mod mimeapps;
pub mod windows;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use apply::{install, uninstall};

use crate::helper::messages::exit;
use crate::helper::platform::Platform;

/// The native-messaging host name the extensions connect to.
pub const HOST_NAME: &str = "jp.mykey.helper";
/// The extension's id in Chromium, Chrome and Edge: fixed by the `key` in its manifest.json
/// (the first 128 bits of SHA-256 of that public key, written with the letters a–p).
pub const CHROMIUM_EXTENSION_ID: &str = "dojcljefpojahfgnhmnhomlimaofgnoc";
/// The only origin a Chromium-family manifest allows (`allowed_origins`).
pub const CHROMIUM_EXTENSION_ORIGIN: &str = "chrome-extension://dojcljefpojahfgnhmnhomlimaofgnoc/";
/// The extension's id in Firefox (`allowed_extensions`).
pub const FIREFOX_EXTENSION_ID: &str = "mykey-helper@mykey-connect.jp";
/// The desktop entry that opens `mykey://` links on Linux.
pub const DESKTOP_FILE: &str = "mykey-helper.desktop";
/// The MIME type of `mykey://` links (spec §1) for xdg-mime.
pub const SCHEME_MIME_TYPE: &str = "x-scheme-handler/mykey";
/// The manifest's file name: Chromium and Firefox look the host up by it.
pub const MANIFEST_FILE: &str = "jp.mykey.helper.json";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    #[error("HOME is not set, so the home folder is unknown")]
    NoHome,
    #[error("LOCALAPPDATA is not set")]
    NoLocalAppData,
    #[error("cannot find this program's own path: {0}")]
    CurrentExe(String),
    #[error("{0:?} cannot be registered: it must be an absolute path in UTF-8 without control characters")]
    BadExe(PathBuf),
    #[error(
        "--system writes Linux package folders; on this platform install for the current user"
    )]
    SystemUnsupported,
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("{program} failed: {reason}")]
    Command { program: String, reason: String },
}

impl InstallError {
    /// The exit code of `mykey-helper install`/`uninstall` ([`exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            InstallError::NoHome
            | InstallError::NoLocalAppData
            | InstallError::BadExe(_)
            | InstallError::SystemUnsupported => exit::USAGE,
            _ => exit::UNEXPECTED,
        }
    }

    fn io(path: &Path, error: std::io::Error) -> InstallError {
        InstallError::Io {
            path: path.to_owned(),
            reason: error.to_string(),
        }
    }
}

/// The browsers whose native-messaging manifests the helper writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    Chromium,
    Chrome,
    Edge,
    Firefox,
}

impl Browser {
    pub const ALL: [Browser; 4] = [
        Browser::Chromium,
        Browser::Chrome,
        Browser::Edge,
        Browser::Firefox,
    ];
}

/// A file the helper writes, and removes on uninstall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    pub path: PathBuf,
    pub contents: String,
    /// Folders emptied by an uninstall are removed up to this one (kept).
    pub keep: PathBuf,
}

impl PlannedFile {
    fn new(path: PathBuf, contents: String, keep: &Path) -> PlannedFile {
        PlannedFile {
            path,
            contents,
            keep: keep.to_owned(),
        }
    }
}

/// How `mykey://` links reach the helper, besides the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// Linux, current user: the default handler (xdg-mime, or mimeapps.list written here),
    /// and the desktop database of the user's applications folder.
    Xdg(linux::UserDirs),
    /// Linux, this machine: the desktop database of /usr/share/applications.
    DesktopDatabase(PathBuf),
    /// Files only: a package's staging folder.
    FilesOnly,
    /// macOS: an AppleScript app that receives the URL as an Apple Event.
    MacApp(macos::AppBundle),
    /// Windows: values under HKEY_CURRENT_USER.
    Registry(Vec<windows::RegistryValue>),
}

/// Everything one install writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub files: Vec<PlannedFile>,
    pub registration: Registration,
}

/// What `mykey-helper install`/`uninstall` was asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// For every user (Linux packages) instead of the current one.
    pub system: bool,
    /// With `system`: a staging folder standing for `/`; nothing is run.
    pub root: Option<PathBuf>,
    /// The helper to register; this program when not given.
    pub exe: Option<PathBuf>,
}

/// The plan for this machine and `options`, reading the environment through `env`.
pub fn plan(
    options: &Options,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Plan, InstallError> {
    let exe = match &options.exe {
        Some(exe) => exe.clone(),
        None => std::env::current_exe().map_err(|e| InstallError::CurrentExe(e.to_string()))?,
    };
    let exe = checked_exe(&exe)?;
    match (Platform::this(), options.system) {
        (Platform::Linux, false) => Ok(linux::user_plan(&linux::UserDirs::from_env(env)?, exe)),
        (Platform::Linux, true) => Ok(match &options.root {
            Some(root) => linux::system_plan(root, exe, true),
            None => linux::system_plan(Path::new("/"), exe, false),
        }),
        (Platform::MacOs, false) => Ok(macos::user_plan(&home(env)?, exe)),
        (Platform::Windows, false) => {
            let local = env("LOCALAPPDATA").ok_or(InstallError::NoLocalAppData)?;
            Ok(windows::user_plan(&local.to_string_lossy(), exe))
        }
        (_, true) => Err(InstallError::SystemUnsupported),
    }
}

/// The helper's path as the manifests and the desktop entry carry it.
fn checked_exe(exe: &Path) -> Result<&str, InstallError> {
    exe.to_str()
        .filter(|text| exe.is_absolute() && !text.chars().any(char::is_control))
        .ok_or_else(|| InstallError::BadExe(exe.to_owned()))
}

fn home(env: &dyn Fn(&str) -> Option<OsString>) -> Result<PathBuf, InstallError> {
    env("HOME")
        .map(PathBuf::from)
        .filter(|home| home.is_absolute())
        .ok_or(InstallError::NoHome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_absolute_path_without_control_characters_is_registered() {
        assert_eq!(
            checked_exe(Path::new("/usr/bin/mykey-helper")).expect("fine"),
            "/usr/bin/mykey-helper"
        );
        for bad in ["mykey-helper", "./mykey-helper", "/tmp/a\nb"] {
            assert!(matches!(
                checked_exe(Path::new(bad)),
                Err(InstallError::BadExe(_))
            ));
        }
    }

    #[test]
    fn the_chromium_origin_is_the_extension_id() {
        assert_eq!(
            CHROMIUM_EXTENSION_ORIGIN,
            format!("chrome-extension://{CHROMIUM_EXTENSION_ID}/")
        );
        assert_eq!(MANIFEST_FILE, format!("{HOST_NAME}.json"));
        assert_eq!(
            SCHEME_MIME_TYPE,
            format!("x-scheme-handler/{}", crate::helper::login::LINK_SCHEME)
        );
    }
}
