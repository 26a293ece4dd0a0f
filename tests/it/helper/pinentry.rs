//! `mykey-helper login` without a terminal: the PIN asked in pinentry dialogs
//! (tests/support/test-pinentry), failures shown in them, the PIN in none of argv or logs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mykey_connect::card::protocol::{CardErrorCode, ChallengePurpose};
use mykey_connect::helper::messages::exit;
use mykey_connect::testkit::card_file::CardFile;

use super::cli::text;
use super::dialogs::{assert_nowhere, login_without_terminal, Dialogs};
use super::provider::TestProvider;
use crate::softcard::fixture;

fn login(url: &str, card: &Path, dialogs: &Dialogs) -> Output {
    login_without_terminal(env!("CARGO_BIN_EXE_mykey-helper"), url, card, dialogs)
}

fn card_with_tries(dir: &Path, tries_left: u8) -> PathBuf {
    let path = fixture::card_in(dir);
    let mut card = CardFile::load(&path).expect("card");
    card.auth.tries_left = tries_left;
    card.save(&path).expect("save card");
    path
}

#[test]
fn without_a_terminal_the_pin_dialog_names_site_origin_and_match_code_and_the_login_succeeds() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let card = fixture::card_in(dir.path());
    let dialogs = Dialogs::answering(&[fixture::PIN]);
    let output = login(
        &provider.challenge(ChallengePurpose::Login),
        &card,
        &dialogs,
    );

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(provider.accepted().len(), 1);
    let descriptions = dialogs.texts_of("SETDESC");
    assert_eq!(descriptions.len(), 1, "{:?}", dialogs.commands());
    for expected in [
        "「Example City Library」がログインを求めています",
        &format!("ログイン先: {}", provider.base),
        "照合番号: 4821",
        &format!("Provider: {}", provider.base),
        "Match code: 4821",
    ] {
        assert!(
            descriptions[0].contains(expected),
            "{expected:?} in {descriptions:?}"
        );
    }
    assert_eq!(
        dialogs.texts_of("SETPROMPT"),
        ["利用者証明用電子証明書の暗証番号（数字4桁、残り3回）/ PIN (4 digits, 3 tries left)"]
    );
    assert_eq!(dialogs.count("GETPIN"), 1);
    // The PIN dialog is the confirmation; nothing follows a success.
    assert_eq!(dialogs.count("CONFIRM") + dialogs.count("MESSAGE"), 0);
    assert_eq!(dialogs.commands().last().map(String::as_str), Some("BYE"));
    assert_eq!(dialogs.argv().len(), 1);
    assert_nowhere(
        fixture::PIN,
        &provider.base,
        &[
            ("the helper's standard error", text(&output.stderr)),
            ("the helper's standard output", text(&output.stdout)),
            (
                "the commands sent to pinentry",
                dialogs.commands().join("\n"),
            ),
            ("the pinentry's argv", dialogs.argv().join("\n")),
        ],
    );
}

#[test]
fn a_wrong_pin_costs_one_try_and_a_message_dialog_says_how_many_are_left() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let card = fixture::card_in(dir.path());
    let dialogs = Dialogs::answering(&["9999"]);
    let output = login(
        &provider.challenge(ChallengePurpose::Login),
        &card,
        &dialogs,
    );

    assert_eq!(output.status.code(), Some(i32::from(exit::WRONG_PIN)));
    assert_eq!(CardFile::load(&card).expect("card").auth.tries_left, 2);
    assert_eq!(dialogs.count("GETPIN"), 1);
    assert_eq!(dialogs.count("MESSAGE"), 1);
    let message = dialogs
        .texts_of("SETDESC")
        .pop()
        .expect("the message dialog");
    assert!(
        message.contains("暗証番号が違います。残り2回です。")
            && message.contains("Wrong PIN. 2 tries left."),
        "{message}"
    );
    assert_eq!(dialogs.argv().len(), 2, "a PIN dialog, then a message");
    assert_nowhere(
        "9999",
        &provider.base,
        &[
            ("the helper's standard error", text(&output.stderr)),
            (
                "the commands sent to pinentry",
                dialogs.commands().join("\n"),
            ),
            ("the pinentries' argv", dialogs.argv().join("\n")),
        ],
    );
}

