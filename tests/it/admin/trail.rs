//! One audited path for operators: every change made on the command line or in the console
//! goes through the same `admin::` operation and leaves its entry in the audit chain, naming
//! who made it.

use std::io::Write as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

use mykey_connect::admin::audit::{self as trail, Filter, PATIENCE};
use mykey_connect::admin::totp;
use mykey_connect::card::jpki::Purpose;

use super::console::base32_decode;
use super::support::{text_of, Ops, ADMIN, PASSWORD};
use crate::provider::browser::{log_in, query, unescape, Browser};
use crate::provider::rp::Rp;
use crate::provider::support::{command, TestProvider};

/// Runs `mykey-connect` as an operator would, with `stdin` on its standard input; returns its
/// standard output, and fails the test when it fails.
pub(super) fn cli(tp: &TestProvider, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = command(tp)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mykey-connect");
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(text.as_bytes()).expect("stdin");
    }
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mykey-connect {args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Walks the audit chain as it grows: each step must have added an entry of its kind by its
/// operator.
struct Trail {
    seen: i64,
}

impl Trail {
    async fn new(tp: &TestProvider) -> Trail {
        let rows = trail::search(&tp.provider, Filter::default(), 1, PATIENCE)
            .await
            .expect("audit");
        Trail {
            seen: rows.first().map_or(0, |r| r.seq),
        }
    }

    /// The entries added since the last look: (kind, actor).
    async fn added(&mut self, tp: &TestProvider) -> Vec<(String, String)> {
        let rows = trail::search(&tp.provider, Filter::default(), i64::MAX, PATIENCE)
            .await
            .expect("audit");
        let new: Vec<(String, String)> = rows
            .iter()
            .filter(|r| r.seq > self.seen)
            .map(|r| (r.kind.clone(), r.actor.clone()))
            .collect();
        self.seen = rows.first().map_or(self.seen, |r| r.seq);
        new
    }

    /// The last step left an entry `kind` by `actor`.
    async fn shows(&mut self, tp: &TestProvider, step: &str, kind: &str, actor: &str) {
        let added = self.added(tp).await;
        assert!(
            added.iter().any(|(k, a)| k == kind && a == actor),
            "{step}: no {kind} by {actor} in the audit chain; it added {added:?}"
        );
    }
}

/// The id in the first link to a client page of a console page.
fn client_id_of(body: &str) -> String {
    unescape(body)
        .split("/admin/clients/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("link to the client")
        .to_owned()
}

async fn every_action_audited(db: crate::provider::support::Db) {
    let mut ops = Ops::start(db).await;
    let mut t = Trail::new(&ops.tp).await;
    let tp = &ops.tp;

    // The command line, as the operator `cli`.
    let added = cli(
        tp,
        &[
            "client",
            "add",
            "--name",
            "Library",
            "--redirect-uri",
            "http://127.0.0.1:7/cb",
            "--json",
        ],
        None,
    );
    let id = serde_json::from_str::<serde_json::Value>(&added).expect("json")["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned();
    t.shows(tp, "client add", "client.created", "cli").await;
    cli(
        tp,
        &["client", "update", &id, "--name", "City Library"],
        None,
    );
    t.shows(tp, "client update", "client.updated", "cli").await;
    cli(tp, &["client", "rotate-secret", &id], None);
    t.shows(tp, "client rotate-secret", "client.secret_rotated", "cli")
        .await;
    cli(
        tp,
        &["keys", "rotate", "--alg", "ES256", "--lead-time", "60"],
        None,
    );
    t.shows(tp, "keys rotate", "keys.rotated", "cli").await;
    let password = "a long enough password\n";
    cli(
        tp,
        &["admin", "create", "carol", "--password-stdin"],
        Some(password),
    );
    t.shows(tp, "admin create", "admin.account_created", "cli")
        .await;
    cli(
        tp,
        &["admin", "reset-password", "carol", "--password-stdin"],
        Some(password),
    );
    t.shows(tp, "admin reset-password", "admin.password_reset", "cli")
        .await;
    cli(tp, &["admin", "disable", "carol"], None);
    t.shows(tp, "admin disable", "admin.account_disabled", "cli")
        .await;
    let key = cli(
        tp,
        &[
            "admin", "api-key", "create", "--name", "ci", "--role", "viewer",
        ],
        None,
    );
    let key_id = key
        .lines()
        .find_map(|l| l.strip_prefix("id:"))
        .expect("key id")
        .trim()
        .to_owned();
    t.shows(tp, "admin api-key create", "api_key.created", "cli")
        .await;
    cli(tp, &["admin", "api-key", "revoke", &key_id], None);
    t.shows(tp, "admin api-key revoke", "api_key.revoked", "cli")
        .await;
    let now = tp.clock.now();
    let crl = ops
        .tp
        .ca
        .crl(Purpose::Auth, now, now + time::Duration::days(1))
        .expect("a newer CRL");
    let crl_file = ops.tp.dir.path().join("auth.crl");
    std::fs::write(&crl_file, &crl).expect("write CRL");
    let tp = &ops.tp;
    cli(
        tp,
        &["crl", "import", &crl_file.display().to_string()],
        None,
    );
    t.shows(tp, "crl import", "crl.imported", "cli").await;
    let card = ops.tp.issue_card("渡辺　六郎");
    let (old, now) = (ops.tp.card(&card), ops.tp.clock.now());
    let renewed = ops.tp.ca.renew(&old, now).expect("renew");
    let link_file = ops.tp.dir.path().join("link.json");
    std::fs::write(
        &link_file,
        mykey_connect::testkit::linkage(&old, &renewed, now)
            .expect("linkage")
            .to_json(),
    )
    .expect("write linkage");
    let tp = &ops.tp;
    cli(
        tp,
        &["linkage", "import", &link_file.display().to_string()],
        None,
    );
    t.shows(tp, "linkage import", "linkage.imported", "cli")
        .await;
    cli(tp, &["client", "remove", &id], None);
    t.shows(tp, "client remove", "client.deleted", "cli").await;

    // The console, as the operator `admin:alice`.
    let alice = "admin:alice";
    let c = ops.console();
    c.login(ADMIN, PASSWORD, None).await;
    t.shows(tp, "console login", "admin.login", alice).await;
    c.get("/admin/account").await;
    let begun = c.post("/admin/account/totp", &[]).await;
    let totp_key = base32_decode(&text_of(&begun.body, "totp-key").expect("typed key"));
    let code = totp::code(&totp_key, totp::step_of(tp.clock.unix()));
    let confirmed = c
        .post("/admin/account/totp/confirm", &[("code", &code)])
        .await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    t.shows(tp, "TOTP set-up", "admin.totp_enabled", alice)
        .await;
    c.get("/admin/clients/new").await;
    let form = [
        ("name", "Clinic"),
        ("redirect_uris", "http://127.0.0.1:9/callback"),
        ("scopes", "openid"),
        ("auth_method", "client_secret_basic"),
    ];
    let created = c.post("/admin/clients", &form).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = client_id_of(&created.body);
    t.shows(tp, "client registration", "client.created", alice)
        .await;
    c.get(&format!("/admin/clients/{id}")).await;
    let mut renamed = form;
    renamed[0] = ("name", "Clinic (main)");
    assert_eq!(
        c.post(&format!("/admin/clients/{id}"), &renamed)
            .await
            .status,
        303
    );
    t.shows(tp, "client edit", "client.updated", alice).await;
    c.get(&format!("/admin/clients/{id}")).await;
    c.post(
        &format!("/admin/clients/{id}/enabled"),
        &[("enabled", "false")],
    )
    .await;
    t.shows(tp, "client disabled", "client.updated", alice)
        .await;
    c.get(&format!("/admin/clients/{id}")).await;
    c.post(
        &format!("/admin/clients/{id}/enabled"),
        &[("enabled", "true")],
    )
    .await;
    t.shows(tp, "client enabled", "client.updated", alice).await;
    c.get(&format!("/admin/clients/{id}")).await;
    let rotated = c.post(&format!("/admin/clients/{id}/secret"), &[]).await;
    let secret = text_of(&rotated.body, "secret").expect("new secret");
    t.shows(tp, "secret rotation", "client.secret_rotated", alice)
        .await;
    c.get("/admin/keys").await;
    c.post("/admin/keys/rotate", &[("alg", "RS256"), ("lead", "60")])
        .await;
    t.shows(tp, "key rotation", "keys.rotated", alice).await;
    c.get("/admin/api-keys").await;
    let made = c
        .post(
            "/admin/api-keys",
            &[("name", "monitoring"), ("role", "viewer")],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    t.shows(tp, "API key creation", "api_key.created", alice)
        .await;
    let page = c.get("/admin/api-keys").await;
    let key_id = page
        .body
        .split("<tr>")
        .find(|row| row.contains(">monitoring<"))
        .and_then(|row| row.split("/admin/api-keys/").nth(1))
        .and_then(|s| s.split('/').next())
        .expect("the new key, to revoke")
        .to_owned();
    c.post(&format!("/admin/api-keys/{key_id}/revoke"), &[])
        .await;
    t.shows(tp, "API key revocation", "api_key.revoked", alice)
        .await;

    // Two residents log in at the clinic: a session to end, two persons to merge.
    let rp = Rp::discover(&ops.tp, &id, &secret, "http://127.0.0.1:9/callback").await;
    for name in ["佐藤　一郎", "佐藤　二郎"] {
        let card = ops.tp.issue_card(name);
        let pending = rp.authorize(&[]);
        let back = log_in(&Browser::new(), &ops.tp, &pending.url, &card).await;
        rp.exchange(&query(&back)["code"], pending.verifier).await;
    }
    let tp = &ops.tp;
    t.added(tp).await;
    let sessions = ops.api_json(reqwest::Method::GET, "/sessions", None).await;
    let sessions = sessions["sessions"].as_array().expect("sessions");
    let field = |i: usize, name: &str| sessions[i][name].as_str().expect(name).to_owned();
    let (session, source, target) = (
        field(0, "session_id"),
        field(0, "person_id"),
        field(1, "person_id"),
    );
    c.get("/admin/sessions").await;
    c.post(&format!("/admin/sessions/{session}/end"), &[]).await;
    t.shows(tp, "session end", "admin.session_ended", alice)
        .await;
    c.get("/admin/persons").await;
    let merged = c
        .post(
            "/admin/persons/merge",
            &[
                ("source", &source),
                ("target", &target),
                ("reason", "renewal without linkage"),
            ],
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    t.shows(tp, "person merge", "person.merged", alice).await;

    let now = tp.clock.now();
    let crl = ops
        .tp
        .ca
        .crl(Purpose::Sign, now, now + time::Duration::days(1))
        .expect("a newer CRL");
    let tp = &ops.tp;
    c.get("/admin/revocation").await;
    let uploaded = c
        .upload(
            "/admin/revocation/crl",
            &[("crl", "")],
            Some(("crl_file", "sign.crl", crl)),
        )
        .await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.body);
    t.shows(tp, "CRL upload", "crl.imported", alice).await;
    let (old, now) = (ops.tp.card(&card), ops.tp.clock.now());
    let again = ops.tp.ca.renew(&renewed, now).expect("renew again");
    let link = mykey_connect::testkit::linkage(&old, &again, now)
        .expect("linkage")
        .to_json();
    let tp = &ops.tp;
    c.get("/admin/revocation").await;
    let uploaded = c
        .upload(
            "/admin/revocation/linkage",
            &[("linkage", "")],
            Some(("linkage_file", "renewals.json", link)),
        )
        .await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.body);
    t.shows(tp, "linkage upload", "linkage.imported", alice)
        .await;
    c.get(&format!("/admin/clients/{id}/delete")).await;
    assert_eq!(
        c.post(&format!("/admin/clients/{id}/delete"), &[])
            .await
            .status,
        303
    );
    t.shows(tp, "client deletion", "client.deleted", alice)
        .await;
    c.post("/admin/logout", &[]).await;
    t.shows(tp, "console logout", "admin.logout", alice).await;

    // Pruning on the command line: everything older than this second goes, and the pruning
    // itself is the first entry of what remains. An entry of this very second is not older
    // yet: the command is run again until one second has passed.
    let deadline = Instant::now() + Duration::from_secs(10);
    while cli(tp, &["audit", "prune", "--keep-days", "0"], None).contains("nothing older") {
        assert!(Instant::now() < deadline, "nothing was ever old enough");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    t.shows(tp, "audit prune", "audit.pruned", "cli").await;
    assert!(
        cli(tp, &["audit", "verify"], None).contains("audit chain OK"),
        "what remains verifies"
    );
    ops.tp.stop().await;
}

on_both_databases!(
    every_operator_action_on_the_command_line_and_in_the_console_is_in_the_audit_chain,
    every_action_audited
);

/// An API key made before key ids were drawn without a leading hyphen may begin with one; the
/// operator revokes it by its id as listed, and its secret stops working.
async fn hyphen_led_key_revoked(db: crate::provider::support::Db) {
    let ops = Ops::start(db).await;
    let tp = &ops.tp;
    let made = cli(
        tp,
        &[
            "admin", "api-key", "create", "--name", "old", "--role", "viewer",
        ],
        None,
    );
    let field = |name: &str| {
        made.lines()
            .find_map(|l| l.strip_prefix(name))
            .expect("printed")
            .trim()
            .to_owned()
    };
    let (id, secret) = (field("id:"), field("key:"));
    assert!(!id.starts_with('-'), "new ids never begin with '-': {id}");
    let old_id = format!("-{}", &id[1..]);
    super::audit::tamper(
        tp,
        &format!("UPDATE admin_api_keys SET id = '{old_id}' WHERE id = '{id}'"),
    );
    let (status, _) = ops
        .api(reqwest::Method::GET, "/clients", Some(&secret), None)
        .await;
    assert_eq!(status, 200, "the key works before it is revoked");

    cli(tp, &["admin", "api-key", "revoke", &old_id], None);

    let listed = cli(tp, &["admin", "api-key", "list"], None);
    let line = listed
        .lines()
        .find(|l| l.starts_with(&old_id))
        .expect("the key is listed by its id");
    assert!(line.contains("revoked"), "{line}");
    let (status, _) = ops
        .api(reqwest::Method::GET, "/clients", Some(&secret), None)
        .await;
    assert_eq!(status, 401, "a revoked key is refused");
}

on_both_databases!(
    an_api_key_whose_id_begins_with_a_hyphen_is_revoked_from_the_command_line,
    hyphen_led_key_revoked
);
