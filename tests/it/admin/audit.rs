//! The audit trail end to end: a real login and token flow and operator actions are recorded;
//! `audit verify` passes, and names the entry a direct database edit broke; pruning keeps what
//! remains verifiable behind a signed checkpoint; on SQLite and PostgreSQL.

use diesel::connection::SimpleConnection as _;
use diesel::Connection as _;
use openidconnect::OAuth2TokenResponse as _;

use super::support::Ops;
use crate::provider::browser::{log_in, query, Browser};
use crate::provider::rp::Rp;
use crate::provider::support::{command, web_client, Db, TestProvider};

/// Runs `mykey-connect` as an operator would; the first value is whether it exited with 0,
/// the second, when it did not, how it ended (an exit code or a signal) ahead of its stdout.
fn cli(tp: &TestProvider, args: &[&str]) -> (bool, String, String) {
    let out = command(tp).args(args).output().expect("run mykey-connect");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stdout = if out.status.success() {
        stdout
    } else {
        format!("[{}] {stdout}", out.status)
    };
    (
        out.status.success(),
        stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs SQL straight against the test database, as an attacker with database access would.
pub(super) fn tamper(tp: &TestProvider, sql: &str) {
    if tp.database_url.starts_with("postgres") {
        let mut c = diesel::pg::PgConnection::establish(&tp.database_url).expect("pg");
        c.batch_execute(sql).expect("tamper");
    } else {
        let path = tp.database_url.trim_start_matches("sqlite://");
        let mut c = diesel::sqlite::SqliteConnection::establish(path).expect("sqlite");
        c.batch_execute(sql).expect("tamper");
    }
}

/// A resident logs in at a site, the site gets and refreshes tokens, an operator registers
/// a client: the trail records each step. Returns the site's client id and every secret the
/// site held on the way (its client secret, the code, the tokens), which the trail must not.
async fn some_history(ops: &mut Ops) -> (String, Vec<String>) {
    let (id, secret) = ops.tp.register(web_client("Clinic", "127.0.0.1:9")).await;
    let rp = Rp::discover(&ops.tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = ops.tp.issue_card("佐藤　一郎");
    let pending = rp.authorize(&[]);
    let back = log_in(&Browser::new(), &ops.tp, &pending.url, &card).await;
    let code = query(&back)["code"].clone();
    let tokens = rp.exchange(&code, pending.verifier).await;
    let refreshed = rp
        .refresh(tokens.refresh_token().expect("refresh"))
        .await
        .expect("refresh");
    let mut secrets = vec![secret.clone(), code];
    for t in [&tokens, &refreshed] {
        secrets.push(t.access_token().secret().clone());
        secrets.extend(t.refresh_token().map(|r| r.secret().clone()));
    }
    ops.api_json(
        reqwest::Method::POST,
        "/clients",
        Some(serde_json::json!({ "name": "Library", "redirect_uris": ["http://127.0.0.1:7/cb"] })),
    )
    .await;
    (id, secrets)
}

async fn verify_then_tamper(db: Db) {
    let mut ops = Ops::start(db).await;
    let (client_id, secrets) = some_history(&mut ops).await;

    let (ok, out, err) = cli(&ops.tp, &["audit", "export"]);
    assert!(ok, "{}{err}", out.lines().next().unwrap_or_default());
    let entries: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    for expected in [
        "admin.account_created",
        "api_key.created",
        "login.enrolled",
        "login.succeeded",
        "consent.granted",
        "token.issued",
        "client.created",
    ] {
        assert!(
            kinds.contains(&expected),
            "{expected} missing from {kinds:?}"
        );
    }
    let issued: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["kind"] == "token.issued")
        .collect();
    assert_eq!(issued.len(), 2, "code exchange and refresh");
    assert_eq!(issued[0]["client_id"], client_id.as_str());
    assert_eq!(issued[0]["data"]["grant_type"], "authorization_code");
    let enrolled = entries.iter().find(|e| e["kind"] == "login.enrolled");
    let person = &enrolled.expect("enrolled")["person_id"];
    assert!(person.is_string(), "{person}");
    assert_eq!(issued[0]["person_id"], *person, "the person who logged in");
    assert_eq!(issued[1]["person_id"], *person);
    assert_eq!(issued[1]["data"]["grant_type"], "refresh_token");
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["seq"], i as i64 + 1, "dense sequence");
        if i > 0 {
            assert_eq!(e["prev_hash"], entries[i - 1]["hash"], "linked");
        }
    }
    assert!(
        // A client's settings may name `dpop_bound_access_tokens`; a token itself never appears.
        !out.contains("PIN")
            && !out.contains("\"access_token\"")
            && !out.contains("refresh_token\":\""),
        "no secrets in the trail"
    );
    for secret in &secrets {
        assert!(
            !out.contains(secret.as_str()),
            "a secret the site held is in the trail"
        );
    }

    let (ok, out, err) = cli(&ops.tp, &["audit", "verify"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("audit chain OK: {} entries", entries.len())),
        "{out}"
    );

    // Someone rewrites what an entry says; the chain names that entry.
    tamper(
        &ops.tp,
        "UPDATE audit_log SET data = '{\"scope\":\"openid\"}' WHERE seq = 5",
    );
    let (ok, out, err) = cli(&ops.tp, &["audit", "verify"]);
    assert!(!ok, "a tampered log must not verify: {out}");
    assert!(err.contains("audit chain BROKEN at entry 5"), "{err}");
    assert!(err.contains("contents do not match"), "{err}");
    ops.tp.stop().await;
}

