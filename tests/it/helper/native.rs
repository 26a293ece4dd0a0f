//! The native-messaging host (docs/card-login.md §8): the framed conversation with the
//! extension, the origin rule, and the real binary started the way browsers start it.

use std::io::{Cursor, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use mykey_connect::card::jpki::Purpose;
use mykey_connect::card::protocol::{CardErrorCode, ChallengePurpose};
use mykey_connect::helper::install;
use mykey_connect::helper::login::CheckedChallenge;
use mykey_connect::helper::messages::Bilingual;
use mykey_connect::helper::native::{
    self, read_message, write_message, HostContext, HostReply, HostRequest, ReplyError,
};
use mykey_connect::helper::prompt::{PromptError, Prompter};
use mykey_connect::helper::secret::Secret;
use mykey_connect::helper::softcard::SoftCard;
use mykey_connect::helper::transport::{CardTransport, TransportError};
use mykey_connect::testkit::card_file::CardFile;
use serde_json::{json, Value};

use super::provider::TestProvider;
use super::ScriptedPerson;
use crate::softcard::fixture;

/// The person, shared between the host (which owns its prompter) and the test.
#[derive(Clone)]
struct Person(Arc<Mutex<ScriptedPerson>>);

impl Person {
    fn typing(answers: &[&'static str]) -> Person {
        Person(Arc::new(Mutex::new(ScriptedPerson::typing(answers))))
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, ScriptedPerson> {
        self.0.lock().expect("person")
    }
}

impl Prompter for Person {
    fn show_request(&mut self, challenge: &CheckedChallenge) {
        self.seen().show_request(challenge);
    }
    fn confirm(&mut self) -> Result<bool, PromptError> {
        self.seen().confirm()
    }
    fn notice(&mut self, message: &Bilingual) {
        self.seen().notice(message);
    }
    fn ask_secret(&mut self, purpose: Purpose, tries_left: u8) -> Result<Secret, PromptError> {
        self.seen().ask_secret(purpose, tries_left)
    }
    fn show_failure(&mut self, message: &Bilingual) {
        self.seen().show_failure(message);
    }
}

/// This computer as the host sees it: one software card and one person.
struct Desk {
    person: Person,
    card: PathBuf,
}

impl HostContext for Desk {
    fn prompter(&mut self) -> Result<Box<dyn Prompter>, PromptError> {
        Ok(Box::new(self.person.clone()))
    }
    fn card(&mut self) -> Result<Box<dyn CardTransport>, TransportError> {
        Ok(Box::new(SoftCard::open(&self.card)?))
    }
    fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }
}

fn framed(requests: &[Value]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for request in requests {
        write_message(&mut bytes, request.to_string().as_bytes()).expect("frame");
    }
    bytes
}

fn replies(bytes: Vec<u8>) -> Vec<HostReply> {
    let mut input = Cursor::new(bytes);
    let mut replies = Vec::new();
    while let Some(message) = read_message(&mut input).expect("a framed reply") {
        replies.push(serde_json::from_slice(&message).expect("a reply of §8.3"));
    }
    replies
}

/// What one conversation left: the replies, the person, and the card (in its folder).
struct Conversation {
    replies: Vec<HostReply>,
    person: Person,
    card: PathBuf,
    _dir: tempfile::TempDir,
}

/// Runs the host over `requests` with the fixture card and a person typing `answers`.
fn converse(requests: &[Value], answers: &[&'static str]) -> Conversation {
    let dir = tempfile::tempdir().expect("tempdir");
    let person = Person::typing(answers);
    let mut desk = Desk {
        person: person.clone(),
        card: fixture::card_in(dir.path()),
    };
    let mut output = Vec::new();
    native::serve(&mut Cursor::new(framed(requests)), &mut output, &mut desk)
        .expect("the host ends when the pipe does");
    Conversation {
        replies: replies(output),
        person,
        card: desk.card,
        _dir: dir,
    }
}

fn login(challenge: &str, origin: &str) -> Value {
    json!({ "type": "login", "challenge": challenge, "origin": origin })
}

#[test]
fn the_host_answers_a_login_from_the_page_of_the_same_origin_and_the_provider_accepts_it() {
    let provider = TestProvider::start();
    let url = provider.challenge(ChallengePurpose::Login);
    let Conversation {
        replies, person, ..
    } = converse(
        &[json!({"type": "version"}), login(&url, &provider.base)],
        &["1234"],
    );
    assert_eq!(
        replies[0],
        HostReply::Version {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            protocol: "mykey-clp/1".to_owned()
        }
    );
    assert_eq!(
        replies[1],
        HostReply::Accepted {
            client_name: "Example City Library".to_owned(),
            issuer: provider.base.clone(),
            match_code: "4821".to_owned(),
        }
    );
    assert_eq!(provider.accepted().len(), 1);
    let seen = person.seen();
    assert_eq!(seen.shown[0].document.match_code, "4821");
    assert_eq!(seen.asked, vec![(Purpose::Auth, 3)]);
}

#[test]
fn a_page_of_another_origin_cannot_have_the_card_answer_this_providers_challenge() {
    let provider = TestProvider::start();
    let url = provider.challenge(ChallengePurpose::Login);
    let link = format!(
        "mykey://login?challenge={}",
        percent_encoding::utf8_percent_encode(&url, percent_encoding::NON_ALPHANUMERIC)
    );
    let c = converse(
        &[
            login(&url, "https://look-alike.example"),
            login(&link, "http://localhost:1"),
        ],
        &["1234"],
    );
    for reply in &c.replies {
        let HostReply::Refused {
            error,
            retry,
            message,
            ..
        } = reply
        else {
            panic!("refused, not {reply:?}")
        };
        assert_eq!(*error, ReplyError::OriginMismatch);
        assert!(!retry);
        assert!(message.en.contains("may be a fake site"), "{message:?}");
    }
    // Nobody was asked for a PIN, the provider never heard of it, the card kept its tries.
    assert!(c.person.seen().asked.is_empty() && c.person.seen().shown.is_empty());
    assert_eq!((provider.fetches(), provider.posts()), (0, 0));
    let counter = CardFile::load(&c.card).expect("card").auth.tries_left;
    assert_eq!(counter, 3);
}

#[test]
fn a_wrong_pin_is_told_in_the_dialog_and_the_page_may_try_the_same_challenge_again() {
    let provider = TestProvider::start();
    let url = provider.challenge(ChallengePurpose::Login);
    let Conversation {
        replies, person, ..
    } = converse(
        &[login(&url, &provider.base), login(&url, &provider.base)],
        &["0000", "1234"],
    );
    let HostReply::Refused {
        error,
        tries_left,
        retry,
        message,
        ..
    } = &replies[0]
    else {
        panic!("refused, not {:?}", replies[0])
    };
    assert_eq!(
        (*error, *tries_left, *retry),
        (ReplyError::WrongPin, Some(2), true)
    );
    assert_eq!(message.en, "Wrong PIN. 2 tries left.");
    assert_eq!(person.seen().failures, vec![message.clone()]);
    assert!(matches!(replies[1], HostReply::Accepted { .. }));
    assert_eq!(
        person.seen().asked,
        vec![(Purpose::Auth, 3), (Purpose::Auth, 2)]
    );
}

#[test]
fn a_provider_refusal_reaches_the_page_with_its_code_and_no_retry() {
    let provider = TestProvider::start();
    provider.refuse_with(CardErrorCode::CertificateRevoked);
    let url = provider.challenge(ChallengePurpose::Login);
    let Conversation {
        replies, person, ..
    } = converse(&[login(&url, &provider.base)], &["1234"]);
    let HostReply::Refused {
        error,
        provider_error,
        retry,
        ..
    } = &replies[0]
    else {
        panic!("refused, not {:?}", replies[0])
    };
    assert_eq!(*error, ReplyError::ProviderRefused);
    assert_eq!(provider_error.as_deref(), Some("certificate_revoked"));
    assert!(!retry);
    assert_eq!(person.seen().failures.len(), 1);
}

#[test]
fn requests_the_host_does_not_understand_are_answered_and_the_pipe_stays_usable() {
    let mut bytes = framed(&[json!({"type": "sign-anything"})]);
    write_message(&mut bytes, b"not json").expect("frame");
    let big = vec![b' '; native::MAX_REQUEST as usize + 1];
    bytes.extend_from_slice(&(big.len() as u32).to_ne_bytes());
    bytes.extend_from_slice(&big);
    bytes.extend(framed(&[json!({"type": "version"})]));
    let person = Person::typing(&[]);
    let mut desk = Desk {
        person,
        card: PathBuf::from("/nonexistent"),
    };
    let mut output = Vec::new();
    native::serve(&mut Cursor::new(bytes), &mut output, &mut desk).expect("serve");
    let replies = replies(output);
    assert_eq!(replies.len(), 4);
    for reply in &replies[..3] {
        assert!(
            matches!(
                reply,
                HostReply::Refused {
                    error: ReplyError::InvalidRequest,
                    ..
                }
            ),
            "{reply:?}"
        );
    }
    assert!(matches!(replies[3], HostReply::Version { .. }));
}

/// Starts the real binary with `args` as a browser would, sends `requests`, closes the pipe.
fn host_process(args: &[&str], requests: &[Value]) -> (Option<i32>, Vec<HostReply>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mykey-helper"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mykey-helper");
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = stdin.write_all(&framed(requests));
    drop(stdin);
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_end(&mut out)
        .expect("read");
    let code = child.wait().expect("exit").code();
    (code, replies(out))
}

#[test]
fn the_binary_is_a_host_when_chromium_or_firefox_starts_it_and_only_for_our_extension() {
    let version = [json!({"type": "version"})];
    let chromium = install::CHROMIUM_EXTENSION_ORIGIN;
    for args in [
        vec![chromium],
        vec![chromium, "--parent-window=0"],
        vec![
            "/usr/lib/mozilla/native-messaging-hosts/jp.mykey.helper.json",
            install::FIREFOX_EXTENSION_ID,
        ],
        vec!["native-host"],
    ] {
        let (code, replies) = host_process(&args, &version);
        assert_eq!(code, Some(0), "{args:?}");
        assert!(
            matches!(&replies[..], [HostReply::Version { protocol, .. }] if protocol == "mykey-clp/1"),
            "{args:?}: {replies:?}"
        );
    }
    let (code, replies) = host_process(
        &["chrome-extension://abcdefghijklmnopabcdefghijklmnop/"],
        &version,
    );
    assert_ne!(code, Some(0));
    assert!(replies.is_empty(), "a foreign extension gets no answer");
}

#[test]
fn requests_are_json_of_the_protocol_and_nothing_else() {
    let request: HostRequest = serde_json::from_value(login(
        "https://id.example.jp/card/challenges/a",
        "https://id.example.jp",
    ))
    .expect("a login request");
    assert!(matches!(request, HostRequest::Login { .. }));
    assert!(serde_json::from_value::<HostRequest>(json!({"type": "login"})).is_err());
}
