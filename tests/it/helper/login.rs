//! The login flow as a library call: signing real challenges, and every refusal.

use mykey_connect::card::jpki::Purpose;
use mykey_connect::card::protocol::ChallengePurpose;
use mykey_connect::helper::jpki::JpkiError;
use mykey_connect::helper::login::{login, LoginError, LoginOptions, LoginOutcome};
use mykey_connect::helper::messages::{self, exit};
use mykey_connect::helper::softcard::SoftCard;
use mykey_connect::helper::transport::{CardTransport, TransportError};
use mykey_connect::testkit::card_file::CardFile;

use super::provider::TestProvider;
use super::ScriptedPerson;
use crate::softcard::fixture::{self, PIN};

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub fn run(
    target: &str,
    card: &mut SoftCard,
    person: &mut ScriptedPerson,
) -> Result<LoginOutcome, LoginError> {
    login(target, card, person, &LoginOptions::default(), now())
}

pub fn card() -> SoftCard {
    SoftCard::new(fixture::card()).expect("card")
}

fn card_with(edit: impl FnOnce(&mut CardFile)) -> SoftCard {
    let mut file = fixture::card();
    edit(&mut file);
    SoftCard::new(file).expect("card")
}

#[test]
fn login_signs_the_challenge_and_the_provider_accepts_it() {
    let provider = TestProvider::start();
    let url = provider.challenge(ChallengePurpose::Login);
    let mut person = ScriptedPerson::typing(&[PIN]);
    let outcome = run(&url, &mut card(), &mut person).expect("login");

    assert_eq!(outcome.client_name, "Example City Library");
    assert_eq!(outcome.issuer_origin, provider.base);
    let shown = &person.shown[0];
    assert_eq!(
        (
            shown.document.match_code.as_str(),
            shown.issuer_origin.as_str()
        ),
        ("4821", provider.base.as_str())
    );
    assert_eq!(person.asked, vec![(Purpose::Auth, 3)]);
    let accepted = provider.accepted();
    assert_eq!(accepted.len(), 1);
    assert!(url.ends_with(&accepted[0].challenge_id));
    assert_eq!(
        accepted[0].auth_certificate,
        fixture::card().auth.certificate_der().expect("der")
    );
    assert_eq!(accepted[0].sign_certificate, None);
}

#[test]
fn identity_verification_also_signs_with_the_signature_key() {
    let provider = TestProvider::start();
    let url = provider.challenge(ChallengePurpose::Verify);
    let mut person = ScriptedPerson::typing(&[PIN, "abc123"]);
    run(&url, &mut card(), &mut person).expect("login with verification");
    assert_eq!(person.asked, vec![(Purpose::Auth, 3), (Purpose::Sign, 5)]);
    let accepted = provider.accepted();
    assert_eq!(
        accepted[0].sign_certificate,
        Some(fixture::card().sign.certificate_der().expect("der"))
    );
}

#[test]
fn a_mykey_link_works_like_the_challenge_url() {
    let provider = TestProvider::start();
    let url = provider.challenge(ChallengePurpose::Login);
    let link = format!(
        "mykey://login?challenge={}",
        percent_encoding::utf8_percent_encode(&url, percent_encoding::NON_ALPHANUMERIC)
    );
    run(&link, &mut card(), &mut ScriptedPerson::typing(&[PIN])).expect("login by link");
    assert_eq!(provider.accepted().len(), 1);
}

#[test]
fn a_wrong_pin_reports_the_tries_left_and_posts_nothing() {
    let provider = TestProvider::start();
    let url = provider.challenge(ChallengePurpose::Login);
    let mut card = card();
    let error =
        run(&url, &mut card, &mut ScriptedPerson::typing(&["0000"])).expect_err("wrong PIN");
    assert!(matches!(
        error,
        LoginError::Card(JpkiError::WrongPin {
            purpose: Purpose::Auth,
            tries_left: 2
        })
    ));
    let message = messages::login(&error);
    assert!(
        message.ja.contains("残り2回") && message.en.contains("2 tries left"),
        "{message}"
    );
    assert_eq!(messages::exit_code(&error), exit::WRONG_PIN);
    assert_eq!(card.card_file().auth.tries_left, 2);
    assert_eq!(provider.posts(), 0);
}

#[test]
fn the_last_try_is_announced_before_the_pin_is_asked() {
    let provider = TestProvider::start();
    let url = provider.challenge(ChallengePurpose::Login);
    let mut card = card_with(|f| f.auth.tries_left = 1);
    let mut person = ScriptedPerson::typing(&[PIN]);
    run(&url, &mut card, &mut person).expect("login on the last try");
    assert_eq!(person.notices, vec![messages::last_try(Purpose::Auth)]);
    assert_eq!(person.asked, vec![(Purpose::Auth, 1)]);
}

#[test]
fn a_blocked_pin_stops_before_asking_and_says_where_to_reset_it() {
    let provider = TestProvider::start();
    let url = provider.challenge(ChallengePurpose::Login);
    let mut person = ScriptedPerson::typing(&[PIN]);
    let error =
        run(&url, &mut card_with(|f| f.auth.tries_left = 0), &mut person).expect_err("blocked");
    assert!(person.asked.is_empty());
    assert_eq!(messages::exit_code(&error), exit::BLOCKED);
    assert!(messages::login(&error).ja.contains("市区町村の窓口"));
}

#[test]
fn a_wrong_password_fails_identity_verification_after_the_pin() {
    let provider = TestProvider::start();
    let url = provider.challenge(ChallengePurpose::Verify);
    let mut card = card();
    let error = run(
        &url,
        &mut card,
        &mut ScriptedPerson::typing(&[PIN, "WRONG9"]),
    )
    .expect_err("wrong password");
    assert!(matches!(
        error,
        LoginError::Card(JpkiError::WrongPin {
            purpose: Purpose::Sign,
            tries_left: 4
        })
    ));
    assert!(messages::login(&error).en.contains("signature password"));
    assert_eq!(provider.posts(), 0);
}

#[test]
fn declining_the_request_cancels_without_touching_the_card() {
    let provider = TestProvider::start();
    let url = provider.challenge(ChallengePurpose::Login);
    let mut person = ScriptedPerson::typing(&[PIN]);
    person.confirms = false;
    let error = run(&url, &mut card(), &mut person).expect_err("cancelled");
    assert!(matches!(error, LoginError::Cancelled));
    assert!(person.asked.is_empty());
    assert_eq!(provider.posts(), 0);
}

#[test]
fn a_card_without_jpki_is_not_a_my_number_card() {
    struct TransitCard;
    impl CardTransport for TransitCard {
        fn transmit(&mut self, _apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x6A, 0x82])
        }
        fn describe(&self) -> String {
            "a transit card".to_owned()
        }
    }
    let provider = TestProvider::start();
    let url = provider.challenge(ChallengePurpose::Login);
    let error = login(
        &url,
        TransitCard,
        &mut ScriptedPerson::typing(&[PIN]),
        &LoginOptions::default(),
        now(),
    )
    .expect_err("not JPKI");
    assert_eq!(messages::exit_code(&error), exit::NOT_MY_NUMBER_CARD);
    assert!(messages::login(&error)
        .ja
        .contains("マイナンバーカードではありません"));
}
