//! `backup` and `restore` as an operator runs them: what they print and when they refuse.

use super::text;
use crate::backup::support::{log_in_once, tokens_still_work};
use crate::provider::support::{command, TestProvider};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_says_where_the_key_is_and_restore_refuses_a_database_in_use_then_restores_elsewhere(
) {
    let mut tp = TestProvider::start_with_key_file(&[]).await;
    let held = log_in_once(&mut tp).await;
    let out = tempfile::tempdir().expect("tempdir");
    let file = out.path().join("mykey-backup.sqlite3");
    let kek = format!("{}.kek", tp.sqlite_path().display());

    let done = command(&tp)
        .arg("backup")
        .arg(&file)
        .output()
        .expect("backup");
    let (stdout, stderr) = text(&done);
    assert!(done.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.starts_with(&format!("backup written to {}\n", file.display())),
        "{stdout}"
    );
    assert!(stdout.contains("verified: audit chain OK ("), "{stdout}");
    assert!(
        stdout.contains("the key-encryption key is NOT in the backup") && stdout.contains(&kek),
        "{stdout}"
    );

    let refused = command(&tp)
        .arg("restore")
        .arg(&file)
        .output()
        .expect("restore");
    let (_, stderr) = text(&refused);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("is open in another process") && stderr.contains("stop the provider first"),
        "{stderr}"
    );

    let machine = tempfile::tempdir().expect("tempdir");
    let target = machine.path().join("mykey.sqlite3");
    let url = format!("sqlite://{}", target.display());
    let restored = command(&tp)
        .env("MYKEY_DATABASE_URL", &url)
        .arg("restore")
        .arg(&file)
        .args(["--key", &kek])
        .output()
        .expect("restore");
    let (stdout, stderr) = text(&restored);
    assert!(restored.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "restored {} into {}",
            file.display(),
            target.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("the backup's key-encryption key is now"),
        "{stdout}"
    );

    let issuer = tp.issuer.clone();
    let again =
        TestProvider::start_on(url, String::new(), None, &[("MYKEY_ISSUER", &issuer)]).await;
    tokens_still_work(&again, &held).await;
    again.stop().await;
    tp.stop().await;
}
