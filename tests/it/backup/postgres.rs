//! PostgreSQL: the documented pg_dump and pg_restore, into a fresh database that a provider
//! then serves with the same sessions, keys and audit chain.

use std::path::PathBuf;
use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::support::{audit_verify, log_in_once, tokens_still_work};
use crate::provider::support::{Db, PgDatabase, TestProvider};

/// pg_dump or pg_restore of the server's major version (Debian installs each version under
/// /usr/lib/postgresql/<major>/bin), or the one on the PATH.
fn pg_tool(url: &str, tool: &str) -> PathBuf {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = Text)]
        server_version_num: String,
    }
    let mut c = PgConnection::establish(url).expect("connect");
    let v = diesel::sql_query("SHOW server_version_num")
        .get_result::<Version>(&mut c)
        .expect("version");
    let major = v.server_version_num.parse::<u32>().expect("number") / 10_000;
    let path = PathBuf::from(format!("/usr/lib/postgresql/{major}/bin/{tool}"));
    if path.is_file() {
        path
    } else {
        PathBuf::from(tool)
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pg_dump_restored_into_a_fresh_database_keeps_sessions_keys_and_the_audit_chain() {
    let mut tp = TestProvider::start(Db::Postgres).await;
    let held = log_in_once(&mut tp).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("mykey.dump");
    mykey_connect::audit::chain::drain(&tp.provider.db, std::time::Duration::from_secs(10))
        .await
        .expect("chained");
    run(Command::new(pg_tool(&tp.database_url, "pg_dump"))
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(&tp.database_url));

    let fresh = PgDatabase::create();
    run(Command::new(pg_tool(&fresh.url, "pg_restore"))
        .args(["--no-owner", "--exit-on-error", "--dbname", &fresh.url])
        .arg(&dump));
    let url = fresh.url.clone();
    let issuer = tp.issuer.clone();
    let restored = TestProvider::start_on(
        url,
        tp.kek.clone(),
        Some(std::sync::Arc::new(fresh)),
        &[("MYKEY_ISSUER", &issuer)],
    )
    .await;
    tokens_still_work(&restored, &held).await;
    let report = audit_verify(&restored);
    assert!(report["broken"].is_null(), "{report}");
    assert!(report["entries"].as_i64().expect("entries") > 0);
    restored.stop().await;
    tp.stop().await;
}