#[test]
fn cancel_in_the_pin_dialog_is_reported_as_cancelled_and_spends_no_try() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let card = fixture::card_in(dir.path());
    let dialogs = Dialogs::answering(&["CANCEL"]);
    let output = login(
        &provider.challenge(ChallengePurpose::Login),
        &card,
        &dialogs,
    );

    assert_eq!(output.status.code(), Some(i32::from(exit::CANCELLED)));
    assert!(text(&output.stderr).contains("中止しました。\nCancelled."));
    assert_eq!(CardFile::load(&card).expect("card").auth.tries_left, 3);
    assert_eq!(provider.posts(), 0);
    assert_eq!(
        dialogs.count("MESSAGE"),
        0,
        "Cancel needs no dialog of its own"
    );
}

#[test]
fn a_pin_in_the_wrong_format_is_asked_again_in_the_same_dialog_with_the_reason() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let card = fixture::card_in(dir.path());
    let dialogs = Dialogs::answering(&["12", fixture::PIN]);
    let output = login(
        &provider.challenge(ChallengePurpose::Login),
        &card,
        &dialogs,
    );

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(dialogs.argv().len(), 1, "one dialog");
    assert_eq!(dialogs.count("GETPIN"), 2);
    assert_eq!(
        dialogs.texts_of("SETERROR"),
        ["暗証番号は数字4桁です。\nThe PIN is 4 digits."]
    );
    assert_eq!(CardFile::load(&card).expect("card").auth.tries_left, 3);
}

#[test]
fn three_pins_in_the_wrong_format_stop_the_login_without_spending_a_try() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let card = fixture::card_in(dir.path());
    let dialogs = Dialogs::answering(&["1", "12345", "abcd", fixture::PIN]);
    let output = login(
        &provider.challenge(ChallengePurpose::Login),
        &card,
        &dialogs,
    );

    assert_eq!(output.status.code(), Some(i32::from(exit::WRONG_PIN)));
    assert_eq!(dialogs.count("GETPIN"), 3);
    assert_eq!(dialogs.answers_left(), format!("{}\n", fixture::PIN));
    assert!(dialogs
        .texts_of("SETDESC")
        .pop()
        .expect("message")
        .contains("The PIN is 4 digits."));
    assert_eq!(CardFile::load(&card).expect("card").auth.tries_left, 3);
    assert_eq!(provider.posts(), 0);
}

#[test]
fn before_the_last_try_the_pin_dialog_warns_that_a_wrong_pin_blocks_it() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let card = card_with_tries(dir.path(), 1);
    let dialogs = Dialogs::answering(&[fixture::PIN]);
    let output = login(
        &provider.challenge(ChallengePurpose::Login),
        &card,
        &dialogs,
    );

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let warning = dialogs.texts_of("SETERROR");
    assert_eq!(warning.len(), 1, "{:?}", dialogs.commands());
    assert!(
        warning[0].contains("残り1回") && warning[0].contains("this is the last try"),
        "{warning:?}"
    );
    let commands = dialogs.commands();
    let position = |verb: &str| commands.iter().position(|c| c.starts_with(verb));
    assert!(position("SETERROR") < position("GETPIN"), "{commands:?}");
    assert!(dialogs.texts_of("SETPROMPT")[0].contains("1 tries left"));
}

#[test]
fn a_blocked_pin_is_not_asked_and_a_message_dialog_sends_the_resident_to_the_city_office() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let card = card_with_tries(dir.path(), 0);
    let dialogs = Dialogs::answering(&[]);
    let output = login(
        &provider.challenge(ChallengePurpose::Login),
        &card,
        &dialogs,
    );

    assert_eq!(output.status.code(), Some(i32::from(exit::BLOCKED)));
    assert_eq!(dialogs.count("GETPIN"), 0);
    assert_eq!(dialogs.count("MESSAGE"), 1);
    let message = dialogs.texts_of("SETDESC").pop().expect("message");
    assert!(
        message.contains("市区町村の窓口") && message.contains("city office"),
        "{message}"
    );
}

