use std::time::Duration;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mykey.toml");
    std::fs::write(&path, text).expect("write");
    (dir, path)
}

/// A value of the key's kind, as TOML and as an environment variable.
fn sample(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Text | Kind::Secret | Kind::Path => ("\"x\"", "x"),
        Kind::DatabaseUrl => ("\"sqlite://x.db\"", "sqlite://x.db"),
        Kind::Seconds | Kind::Count => ("7200", "7200"),
        Kind::Flag => ("true", "true"),
        Kind::List => ("[]", ""),
    }
}

#[test]
fn every_setting_has_a_file_key_and_an_environment_variable() {
    for key in KEYS {
        let (toml, text) = sample(key.kind);
        let mut from_file = keys::Given::default();
        from_file
            .read_file(&format!("{} = {toml}\n", key.name))
            .expect("toml");
        let mut from_env = keys::Given::default();
        from_env.read_env(&env(&[(&key.env(), text)]));
        for given in [from_file, from_env] {
            assert!(
                given.problems.is_empty(),
                "{}: {:?}",
                key.name,
                given.problems
            );
            assert!(
                given.warnings.is_empty(),
                "{}: {:?}",
                key.name,
                given.warnings
            );
            assert!(given.values.contains_key(key.name), "{}", key.name);
        }
    }
}

