//! The periodic purge: what expired a day ago goes, in batches, and what is live keeps working.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use mykey_connect::store::purge::{self, BATCH, KEPT_PAST_EXPIRY, SCAN};
use openidconnect::core::CoreUserInfoClaims;
use openidconnect::{OAuth2TokenResponse, TokenResponse};

use super::browser::{log_in, query, Browser};
use super::rp::Rp;
use super::support::{web_client, Db, TestProvider};

/// How many expired tokens of each kind the test stores first: more than two batches.
const EXPIRED: i64 = 2 * BATCH + BATCH / 2;
/// And after the live ones.
const LATE: i64 = BATCH / 2;

/// Rows of `table` whose key starts with `prefix` (`old-`: the expired rows this test wrote,
/// `live-`: the unexpired ones).
fn rows_of(tp: &TestProvider, table: &str, key: &str, prefix: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!("SELECT count(*) AS n FROM {table} WHERE {key} LIKE '{prefix}%'");
    tp.provider
        .db
        .read_blocking(|c| diesel::sql_query(&sql).get_result::<Count>(c))
        .expect("count")
        .n
}

async fn purging(db: Db) {
    let mut tp = TestProvider::start(db).await;
    let (id, secret) = tp.register(web_client("City Library", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("山田　花子");
    let browser = Browser::new();
    let pending = rp.authorize(&[]);
    let back = log_in(&browser, &tp, &pending.url, &card).await;
    let tokens = rp.exchange(&query(&back)["code"], pending.verifier).await;
    rp.verify_id_token(&tokens, &pending.nonce);

    // A busy day's leftovers: tokens and login transactions (one with its challenge) that
    // expired a second apart, all more than a day ago; then more rows than one read of the
    // purge looks at (on either database) that expire tomorrow (a long-lived client's), then a
    // few more expired ones; beside the live login above.
    let now = tp.clock.unix();
    let gone = now - KEPT_PAST_EXPIRY - 1;
    let tomorrow = now + 86_400;
    let rows = |table: &str, columns: &str, values: &str, n: i64| {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
             INSERT INTO {table} ({columns}) SELECT {values} FROM n;"
        )
    };
    // A kilobyte of claims on every row, so that the live ones also fill more pages than one
    // read of the purge looks at on PostgreSQL.
    let claims = format!("'{}'", "x".repeat(1000));
    let mut sql = String::new();
    for (prefix, expires, n) in [
        ("old-", gone, EXPIRED),
        ("live-", tomorrow, SCAN + 1),
        ("old-late-", gone, LATE),
    ] {
        sql += &[
            rows(
                "access_tokens",
                "token_hash, grant_id, client_id, client_session_id, person_id, scope, \
                 claims, created_at, expires_at",
                &format!("'{prefix}' || i, 'g', '{id}', 'cs', 'p', 'openid', {claims}, {gone}, {expires} - i"),
                n,
            ),
            rows(
                "refresh_tokens",
                "token_hash, grant_id, client_id, client_session_id, person_id, scope, \
                 claims, auth_time, amr, acr, created_at, expires_at",
                &format!("'{prefix}' || i, 'g', '{id}', 'cs', 'p', 'openid', {claims}, {gone}, 'sc', 'a', {gone}, {expires} - i"),
                n,
            ),
            rows(
                "auth_requests",
                "id, cookie_hash, client_id, redirect_uri, scope, code_challenge, claims, \
                 created_at, expires_at",
                &format!("'{prefix}' || i, 'h', '{id}', 'http://127.0.0.1:9/callback', 'openid', 'c', {claims}, {gone}, {expires} - i"),
                n,
            ),
        ]
        .concat();
    }
    sql += &format!(
        "INSERT INTO challenges (id, auth_request_id, nonce, purpose, match_code, \
         created_at, expires_at, state) \
         VALUES ('old-1', 'old-1', 'n', 'login', '1234', {gone}, {gone}, 'pending');"
    );
    tp.provider
        .db
        .write_blocking(|c| c.batch_execute(&sql))
        .expect("yesterday's and tomorrow's rows");

    let purged = purge::run(&tp.provider.db, now, Duration::ZERO).expect("purge");

    for (table, key) in [
        ("access_tokens", "token_hash"),
        ("refresh_tokens", "token_hash"),
        ("auth_requests", "id"),
    ] {
        assert_eq!(rows_of(&tp, table, key, "old-"), 0, "expired {table} gone");
        assert_eq!(
            rows_of(&tp, table, key, "live-"),
            SCAN + 1,
            "unexpired {table} stay"
        );
    }
    assert_eq!(
        rows_of(&tp, "challenges", "id", "old-"),
        0,
        "challenges go with their request"
    );
    assert_eq!(purged.rows, 3 * (EXPIRED + LATE) as usize, "{purged:?}");
    assert!(
        purged.transactions >= 3 * 3,
        "each table's {} expired rows take three batches of {BATCH}: {purged:?}",
        EXPIRED + LATE
    );

    // The live login is untouched: its access token reads userinfo, its refresh token works.
    let _: CoreUserInfoClaims = rp
        .userinfo(tokens.access_token())
        .await
        .expect("the live access token still reads userinfo");
    let refresh = tokens.refresh_token().expect("refresh token").clone();
    let refreshed = rp
        .refresh(&refresh)
        .await
        .expect("the live refresh token still works");
    assert!(refreshed.id_token().is_some());

    // Nothing left to purge.
    let again = purge::run(&tp.provider.db, now, Duration::ZERO).expect("purge");
    assert_eq!(again.rows, 0, "{again:?}");
    tp.stop().await;
}

on_both_databases!(
    a_purge_removes_rows_a_day_past_expiry_in_batches_and_live_tokens_keep_working,
    purging
);
