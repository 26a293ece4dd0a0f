//! The periodic purge: what expired a day ago goes, in batches, and what is live keeps working.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use mykey_connect::store::purge::{self, BATCH, KEPT_PAST_EXPIRY};
use openidconnect::core::CoreUserInfoClaims;
use openidconnect::{OAuth2TokenResponse, TokenResponse};

use super::browser::{log_in, query, Browser};
use super::rp::Rp;
use super::support::{web_client, Db, TestProvider};

/// How many expired tokens of each kind the test stores: more than two batches.
const EXPIRED: i64 = 2 * BATCH + BATCH / 2;

/// Rows of `table` whose key starts with `old-` (the expired rows this test wrote).
fn old_rows(tp: &TestProvider, table: &str, key: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!("SELECT count(*) AS n FROM {table} WHERE {key} LIKE 'old-%'");
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
    // expired a second apart, all more than a day ago, beside the live login above.
    let now = tp.clock.unix();
    let gone = now - KEPT_PAST_EXPIRY - 1;
    let rows = |table: &str, columns: &str, values: &str, n: i64| {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
             INSERT INTO {table} ({columns}) SELECT {values} FROM n;"
        )
    };
    let sql = [
        rows(
            "access_tokens",
            "token_hash, grant_id, client_id, client_session_id, person_id, scope, \
             created_at, expires_at",
            &format!("'old-' || i, 'g', '{id}', 'cs', 'p', 'openid', {gone}, {gone} - i"),
            EXPIRED,
        ),
        rows(
            "refresh_tokens",
            "token_hash, grant_id, client_id, client_session_id, person_id, scope, \
             auth_time, amr, acr, created_at, expires_at",
            &format!("'old-' || i, 'g', '{id}', 'cs', 'p', 'openid', {gone}, 'sc', 'a', {gone}, {gone} - i"),
            EXPIRED,
        ),
        rows(
            "auth_requests",
            "id, cookie_hash, client_id, redirect_uri, scope, code_challenge, created_at, \
             expires_at",
            &format!("'old-' || i, 'h', '{id}', 'http://127.0.0.1:9/callback', 'openid', 'c', {gone}, {gone} - i"),
            EXPIRED,
        ),
        format!(
            "INSERT INTO challenges (id, auth_request_id, nonce, purpose, match_code, \
             created_at, expires_at, state) \
             VALUES ('old-1', 'old-1', 'n', 'login', '1234', {gone}, {gone}, 'pending');"
        ),
    ]
    .concat();
    tp.provider
        .db
        .write_blocking(|c| c.batch_execute(&sql))
        .expect("yesterday's rows");

    let purged = purge::run(&tp.provider.db, now, Duration::ZERO).expect("purge");

    assert_eq!(old_rows(&tp, "access_tokens", "token_hash"), 0);
    assert_eq!(old_rows(&tp, "refresh_tokens", "token_hash"), 0);
    assert_eq!(old_rows(&tp, "auth_requests", "id"), 0);
    assert_eq!(
        old_rows(&tp, "challenges", "id"),
        0,
        "challenges go with their request"
    );
    assert!(purged.rows >= 3 * EXPIRED as usize, "{purged:?}");
    assert!(
        purged.transactions >= 3 * 3,
        "each table's {EXPIRED} rows take three batches of {BATCH}: {purged:?}"
    );

    // The live login is untouched: its access token reads userinfo, its refresh token works.
    let _: CoreUserInfoClaims = rp
        .client
        .user_info(tokens.access_token().clone(), None)
        .expect("userinfo endpoint")
        .request_async(&rp.http)
        .await
        .expect("the live access token still reads userinfo");
    let refresh = tokens.refresh_token().expect("refresh token").clone();
    let refreshed = rp
        .client
        .exchange_refresh_token(&refresh)
        .expect("token endpoint")
        .request_async(&rp.http)
        .await
        .expect("the live refresh token still works");
    assert!(refreshed.id_token().is_some());

    // Nothing left to purge: one short transaction per kind of row.
    let again = purge::run(&tp.provider.db, now, Duration::ZERO).expect("purge");
    assert_eq!(again.rows, 0, "{again:?}");
    tp.stop().await;
}

on_both_databases!(
    a_purge_removes_rows_a_day_past_expiry_in_batches_and_live_tokens_keep_working,
    purging
);