#[test]
fn identity_verification_asks_the_pin_then_the_signature_password_in_two_dialogs() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let card = fixture::card_in(dir.path());
    let dialogs = Dialogs::answering(&[fixture::PIN, "abc123"]);
    let output = login(
        &provider.challenge(ChallengePurpose::Verify),
        &card,
        &dialogs,
    );

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(provider.accepted()[0].sign_certificate.is_some());
    assert_eq!(dialogs.argv().len(), 2);
    let prompts = dialogs.texts_of("SETPROMPT");
    assert!(prompts[0].contains("PIN") && prompts[1].contains("signature password (6–16"));
    let descriptions = dialogs.texts_of("SETDESC");
    assert!(
        descriptions[0].contains("本人確認") && descriptions[0].contains("identity verification")
    );
    assert!(descriptions[1].contains("署名用電子証明書のパスワードを入力してください"));
    assert_nowhere(
        fixture::PASSWORD,
        &provider.base,
        &[
            ("the helper's standard error", text(&output.stderr)),
            (
                "the commands sent to pinentry",
                dialogs.commands().join("\n"),
            ),
        ],
    );
}

#[test]
fn a_refusal_by_the_provider_is_shown_in_a_message_dialog() {
    let provider = TestProvider::start();
    provider.refuse_with(CardErrorCode::CertificateRevoked);
    let dir = tempfile::tempdir().expect("tempdir");
    let card = fixture::card_in(dir.path());
    let dialogs = Dialogs::answering(&[fixture::PIN]);
    let output = login(
        &provider.challenge(ChallengePurpose::Login),
        &card,
        &dialogs,
    );

    assert_eq!(
        output.status.code(),
        Some(i32::from(exit::PROVIDER_REFUSED))
    );
    assert_eq!(dialogs.count("MESSAGE"), 1);
    let message = dialogs.texts_of("SETDESC").pop().expect("message");
    assert!(
        message.contains("電子証明書は失効しています") && message.contains("has been revoked"),
        "{message}"
    );
}

#[test]
fn without_any_pinentry_the_helper_says_what_to_install() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let card = fixture::card_in(dir.path());
    let empty = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_mykey-helper"))
        .args([
            "login",
            &provider.challenge(ChallengePurpose::Login),
            "--card",
        ])
        .arg(format!("file:{}", card.display()))
        .env_remove("MYKEY_PINENTRY")
        .env("PATH", empty.path())
        .stdin(Stdio::null())
        .output()
        .expect("run mykey-helper");

    assert_eq!(output.status.code(), Some(i32::from(exit::CANCELLED)));
    let stderr = text(&output.stderr);
    for expected in [
        "pinentry",
        "sudo apt install pinentry-gnome3",
        "MYKEY_PINENTRY",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }
    assert_eq!(provider.posts(), 0);
}

#[test]
fn status_with_password_without_a_terminal_asks_the_password_in_a_dialog() {
    let dir = tempfile::tempdir().expect("tempdir");
    let card = fixture::card_in(dir.path());
    let dialogs = Dialogs::answering(&[fixture::PASSWORD]);
    let mut command = Command::new(env!("CARGO_BIN_EXE_mykey-helper"));
    command
        .args(["status", "--with-password", "--card"])
        .arg(format!("file:{}", card.display()))
        .stdin(Stdio::null());
    let output = dialogs.configure(&mut command).output().expect("run");

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let (subject, _) = fixture::subject_and_expiry(mykey_connect::card::jpki::Purpose::Sign);
    assert!(text(&output.stdout).contains(&subject));
    assert_eq!(
        dialogs.texts_of("SETPROMPT"),
        ["署名用電子証明書のパスワード（英大文字と数字6〜16文字、残り5回）/ signature password (6–16 letters A–Z and digits, 5 tries left)"]
    );
}
