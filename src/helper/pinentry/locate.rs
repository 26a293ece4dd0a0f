//! Finding a pinentry program: `MYKEY_PINENTRY`, then the usual places of each platform.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::PinentryError;
pub use crate::helper::platform::Platform;

/// Names the pinentry program to use, as a path or a name looked up in `PATH`.
pub const ENV: &str = "MYKEY_PINENTRY";

/// The pinentry for this process: `MYKEY_PINENTRY`, else the first of [`candidates`] that
/// exists and can draw a window.
pub fn locate() -> Result<PathBuf, PinentryError> {
    locate_with(Platform::this(), &|name| std::env::var_os(name))
}

/// [`locate`] with the platform and the environment given.
pub fn locate_with(
    platform: Platform,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<PathBuf, PinentryError> {
    if let Some(configured) = env(ENV).filter(|value| !value.is_empty()) {
        let configured = PathBuf::from(configured);
        let found = if configured.components().count() == 1 {
            in_path(&configured, env).into_iter().find(|p| p.is_file())
        } else {
            Some(configured.clone()).filter(|p| p.is_file())
        };
        return found.ok_or(PinentryError::Configured(configured));
    }
    candidates(platform, env)
        .into_iter()
        .find(|path| draws_windows(path))
        .ok_or(PinentryError::NotFound(platform))
}

/// Where to look, best first: graphical pinentries on `PATH`, then the fixed install places
/// of macOS and Windows packages.
pub fn candidates(platform: Platform, env: &dyn Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let names: &[&str] = match platform {
        // `pinentry` last: Debian's alternative, often the terminal one.
        Platform::Linux => &[
            "pinentry-gnome3",
            "pinentry-qt",
            "pinentry-qt5",
            "pinentry-gtk-2",
            "pinentry-gtk2",
            "pinentry-x2go",
            "pinentry",
        ],
        Platform::MacOs => &["pinentry-mac"],
        Platform::Windows => &[],
    };
    let mut found: Vec<PathBuf> = names
        .iter()
        .flat_map(|name| in_path(Path::new(name), env))
        .collect();
    match platform {
        Platform::Linux => {}
        Platform::MacOs => found.extend(
            [
                "/opt/homebrew/bin/pinentry-mac",
                "/usr/local/bin/pinentry-mac",
                // GPG Suite (GPGTools)
                "/usr/local/MacGPG2/libexec/pinentry-mac.app/Contents/MacOS/pinentry-mac",
            ]
            .map(PathBuf::from),
        ),
        Platform::Windows => {
            // Written with `\` so that the list reads the same when tested on Linux.
            let bases = [
                ("ProgramFiles(x86)", r"C:\Program Files (x86)"),
                ("ProgramFiles", r"C:\Program Files"),
            ]
            .map(|(var, default)| {
                env(var).map_or_else(|| default.to_owned(), |v| v.to_string_lossy().into_owned())
            });
            for base in bases {
                for dir in [r"Gpg4win\bin", r"GnuPG\bin"] {
                    for exe in ["pinentry.exe", "pinentry-w32.exe", "pinentry-basic.exe"] {
                        found.push(PathBuf::from(format!(r"{base}\{dir}\{exe}")));
                    }
                }
            }
        }
    }
    found
}

fn in_path(name: &Path, env: &dyn Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    env("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .filter(|dir| dir.is_absolute())
                .map(|dir| dir.join(name))
                .collect()
        })
        .unwrap_or_default()
}

