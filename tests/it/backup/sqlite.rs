//! SQLite: `backup` while serving, `restore` on a new machine and over a stopped database;
//! what restore refuses.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection as _;
use diesel::Connection as _;
use mykey_connect::admin::backup::{self, BackupError, KeyPlace};
use mykey_connect::admin::Principal;
use mykey_connect::config::Settings;

use super::support::{audit_kinds, audit_verify, log_in_once, tokens_still_work};
use crate::provider::support::TestProvider;

/// The serving provider's settings with the database at `path` (another machine's deployment).
fn settings_at(tp: &TestProvider, path: &Path) -> Settings {
    let mut s = tp.provider.settings.clone();
    s.database_url = format!("sqlite://{}", path.display());
    s
}

fn kek_of(db: &Path) -> PathBuf {
    backup::key_file_of(db)
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_on_a_new_machine_with_its_sessions_keys_and_audit_chain(
) {
    let mut tp = TestProvider::start_with_key_file(&[]).await;
    let held = log_in_once(&mut tp).await;
    let live = tp.sqlite_path();
    let out = tempfile::tempdir().expect("tempdir");
    let file = out.path().join("mykey-backup.sqlite3");
    let now = tp.clock.unix();

    let settings = tp.provider.settings.clone();
    let taken = tokio::task::spawn_blocking({
        let file = file.clone();
        move || backup::backup(&settings, &Principal::cli(), &file, false, now)
    })
    .await
    .expect("join")
    .expect("backup while serving");
    assert_eq!(taken.key, KeyPlace::File(kek_of(&live)));
    assert!(taken.key_copy.is_none() && !kek_of(&file).exists());
    let said = taken.to_string();
    assert!(
        said.contains("the key-encryption key is NOT in the backup")
            && said.contains(&kek_of(&live).display().to_string()),
        "{said}"
    );
    assert!(taken.checked.signing_keys >= 2 && taken.checked.audit_entries > 0);
    #[cfg(unix)]
    assert_eq!(
        mode(&file),
        0o600,
        "the backup is readable by its owner only"
    );

    // Restoring over the live database is refused while the provider has it open.
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(live.parent().expect("folder"))
            .expect("folder")
            .map(|e| e.expect("entry").file_name())
            .filter(|n| {
                !n.to_string_lossy().ends_with("-wal") && !n.to_string_lossy().ends_with("-shm")
            })
            .collect();
        names.sort();
        names
    };
    let before = listing();
    let refused = backup::restore(&tp.provider.settings, &Principal::cli(), &file, None, now)
        .expect_err("in use");
    assert!(matches!(refused, BackupError::InUse(_)), "{refused}");
    assert!(refused.to_string().contains("stop the provider first"));
    assert_eq!(listing(), before, "nothing was moved, replaced or staged");

    // A new machine: without the key the backup cannot be restored; with it, it is.
    let machine = tempfile::tempdir().expect("tempdir");
    let target = machine.path().join("mykey.sqlite3");
    let new_settings = settings_at(&tp, &target);
    let no_key =
        backup::restore(&new_settings, &Principal::cli(), &file, None, now).expect_err("no key");
    assert!(no_key.to_string().contains("pass --key FILE"), "{no_key}");
    assert!(!target.exists(), "nothing was restored");
    let restored = backup::restore(
        &new_settings,
        &Principal::cli(),
        &file,
        Some(&kek_of(&live)),
        now,
    )
    .expect("restored");
    assert_eq!(restored.replaced, None);
    assert_eq!(
        restored.key_installed.as_deref(),
        Some(kek_of(&target).as_path())
    );
    assert_eq!(restored.checked.signing_keys, taken.checked.signing_keys);
    #[cfg(unix)]
    assert_eq!(mode(&kek_of(&target)), 0o600);

    let issuer = tp.issuer.clone();
    let again = TestProvider::start_on(
        format!("sqlite://{}", target.display()),
        String::new(),
        None,
        &[("MYKEY_ISSUER", &issuer)],
    )
    .await;
    tokens_still_work(&again, &held).await;
    let report = audit_verify(&again);
    assert!(report["broken"].is_null(), "{report}");
    let kinds = audit_kinds(&again);
    for kind in [
        "login.succeeded",
        "token.issued",
        "database.backed_up",
        "database.restored",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    again.stop().await;
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_over_a_stopped_database_keeps_the_one_it_replaced_and_finds_the_key_beside_the_backup(
) {
    let mut tp = TestProvider::start_with_key_file(&[]).await;
    let _held = log_in_once(&mut tp).await;
    let out = tempfile::tempdir().expect("tempdir");
    let file = out.path().join("nightly.sqlite3");
    let now = tp.clock.unix();
    let taken =
        backup::backup(&tp.provider.settings, &Principal::cli(), &file, true, now).expect("backup");
    assert_eq!(taken.key_copy.as_deref(), Some(kek_of(&file).as_path()));
    assert!(taken.to_string().contains("keep it apart from the backup"));
    #[cfg(unix)]
    assert_eq!(mode(&kek_of(&file)), 0o600);
    assert!(matches!(
        backup::backup(&tp.provider.settings, &Principal::cli(), &file, false, now),
        Err(BackupError::Exists(_))
    ));

    // A machine whose provider is stopped, with a database and a key of its own.
    let machine = tempfile::tempdir().expect("tempdir");
    let target = machine.path().join("mykey.sqlite3");
    let settings = settings_at(&tp, &target);
    let other = tempfile::tempdir().expect("tempdir");
    let first = other.path().join("first.sqlite3");
    backup::backup(&tp.provider.settings, &Principal::cli(), &first, false, now).expect("backup");
    std::fs::copy(&first, &target).expect("an existing database");
    std::fs::write(
        kek_of(&target),
        "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMDA=",
    )
    .expect("another key");

    let restored =
        backup::restore(&settings, &Principal::cli(), &file, None, now).expect("restored");
    let kept = restored
        .replaced
        .clone()
        .expect("the replaced database is kept");
    assert!(
        kept.is_file()
            && kept
                .display()
                .to_string()
                .ends_with(&format!(".replaced-{now}"))
    );
    assert_eq!(restored.key, KeyPlace::File(kek_of(&file)));
    assert_eq!(
        std::fs::read(kek_of(&target)).expect("key"),
        std::fs::read(kek_of(&file)).expect("key"),
        "the backup's key is now the deployment's"
    );
    assert_eq!(
        std::fs::read_to_string(kek_of(&kept)).expect("the replaced key is kept"),
        "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMDA="
    );
    let said = restored.to_string();
    assert!(
        said.contains("the database it replaced is kept as"),
        "{said}"
    );
    tp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_with_an_altered_audit_entry_or_the_wrong_key_is_not_restored() {
    let mut tp = TestProvider::start_with_key_file(&[]).await;
    let _held = log_in_once(&mut tp).await;
    let out = tempfile::tempdir().expect("tempdir");
    let file = out.path().join("b.sqlite3");
    let now = tp.clock.unix();
    backup::backup(&tp.provider.settings, &Principal::cli(), &file, true, now).expect("backup");

    let machine = tempfile::tempdir().expect("tempdir");
    let target = machine.path().join("mykey.sqlite3");
    let settings = settings_at(&tp, &target);
    let wrong = out.path().join("wrong.kek");
    std::fs::write(&wrong, "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktMDA=").expect("key");
    let e = backup::restore(&settings, &Principal::cli(), &file, Some(&wrong), now)
        .expect_err("wrong key");
    assert!(matches!(e, BackupError::KeysDoNotOpen(_)), "{e}");

    let altered = out.path().join("altered.sqlite3");
    std::fs::copy(&file, &altered).expect("copy");
    std::fs::copy(kek_of(&file), kek_of(&altered)).expect("copy key");
    let mut c =
        diesel::sqlite::SqliteConnection::establish(&altered.display().to_string()).expect("open");
    c.batch_execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
        .expect("alter");
    drop(c);
    let e =
        backup::restore(&settings, &Principal::cli(), &altered, None, now).expect_err("altered");
    assert!(
        e.to_string().starts_with("audit chain BROKEN at entry 2"),
        "{e}"
    );
    assert!(!target.exists(), "nothing was restored");
    let staging: Vec<_> = std::fs::read_dir(machine.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(staging.is_empty(), "no staging copy is left: {staging:?}");
    tp.stop().await;
}
