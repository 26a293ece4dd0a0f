//! A revoked card logs its holder out of every site, each site hearing exactly what it should.

use std::path::Path;
use std::time::Duration;

use mykey_connect::card::jpki::{Purpose, RevocationReason};
use mykey_connect::card::protocol::CardErrorCode;
use mykey_connect::helper::login::LoginError;
use openidconnect::core::CoreTokenResponse;
use openidconnect::{OAuth2TokenResponse, TokenIntrospectionResponse, TokenResponse};

use super::support::{validate_logout_token, Receiver};
use crate::provider::browser::{log_in, query, use_helper, Browser, LoginPage};
use crate::provider::flow::decode_payload;
use crate::provider::rp::Rp;
use crate::provider::support::{web_client, Db, TestProvider};

pub struct Site {
    pub rp: Rp,
    pub receiver: Receiver,
}

/// A site with its own back-channel endpoint; redirect URI `http://{host}/callback`.
pub async fn site(tp: &TestProvider, name: &str, host: &str) -> Site {
    let receiver = Receiver::start();
    let mut spec = web_client(name, host);
    spec.backchannel_logout_uri = Some(receiver.url.clone());
    let (id, secret) = tp.register(spec).await;
    let rp = Rp::discover(tp, &id, &secret, &format!("http://{host}/callback")).await;
    Site { rp, receiver }
}

