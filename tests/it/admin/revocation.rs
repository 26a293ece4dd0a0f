//! An operator uploads a CRL in the console (the DER file as J-LIS publishes it, or pasted
//! PEM): the revoked resident is logged out, the page shows the termination and the site's
//! back-channel logout delivery, and the audit trail records all three. A renewal's linkage
//! file is uploaded the same way.

use std::time::{Duration, Instant};

use base64::Engine as _;
use mykey_connect::card::jpki::{Purpose, RevocationReason};

use super::support::{text_of, Ops, ADMIN, PASSWORD};
use crate::provider::browser::{log_in, query, Browser};
use crate::provider::rp::Rp;
use crate::provider::support::Db;
use crate::revocation::support::Receiver;

fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
        lines.join("\n")
    )
}

async fn crl_upload(db: Db) {
    let mut ops = Ops::start(db).await;
    let receiver = Receiver::start();
    let created = ops
        .api_json(
            reqwest::Method::POST,
            "/clients",
            Some(serde_json::json!({ "name": "Pharmacy", "redirect_uris": ["http://127.0.0.1:9/cb"], "backchannel_logout_uri": receiver.url })),
        )
        .await;
    let (id, secret) = (
        created["client_id"].as_str().expect("id").to_owned(),
        created["client_secret"]
            .as_str()
            .expect("secret")
            .to_owned(),
    );
    let rp = Rp::discover(&ops.tp, &id, &secret, "http://127.0.0.1:9/cb").await;
    let card = ops.tp.issue_card("伊藤　四郎");
    let pending = rp.authorize(&[]);
    let back = log_in(&Browser::new(), &ops.tp, &pending.url, &card).await;
    rp.exchange(&query(&back)["code"], pending.verifier).await;

    let c = ops.console();
    c.login(ADMIN, PASSWORD, None).await;
    let before = c.get("/admin/revocation").await;
    assert!(
        before.body.contains("class=\"freshness\">fresh<"),
        "{}",
        before.body
    );
    let serial = ops
        .tp
        .card(&card)
        .serial_hex(Purpose::Auth)
        .expect("serial");
    let now = ops.tp.clock.now();
    ops.tp
        .ca
        .revoke(&serial, RevocationReason::KeyCompromise, now)
        .expect("revoke");
    let crl = ops
        .tp
        .ca
        .crl(Purpose::Auth, now, now + time::Duration::days(1))
        .expect("crl");

    let nothing = c
        .upload("/admin/revocation/crl", &[("crl", "")], None)
        .await;
    assert_eq!(nothing.status, 422, "{}", nothing.body);
    assert!(nothing.body.contains("choose a CRL"), "{}", nothing.body);

    // The file J-LIS publishes is DER: the operator chooses it as it is.
    let imported = c
        .upload(
            "/admin/revocation/crl",
            &[("crl", "")],
            Some(("crl_file", "jpki-auth.crl", crl.clone())),
        )
        .await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    let message = text_of(&imported.body, "message").expect("outcome");
    assert!(
        message.contains("1 persons logged out (1 sessions)"),
        "{message}"
    );
    assert!(imported.body.contains(&serial), "the termination is listed");

    receiver.wait_for(1, Duration::from_secs(20)).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = c.get("/admin/revocation").await;
        if page.body.contains("class=\"delivery-status\">delivered<") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the delivery never showed as delivered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let again = c
        .upload("/admin/revocation/crl", &[("crl", &pem(&crl))], None)
        .await;
    assert_eq!(again.status, 422, "the same CRL twice is refused");

    let audit = c.get("/admin/audit").await.body;
    for kind in [
        "crl.imported",
        "person.terminated",
        "logout.delivery",
        "session.ended",
    ] {
        assert!(
            audit.contains(&format!("class=\"kind\">{kind}<")),
            "{kind} in the audit log"
        );
    }
    assert!(
        audit.contains("console:admin:alice"),
        "the upload names the operator"
    );
    ops.tp.stop().await;
}

on_both_databases!(
    a_crl_file_uploaded_in_the_console_logs_the_resident_out_and_the_delivery_shows,
    crl_upload
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linkage_file_uploaded_in_the_console_links_the_renewed_card_to_the_resident() {
    let mut ops = Ops::start(Db::Sqlite).await;
    let (id, secret) = ops
        .tp
        .register(crate::provider::support::web_client(
            "Library",
            "127.0.0.1:9",
        ))
        .await;
    let rp = Rp::discover(&ops.tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    let card = ops.tp.issue_card("伊藤　五郎");
    let pending = rp.authorize(&[]);
    let back = log_in(&Browser::new(), &ops.tp, &pending.url, &card).await;
    rp.exchange(&query(&back)["code"], pending.verifier).await;

    let old = ops.tp.card(&card);
    let renewed = ops.tp.ca.renew(&old, ops.tp.clock.now()).expect("renew");
    let link = mykey_connect::testkit::linkage(&old, &renewed, ops.tp.clock.now())
        .expect("linkage")
        .to_json();

    let c = ops.console();
    c.login(ADMIN, PASSWORD, None).await;
    c.get("/admin/revocation").await;
    let nothing = c
        .upload("/admin/revocation/linkage", &[("linkage", "")], None)
        .await;
    assert_eq!(nothing.status, 422, "{}", nothing.body);
    let imported = c
        .upload(
            "/admin/revocation/linkage",
            &[("linkage", "")],
            Some(("linkage_file", "renewals.json", link)),
        )
        .await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    let message = text_of(&imported.body, "message").expect("outcome");
    assert!(message.contains("2 records: 1 linked"), "{message}");
    ops.tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_larger_than_64_mb_is_refused_with_413_in_the_api_and_the_console_and_nothing_is_imported(
) {
    let ops = Ops::start(Db::Sqlite).await;
    let status = || ops.api_json(reqwest::Method::GET, "/revocation", None);
    let before = status().await;
    let too_large = vec![0x30; (64 << 20) + 1];

    let (code, body) = ops
        .api_raw(
            reqwest::Method::POST,
            "/crls",
            Some(&ops.admin_key),
            too_large.clone(),
        )
        .await;
    assert_eq!(code, 413, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["error"], "invalid_request");

    let c = ops.console();
    c.login(ADMIN, PASSWORD, None).await;
    c.get("/admin/revocation").await;
    let refused = c
        .upload(
            "/admin/revocation/crl",
            &[("crl", "")],
            Some(("crl_file", "huge.crl", too_large)),
        )
        .await;
    assert_eq!(refused.status, 413);
    let message = text_of(&refused.body, "message").expect("what went wrong");
    assert!(message.contains("larger than 64 MB"), "{message}");
    assert_eq!(status().await, before, "nothing was imported");
    ops.tp.stop().await;
}