on_both_databases!(
    audit_verify_passes_on_a_real_log_and_names_the_entry_an_edit_broke,
    verify_then_tamper
);

async fn prune_and_verify(db: Db) {
    let mut ops = Ops::start(db).await;
    some_history(&mut ops).await;
    let (ok, out, err) = cli(&ops.tp, &["audit", "verify"]);
    assert!(ok, "{out}{err}");
    // The command runs on the system clock, which has not moved: nothing is a day old yet.
    let (ok, text, err) = cli(&ops.tp, &["audit", "prune", "--keep-days", "1"]);
    assert!(ok, "{text}{err}");
    assert!(text.contains("nothing older"), "{text}");

    // Two days later (the provider's clock), keeping one day prunes everything so far.
    ops.tp
        .clock
        .advance(std::time::Duration::from_secs(2 * 86_400));
    let p = ops.tp.provider.clone();
    let when = ops.tp.clock.unix();
    let pruned = tokio::task::spawn_blocking(move || {
        mykey_connect::audit::chain::drain_blocking(&p.db, std::time::Duration::from_secs(5))
            .expect("drain");
        mykey_connect::audit::prune::prune(
            &p.db,
            &*p.keys.snapshot(),
            p.settings.issuer_str(),
            when - 86_400,
            when,
            mykey_connect::audit::Actor::Cli,
        )
        .expect("prune")
    })
    .await
    .expect("join")
    .expect("something pruned");
    assert!(pruned > 5);

    let (ok, out, err) = cli(&ops.tp, &["audit", "verify"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("after a signed checkpoint at {pruned}")),
        "{out}"
    );

    tamper(
        &ops.tp,
        &format!("UPDATE audit_checkpoints SET last_hash = 'ab' WHERE through_seq = {pruned}"),
    );
    let (ok, _, err) = cli(&ops.tp, &["audit", "verify"]);
    assert!(!ok);
    assert!(err.contains(&format!("BROKEN at entry {pruned}")), "{err}");
    ops.tp.stop().await;
}

/// With `audit_retention` set, the running provider prunes by itself (its leader checks every
/// five seconds whether an hour has passed on its clock) and what remains still verifies.
async fn retention_applied_by_the_provider(db: Db) {
    let mut ops = Ops::start_with(db, &[("MYKEY_AUDIT_RETENTION", "86400")]).await;
    some_history(&mut ops).await;
    let (ok, out, err) = cli(&ops.tp, &["audit", "verify"]);
    assert!(ok, "{out}{err}");
    assert!(
        !out.contains("checkpoint"),
        "pruned before anything was a day old: {out}"
    );

    ops.tp
        .clock
        .advance(std::time::Duration::from_secs(2 * 86_400));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let verified = loop {
        let (ok, out, err) = cli(&ops.tp, &["audit", "verify"]);
        assert!(ok, "{out}{err}");
        if out.contains("after a signed checkpoint at") {
            break out;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the provider did not apply its retention within 30 s: {out}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };

    let (ok, out, err) = cli(&ops.tp, &["audit", "export"]);
    assert!(ok, "{out}{err}");
    let entries: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let kinds: Vec<&str> = entries.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(
        !kinds.contains(&"login.succeeded") && !kinds.contains(&"token.issued"),
        "the history older than the retention is still there: {kinds:?} ({verified})"
    );
    let pruned = entries
        .iter()
        .find(|e| e["kind"] == "audit.pruned")
        .unwrap_or_else(|| panic!("no audit.pruned entry: {kinds:?}"));
    assert_eq!(pruned["actor"], "system", "{pruned}");
    ops.tp.stop().await;
}

on_both_databases!(
    a_provider_with_an_audit_retention_prunes_by_itself_and_the_rest_verifies,
    retention_applied_by_the_provider
);

on_both_databases!(
    pruning_leaves_a_signed_checkpoint_that_keeps_the_rest_verifiable,
    prune_and_verify
);

/// A backlog of events larger than one chaining batch (a node that was down while others
/// recorded, a burst) is chained in full and in the order it arrived, and verifies.
async fn backlog_chained(db: Db) {
    use mykey_connect::audit::{record, Actor, Event, Kind};
    let ops = Ops::start(db).await;
    let p = ops.tp.provider.clone();
    let now = ops.tp.clock.unix();
    const BACKLOG: usize = 1_234;
    p.db.write(move |c| {
        for i in 0..BACKLOG {
            let event =
                Event::new(Kind::TokenRevoked, Actor::System).data(serde_json::json!({ "n": i }));
            record(c, &event, now)?;
        }
        Ok(())
    })
    .await
    .expect("record the backlog");
    mykey_connect::audit::chain::drain(&p.db, std::time::Duration::from_secs(10))
        .await
        .expect("drain");

    let (ok, out, err) = cli(&ops.tp, &["audit", "export"]);
    assert!(ok, "{out}{err}");
    let numbers: Vec<i64> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .filter(|e| e["kind"] == "token.revoked")
        .map(|e| e["data"]["n"].as_i64().expect("n"))
        .collect();
    let expected: Vec<i64> = (0..BACKLOG as i64).collect();
    assert_eq!(numbers, expected, "every event once, in arrival order");
    let (ok, out, err) = cli(&ops.tp, &["audit", "verify"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("audit chain OK"), "{out}");
    ops.tp.stop().await;
}

on_both_databases!(
    a_backlog_larger_than_a_batch_is_chained_in_full_and_in_order_and_verifies,
    backlog_chained
);
