//! The Debian package of the helper (packaging/deb/build-helper), built from this build's
//! binary, installed with dpkg, used for a login without a terminal and for one from Chromium
//! with the packaged extension and host manifest, and purged.
//!
//! dpkg is machine-wide: the test holds a lock within this process, and by hand the suite
//! runs under `flock /tmp/mykey-dpkg.lock` so that other checkouts wait.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, PoisonError};

use mykey_connect::card::protocol::ChallengePurpose;

use super::cli::text;
use super::dialogs::{login_without_terminal, Dialogs};
use super::provider::TestProvider;
use crate::browser::driver::{ChromeDriver, Extension, Tools};
use crate::browser::extension::consent_and_claims;
use crate::browser::site::DemoSite;
use crate::browser::DEMO_LOGIN;
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
const PACKAGED_EXTENSION: &str = "/usr/share/mykey-helper/extension/chromium";

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::await_holding_lock,
    reason = "dpkg is one per machine: the test holds the lock from start to end on purpose"
)]
async fn the_debian_package_installs_a_helper_that_logs_in_from_a_browser_and_purges_cleanly() {
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
    let firefox_extension = "/usr/share/mykey-helper/extension/firefox/manifest.json";
    let chromium_extension = &format!("{PACKAGED_EXTENSION}/manifest.json");
    for path in MANIFESTS.iter().chain(&[
        INSTALLED,
        DESKTOP_ENTRY,
        chromium_extension,
        firefox_extension,
    ]) {
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

    // The resident's path: Chromium with the package's copy of the extension finds the host
    // through the package's system-wide manifest (nothing in the profile), the card is the
    // demo's software card, and the PIN goes into a dialog.
    let site = DemoSite::start().await;
    let dialogs = Dialogs::answering(&["1234"]);
    let card = format!("file:{}", site.card_path.display());
    let mut env = dialogs.env().to_vec();
    env.push(("MYKEY_CARD", Path::new(&card)));
    let driver = ChromeDriver::start_with_env(&Tools::find(), &env).await;
    let extension = Extension {
        dir: PathBuf::from(PACKAGED_EXTENSION),
        host_manifest: None,
    };
    let b = driver.browser_with("ja", Some(&extension)).await;
    b.client.goto(&site.url("/demo/")).await.expect("open");
    b.click(DEMO_LOGIN).await;
    consent_and_claims(&b, &site).await;
    assert_eq!(dialogs.count("GETPIN"), 1);
    b.close().await;
    drop(driver);
    site.stop().await;

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
