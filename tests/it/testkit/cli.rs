//! `mykey-testkit` end to end: a CA folder, a card, a revocation, a CRL, a renewal, a linkage.

use std::path::Path;
use std::process::{Command, Output};

use mykey_connect::card::jpki::Purpose;
use mykey_connect::testkit::{CardFile, LinkageFile};

use super::support::openssl;

fn testkit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mykey-testkit"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("mykey-testkit runs")
}

fn succeeds(dir: &Path, args: &[&str]) -> (String, String) {
    let output = testkit(dir, args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{args:?}: {stdout}{stderr}");
    (stdout, stderr)
}

#[test]
fn the_command_line_issues_revokes_publishes_renews_and_links() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    succeeds(dir, &["init-ca", "ca"]);
    let (stdout, stderr) = succeeds(
        dir,
        &[
            "issue-card",
            "--ca",
            "ca",
            "--out",
            "card.json",
            "--name",
            "佐藤\u{3000}花子",
            "--birth",
            "1990-02-03",
            "--sex",
            "2",
            "--pin",
            "4321",
            "--password",
            "SECRET99",
        ],
    );
    assert!(
        stderr.contains("4321") && stderr.contains("SECRET99"),
        "{stderr}"
    );
    assert!(
        !stdout.contains("4321") && !stdout.contains("SECRET99"),
        "{stdout}"
    );
    let card = CardFile::load(&dir.join("card.json")).expect("card file");
    assert_eq!(card.holder.name, "佐藤\u{3000}花子");
    assert_eq!(card.holder.date_of_birth, "419900203", "Heisei 2");
    assert_eq!(card.holder.sex, 2);

    let (shown, shown_err) = succeeds(dir, &["show", "card.json"]);
    assert!(
        shown.contains("tries left: 3") && shown.contains("tries left: 5"),
        "{shown}"
    );
    assert!(
        shown.contains("C=JP, L=Tokyo-to, L=Chiyoda-ku, CN="),
        "{shown}"
    );
    assert!(
        !format!("{shown}{shown_err}").contains("4321"),
        "show never prints the PIN"
    );

    let serial = card.serial_hex(Purpose::Auth).expect("serial");
    succeeds(
        dir,
        &[
            "revoke",
            "--ca",
            "ca",
            "--serial",
            &serial,
            "--reason",
            "keyCompromise",
        ],
    );
    succeeds(
        dir,
        &[
            "crl",
            "--ca",
            "ca",
            "--purpose",
            "auth",
            "--out",
            "auth.crl",
            "--pad",
            "5",
        ],
    );
    let (ok, out) = openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        dir.join("auth.crl").to_str().expect("utf-8"),
        "-CAfile",
        dir.join("ca/auth-root.pem").to_str().expect("utf-8"),
        "-verify",
        "-noout",
        "-text",
    ]);
    assert!(ok && out.contains("verify OK"), "{out}");
    assert!(
        out.contains(&serial.to_uppercase()) && out.contains("Key Compromise"),
        "{out}"
    );

    let (_, renew_err) = succeeds(
        dir,
        &[
            "renew",
            "--ca",
            "ca",
            "--card",
            "card.json",
            "--out",
            "new.json",
        ],
    );
    assert!(
        renew_err.contains("PIN"),
        "the new PIN is shown once: {renew_err}"
    );
    succeeds(
        dir,
        &[
            "linkage",
            "--old",
            "card.json",
            "--new",
            "new.json",
            "--out",
            "link.json",
        ],
    );
    let link = LinkageFile::load(&dir.join("link.json")).expect("linkage file");
    let new = CardFile::load(&dir.join("new.json")).expect("new card");
    assert_eq!(link.records[0].old.serial, serial);
    assert_eq!(
        link.records[0].new.serial,
        new.serial_hex(Purpose::Auth).expect("serial")
    );
}

#[test]
fn the_command_line_refuses_bad_input_with_a_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    succeeds(dir, &["init-ca", "ca"]);
    let output = testkit(
        dir,
        &["issue-card", "--ca", "ca", "--out", "c.json", "--pin", "12"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("PIN must be exactly 4 digits"), "{stderr}");
    assert!(!dir.join("c.json").exists());

    let output = testkit(
        dir,
        &["crl", "--ca", "ca", "--purpose", "both", "--out", "x.crl"],
    );
    assert!(!output.status.success());
    let output = testkit(
        dir,
        &[
            "revoke",
            "--ca",
            "ca",
            "--serial",
            "abcd",
            "--reason",
            "superseded",
        ],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("abcd"));
}
