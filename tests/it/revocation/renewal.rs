//! A renewed card keeps its holder logged in and gives the same subs everywhere.

use std::time::Duration;

use mykey_connect::card::jpki::RevocationReason;
use mykey_connect::testkit::linkage;

use super::termination::{active, login_at, site};
use crate::provider::browser::Browser;
use crate::provider::support::{Db, TestProvider};

async fn renewal(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let a = site(&tp, "Shop A", "127.0.0.1:9").await;
    let c = site(&tp, "Bank C", "localhost:9").await;
    let old_path = tp.issue_card("山本　八郎");
    let browser = Browser::new();
    let (ta, sub_a, _) = login_at(&tp, &browser, &a, &old_path).await;
    let (tc, sub_c, _) = login_at(&tp, &browser, &c, &old_path).await;

    // J-LIS renews the card: new certificates, the old ones revoked as superseded.
    let old = tp.card(&old_path);
    let new = tp
        .ca
        .renew_with(&old, &same_pin(), tp.clock.now())
        .expect("renew");
    let new_path = tp.dir.path().join("renewed.json");
    new.save(&new_path).expect("save");
    let link = linkage(&old, &new, tp.clock.now()).expect("linkage");
    let r = mykey_connect::provider::linkage::import_linkage(
        &tp.provider,
        &link.to_json(),
        &mykey_connect::audit::Actor::Cli,
    )
    .await
    .expect("linkage import");
    assert_eq!(
        (r.records, r.linked),
        (2, 1),
        "the auth record links; the sign one was never used"
    );

    let now = tp.clock.now();
    let crl = tp
        .ca
        .crl(
            mykey_connect::card::jpki::Purpose::Auth,
            now,
            now + time::Duration::days(1),
        )
        .expect("crl");
    let report =
        mykey_connect::provider::revocation::import_crl(&tp.provider, crl.as_slice(), "test")
            .await
            .expect("import");
    assert_eq!((report.terminated, report.superseded), (0, 1));
    assert_eq!(
        tp.ca
            .revocations()
            .iter()
            .filter(|r| r.reason == RevocationReason::Superseded)
            .count(),
        2
    );

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        a.receiver.tokens().is_empty() && c.receiver.tokens().is_empty(),
        "nobody is logged out"
    );
    assert!(active(&a, &ta).await && active(&c, &tc).await);

    // The new card, in a new browser: the same person everywhere.
    let fresh = Browser::new();
    let (_, new_sub_a, _) = login_at(&tp, &fresh, &a, &new_path).await;
    let (_, new_sub_c, _) = login_at(&tp, &fresh, &c, &new_path).await;
    assert_eq!((new_sub_a, new_sub_c), (sub_a, sub_c));
    tp.stop().await;
}

on_both_databases!(a_renewed_card_with_linkage_keeps_sessions_and_subs, renewal);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_card_without_linkage_enrols_a_new_person_and_the_superseded_one_is_logged_out() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let a = site(&tp, "Shop A", "127.0.0.1:9").await;
    let old_path = tp.issue_card("山本　八郎");
    let (_, sub_old, _) = login_at(&tp, &Browser::new(), &a, &old_path).await;
    let old = tp.card(&old_path);
    let new = tp
        .ca
        .renew_with(&old, &same_pin(), tp.clock.now())
        .expect("renew");
    let new_path = tp.dir.path().join("renewed.json");
    new.save(&new_path).expect("save");
    let now = tp.clock.now();
    let crl = tp
        .ca
        .crl(
            mykey_connect::card::jpki::Purpose::Auth,
            now,
            now + time::Duration::days(1),
        )
        .expect("crl");
    let report =
        mykey_connect::provider::revocation::import_crl(&tp.provider, crl.as_slice(), "test")
            .await
            .expect("import");
    assert_eq!(
        report.terminated, 1,
        "without linkage, superseded means this binding is over"
    );
    a.receiver.wait_for(1, Duration::from_secs(20)).await;
    let (_, sub_new, _) = login_at(&tp, &Browser::new(), &a, &new_path).await;
    assert_ne!(
        sub_new, sub_old,
        "a new person until an operator merges them"
    );
    tp.stop().await;
}

/// A renewal where the resident chose the same PIN again.
fn same_pin() -> mykey_connect::testkit::RenewOptions {
    mykey_connect::testkit::RenewOptions {
        pin: Some("1234".into()),
        password: None,
        not_before: None,
        not_after: None,
    }
}
