//! CRLs arrive by every path; bad ones are refused with a reason, a log line and a metric, and
//! change nothing; stale data fails new logins closed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use mykey_connect::card::jpki::{Purpose, RevocationReason};
use mykey_connect::card::protocol::CardErrorCode;
use mykey_connect::helper::login::LoginError;
use mykey_connect::provider::revocation::{import_crl, ImportError};
use mykey_connect::testkit::TestCa;

use super::termination::{login_at, site};
use crate::provider::browser::{use_helper, Browser, LoginPage};
use crate::provider::support::{Db, TestProvider};

fn revoke(tp: &mut TestProvider, card: &std::path::Path) -> Vec<u8> {
    let serial = tp.card(card).serial_hex(Purpose::Auth).expect("serial");
    let now = tp.clock.now();
    tp.ca
        .revoke(&serial, RevocationReason::CessationOfOperation, now)
        .expect("revoke");
    tp.ca
        .crl(Purpose::Auth, now, now + time::Duration::days(1))
        .expect("crl")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crl_dropped_into_the_watched_folder_is_imported_and_terminates_sessions() {
    let crl_dir = tempfile::tempdir().expect("dir");
    let dir = crl_dir.path().display().to_string();
    let mut tp = TestProvider::start_with(Db::Sqlite, &[("MYKEY_CRL_DIR", &dir)]).await;
    let a = site(&tp, "Shop A", "127.0.0.1:9").await;
    let card = tp.issue_card("林　十郎");
    login_at(&tp, &Browser::new(), &a, &card).await;
    let crl = revoke(&mut tp, &card);
    std::fs::write(crl_dir.path().join("auth-0002.crl"), &crl).expect("drop file");
    a.receiver.wait_for(1, Duration::from_secs(30)).await;
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crl_import_on_the_command_line_reaches_the_running_node_before_its_next_login() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let a = site(&tp, "Shop A", "127.0.0.1:9").await;
    let card = tp.issue_card("林　十郎");
    login_at(&tp, &Browser::new(), &a, &card).await;
    // A second card, never used here: only the CRL says it is revoked.
    let unseen = tp.issue_card("林　十一");
    revoke(&mut tp, &card);
    let crl = revoke(&mut tp, &unseen);
    let file = tp.dir.path().join("auth.crl");
    std::fs::write(&file, &crl).expect("write");
    let out = crate::provider::support::command(&tp)
        .args(["crl", "import"])
        .arg(&file)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 person(s) logged out"), "{stdout}");
    // The running node delivers what the command queued, and refuses both cards at once:
    // a card answer first checks that the node's revocation data is what is stored.
    a.receiver.wait_for(1, Duration::from_secs(30)).await;
    for card in [&card, &unseen] {
        let fresh = Browser::new();
        let first = fresh.get(&a.rp.authorize(&[]).url).await;
        let path = first.location.expect("login");
        let page = LoginPage::parse(&path, &fresh.get(&tp.url(&path)).await.body);
        match use_helper(&page.challenge_url, card, "1234", tp.clock.unix()).await {
            Err(LoginError::Provider {
                code: Some(CardErrorCode::CertificateRevoked),
                ..
            }) => {}
            other => panic!("a card the imported CRL revokes was not refused: {other:?}"),
        }
    }
    tp.stop().await;
}

/// What the CRL server serves, and the If-None-Match of every request it got.
type Served = (Vec<u8>, Vec<Option<String>>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polled_crl_url_is_fetched_with_conditional_get() {
    let served: Arc<Mutex<Served>> = Arc::default();
    let state = served.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://127.0.0.1:{}/auth.crl",
        listener.local_addr().expect("addr").port()
    );
    let server = HttpServer::new(move || {
        let state = state.clone();
        App::new().route(
            "/auth.crl",
            web::get().to(move |req: HttpRequest| {
                let state = state.clone();
                async move {
                    let mut s = state.lock().expect("lock");
                    let etag = format!("\"{}\"", s.0.len());
                    let asked = req
                        .headers()
                        .get("if-none-match")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    s.1.push(asked.clone());
                    if s.0.is_empty() {
                        return HttpResponse::NotFound().finish();
                    }
                    if asked.as_deref() == Some(etag.as_str()) {
                        return HttpResponse::NotModified().finish();
                    }
                    HttpResponse::Ok()
                        .insert_header(("etag", etag))
                        .body(s.0.clone())
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);

    let mut tp = TestProvider::start_with(
        Db::Sqlite,
        &[("MYKEY_CRL_URLS", &url), ("MYKEY_CRL_POLL_INTERVAL", "10")],
    )
    .await;
    let a = site(&tp, "Shop A", "127.0.0.1:9").await;
    let card = tp.issue_card("林　十郎");
    login_at(&tp, &Browser::new(), &a, &card).await;
    served.lock().expect("lock").0 = revoke(&mut tp, &card);
    a.receiver.wait_for(1, Duration::from_secs(30)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let asked = served.lock().expect("lock").1.clone();
        if asked.iter().flatten().next().is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a second poll sends If-None-Match: {asked:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolled_back_foreign_garbage_and_stale_crls_are_refused_and_change_nothing() {
    let mut tp = TestProvider::start(Db::Sqlite).await;
    let a = site(&tp, "Shop A", "127.0.0.1:9").await;
    let card = tp.issue_card("林　十郎");
    login_at(&tp, &Browser::new(), &a, &card).await;
    let now = tp.clock.now();
    let older = tp
        .ca
        .crl(Purpose::Auth, now, now + time::Duration::days(1))
        .expect("crl");
    let newer = tp
        .ca
        .crl(Purpose::Auth, now, now + time::Duration::days(1))
        .expect("crl");
    import_crl(&tp.provider, newer.as_slice(), "test")
        .await
        .expect("newer imported");
    let before = reqwest::get(tp.url("/readyz"))
        .await
        .expect("ready")
        .text()
        .await
        .expect("text");

    let serial = tp.card(&card).serial_hex(Purpose::Auth).expect("serial");
    tp.ca
        .revoke(&serial, RevocationReason::KeyCompromise, now)
        .expect("revoke");
    let stale = tp
        .ca
        .crl(
            Purpose::Auth,
            now - time::Duration::days(3),
            now - time::Duration::days(2),
        )
        .expect("crl");
    let mut other_ca = TestCa::ephemeral(now).expect("ca");
    let foreign = other_ca
        .crl(Purpose::Auth, now, now + time::Duration::days(1))
        .expect("crl");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("rolled back", older, "rolled_back"),
        ("another CA", foreign, "unknown_issuer"),
        ("garbage", b"-----not a CRL-----".to_vec(), "garbage"),
        ("stale", stale, "stale"),
    ];
    for (what, der, outcome) in cases {
        let err = import_crl(&tp.provider, der.as_slice(), "test")
            .await
            .expect_err(what);
        assert_eq!(err.outcome(), outcome, "{what}: {err}");
        assert!(!matches!(err, ImportError::Store(_)));
    }
    let metrics = reqwest::get(tp.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for outcome in ["rolled_back", "unknown_issuer", "garbage", "stale"] {
        assert!(
            metrics.contains(&format!(
                "mykey_crl_imports_total{{outcome=\"{outcome}\"}} 1"
            )),
            "{outcome}: {metrics}"
        );
    }
    let after = reqwest::get(tp.url("/readyz"))
        .await
        .expect("ready")
        .text()
        .await
        .expect("text");
    assert_eq!(before, after, "nothing changed");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(a.receiver.tokens().is_empty(), "nobody was logged out");
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_next_update_new_logins_fail_closed_unless_a_grace_period_is_configured() {
    for (grace, expected) in [
        ("0", Some(CardErrorCode::RevocationDataStale)),
        ("7200", None),
    ] {
        let mut tp =
            TestProvider::start_with(Db::Sqlite, &[("MYKEY_REVOCATION_STALE_GRACE", grace)]).await;
        let a = site(&tp, "Shop A", "127.0.0.1:9").await;
        let card = tp.issue_card("林　十郎");
        let now = tp.clock.now();
        let crl = tp
            .ca
            .crl(Purpose::Auth, now, now + time::Duration::hours(1))
            .expect("crl");
        import_crl(&tp.provider, crl.as_slice(), "test")
            .await
            .expect("import");
        tp.clock.advance(Duration::from_secs(3600 + 600));
        let browser = Browser::new();
        let first = browser.get(&a.rp.authorize(&[]).url).await;
        let path = first.location.expect("login");
        let page = LoginPage::parse(&path, &browser.get(&tp.url(&path)).await.body);
        let result = use_helper(&page.challenge_url, &card, "1234", tp.clock.unix()).await;
        match (expected, result) {
            (
                Some(code),
                Err(LoginError::Provider {
                    status, code: got, ..
                }),
            ) => {
                assert_eq!((status, got), (503, Some(code)));
                let ready: serde_json::Value = reqwest::get(tp.url("/readyz"))
                    .await
                    .expect("r")
                    .json()
                    .await
                    .expect("j");
                assert!(
                    ready["revocation"]
                        .as_object()
                        .expect("roots")
                        .values()
                        .any(|v| v == "stale"),
                    "{ready}"
                );
                let metrics = reqwest::get(tp.url("/metrics"))
                    .await
                    .expect("m")
                    .text()
                    .await
                    .expect("t");
                assert!(
                    metrics.contains("mykey_crl_freshness{") && metrics.contains("} 2"),
                    "{metrics}"
                );
            }
            (None, Ok(_)) => {}
            (e, r) => panic!("grace {grace}: expected {e:?}, got {r:?}"),
        }
        tp.stop().await;
    }
}

/// Acts as another node whose CRL import for `root` is under way: a transaction holding the
/// root's CRL row, as the import's first statement takes it. The caller commits.
fn begin_import_on_other_node(other_node: &mut diesel::pg::PgConnection, root: &str) {
    use diesel::connection::SimpleConnection as _;
    use diesel::RunQueryDsl as _;
    other_node.batch_execute("BEGIN").expect("begin");
    diesel::sql_query("SELECT crl_number FROM crls WHERE root_key_id = $1 FOR UPDATE")
        .bind::<diesel::sql_types::Text, _>(root)
        .execute(other_node)
        .expect("the other node's lock");
}

/// Two nodes importing CRLs of one root at the same moment take turns: while another import
/// holds the root's CRL row (here the test, as that other node), this import waits, then sees
/// the number the other one committed and refuses its own older CRL; the newer one stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_imports_on_postgres_take_turns_and_an_older_crl_never_replaces_a_newer_one() {
    use diesel::connection::SimpleConnection as _;
    use diesel::{Connection as _, RunQueryDsl as _};

    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Text)]
        root_key_id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        crl_number: String,
    }
    fn stored(c: &mut diesel::pg::PgConnection) -> Stored {
        diesel::sql_query("SELECT root_key_id, crl_number FROM crls WHERE purpose = 'auth'")
            .get_result(c)
            .expect("the auth root's CRL")
    }

    let mut tp = TestProvider::start(Db::Postgres).await;
    let mut other_node = diesel::pg::PgConnection::establish(&tp.database_url).expect("pg");
    let before = stored(&mut other_node);
    let now = tp.clock.now();
    let crl = tp
        .ca
        .crl(Purpose::Auth, now, now + time::Duration::days(1))
        .expect("crl");

    begin_import_on_other_node(&mut other_node, &before.root_key_id);
    let provider = tp.provider.clone();
    let import = tokio::spawn(async move { import_crl(&provider, crl.as_slice(), "test").await });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !import.is_finished(),
        "the import went ahead while another node's import of the same root was under way"
    );
    // The other node's CRL is far newer than the one this import carries.
    let newest = format!("{}000", before.crl_number);
    diesel::sql_query("UPDATE crls SET crl_number = $1 WHERE root_key_id = $2")
        .bind::<diesel::sql_types::Text, _>(&newest)
        .bind::<diesel::sql_types::Text, _>(&before.root_key_id)
        .execute(&mut other_node)
        .expect("the other node's import");
    other_node.batch_execute("COMMIT").expect("commit");

    let refused = import.await.expect("join").expect_err("an older CRL");
    assert_eq!(refused.outcome(), "rolled_back", "{refused}");
    assert_eq!(stored(&mut other_node).crl_number, newest);
    tp.stop().await;
}

/// A resident's first login while another node is importing a CRL that revokes the card:
/// the import looks only at the certificates bound when it runs, so the answer must not bind
/// the certificate under it. The answer waits for that import, then is refused; no person is
/// enrolled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_login_while_another_node_imports_the_crl_that_revokes_the_card_is_refused_on_postgres(
) {
    use diesel::connection::SimpleConnection as _;
    use diesel::{Connection as _, RunQueryDsl as _};
    use mykey_connect::card::crl::Crl;
    use mykey_connect::card::revocation::RevocationSet;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    fn persons(c: &mut diesel::pg::PgConnection) -> i64 {
        diesel::sql_query("SELECT count(*) AS n FROM persons")
            .get_result::<Count>(c)
            .expect("count")
            .n
    }

    let mut tp = TestProvider::start(Db::Postgres).await;
    let a = site(&tp, "Shop A", "127.0.0.1:9").await;
    let card = tp.issue_card("林　十二");
    let crl = revoke(&mut tp, &card);
    let set = RevocationSet::from_crl(&Crl::parse(&crl, &tp.provider.trust).expect("parse"))
        .expect("set");
    let info = set.info().clone();
    let mut other_node = diesel::pg::PgConnection::establish(&tp.database_url).expect("pg");
    let enrolled_before = persons(&mut other_node);

    // The other node's import has begun: it holds the root's CRL row.
    begin_import_on_other_node(&mut other_node, &info.root_key_id);

    let browser = Browser::new();
    let first = browser.get(&a.rp.authorize(&[]).url).await;
    let path = first.location.expect("login");
    let page = LoginPage::parse(&path, &browser.get(&tp.url(&path)).await.body);
    let (url, card_path, now) = (page.challenge_url.clone(), card.clone(), tp.clock.unix());
    let login = tokio::spawn(async move { use_helper(&url, &card_path, "1234", now).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !login.is_finished(),
        "the answer went ahead while an import of its root was under way: {:?}",
        login.await
    );

    // The other node stores the CRL and commits.
    diesel::sql_query(
        "UPDATE crls SET der = $1, crl_number = $2, this_update = $3, next_update = $4, \
         entry_count = $5, sha256 = 'test' WHERE root_key_id = $6",
    )
    .bind::<diesel::sql_types::Binary, _>(&crl)
    .bind::<diesel::sql_types::Text, _>(info.crl_number.to_string())
    .bind::<diesel::sql_types::BigInt, _>(info.this_update.unix_timestamp())
    .bind::<diesel::sql_types::BigInt, _>(info.next_update.unix_timestamp())
    .bind::<diesel::sql_types::BigInt, _>(info.entry_count as i64)
    .bind::<diesel::sql_types::Text, _>(&info.root_key_id)
    .execute(&mut other_node)
    .expect("the other node's import");
    other_node.batch_execute("COMMIT").expect("commit");

    match login.await.expect("join") {
        Err(LoginError::Provider {
            code: Some(CardErrorCode::CertificateRevoked),
            ..
        }) => {}
        other => panic!("a card the other node's CRL revokes was let in: {other:?}"),
    }
    assert_eq!(
        persons(&mut other_node),
        enrolled_before,
        "a person was enrolled"
    );
    tp.stop().await;
}
