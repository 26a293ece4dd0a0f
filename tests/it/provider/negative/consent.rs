//! Two approvals of one consent at the same moment.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use mykey_connect::domain::MyKeyId;
use mykey_connect::store::grants;
use mykey_connect::store::schema::consents;

use super::super::browser::Browser;
use super::super::rp::Rp;
use super::super::support::{web_client, Db, TestProvider};
use super::codes::code;

/// The person approves the same site in two tabs (or at two nodes) at once. On PostgreSQL the
/// first approval's new consent row holds its key until it commits; the second waits for it,
/// then records its own scope instead of failing on the key (a 500 at the consent page).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_approvals_of_one_consent_at_once_both_succeed_on_postgres() {
    let mut tp = TestProvider::start(Db::Postgres).await;
    let (id, secret) = tp.register(web_client("Shop", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("田中　実");
    code(&tp, &rp, &Browser::new(), &card).await;

    let mut first = PgConnection::establish(&tp.database_url).expect("connect");
    let person: String = consents::table
        .select(consents::person_id)
        .first(&mut first)
        .expect("the login recorded a consent");
    diesel::delete(consents::table)
        .execute(&mut first)
        .expect("forget it");
    // The first approval, in flight: its row is written, not yet committed.
    first
        .batch_execute(&format!(
            "BEGIN; INSERT INTO consents (person_id, client_id, scope, granted_at) \
             VALUES ('{person}', '{id}', 'openid', 1)"
        ))
        .expect("first approval");

    let db = tp.provider.db.clone();
    let (who, client) = (MyKeyId::from_stored(person), id.clone());
    let second = std::thread::spawn(move || {
        db.write_blocking(|c| grants::save_consent(c, &who, &client, "openid profile", 2))
    });
    let mut watcher = PgConnection::establish(&tp.database_url).expect("connect");
    let waiting = Instant::now();
    loop {
        let waits: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM pg_stat_activity \
              WHERE datname = current_database() AND wait_event_type = 'Lock')",
        ))
        .get_result(&mut watcher)
        .expect("pg_stat_activity");
        if waits > 0 {
            break;
        }
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "the second approval never waited for the first"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    first.batch_execute("COMMIT").expect("first commits");

    let outcome = second.join().expect("thread");
    assert!(outcome.is_ok(), "the second approval failed: {outcome:?}");
    let scope: String = consents::table
        .select(consents::scope)
        .first(&mut watcher)
        .expect("consent");
    assert_eq!(
        scope, "openid profile",
        "the later approval is what is recorded"
    );
    tp.stop().await;
}
