//! The real `mykey-helper` binary with a software card and the PIN on standard input.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use mykey_connect::card::jpki::{Purpose, TOKEN_LABEL};
use mykey_connect::card::protocol::ChallengePurpose;
use mykey_connect::helper::messages::exit;
use mykey_connect::testkit::card_file::CardFile;

use super::provider::TestProvider;
use crate::softcard::fixture;

/// Runs the helper with `args`, feeding `stdin`.
pub fn helper(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mykey-helper"))
        .args(args)
        .env_remove("MYKEY_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mykey-helper");
    // A helper that refuses before reading its input may exit first: the pipe is then closed,
    // and what it printed is the answer.
    match child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
        _ => {}
    }
    child.wait_with_output().expect("mykey-helper finishes")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn card_arg(path: &Path) -> String {
    format!("file:{}", path.display())
}

#[test]
fn the_binary_logs_in_with_the_pin_from_stdin() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let card = card_arg(&fixture::card_in(dir.path()));
    let url = provider.challenge(ChallengePurpose::Login);
    let output = helper(
        &["login", &url, "--card", &card, "--pin-stdin", "--yes"],
        "1234\n",
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("Logged in to Example City Library"));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("4821") && stderr.contains(&provider.base),
        "{stderr}"
    );
    assert!(
        !stderr.contains("1234"),
        "the PIN must never be echoed: {stderr}"
    );
    assert_eq!(provider.accepted().len(), 1);
}

#[test]
fn the_binary_answers_identity_verification_with_pin_then_password() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let card = card_arg(&fixture::card_in(dir.path()));
    let url = provider.challenge(ChallengePurpose::Verify);
    let output = helper(
        &["login", &url, "--card", &card, "--pin-stdin", "--yes"],
        "1234\nABC123\n",
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(provider.accepted()[0].sign_certificate.is_some());
}

#[test]
fn a_wrong_pin_exits_with_its_code_and_counts_down_in_the_card_file() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = fixture::card_in(dir.path());
    let url = provider.challenge(ChallengePurpose::Login);
    let output = helper(
        &[
            "login",
            &url,
            "--card",
            &card_arg(&path),
            "--pin-stdin",
            "--yes",
        ],
        "9999\n",
    );
    assert_eq!(output.status.code(), Some(i32::from(exit::WRONG_PIN)));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("暗証番号が違います。残り2回です。"),
        "{stderr}"
    );
    assert!(stderr.contains("Wrong PIN. 2 tries left."), "{stderr}");
    assert_eq!(CardFile::load(&path).expect("card").auth.tries_left, 2);
}

#[test]
fn a_pin_in_the_wrong_format_spends_no_try() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = fixture::card_in(dir.path());
    let url = provider.challenge(ChallengePurpose::Login);
    let output = helper(
        &[
            "login",
            &url,
            "--card",
            &card_arg(&path),
            "--pin-stdin",
            "--yes",
        ],
        "12345\n",
    );
    assert_eq!(output.status.code(), Some(i32::from(exit::WRONG_PIN)));
    assert!(text(&output.stderr).contains("The PIN is 4 digits."));
    assert_eq!(CardFile::load(&path).expect("card").auth.tries_left, 3);
}

#[test]
fn pin_from_stdin_requires_yes_because_nobody_can_confirm() {
    let output = helper(
        &["login", "https://id.example.jp/c", "--pin-stdin"],
        "1234\n",
    );
    assert_eq!(output.status.code(), Some(i32::from(exit::USAGE)));
}

#[test]
fn status_of_a_card_file_shows_label_certificates_and_tries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let card = card_arg(&fixture::card_in(dir.path()));
    let output = helper(&["status", "--card", &card], "");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let (auth_subject, auth_expiry) = fixture::subject_and_expiry(Purpose::Auth);
    let (sign_subject, sign_expiry) = fixture::subject_and_expiry(Purpose::Sign);
    for expected in [
        TOKEN_LABEL,
        auth_subject.as_str(),
        auth_expiry.as_str(),
        "3 tries left",
        "5 tries left",
        "--with-password",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing from:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains(&sign_subject),
        "signature certificate shown without password"
    );

    let output = helper(
        &["status", "--card", &card, "--with-password", "--pin-stdin"],
        "ABC123\n",
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(&sign_subject) && stdout.contains(&sign_expiry),
        "{stdout}"
    );
}

#[test]
fn the_help_documents_the_exit_codes() {
    for args in [&["--help"][..], &["login", "--help"][..]] {
        let output = helper(args, "");
        let stdout = text(&output.stdout);
        assert!(
            stdout.contains("Exit codes") && stdout.contains("10  中止"),
            "{stdout}"
        );
    }
}

#[cfg(not(feature = "pcsc"))]
#[test]
fn without_pcsc_the_default_card_explains_how_to_choose_one() {
    let output = helper(
        &["login", "https://id.example.jp/c", "--pin-stdin", "--yes"],
        "1234\n",
    );
    assert_eq!(output.status.code(), Some(i32::from(exit::READER)));
    assert!(text(&output.stderr).contains("--card file:CARD"));
}
