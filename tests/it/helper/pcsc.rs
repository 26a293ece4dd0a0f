//! PC/SC for real: pcscd with the vsmartcard vpcd driver, the bridge, `status` and `login`.
//!
//! These need a running pcscd (`.ci/run` starts it; by hand: `pcscd` as root). They fail,
//! never skip, when it is not reachable. pcscd serves one vpcd reader per port, so every
//! test that inserts a card (here and in `opensc`) holds the process-wide [`VPCD`] lock;
//! other processes are kept out by `flock /tmp/mykey-vpcd.lock`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use mykey_connect::card::jpki::{Purpose, TOKEN_LABEL};
use mykey_connect::card::protocol::ChallengePurpose;
use mykey_connect::helper::jpki::Jpki;
use mykey_connect::helper::messages::exit;
use mykey_connect::helper::pcsc::{list_readers, PcscTransport, ReaderStatus};
use mykey_connect::helper::secret::Secret;
use mykey_connect::helper::transport::{CardTransport, TransportError};
use mykey_connect::testkit::card_file::CardFile;

use super::cli::{helper, text};
use super::provider::TestProvider;
use crate::softcard::fixture;

/// Held by every test of this binary that uses the virtual reader.
pub(crate) static VPCD: Mutex<()> = Mutex::new(());

/// The bridge process; killed when the test ends, however it ends.
pub(crate) struct Bridge(Child);

impl Bridge {
    pub(crate) fn start(card: &Path) -> Bridge {
        let child = Command::new(env!("CARGO_BIN_EXE_mykey-helper"))
            .args(["vpcd", "--card"])
            .arg(card)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start mykey-helper vpcd");
        Bridge(child)
    }
}

impl Drop for Bridge {
    /// Stops the bridge and waits (up to 10 s) until pcscd sees its card gone, so that the
    /// next test starts with an empty reader.
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until
            && list_readers().is_ok_and(|readers| {
                readers
                    .iter()
                    .any(|r| r.name.starts_with("Virtual PCD") && r.card_present)
            })
        {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

pub(crate) fn readers() -> Vec<ReaderStatus> {
    match list_readers() {
        Ok(readers) => readers,
        Err(TransportError::NoService) => panic!(
            "pcscd is not reachable, so the PC/SC tests cannot run: start it (as root: `pcscd`; .ci/run does)"
        ),
        Err(error) => panic!(
            "PC/SC lists no usable reader ({error}); is vsmartcard-vpcd installed (/etc/reader.conf.d/vpcd)?"
        ),
    }
}

pub(crate) fn wait_for_virtual_card(deadline: Duration) -> ReaderStatus {
    let until = Instant::now() + deadline;
    loop {
        let readers = readers();
        if let Some(reader) = readers
            .iter()
            .find(|r| r.name.starts_with("Virtual PCD") && r.card_present)
        {
            return reader.clone();
        }
        assert!(
            Instant::now() < until,
            "no card appeared in a Virtual PCD reader within {deadline:?}: {readers:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn pcsc_through_vpcd_serves_status_and_login_and_counts_a_wrong_pin() {
    let _only_one = VPCD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let before = readers();
    assert!(
        before.iter().any(|r| r.name.starts_with("Virtual PCD")),
        "pcscd runs but has no Virtual PCD reader: {before:?}"
    );
    assert!(
        !before
            .iter()
            .any(|r| r.name.starts_with("Virtual PCD") && r.card_present),
        "another virtual card is already inserted: {before:?}"
    );
    let no_card = helper(&["status", "--card", "pcsc:Virtual PCD"], "");
    assert_eq!(no_card.status.code(), Some(i32::from(exit::READER)));
    assert!(text(&no_card.stderr).contains("にカードがありません"));

    let dir = tempfile::tempdir().expect("tempdir");
    let path = fixture::card_in(dir.path());
    let _bridge = Bridge::start(&path);
    let reader = wait_for_virtual_card(Duration::from_secs(20));

    let status = helper(&["status", "--card", "pcsc"], "");
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let stdout = text(&status.stdout);
    let (auth_subject, _) = fixture::subject_and_expiry(Purpose::Auth);
    for expected in [
        TOKEN_LABEL,
        reader.name.as_str(),
        auth_subject.as_str(),
        "3 tries left",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing from:\n{stdout}"
        );
    }

    let provider = TestProvider::start();
    let url = provider.challenge(ChallengePurpose::Verify);
    let login = helper(
        &["login", &url, "--card", "pcsc", "--pin-stdin", "--yes"],
        "1234\nABC123\n",
    );
    assert_eq!(login.status.code(), Some(0), "{}", text(&login.stderr));
    assert_eq!(provider.accepted().len(), 1);

    let url = provider.challenge(ChallengePurpose::Login);
    let named = format!("pcsc:{}", reader.name);
    let wrong = helper(
        &["login", &url, "--card", &named, "--pin-stdin", "--yes"],
        "0000\n",
    );
    assert_eq!(
        wrong.status.code(),
        Some(i32::from(exit::WRONG_PIN)),
        "{}",
        text(&wrong.stderr)
    );
    assert!(text(&wrong.stderr).contains("Wrong PIN. 2 tries left."));
    assert_eq!(CardFile::load(&path).expect("card file").auth.tries_left, 2);
}

#[test]
fn while_the_helper_holds_the_card_from_verify_to_signature_no_other_application_reaches_it() {
    let _only_one = VPCD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = fixture::card_in(dir.path());
    let _bridge = Bridge::start(&path);
    let reader = wait_for_virtual_card(Duration::from_secs(20));

    let mut helper_side = PcscTransport::connect(Some(&reader.name)).expect("the helper connects");
    let mut held = Jpki::new(helper_side.hold().expect("the helper holds the card"));

    // Another application on this machine, e.g. tax filing software, uses the same reader.
    let (arrived, answers) = mpsc::channel();
    let name = reader.name.clone();
    let other = std::thread::spawn(move || {
        let mut other = PcscTransport::connect(Some(&name)).expect("another application connects");
        let plain = Jpki::new(&mut other).select_application();
        arrived
            .send(("command without a transaction", plain.is_ok()))
            .expect("send");
        let mut other_held = other.hold().expect("the other application holds the card");
        let selected = Jpki::new(&mut other_held).select_application();
        arrived
            .send(("transaction", selected.is_ok()))
            .expect("send");
    });

    let pin = Secret::pin("1234".to_owned()).expect("PIN");
    held.verify(Purpose::Auth, &pin)
        .expect("the helper's VERIFY");
    let message = b"challenge bytes";
    let mut early = Vec::new();
    // Whatever the other application sends meanwhile is refused or waits: it never runs.
    while let Ok(event) = answers.recv_timeout(Duration::from_millis(700)) {
        early.push(event);
    }
    held.sign(Purpose::Auth, message)
        .expect("the helper's signature after its VERIFY");
    assert!(
        early.iter().all(|(_, reached_the_card)| !reached_the_card),
        "another application reached the card while the helper held it: {early:?}"
    );
    assert!(
        !early.iter().any(|(what, _)| *what == "transaction"),
        "another application began a transaction while the helper held the card"
    );
    drop(held);

    let mut after = early;
    while !after.iter().any(|(what, _)| *what == "transaction") {
        after.push(
            answers
                .recv_timeout(Duration::from_secs(10))
                .expect("the other application gets the card once the helper lets go"),
        );
    }
    assert!(
        after.contains(&("transaction", true)),
        "the other application's command failed after the helper let go: {after:?}"
    );
    other.join().expect("other application");
}
