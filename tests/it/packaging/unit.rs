//! The systemd unit: how it starts the provider, and how tightly it is confined, as
//! `systemd-analyze` sees it.

use std::path::Path;
use std::process::Command;

fn unit() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/systemd/mykey-connect.service"),
    )
    .expect("unit")
}

/// The values of `key=` lines, in order.
pub fn values<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

#[test]
fn the_unit_migrates_before_it_serves_waits_for_readiness_and_runs_as_a_confined_user() {
    let unit = unit();
    let one = |key: &str| -> String {
        let v = values(&unit, key);
        assert_eq!(v.len(), 1, "{key}: {v:?}");
        v[0].to_owned()
    };
    assert_eq!(one("Type"), "notify");
    assert_eq!(
        one("ExecStartPre"),
        "/usr/bin/mykey-connect --config /etc/mykey-connect/config.toml migrate"
    );
    assert_eq!(
        one("ExecStart"),
        "/usr/bin/mykey-connect --config /etc/mykey-connect/config.toml serve"
    );
    for (key, want) in [
        ("DynamicUser", "yes"),
        ("StateDirectory", "mykey-connect"),
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("PrivateTmp", "yes"),
        ("ProtectHome", "yes"),
    ] {
        assert_eq!(one(key), want, "{key}");
    }
    assert_eq!(one("CapabilityBoundingSet"), "", "no capabilities");
}

#[test]
fn systemd_analyze_finds_nothing_wrong_and_rates_the_confinement_ok() {
    // Verified against a copy whose binary path exists on this machine.
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("mykey-connect.service");
    std::fs::write(
        &copy,
        unit().replace(
            "/usr/bin/mykey-connect",
            env!("CARGO_BIN_EXE_mykey-connect"),
        ),
    )
    .expect("copy");
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .expect("systemd-analyze (Debian: systemd) is needed for this test");
    let complaints = String::from_utf8_lossy(&verify.stderr).into_owned();
    assert!(
        verify.status.success() && complaints.trim().is_empty(),
        "{complaints}"
    );
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes"])
        .arg(&copy)
        .output()
        .expect("systemd-analyze security");
    let text = String::from_utf8_lossy(&security.stdout);
    let level: f32 = text
        .split("Overall exposure level for mykey-connect.service: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in {text}"));
    assert!(level <= 2.0, "exposure {level}: {text}");
}
