//! Two provider processes on one PostgreSQL database: a code issued by one is redeemed at the
//! other, and a code presented at both at once is redeemed once; two `serve` processes behind
//! one round-robin address share logins, refresh tokens and revocation fan-out.

use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use mykey_connect::card::jpki::{Purpose, RevocationReason};
use openidconnect::OAuth2TokenResponse as _;

use super::browser::{log_in, query, Browser};
use super::flow::sid_of;
use super::rp::Rp;
use super::support::{command, free_port, spawn_serve, web_client, Db, TestProvider};
use crate::revocation::support::validate_logout_token;
use crate::revocation::termination::site;

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

/// A load balancer in front of two nodes at the deployment's one address: each request goes to
/// the next node in turn (round-robin per request, as a layer-7 balancer does), and the
/// balancer notes which node answered what.
struct Balancer {
    nodes: [String; 2],
    next: AtomicUsize,
    log: Mutex<Vec<(usize, String)>>,
    http: reqwest::Client,
}

/// Headers of one connection, not of the request (RFC 9110 §7.6.1), and the length the
/// forwarding side sets again.
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection" | "keep-alive" | "transfer-encoding" | "content-length" | "upgrade"
    )
}

impl Balancer {
    /// Listens at the issuer's address (free once the set-up process stopped listening).
    fn start(issuer: &str, nodes: [String; 2]) -> Arc<Balancer> {
        let addr = issuer.strip_prefix("http://").expect("an http issuer");
        let listener = std::net::TcpListener::bind(addr).expect("the issuer's address");
        let lb = Arc::new(Balancer {
            nodes,
            next: AtomicUsize::new(0),
            log: Mutex::default(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        });
        let data = web::Data::from(lb.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(forward))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        lb
    }

    /// The node that answered the last request so far, and what that request was.
    fn last(&self) -> (usize, String) {
        self.log
            .lock()
            .expect("log")
            .last()
            .cloned()
            .expect("a request")
    }
}

async fn forward(req: HttpRequest, body: web::Bytes, lb: web::Data<Balancer>) -> HttpResponse {
    let n = lb.next.fetch_add(1, Ordering::SeqCst) % 2;
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    lb.log
        .lock()
        .expect("log")
        .push((n, format!("{} {}", req.method(), req.path())));
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).expect("method");
    let mut out = lb
        .http
        .request(method, format!("{}{path}", lb.nodes[n]))
        .body(body.to_vec());
    for (name, value) in req.headers() {
        if !hop_by_hop(name.as_str()) {
            out = out.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = out.send().await.expect("the node answers");
    let status = StatusCode::from_u16(answer.status().as_u16()).expect("status");
    let headers: Vec<(String, Vec<u8>)> = answer
        .headers()
        .iter()
        .filter(|(name, _)| !hop_by_hop(name.as_str()))
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    let mut res = HttpResponse::build(status);
    for (name, value) in headers {
        res.append_header((name, value));
    }
    res.body(answer.bytes().await.expect("body").to_vec())
}

/// Two `mykey-connect serve` processes on one PostgreSQL database behind one round-robin
/// address: a login answered by one node is redeemed at the other, its refresh token at the
/// first again, and a revocation imported by an operator's `crl import` reaches each client
/// session's back-channel endpoint exactly once although both nodes deliver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_behind_one_round_robin_address_share_logins_refresh_and_each_logout_is_delivered_once(
) {
    if std::env::var_os("MYKEY_TEST_POSTGRES_URL").is_none() {
        eprintln!("skipped: MYKEY_TEST_POSTGRES_URL is not set");
        return;
    }
    // This process only sets up (database, keys, CA, clients); it neither serves nor delivers.
    let mut tp = TestProvider::start_quiet(Db::Postgres, &[]).await;
    let a = site(&tp, "Shop A", "127.0.0.1:9").await;
    let b = site(&tp, "Shop B", "127.0.0.1:10").await;
    let card = tp.issue_card("松本　十郎");
    let nodes = [Node::start(&tp).await, Node::start(&tp).await];
    tp.stop_listening().await;
    let lb = Balancer::start(&tp.issuer, [nodes[0].url.clone(), nodes[1].url.clone()]);

    // A login: the code comes with the last answer of the login, from one node...
    let browser = Browser::new();
    let pending = a.rp.authorize(&[]);
    let code = query(&log_in(&browser, &tp, &pending.url, &card).await)["code"].clone();
    let (issued_by, _) = lb.last();
    // ...and is redeemed at the other.
    let tokens = a.rp.exchange(&code, pending.verifier).await;
    let (redeemed_at, request) = lb.last();
    assert_eq!(request, "POST /token");
    assert_ne!(
        issued_by, redeemed_at,
        "code and token came from different nodes"
    );
    a.rp.verify_id_token(&tokens, &pending.nonce);
    let sid_a1 = sid_of(&tokens);

    // The refresh token, at the node that did not issue it.
    let refreshed = reqwest::Client::new()
        .post(tp.url("/token"))
        .basic_auth(&a.rp.client_id, Some(&a.rp.secret))
        .form(&[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                tokens.refresh_token().expect("refresh").secret(),
            ),
        ])
        .send()
        .await
        .expect("refresh");
    assert_eq!(refreshed.status(), 200);
    let refreshed: serde_json::Value = refreshed.json().await.expect("json");
    assert!(refreshed["access_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    let (refreshed_at, request) = lb.last();
    assert_eq!(request, "POST /token");
    assert_ne!(refreshed_at, redeemed_at);

    // Two more client sessions: the same browser at site B, another browser at site A.
    let pending = b.rp.authorize(&[]);
    let code = query(&log_in(&browser, &tp, &pending.url, &card).await)["code"].clone();
    let sid_b1 = sid_of(&b.rp.exchange(&code, pending.verifier).await);
    let other = Browser::new();
    let pending = a.rp.authorize(&[]);
    let code = query(&log_in(&other, &tp, &pending.url, &card).await)["code"].clone();
    let sid_a2 = sid_of(&a.rp.exchange(&code, pending.verifier).await);
    let served: Vec<usize> = lb.log.lock().expect("log").iter().map(|e| e.0).collect();
    assert!(
        served.contains(&0) && served.contains(&1),
        "both nodes served"
    );

    // The card is revoked; an operator imports the CRL on one host.
    let serial = tp.card(&card).serial_hex(Purpose::Auth).expect("serial");
    let now = tp.clock.now();
    tp.ca
        .revoke(&serial, RevocationReason::KeyCompromise, now)
        .expect("revoke");
    let crl = tp
        .ca
        .crl(Purpose::Auth, now, now + time::Duration::days(1))
        .expect("crl");
    let crl_path = tp.dir.path().join("revoked.crl");
    std::fs::write(&crl_path, crl.as_slice()).expect("write CRL");
    let import = command(&tp)
        .arg("crl")
        .arg("import")
        .arg(&crl_path)
        .output()
        .expect("crl import runs");
    assert!(
        import.status.success(),
        "crl import: {}",
        String::from_utf8_lossy(&import.stderr)
    );

    // Both nodes look at the outbox; each client session hears once.
    a.receiver.wait_for(2, Duration::from_secs(30)).await;
    b.receiver.wait_for(1, Duration::from_secs(30)).await;
    // Several poll rounds of both nodes more: nothing is delivered twice.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (site, sids) in [(&a, vec![&sid_a1, &sid_a2]), (&b, vec![&sid_b1])] {
        let received = site.receiver.tokens();
        assert_eq!(
            received.len(),
            sids.len(),
            "one logout token per client session"
        );
        let mut got = Vec::new();
        for token in &received {
            let claims = validate_logout_token(&tp.issuer, &site.rp.client_id, token).await;
            got.push(claims["sid"].as_str().expect("sid").to_owned());
        }
        got.sort();
        let mut want: Vec<String> = sids.into_iter().cloned().collect();
        want.sort();
        assert_eq!(got, want, "the sids of this site's sessions");
    }
    drop(nodes);
}
