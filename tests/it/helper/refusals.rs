//! Challenges the helper refuses, and refusals from the provider or the network.

use mykey_connect::card::protocol::{CardErrorCode, ChallengePurpose};
use mykey_connect::helper::login::LoginError;
use mykey_connect::helper::messages::{self, exit};

use super::login::{card, now, run};
use super::provider::TestProvider;
use super::ScriptedPerson;
use crate::softcard::fixture::PIN;

/// A refused challenge asks for nothing, spends no try and posts nothing.
fn assert_refused_before_the_card(
    provider: &TestProvider,
    url: &str,
    expected: fn(&LoginError) -> bool,
) {
    let mut card = card();
    let mut person = ScriptedPerson::typing(&[PIN]);
    let error = run(url, &mut card, &mut person).expect_err("refused");
    assert!(expected(&error), "unexpected error {error:?}");
    assert_eq!(messages::exit_code(&error), exit::CHALLENGE_REFUSED);
    assert!(person.asked.is_empty() && person.shown.is_empty());
    assert_eq!(card.card_file().auth.tries_left, 3);
    assert_eq!(provider.posts(), 0);
}

#[test]
fn an_issuer_on_another_origin_is_refused_before_any_pin() {
    let provider = TestProvider::start();
    let url = provider.challenge_with(ChallengePurpose::Login, |d| {
        d.issuer = "https://id.example.jp".to_owned();
    });
    assert_refused_before_the_card(&provider, &url, |e| {
        matches!(e, LoginError::ForeignIssuer { .. })
    });
}

#[test]
fn a_response_uri_on_another_origin_is_refused_before_any_pin() {
    let provider = TestProvider::start();
    let url = provider.challenge_with(ChallengePurpose::Login, |d| {
        d.response_uri = "http://127.0.0.2:9/collect".to_owned();
    });
    assert_refused_before_the_card(&provider, &url, |e| {
        matches!(e, LoginError::ForeignResponseUri { .. })
    });
}

#[test]
fn an_expired_challenge_is_refused_before_any_pin() {
    let provider = TestProvider::start();
    let url = provider.challenge_with(ChallengePurpose::Login, |d| d.expires_at = now() - 1);
    assert_refused_before_the_card(&provider, &url, |e| matches!(e, LoginError::Expired { .. }));
}

#[test]
fn plain_http_to_a_remote_host_is_refused_without_connecting() {
    let provider = TestProvider::start();
    assert_refused_before_the_card(&provider, "http://id.example.jp/card/challenges/x", |e| {
        matches!(e, LoginError::InsecureUrl(_))
    });
}

#[test]
fn each_provider_error_code_is_shown_as_its_message() {
    let provider = TestProvider::start();
    let mut shown = std::collections::HashSet::new();
    for code in CardErrorCode::ALL {
        provider.refuse_with(code);
        let url = provider.challenge(ChallengePurpose::Login);
        let error =
            run(&url, &mut card(), &mut ScriptedPerson::typing(&[PIN])).expect_err("refused");
        match &error {
            LoginError::Provider {
                code: Some(got),
                status,
                ..
            } => {
                assert_eq!((*got, *status), (code, code.http_status()));
            }
            other => panic!("{code}: expected the provider's refusal, got {other:?}"),
        }
        assert_eq!(messages::login(&error), messages::provider_code(code));
        assert_eq!(messages::exit_code(&error), exit::PROVIDER_REFUSED);
        shown.insert(messages::login(&error).to_string());
    }
    // Each code tells the resident something different, in both languages.
    assert_eq!(shown.len(), CardErrorCode::ALL.len());
}

#[test]
fn an_unknown_challenge_is_reported_from_the_fetch() {
    let provider = TestProvider::start();
    let url = format!("{}/card/challenges/nope", provider.base);
    let error = run(&url, &mut card(), &mut ScriptedPerson::typing(&[PIN])).expect_err("404");
    assert_eq!(
        messages::login(&error),
        messages::provider_code(CardErrorCode::UnknownChallenge)
    );
}

#[test]
fn a_server_error_without_a_protocol_body_is_an_http_error() {
    let provider = TestProvider::start();
    let base = provider.base.clone();
    let url = provider.challenge_with(ChallengePurpose::Login, |d| {
        d.response_uri = format!("{base}/broken");
    });
    let error = run(&url, &mut card(), &mut ScriptedPerson::typing(&[PIN])).expect_err("500");
    assert!(
        matches!(error, LoginError::Http { status: 500 }),
        "{error:?}"
    );
    assert_eq!(messages::exit_code(&error), exit::NETWORK);
}

#[test]
fn an_unreachable_provider_is_a_network_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("http://127.0.0.1:{port}/card/challenges/x");
    let error = run(&url, &mut card(), &mut ScriptedPerson::typing(&[PIN])).expect_err("refused");
    assert!(matches!(error, LoginError::Network { .. }), "{error:?}");
    assert!(messages::login(&error).ja.contains("接続できません"));
}