/// Logs in at a site in this browser; returns the tokens, the sub and the sid it saw.
pub async fn login_at(
    tp: &TestProvider,
    browser: &Browser,
    site: &Site,
    card: &Path,
) -> (CoreTokenResponse, String, String) {
    let pending = site.rp.authorize(&[]);
    let code = query(&log_in(browser, tp, &pending.url, card).await)["code"].clone();
    let tokens = site.rp.exchange(&code, pending.verifier).await;
    let claims = site.rp.verify_id_token(&tokens, &pending.nonce);
    let sid = decode_payload(&tokens.id_token().expect("id").to_string())["sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    (tokens, claims.subject().as_str().to_owned(), sid)
}

pub async fn active(site: &Site, tokens: &CoreTokenResponse) -> bool {
    site.rp
        .client
        .introspect(tokens.access_token())
        .request_async(&site.rp.http)
        .await
        .expect("introspection")
        .active()
}

pub async fn revoke_and_import(
    tp: &mut TestProvider,
    card: &Path,
    reason: RevocationReason,
) -> mykey_connect::provider::revocation::ImportReport {
    let serial = tp.card(card).serial_hex(Purpose::Auth).expect("serial");
    let now = tp.clock.now();
    tp.ca.revoke(&serial, reason, now).expect("revoke");
    let crl = tp
        .ca
        .crl(Purpose::Auth, now, now + time::Duration::days(1))
        .expect("crl");
    mykey_connect::provider::revocation::import_crl(&tp.provider, crl.as_slice(), "test")
        .await
        .expect("CRL imported")
}

async fn revoked_card_logs_out_everywhere(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let a = site(&tp, "Shop A", "127.0.0.1:9").await;
    let b = site(&tp, "Shop B", "127.0.0.1:10").await;
    let c = site(&tp, "Bank C", "localhost:9").await;
    let card = tp.issue_card("小林　六郎");
    let bystander = tp.issue_card("加藤　七子");

    let browser = Browser::new();
    let (ta, sub_a, sid_a) = login_at(&tp, &browser, &a, &card).await;
    let (tb, sub_b, sid_b) = login_at(&tp, &browser, &b, &card).await;
    let (tc, sub_c, sid_c) = login_at(&tp, &browser, &c, &card).await;
    assert_eq!(sub_a, sub_b, "one sector, one sub");
    assert_ne!(sub_a, sub_c);
    let (t_other, _, _) = login_at(&tp, &Browser::new(), &a, &bystander).await;

    let report = revoke_and_import(&mut tp, &card, RevocationReason::KeyCompromise).await;
    assert_eq!((report.terminated, report.sessions_ended), (1, 1));

    for (site, sub, sid) in [
        (&a, &sub_a, &sid_a),
        (&b, &sub_b, &sid_b),
        (&c, &sub_c, &sid_c),
    ] {
        let tokens = site.receiver.wait_for(1, Duration::from_secs(20)).await;
        let claims = validate_logout_token(&tp.issuer, &site.rp.client_id, &tokens[0]).await;
        assert_eq!(
            claims["sub"].as_str(),
            Some(sub.as_str()),
            "the sub this site saw"
        );
        assert_eq!(
            claims["sid"].as_str(),
            Some(sid.as_str()),
            "the sid of this site's session"
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for site in [&a, &b, &c] {
        assert_eq!(
            site.receiver.tokens().len(),
            1,
            "exactly one logout token per client session"
        );
    }

    for (site, tokens) in [(&a, &ta), (&b, &tb), (&c, &tc)] {
        assert!(
            !active(site, tokens).await,
            "introspection says inactive at once"
        );
        let refreshed = site.rp.refresh(tokens.refresh_token().expect("rt")).await;
        assert!(refreshed.is_err(), "refresh is dead");
        let userinfo: Result<openidconnect::core::CoreUserInfoClaims, _> =
            site.rp.userinfo(tokens.access_token()).await;
        assert!(userinfo.is_err(), "userinfo refuses the token");
    }
    assert!(active(&a, &t_other).await, "another person is not touched");

    // The card cannot log in again.
    let fresh = Browser::new();
    let first = fresh.get(&a.rp.authorize(&[]).url).await;
    let path = first.location.expect("login page");
    let page = LoginPage::parse(&path, &fresh.get(&tp.url(&path)).await.body);
    match use_helper(&page.challenge_url, &card, "1234", tp.clock.unix()).await {
        Err(LoginError::Provider { code, .. }) => {
            assert_eq!(code, Some(CardErrorCode::CertificateRevoked))
        }
        other => panic!("expected certificate_revoked, got {other:?}"),
    }
    tp.stop().await;
}

on_both_databases!(
    a_revoked_card_logs_its_holder_out_of_every_site_with_one_valid_token_each,
    revoked_card_logs_out_everywhere
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_initiated_logout_and_session_expiry_also_send_back_channel_logouts() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let a = site(&tp, "Shop A", "127.0.0.1:9").await;
    let c = site(&tp, "Bank C", "localhost:9").await;
    let card = tp.issue_card("小林　六郎");
    let browser = Browser::new();
    let (ta, _, _) = login_at(&tp, &browser, &a, &card).await;
    let (_, sub_c, sid_c) = login_at(&tp, &browser, &c, &card).await;
    // Logout initiated at A tells C too.
    let logout = openidconnect::LogoutRequest::from(
        openidconnect::EndSessionUrl::new(tp.url("/end_session")).expect("url"),
    )
    .set_id_token_hint(ta.id_token().expect("id"))
    .http_get_url();
    assert_eq!(browser.get(logout.as_str()).await.status, 200);
    let tokens = c.receiver.wait_for(1, Duration::from_secs(20)).await;
    let claims = validate_logout_token(&tp.issuer, &c.rp.client_id, &tokens[0]).await;
    assert_eq!(
        (claims["sub"].as_str(), claims["sid"].as_str()),
        (Some(sub_c.as_str()), Some(sid_c.as_str()))
    );
    a.receiver.wait_for(1, Duration::from_secs(20)).await;

    // A session that simply runs out is announced as well.
    let other = Browser::new();
    login_at(&tp, &other, &a, &card).await;
    tp.clock
        .advance(std::time::Duration::from_secs(8 * 3600 + 1));
    a.receiver.wait_for(2, Duration::from_secs(30)).await;
    tp.stop().await;
}
