//! Deliveries survive endpoints that are down or slow, dead-letter after the retry period,
//! and survive a provider killed with SIGKILL in the middle of a fan-out.

use std::time::{Duration, Instant};

use mykey_connect::card::jpki::{Purpose, RevocationReason};
use openidconnect::TokenResponse;

use super::support::{validate_logout_token, Receiver, DOWN, SLOW, STALL, UP};
use super::termination::{login_at, site};
use crate::provider::browser::Browser;
use crate::provider::support::{free_port, spawn_serve, Db, TestProvider};

async fn wait_attempts(r: &Receiver, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while *r.attempts.lock().expect("lock") < n {
        assert!(Instant::now() < deadline, "expected {n} delivery attempts");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn outbox_status(tp: &TestProvider, client_id: &str) -> Vec<(String, i32, Option<String>)> {
    let id = client_id.to_owned();
    tp.provider
        .db
        .read(move |c| mykey_connect::store::outbox::of_client(c, &id, 10))
        .await
        .expect("outbox")
        .into_iter()
        .map(|r| (r.status, r.attempts, r.last_error))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_is_down_then_slow_then_back_gets_its_logout_token_after_retries() {
    let mut tp = TestProvider::start_with(Db::Sqlite, &[("MYKEY_BACKCHANNEL_TIMEOUT", "1")]).await;
    let a = site(&tp, "Shop A", "127.0.0.1:9").await;
    let card = tp.issue_card("木村　九郎");
    let browser = Browser::new();
    let (tokens, sub, sid) = login_at(&tp, &browser, &a, &card).await;
    a.receiver.set_mode(DOWN);
    let logout = openidconnect::LogoutRequest::from(
        openidconnect::EndSessionUrl::new(tp.url("/end_session")).expect("url"),
    )
    .set_id_token_hint(tokens.id_token().expect("id"))
    .http_get_url();
    assert_eq!(browser.get(logout.as_str()).await.status, 200);

    wait_attempts(&a.receiver, 1).await;
    // The endpoint counted the attempt before the provider read its answer and wrote it down.
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        let status = outbox_status(&tp, &a.rp.client_id).await;
        if status[0].2.is_some() {
            break status;
        }
        assert!(Instant::now() < deadline, "the failed attempt is recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status[0].0, "pending");
    assert_eq!(status[0].2.as_deref(), Some("HTTP 503"));

    a.receiver.set_mode(SLOW);
    tp.clock.advance(Duration::from_secs(5));
    wait_attempts(&a.receiver, 2).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while outbox_status(&tp, &a.rp.client_id).await[0].2.as_deref() != Some("timed out") {
        assert!(
            Instant::now() < deadline,
            "the slow answer counts as a timeout"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    a.receiver.set_mode(UP);
    tp.clock.advance(Duration::from_secs(30));
    let delivered = a.receiver.wait_for(1, Duration::from_secs(20)).await;
    let claims = validate_logout_token(
        &tp.issuer,
        &a.rp.client_id,
        delivered.last().expect("token"),
    )
    .await;
    assert_eq!(
        (claims["sub"].as_str(), claims["sid"].as_str()),
        (Some(sub.as_str()), Some(sid.as_str()))
    );
    let metrics = reqwest::get(tp.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("outcome=\"retry\""), "{metrics}");
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_is_dead_lettered_after_the_retry_period_with_its_last_error_and_can_be_retried()
{
    let mut tp =
        TestProvider::start_with(Db::Sqlite, &[("MYKEY_BACKCHANNEL_RETRY_PERIOD", "60")]).await;
    let a = site(&tp, "Shop A", "127.0.0.1:9").await;
    let card = tp.issue_card("木村　九郎");
    let browser = Browser::new();
    login_at(&tp, &browser, &a, &card).await;
    a.receiver.set_mode(DOWN);
    let session = browser.cookie("mykey_session").expect("session");
    let row = mykey_connect::provider::sessions::current(&tp.provider, &session)
        .await
        .expect("db")
        .expect("live");
    mykey_connect::provider::sessions::end(
        &tp.provider,
        &row.id,
        mykey_connect::provider::sessions::EndReason::Admin,
    )
    .await
    .expect("end");
    wait_attempts(&a.receiver, 1).await;
    tp.clock.advance(Duration::from_secs(120));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = outbox_status(&tp, &a.rp.client_id).await;
        if s[0].0 == "dead" {
            assert_eq!(
                s[0].2.as_deref(),
                Some("HTTP 503"),
                "the last error is kept"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "dead-lettered after the retry period: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    a.receiver.set_mode(UP);
    let (id, now) = (a.rp.client_id.clone(), tp.clock.unix());
    tp.provider
        .db
        .write(move |c| mykey_connect::store::outbox::retry_dead(c, &id, None, now))
        .await
        .expect("retry");
    a.receiver.wait_for(1, Duration::from_secs(20)).await;
    tp.stop().await;
}

fn spawn_node(tp: &TestProvider, port: u16) -> std::process::Child {
    spawn_serve(tp, port, &[("MYKEY_BACKCHANNEL_TIMEOUT", "2")])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_killed_in_the_middle_of_a_fan_out_delivers_every_token_after_restart() {
    // The in-process provider only serves logins; the spawned nodes do the deliveries.
    let mut tp = TestProvider::start_quiet(Db::Postgres, &[]).await;
    let a = site(&tp, "Shop A", "127.0.0.1:9").await;
    let b = site(&tp, "Shop B", "localhost:9").await;
    let card = tp.issue_card("木村　九郎");
    let mut sids = std::collections::BTreeSet::new();
    for _ in 0..12 {
        let browser = Browser::new();
        sids.insert(login_at(&tp, &browser, &a, &card).await.2);
        sids.insert(login_at(&tp, &browser, &b, &card).await.2);
    }
    // Stalled endpoints: deliveries are under way when the node dies, and none of them lands,
    // so every token must come from the restarted node.
    a.receiver.set_mode(STALL);
    b.receiver.set_mode(STALL);
    let mut node = spawn_node(&tp, free_port());

    let serial = tp.card(&card).serial_hex(Purpose::Auth).expect("serial");
    let now = tp.clock.now();
    tp.ca
        .revoke(&serial, RevocationReason::KeyCompromise, now)
        .expect("revoke");
    let crl = tp
        .ca
        .crl(Purpose::Auth, now, now + time::Duration::days(1))
        .expect("crl");
    let report =
        mykey_connect::provider::revocation::import_crl(&tp.provider, crl.as_slice(), "test")
            .await
            .expect("import");
    assert_eq!(report.sessions_ended, 12);

    wait_attempts(&a.receiver, 1).await;
    node.kill().expect("SIGKILL");
    node.wait().expect("reaped");
    a.receiver.set_mode(UP);
    b.receiver.set_mode(UP);

    let mut restarted = spawn_node(&tp, free_port());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = std::collections::BTreeSet::new();
    loop {
        seen.clear();
        for (site, r) in [(&a, &a.receiver), (&b, &b.receiver)] {
            for token in r.tokens() {
                let claims = validate_logout_token(&tp.issuer, &site.rp.client_id, &token).await;
                seen.insert(claims["sid"].as_str().expect("sid").to_owned());
            }
        }
        if seen == sids {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "delivered {} of {} after the restart",
            seen.len(),
            sids.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = restarted.kill();
    let _ = restarted.wait();
    tp.stop().await;
}
