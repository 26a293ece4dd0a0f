//! A verifying site, a card with hard facts, and the login that reads them.

use std::path::{Path, PathBuf};

use mykey_connect::testkit::card_file::Holder;
use mykey_connect::testkit::CardOptions;
use openidconnect::core::CoreGenderClaim;
use openidconnect::{AdditionalClaims, UserInfoClaims};
use serde::{Deserialize, Serialize};

use crate::provider::browser::{query, use_helper_typing, wait_for_state, Browser, LoginPage};
use crate::provider::rp::{Pending, Rp};
use crate::provider::support::{web_client, TestProvider};
use crate::revocation::support::Receiver;

/// The claims OIDC4IDA adds, read through the openidconnect crate's extension point.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ida {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_claims: Option<serde_json::Value>,
}

impl AdditionalClaims for Ida {}

pub type IdaUserInfo = UserInfoClaims<Ida, CoreGenderClaim>;

pub struct VerifyingSite {
    pub rp: Rp,
    pub events: Receiver,
}

/// A site allowed to ask for verified facts, with a Security Event endpoint.
pub async fn verifying_site(
    tp: &TestProvider,
    name: &str,
    host: &str,
    allowed: bool,
) -> VerifyingSite {
    let events = Receiver::start();
    let mut spec = web_client(name, host);
    spec.allow_verified_claims = Some(allowed);
    spec.security_event_uri = Some(events.url.clone());
    let (id, secret) = tp.register(spec).await;
    let rp = Rp::discover(tp, &id, &secret, &format!("http://{host}/callback")).await;
    VerifyingSite { rp, events }
}

/// 髙 is a substitute glyph here; the address has full-width digits; only the birth year is
/// known; sex unknown.
pub fn hard_card(tp: &mut TestProvider) -> PathBuf {
    let mut options = CardOptions::example();
    options.holder = Holder {
        name: "髙橋　一郎".into(),
        name_substitute_map: Some("10000".into()),
        address: "東京都千代田区永田町１丁目７番１号".into(),
        address_substitute_map: None,
        date_of_birth: "319700000".into(),
        sex: 3,
        prefecture: "東京都".into(),
        city: "千代田区".into(),
    };
    tp.issue_card_with(&options)
}

/// Authorize → login page (a verify challenge) → helper with PIN and password → status.
/// Returns the login page and the path the completion redirects to.
pub async fn verify_login(
    tp: &TestProvider,
    b: &Browser,
    pending: &Pending,
    card: &Path,
) -> (LoginPage, String) {
    let first = b.get(&pending.url).await;
    let path = first
        .location
        .unwrap_or_else(|| panic!("authorize: {} {}", first.status, first.body));
    assert!(path.starts_with("/login/"), "{path}");
    let page = b.get(&tp.url(&path)).await;
    assert!(
        page.body.contains("id=\"verify-notice\""),
        "the page says a password will be asked"
    );
    let login = LoginPage::parse(&path, &page.body);
    let outcome = use_helper_typing(
        &login.challenge_url,
        card,
        &["1234", "ABC123"],
        tp.clock.unix(),
    )
    .await
    .expect("accepted");
    assert_eq!(
        outcome.purpose,
        mykey_connect::card::protocol::ChallengePurpose::Verify
    );
    assert_eq!(
        wait_for_state(b, tp, &login.status_url).await["state"],
        "completed"
    );
    let done = b
        .post_form(
            &tp.url(&format!("{}/complete", login.path)),
            &[("challenge", &login.challenge_id), ("csrf", &login.csrf)],
        )
        .await;
    let consent = done.location.expect("to consent");
    assert!(
        consent.starts_with("/consent/"),
        "facts are always consented: {consent}"
    );
    (login, consent)
}

/// The consent page's HTML, and the code after pressing `decision`.
pub async fn decide(
    tp: &TestProvider,
    b: &Browser,
    consent: &str,
    decision: &str,
) -> (String, Option<String>) {
    let page = b.get(&tp.url(consent)).await;
    let csrf = crate::provider::browser::input_value(&page.body, "csrf").expect("csrf");
    let out = b
        .post_form(&tp.url(consent), &[("decision", decision), ("csrf", &csrf)])
        .await;
    let location = out.location.expect("back to the site");
    (page.body, query(&location).get("code").cloned())
}
