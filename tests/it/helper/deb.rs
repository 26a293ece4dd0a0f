//! The Debian package of the helper (packaging/deb/build-helper), built from this build's
//! binary, installed with dpkg, used for a login without a terminal, and purged.
//!
//! dpkg is machine-wide: the test holds a lock within this process, and by hand the suite
//! runs under `flock /tmp/mykey-dpkg.lock` so that other checkouts wait.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Mutex, PoisonError};

use mykey_connect::card::protocol::ChallengePurpose;

use super::cli::text;
use super::dialogs::{login_without_terminal, Dialogs};
use super::provider::TestProvider;
use crate::softcard::fixture;

const BUILD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/deb/build-helper");
const PACKAGE: &str = "mykey-helper";
const INSTALLED: &str = "/usr/bin/mykey-helper";
const MANIFESTS: [&str; 4] = [
    "/etc/chromium/native-messaging-hosts/jp.mykey.helper.json",
    "/etc/opt/chrome/native-messaging-hosts/jp.mykey.helper.json",
    "/etc/opt/edge/native-messaging-hosts/jp.mykey.helper.json",
    "/usr/lib/mozilla/native-messaging-hosts/jp.mykey.helper.json",
];
const DESKTOP_ENTRY: &str = "/usr/share/applications/mykey-helper.desktop";

static DPKG: Mutex<()> = Mutex::new(());

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Runs a command that must succeed; its standard output.
fn must(program: &str, args: &[&str]) -> String {
    let output = run(program, args);
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}):\n{}{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Purges the package when the test ends early.
struct Installed {
    purged: bool,
}

impl Drop for Installed {
    fn drop(&mut self) {
        if !self.purged {
            let _ = run("dpkg", &["--purge", PACKAGE]);
        }
    }
}

#[test]
fn the_debian_package_installs_a_helper_that_logs_in_without_a_terminal_and_purges_cleanly() {
    let _one_at_a_time = DPKG.lock().unwrap_or_else(PoisonError::into_inner);
    assert_eq!(
        must("id", &["-u"]).trim(),
        "0",
        "this test installs a package with dpkg: run it as root (CI and the test machine do)"
    );
    let out = tempfile::tempdir().expect("output folder");
    let out_text = out.path().display().to_string();
    let built = must(BUILD, &[env!("CARGO_BIN_EXE_mykey-helper"), &out_text]);
    let deb = built
        .lines()
        .last()
        .expect("the script prints the package path")
        .to_owned();
    assert!(Path::new(&deb).is_file(), "{built}");
    let depends = must("dpkg-deb", &["--field", &deb, "Depends"]);
    for needed in [
        "libc6",
        "libpcsclite1",
        "pcscd",
        "pinentry-gnome3 | pinentry-qt | pinentry-gtk2 | pinentry",
    ] {
        assert!(depends.contains(needed), "{needed:?} in Depends: {depends}");
    }

    // A package left by an interrupted run goes first.
    let _ = run("dpkg", &["--purge", PACKAGE]);
    let mut installed = Installed { purged: false };
    must("dpkg", &["--install", &deb]);
    let listed = must("dpkg", &["--listfiles", PACKAGE]);
    for path in MANIFESTS.iter().chain(&[INSTALLED, DESKTOP_ENTRY]) {
        assert!(listed.lines().any(|l| l == *path), "{path} in:\n{listed}");
    }
    for manifest in MANIFESTS {
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(manifest).expect("manifest"))
                .expect("JSON");
        assert_eq!(json["path"], INSTALLED, "{manifest}");
    }
    let desktop = std::fs::read_to_string(DESKTOP_ENTRY).expect("desktop entry");
    assert!(
        desktop.contains("\nExec=/usr/bin/mykey-helper login %u\n"),
        "{desktop}"
    );

    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let card = fixture::card_in(dir.path());
    let dialogs = Dialogs::answering(&[fixture::PIN]);
    let url = provider.challenge(ChallengePurpose::Login);
    let output = login_without_terminal(INSTALLED, &url, &card, &dialogs);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(provider.accepted().len(), 1);
    assert_eq!(dialogs.count("GETPIN"), 1);

    must("dpkg", &["--purge", PACKAGE]);
    installed.purged = true;
    for path in MANIFESTS.iter().chain(&[INSTALLED, DESKTOP_ENTRY]) {
        assert!(
            !Path::new(path).exists(),
            "{path} is still there after purge"
        );
    }
    assert!(!run("dpkg", &["--status", PACKAGE]).status.success());
}
