//! `mykey-helper install`/`uninstall` for the current user (HOME in a temp folder) and into a
//! package staging folder: the files the desktop and the browsers read, then nothing left.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mykey_connect::helper::messages::exit;

use super::cli::text;

const HELPER: &str = env!("CARGO_BIN_EXE_mykey-helper");
const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Runs the helper with nothing of this process's environment but `env` (HOME, PATH, …).
fn helper_in(env: &[(&str, &Path)], args: &[&str]) -> Output {
    let mut command = Command::new(HELPER);
    command.args(args).env_clear().env("PATH", SYSTEM_PATH);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run mykey-helper")
}

fn run_ok(env: &[(&str, &Path)], args: &[&str]) -> String {
    let output = helper_in(env, args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    text(&output.stdout)
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("the manifest is JSON")
}

/// Every file under `dir`, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn this_helper() -> String {
    std::fs::canonicalize(HELPER)
        .expect("helper path")
        .display()
        .to_string()
}

/// desktop-file-validate (desktop-file-utils, installed by .ci/run) finds nothing to say.
fn assert_valid_desktop_entry(path: &Path) {
    let output = Command::new("desktop-file-validate")
        .arg(path)
        .output()
        .expect("desktop-file-validate is missing: apt-get install desktop-file-utils");
    assert!(
        output.status.success() && output.stdout.is_empty(),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

fn assert_manifests(paths: &[PathBuf; 4], exe: &str) {
    let [chromium, chrome, edge, firefox] = paths;
    for path in [chromium, chrome, edge] {
        let manifest = json(path);
        assert_eq!(manifest["name"], "jp.mykey.helper");
        assert_eq!(manifest["type"], "stdio");
        assert_eq!(manifest["path"], exe, "{}", path.display());
        assert_eq!(
            manifest["allowed_origins"],
            serde_json::json!(["chrome-extension://dojcljefpojahfgnhmnhomlimaofgnoc/"])
        );
    }
    let manifest = json(firefox);
    assert_eq!(manifest["path"], exe);
    assert_eq!(
        manifest["allowed_extensions"],
        serde_json::json!(["mykey-helper@mykey-connect.jp"])
    );
}

#[test]
fn install_registers_mykey_links_and_a_manifest_per_browser_that_starts_this_helper() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let stdout = run_ok(&[("HOME", home)], &["install"]);

    let entry = home.join(".local/share/applications/mykey-helper.desktop");
    let desktop = std::fs::read_to_string(&entry).expect("desktop entry");
    assert!(
        desktop.contains(&format!("\nExec={} login %u\n", this_helper())),
        "{desktop}"
    );
    assert!(
        desktop.contains("\nMimeType=x-scheme-handler/mykey;\n"),
        "{desktop}"
    );
    assert_valid_desktop_entry(&entry);
    let manifests = [
        home.join(".config/chromium/NativeMessagingHosts/jp.mykey.helper.json"),
        home.join(".config/google-chrome/NativeMessagingHosts/jp.mykey.helper.json"),
        home.join(".config/microsoft-edge/NativeMessagingHosts/jp.mykey.helper.json"),
        home.join(".mozilla/native-messaging-hosts/jp.mykey.helper.json"),
    ];
    assert_manifests(&manifests, &this_helper());
    for path in manifests.iter().chain([&entry]) {
        assert!(stdout.contains(&path.display().to_string()), "{stdout}");
    }
    assert!(
        stdout.contains("インストールしました。/ Installed."),
        "{stdout}"
    );

    let query = Command::new("xdg-mime")
        .args(["query", "default", "x-scheme-handler/mykey"])
        .env_clear()
        .env("PATH", SYSTEM_PATH)
        .env("HOME", home)
        .output()
        .expect("xdg-mime (xdg-utils) is missing");
    assert_eq!(text(&query.stdout).trim(), "mykey-helper.desktop");
}

#[test]
fn install_follows_xdg_config_home_and_xdg_data_home() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let (config, data) = (home.join("cfg"), home.join("data"));
    let env = [
        ("HOME", home),
        ("XDG_CONFIG_HOME", config.as_path()),
        ("XDG_DATA_HOME", data.as_path()),
    ];
    run_ok(&env, &["install"]);
    assert!(data.join("applications/mykey-helper.desktop").is_file());
    assert_manifests(
        &[
            config.join("chromium/NativeMessagingHosts/jp.mykey.helper.json"),
            config.join("google-chrome/NativeMessagingHosts/jp.mykey.helper.json"),
            config.join("microsoft-edge/NativeMessagingHosts/jp.mykey.helper.json"),
            // Firefox reads only ~/.mozilla.
            home.join(".mozilla/native-messaging-hosts/jp.mykey.helper.json"),
        ],
        &this_helper(),
    );
    assert!(std::fs::read_to_string(config.join("mimeapps.list"))
        .expect("xdg-mime wrote the default")
        .contains("x-scheme-handler/mykey=mykey-helper.desktop"));
    assert!(!home.join(".config").exists() && !home.join(".local").exists());
}

