//! Two provider processes on one PostgreSQL database: a code issued by one is redeemed at the
//! other, and a code presented at both at once is redeemed once.

use std::process::Child;
use std::time::{Duration, Instant};

use super::browser::{log_in, query, Browser};
use super::rp::Rp;
use super::support::{free_port, spawn_serve, web_client, Db, TestProvider};

/// The real `mykey-connect serve` binary as a second node on the same database and keys.
struct Node {
    child: Child,
    url: String,
}

impl Node {
    async fn start(tp: &TestProvider) -> Node {
        let port = free_port();
        // Every node of a deployment has the same issuer; only the listener differs.
        let child = spawn_serve(tp, port, &[]);
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = reqwest::get(format!("{url}/readyz")).await {
                if r.status() == 200 {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "second node did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Node { child, url }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn redeem(url: &str, rp: &Rp, code: &str, verifier: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{url}/token"))
        .basic_auth(&rp.client_id, Some(&rp.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", rp.redirect.as_str()),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token request")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_database_share_codes_and_redeem_each_once() {
    let mut tp = TestProvider::start(Db::Postgres).await;
    let node = Node::start(&tp).await;
    let (id, secret) = tp.register(web_client("City", "127.0.0.1:9")).await;
    let rp = Rp::discover(&tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = tp.issue_card("高橋　三郎");
    let browser = Browser::new();

    // Issued by node 1, redeemed at node 2; a second try at node 1 fails.
    let pending = rp.authorize(&[]);
    let code = query(&log_in(&browser, &tp, &pending.url, &card).await)["code"].clone();
    let verifier = pending.verifier.secret().clone();
    assert_eq!(redeem(&node.url, &rp, &code, &verifier).await, 200);
    assert_eq!(redeem(&tp.issuer, &rp, &code, &verifier).await, 400);

    // One code presented at both nodes at once: exactly one wins.
    let pending = rp.authorize(&[]);
    let code = query(&log_in(&browser, &tp, &pending.url, &card).await)["code"].clone();
    let verifier = pending.verifier.secret().clone();
    let (a, b) = tokio::join!(
        redeem(&node.url, &rp, &code, &verifier),
        redeem(&tp.issuer, &rp, &code, &verifier)
    );
    let mut statuses = [a, b];
    statuses.sort();
    assert_eq!(statuses, [200, 400]);

    // Both nodes publish the same keys.
    let jwks = |u: String| async move {
        reqwest::get(u)
            .await
            .expect("jwks")
            .text()
            .await
            .expect("body")
    };
    assert_eq!(
        jwks(format!("{}/jwks.json", node.url)).await,
        jwks(tp.url("/jwks.json")).await
    );
    tp.stop().await;
}
