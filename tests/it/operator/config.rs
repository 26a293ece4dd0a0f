//! `config check` and the strict settings file, as an operator meets them.

use super::{binary, text};

fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).expect("write");
    (dir, path)
}

#[test]
fn config_check_prints_the_settings_in_force_with_where_each_came_from_and_masks_secrets() {
    let (_dir, path) = file(
        "issuer = \"https://id.example.jp\"\n\
         database_url = \"postgres://mykey:db-password@db.example.jp/mykey\"\n\
         trusted_proxies = [\"10.0.0.0/8\"]\n",
    );
    let kek = "c2VjcmV0LWtleS1lbmNyeXB0aW9uLWtleS0xMjM0NTY=";
    let out = binary()
        .arg("--config")
        .arg(&path)
        .args(["config", "check"])
        .env("MYKEY_KEY_ENCRYPTION_KEY", kek)
        .env("MYKEY_SESSION_TTL", "900")
        .output()
        .expect("run");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    for line in [
        "issuer = \"https://id.example.jp\"  # file",
        "database_url = \"postgres://mykey:********@db.example.jp/mykey\"  # file, password masked",
        "key_encryption_key = \"********\"  # environment MYKEY_KEY_ENCRYPTION_KEY, masked",
        "session_ttl = 900  # environment MYKEY_SESSION_TTL",
        "listen = \"127.0.0.1:8080\"  # default",
        "trusted_proxies = [\"10.0.0.0/8\"]  # file",
        "# the settings are valid",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "{line:?} missing:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("db-password") && !stdout.contains(kek),
        "{stdout}"
    );
    assert!(
        !stderr.contains("db-password") && !stderr.contains(kek),
        "{stderr}"
    );
}

#[test]
fn config_check_lists_every_problem_naming_keys_and_lines_and_exits_1() {
    let (_dir, path) =
        file("issuer = \"http://id.example.jp\"\nkey_rotaton_lead = 600\ncode_ttl = \"60\"\n");
    let out = binary()
        .arg("--config")
        .arg(&path)
        .args(["config", "check"])
        .env("MYKEY_WORKERS", "many")
        .output()
        .expect("run");
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for want in [
        "4 problem(s) in the settings:",
        "unknown key `key_rotaton_lead` (line 2); did you mean `key_rotation_lead`?",
        "code_ttl: must be a whole number of seconds (line 3)",
        "issuer: must be https unless the host is a loopback address",
        "workers: MYKEY_WORKERS must be a whole number",
    ] {
        assert!(stderr.contains(want), "{want:?} missing:\n{stderr}");
    }

    // What the settings point at is checked too: PostgreSQL needs a key-encryption key.
    let out = binary()
        .args(["config", "check"])
        .env("MYKEY_DATABASE_URL", "postgres://db.example.jp/mykey")
        .output()
        .expect("run");
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("key_encryption_key: is required with PostgreSQL"),
        "{stderr}"
    );
}

#[test]
fn serve_refuses_a_settings_file_with_an_unknown_key_and_names_it() {
    let (_dir, path) = file("isuer = \"https://id.example.jp\"\n");
    let out = binary()
        .arg("--config")
        .arg(&path)
        .arg("serve")
        .output()
        .expect("run");
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("unknown key `isuer` (line 1); did you mean `issuer`?"),
        "{stderr}"
    );
}