#[test]
fn uninstall_leaves_no_file_behind_and_a_second_uninstall_changes_nothing() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    run_ok(&[("HOME", home)], &["install"]);
    assert!(files_under(home).len() >= 6, "{:?}", files_under(home));

    let stdout = run_ok(&[("HOME", home)], &["uninstall"]);
    assert_eq!(files_under(home), Vec::<PathBuf>::new(), "{stdout}");
    assert!(
        stdout.contains("アンインストールしました。/ Uninstalled."),
        "{stdout}"
    );

    let again = run_ok(&[("HOME", home)], &["uninstall"]);
    assert!(again.contains("Nothing to remove"), "{again}");
}

#[test]
fn without_xdg_mime_the_default_is_written_to_mimeapps_list_and_other_defaults_stay() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let no_tools = tempfile::tempdir().expect("empty PATH");
    let list = home.join(".config/mimeapps.list");
    std::fs::create_dir_all(list.parent().expect("parent")).expect("mkdir");
    let before = "[Default Applications]\nx-scheme-handler/https=firefox.desktop\n";
    std::fs::write(&list, before).expect("seed mimeapps.list");
    let env = [("HOME", home), ("PATH", no_tools.path())];

    run_ok(&env, &["install"]);
    let written = std::fs::read_to_string(&list).expect("mimeapps.list");
    assert!(
        written.contains("x-scheme-handler/mykey=mykey-helper.desktop;"),
        "{written}"
    );
    assert!(
        written.contains("x-scheme-handler/https=firefox.desktop"),
        "{written}"
    );

    run_ok(&env, &["uninstall"]);
    assert_eq!(
        std::fs::read_to_string(&list).expect("mimeapps.list"),
        before
    );
    assert_eq!(files_under(home), [list]);
}

#[test]
fn uninstall_keeps_a_mykey_default_that_names_another_program() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let no_tools = tempfile::tempdir().expect("empty PATH");
    let env = [("HOME", home), ("PATH", no_tools.path())];
    run_ok(&env, &["install"]);
    let list = home.join(".config/mimeapps.list");
    let theirs = "[Default Applications]\nx-scheme-handler/mykey=other-helper.desktop;\n";
    std::fs::write(&list, theirs).expect("the resident chose another program");

    run_ok(&env, &["uninstall"]);
    assert_eq!(std::fs::read_to_string(&list).expect("kept"), theirs);
}

#[test]
fn a_system_install_into_a_staging_folder_writes_the_package_files_for_the_given_path() {
    let stage = tempfile::tempdir().expect("stage");
    let root = stage.path();
    let root_text = root.display().to_string();
    let args = [
        "install",
        "--system",
        "--root",
        &root_text,
        "--exe",
        "/usr/bin/mykey-helper",
    ];
    run_ok(&[], &args);

    let entry = root.join("usr/share/applications/mykey-helper.desktop");
    assert!(std::fs::read_to_string(&entry)
        .expect("desktop entry")
        .contains("\nExec=/usr/bin/mykey-helper login %u\n"));
    assert_valid_desktop_entry(&entry);
    assert_manifests(
        &[
            root.join("etc/chromium/native-messaging-hosts/jp.mykey.helper.json"),
            root.join("etc/opt/chrome/native-messaging-hosts/jp.mykey.helper.json"),
            root.join("etc/opt/edge/native-messaging-hosts/jp.mykey.helper.json"),
            root.join("usr/lib/mozilla/native-messaging-hosts/jp.mykey.helper.json"),
        ],
        "/usr/bin/mykey-helper",
    );
    assert_eq!(files_under(root).len(), 5, "{:?}", files_under(root));

    run_ok(&[], &["uninstall", "--system", "--root", &root_text]);
    let left: Vec<_> = std::fs::read_dir(root).expect("stage").collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_relative_helper_path_is_refused_as_a_usage_error() {
    let home = tempfile::tempdir().expect("home");
    let output = helper_in(
        &[("HOME", home.path())],
        &["install", "--exe", "bin/mykey-helper"],
    );
    assert_eq!(output.status.code(), Some(i32::from(exit::USAGE)));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("インストールできませんでした") && stderr.contains("absolute path"),
        "{stderr}"
    );
    assert!(files_under(home.path()).is_empty());
}