#[test]
fn every_setting_is_in_the_readme_reference_with_its_variable() {
    let readme = include_str!("../../README.md");
    for key in KEYS {
        let row = format!("| `{}` | `{}` |", key.name, key.env());
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
}

#[test]
fn environment_overrides_the_file_and_defaults_fill_the_rest() {
    let (_dir, path) = file("issuer = \"https://id.example.jp\"\ncode_ttl = 30\n");
    let loaded = Settings::check(
        Some(&path),
        &env(&[("MYKEY_CODE_TTL", "45"), ("MYKEY_ALLOW_TEST_CARDS", "true")]),
    )
    .expect("valid");
    let s = &loaded.settings;
    assert_eq!(s.issuer.as_str(), "https://id.example.jp/");
    assert_eq!(s.issuer_str(), "https://id.example.jp");
    assert_eq!(s.lifetimes.code, Duration::from_secs(45));
    assert!(s.allow_test_cards);
    assert!(s.secure_cookies());
    assert_eq!(s.database_url, "sqlite://mykey.sqlite3");
    assert_eq!(loaded.sources["issuer"], Source::File);
    assert_eq!(loaded.sources["code_ttl"], Source::Environment);
    assert_eq!(loaded.sources["listen"], Source::Default);
}

#[test]
fn an_unknown_key_is_refused_by_name_and_line_with_the_nearest_setting() {
    let (_dir, path) = file("issuer = \"https://id.example.jp\"\n\nkey_rotaton_lead = 600\n");
    let e = Settings::from_sources(Some(&path), &[]).expect_err("refused");
    let text = e.to_string();
    assert!(
        text.contains("unknown key `key_rotaton_lead` (line 3)"),
        "{text}"
    );
    assert!(text.contains("did you mean `key_rotation_lead`?"), "{text}");
}

#[test]
fn every_problem_is_listed_not_only_the_first() {
    let (_dir, path) = file(
        "issuer = \"http://id.example.jp\"\ncode_ttl = \"60\"\nlog_format = \"xml\"\nsurprise = 1\n",
    );
    let e = Settings::from_sources(Some(&path), &env(&[("MYKEY_WORKERS", "many")]))
        .expect_err("refused");
    let text = e.to_string();
    for want in [
        "issuer: must be https unless the host is a loopback address",
        "code_ttl: must be a whole number of seconds (line 2)",
        "log_format: must be text or json",
        "unknown key `surprise` (line 4)",
        "workers: MYKEY_WORKERS must be a whole number",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
}

#[test]
fn a_misspelt_variable_is_a_warning_and_other_tools_variables_are_not() {
    let loaded = Settings::check(
        None,
        &env(&[
            ("MYKEY_ISUER", "https://id.example.jp"),
            ("MYKEY_LOG", "debug"),
            ("MYKEY_CONFIG", "/etc/mykey-connect/config.toml"),
            ("MYKEY_TEST_POSTGRES_URL", "postgres://x"),
        ]),
    )
    .expect("valid");
    assert_eq!(
        loaded.warnings,
        ["MYKEY_ISUER is not a setting and is ignored; did you mean MYKEY_ISSUER?"]
    );
}

#[test]
fn an_audit_retention_is_off_by_default_and_never_shorter_than_a_day() {
    let retention = |value: Option<&str>| {
        let vars: Vec<(&str, &str)> = value
            .map(|v| ("MYKEY_AUDIT_RETENTION", v))
            .into_iter()
            .collect();
        Settings::from_sources(None, &env(&vars))
            .expect("valid")
            .audit_retention
    };
    assert_eq!(retention(None), None);
    assert_eq!(retention(Some("0")), None);
    assert_eq!(retention(Some("60")), Some(Duration::from_secs(86_400)));
    assert_eq!(
        retention(Some("34560000")),
        Some(Duration::from_secs(34_560_000))
    );
    assert!(Settings::from_sources(None, &env(&[("MYKEY_AUDIT_RETENTION", "400d")])).is_err());
}

#[test]
fn key_rotation_runs_every_90_days_by_default_and_0_turns_it_off() {
    let s = Settings::from_sources(None, &[]).expect("valid");
    assert_eq!(
        s.key_rotation_interval,
        Some(Duration::from_secs(90 * 86_400))
    );
    assert_eq!(
        s.code_key_rotation_interval,
        Some(Duration::from_secs(86_400))
    );
    let off = Settings::from_sources(
        None,
        &env(&[
            ("MYKEY_KEY_ROTATION_INTERVAL", "0"),
            ("MYKEY_CODE_KEY_ROTATION_INTERVAL", "0"),
        ]),
    )
    .expect("valid");
    assert_eq!(off.key_rotation_interval, None);
    assert_eq!(off.code_key_rotation_interval, None);
    let e = Settings::from_sources(
        None,
        &env(&[
            ("MYKEY_KEY_ROTATION_INTERVAL", "7200"),
            ("MYKEY_KEY_ROTATION_LEAD", "7200"),
            ("MYKEY_CODE_KEY_ROTATION_INTERVAL", "60"),
        ]),
    )
    .expect_err("refused");
    assert_eq!(
        e.keys(),
        ["key_rotation_interval", "code_key_rotation_interval"]
    );
}

#[test]
fn a_plain_http_issuer_is_refused_unless_it_is_loopback() {
    let bad = Settings::from_sources(None, &env(&[("MYKEY_ISSUER", "http://id.example.jp")]))
        .expect_err("refused");
    assert_eq!(bad.keys(), ["issuer"]);
    let ok = Settings::from_sources(None, &env(&[("MYKEY_ISSUER", "http://127.0.0.1:9")]));
    assert!(ok.is_ok());
}

#[test]
fn the_database_password_is_not_shown_in_debug_output_or_the_effective_settings() {
    let loaded = Settings::check(
        None,
        &env(&[
            (
                "MYKEY_DATABASE_URL",
                "postgres://u:pw@db/mykey?password=pw2&sslmode=require",
            ),
            (
                "MYKEY_KEY_ENCRYPTION_KEY",
                "a2V5LWVuY3J5cHRpb24ta2V5LWtleS1lbmNyeXB0aW8=",
            ),
        ]),
    )
    .expect("valid");
    assert!(!format!("{:?}", loaded.settings).contains("pw@"));
    let shown = loaded.render();
    assert!(!shown.contains("pw@") && !shown.contains("pw2"), "{shown}");
    assert!(!shown.contains("a2V5"), "{shown}");
    assert!(
        shown.contains(
            "database_url = \"postgres://u:********@db/mykey?password=********&sslmode=require\""
        ),
        "{shown}"
    );
    assert!(
        shown.contains(
            "key_encryption_key = \"********\"  # environment MYKEY_KEY_ENCRYPTION_KEY, masked"
        ),
        "{shown}"
    );
}

#[test]
fn the_effective_settings_load_back_to_the_same_settings() {
    let (_dir, path) = file(
        "issuer = \"https://id.example.jp\"\ntrusted_proxies = [\"10.0.0.0/8\"]\ncrl_urls = [\"https://crl.example.jp/a.crl\"]\n",
    );
    let loaded =
        Settings::check(Some(&path), &env(&[("MYKEY_SESSION_TTL", "900")])).expect("valid");
    let shown = loaded.render();
    assert!(
        shown.contains("session_ttl = 900  # environment MYKEY_SESSION_TTL\n"),
        "{shown}"
    );
    assert!(
        shown.contains("listen = \"127.0.0.1:8080\"  # default\n"),
        "{shown}"
    );
    assert!(shown.contains("# audit_retention not set: "), "{shown}");
    let (_dir2, again) = file(&shown);
    let reloaded = Settings::check(Some(&again), &[]).expect("the rendering loads");
    let values = |text: String| -> Vec<String> {
        text.lines()
            .map(|l| l.split("  # ").next().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(values(reloaded.render()), values(shown));
}

#[test]
fn trusted_proxies_are_addresses_or_cidr_blocks_and_anything_else_is_refused() {
    let s = Settings::from_sources(
        None,
        &env(&[(
            "MYKEY_TRUSTED_PROXIES",
            "10.0.0.0/8, 192.0.2.10,2001:db8::/32",
        )]),
    )
    .expect("settings");
    let has = |a: &str| {
        let a = a.parse().expect("ip");
        s.trusted_proxies.iter().any(|n| n.contains(a))
    };
    assert!(has("10.200.3.4") && has("192.0.2.10") && has("2001:db8:1::5"));
    assert!(
        has("::ffff:10.0.0.1"),
        "IPv4-mapped IPv6 is the IPv4 address"
    );
    assert!(!has("11.0.0.1") && !has("192.0.2.11") && !has("2001:db9::1"));
    for bad in ["10.0.0.0/33", "proxy.example", "10.0.0.0/x", "::/129"] {
        let e =
            Settings::from_sources(None, &env(&[("MYKEY_TRUSTED_PROXIES", bad)])).expect_err(bad);
        assert_eq!(e.keys(), ["trusted_proxies"], "{bad}");
    }
}
