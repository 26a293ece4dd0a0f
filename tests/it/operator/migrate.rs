//! `migrate --dry-run` lists what an upgrade would apply, and applies nothing.

use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::{binary, text};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

fn migrate(url: &str, args: &[&str]) -> String {
    let out = binary()
        .arg("migrate")
        .args(args)
        .env("MYKEY_DATABASE_URL", url)
        .output()
        .expect("run");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    stdout
}

#[test]
fn migrate_dry_run_lists_the_pending_migrations_and_applies_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mykey.sqlite3");
    let url = format!("sqlite://{}", path.display());

    let fresh = migrate(&url, &["--dry-run"]);
    assert!(fresh.starts_with("no database at "), "{fresh}");
    assert!(!path.exists(), "a dry run creates no database");

    // The database as the version before this one left it: all but the newest migration.
    let mut c = SqliteConnection::establish(&path.display().to_string()).expect("open");
    let all = std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"),
    )
    .expect("migrations")
    .count();
    for _ in 1..all {
        c.run_next_migration(SQLITE).expect("migration");
    }
    drop(c);
    let mut names: Vec<String> = std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"),
    )
    .expect("migrations")
    .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
    .collect();
    names.sort();
    let newest = names.last().expect("a migration");

    let planned = migrate(&url, &["--dry-run"]);
    assert_eq!(
        planned,
        format!("1 pending migration(s), oldest first (nothing applied):\n  {newest}\n")
    );
    assert_eq!(migrate(&url, &["--dry-run"]), planned, "still pending");
    assert_eq!(
        migrate(&url, &[]),
        format!("1 migration(s) applied\n  {newest}\n")
    );
    assert_eq!(
        migrate(&url, &["--dry-run"]),
        "the database is up to date: no pending migration\n"
    );
}
