//! Removing a client, on the command line or in the console, ends its sessions at the site:
//! each live one gets a back-channel logout token naming its `sub` and `sid`.

use std::time::Duration;

use super::support::{Console, Ops, ADMIN, PASSWORD};
use super::trail::cli;
use crate::provider::browser::Browser;
use crate::revocation::support::validate_logout_token;
use crate::revocation::termination::{login_at, site};

async fn removal_logs_out(db: crate::provider::support::Db) {
    let mut ops = Ops::start(db).await;
    let card = ops.tp.issue_card("小林　七郎");
    let tp = &ops.tp;
    let a = site(tp, "Shop A", "127.0.0.1:9").await;
    let b = site(tp, "Bank B", "localhost:9").await;
    let browser = Browser::new();
    let (_, sub_a, sid_a) = login_at(tp, &browser, &a, &card).await;
    let (_, sub_b, sid_b) = login_at(tp, &browser, &b, &card).await;

    // Shop A is removed on the command line.
    let out = cli(tp, &["client", "remove", &a.rp.client_id], None);
    assert!(out.contains("1 back-channel logout(s) queued"), "{out}");
    let token = a.receiver.wait_for(1, Duration::from_secs(20)).await;
    let claims = validate_logout_token(&tp.issuer, &a.rp.client_id, &token[0]).await;
    assert_eq!(
        (claims["sub"].as_str(), claims["sid"].as_str()),
        (Some(sub_a.as_str()), Some(sid_a.as_str())),
        "the removed site hears which of its sessions ended"
    );
    assert!(
        b.receiver.tokens().is_empty(),
        "the other site hears nothing"
    );

    // Bank B is removed in the console.
    let c: Console = ops.console();
    c.login(ADMIN, PASSWORD, None).await;
    let id = &b.rp.client_id;
    c.get(&format!("/admin/clients/{id}/delete")).await;
    let deleted = c.post(&format!("/admin/clients/{id}/delete"), &[]).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    let token = b.receiver.wait_for(1, Duration::from_secs(20)).await;
    let claims = validate_logout_token(&tp.issuer, id, &token[0]).await;
    assert_eq!(
        (claims["sub"].as_str(), claims["sid"].as_str()),
        (Some(sub_b.as_str()), Some(sid_b.as_str()))
    );
    assert_eq!(a.receiver.tokens().len(), 1, "one logout per session, once");
    ops.tp.stop().await;
}

on_both_databases!(
    removing_a_client_on_the_command_line_or_in_the_console_sends_a_back_channel_logout_for_each_of_its_sessions,
    removal_logs_out
);