/// An existing program that is not a terminal-only pinentry: without a terminal, the curses
/// and tty variants cannot ask anything.
fn draws_windows(path: &Path) -> bool {
    if !path.is_file() {
        return false;
    }
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let name = real.file_name().map(|n| n.to_string_lossy().into_owned());
    !name.is_some_and(|n| n.starts_with("pinentry-curses") || n.starts_with("pinentry-tty"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, OsString)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn texts(paths: Vec<PathBuf>) -> Vec<String> {
        paths.into_iter().map(|p| p.display().to_string()).collect()
    }

    #[test]
    fn linux_prefers_graphical_pinentries_on_the_path_and_tries_the_debian_alternative_last() {
        let found = texts(candidates(
            Platform::Linux,
            &env_of(&[("PATH", "/usr/local/bin:/usr/bin")]),
        ));
        assert_eq!(found[0], "/usr/local/bin/pinentry-gnome3");
        assert_eq!(found[1], "/usr/bin/pinentry-gnome3");
        assert!(found.contains(&"/usr/bin/pinentry-qt".to_owned()));
        assert!(found.contains(&"/usr/bin/pinentry-gtk2".to_owned()));
        assert!(found.contains(&"/usr/bin/pinentry-x2go".to_owned()));
        assert_eq!(found.last().map(String::as_str), Some("/usr/bin/pinentry"));
    }

    #[test]
    fn macos_looks_in_homebrew_and_gpg_suite() {
        let found = texts(candidates(
            Platform::MacOs,
            &env_of(&[("PATH", "/usr/bin")]),
        ));
        assert_eq!(
            found,
            [
                "/usr/bin/pinentry-mac",
                "/opt/homebrew/bin/pinentry-mac",
                "/usr/local/bin/pinentry-mac",
                "/usr/local/MacGPG2/libexec/pinentry-mac.app/Contents/MacOS/pinentry-mac",
            ]
        );
    }

    #[test]
    fn windows_looks_in_the_gpg4win_and_gnupg_folders_of_both_program_files() {
        let found = texts(candidates(
            Platform::Windows,
            &env_of(&[("ProgramFiles", r"D:\Apps")]),
        ));
        for expected in [
            r"C:\Program Files (x86)\Gpg4win\bin\pinentry.exe",
            r"C:\Program Files (x86)\Gpg4win\bin\pinentry-w32.exe",
            r"C:\Program Files (x86)\GnuPG\bin\pinentry-basic.exe",
            r"D:\Apps\GnuPG\bin\pinentry.exe",
            r"D:\Apps\Gpg4win\bin\pinentry-w32.exe",
        ] {
            assert!(
                found.contains(&expected.to_owned()),
                "{expected} in {found:?}"
            );
        }
        assert_eq!(found[0], r"C:\Program Files (x86)\Gpg4win\bin\pinentry.exe");
    }

    #[test]
    fn the_environment_variable_wins_and_a_wrong_one_is_reported_not_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let program = dir.path().join("my-pinentry");
        std::fs::write(&program, "").expect("write");
        let dir_text = dir.path().display().to_string();
        let program_text = program.display().to_string();
        let by_path = locate_with(Platform::Linux, &env_of(&[(ENV, &program_text)]));
        assert_eq!(by_path.expect("found"), program);
        let by_name = locate_with(
            Platform::Linux,
            &env_of(&[(ENV, "my-pinentry"), ("PATH", &dir_text)]),
        );
        assert_eq!(by_name.expect("found"), program);
        let missing = locate_with(
            Platform::Linux,
            &env_of(&[(ENV, "/nowhere/pinentry"), ("PATH", &dir_text)]),
        );
        assert!(
            matches!(missing, Err(PinentryError::Configured(p)) if p == Path::new("/nowhere/pinentry"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_terminal_pinentry_behind_the_generic_name_is_passed_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let curses = dir.path().join("pinentry-curses");
        std::fs::write(&curses, "").expect("write");
        std::os::unix::fs::symlink(&curses, dir.path().join("pinentry")).expect("symlink");
        let path = dir.path().display().to_string();
        let found = locate_with(Platform::Linux, &env_of(&[("PATH", &path)]));
        assert!(matches!(
            found,
            Err(PinentryError::NotFound(Platform::Linux))
        ));

        let qt = dir.path().join("pinentry-qt");
        std::fs::write(&qt, "").expect("write");
        let found = locate_with(Platform::Linux, &env_of(&[("PATH", &path)]));
        assert_eq!(found.expect("found"), qt);
    }
}
