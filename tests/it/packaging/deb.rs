//! The provider's Debian package on this machine: built from this test's binary with
//! `packaging/deb/build-provider`, installed with dpkg, started as its unit starts it (the
//! environment file, ExecStartPre, then ExecStart with systemd's readiness socket, as a user of
//! its own in a state directory of its own: systemd itself does not run here), logged in through
//! with a software card, then purged. dpkg is machine-wide: the test holds
//! /tmp/mykey-dpkg.lock from start to end (run it by hand under the same lock).

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mykey_connect::card::jpki::Purpose;
use mykey_connect::testkit::{CardOptions, TestCa};
use openidconnect::TokenResponse;

use super::unit::values;
use crate::provider::browser::{log_in, query, Browser};
use crate::provider::rp::Rp;
use crate::provider::support::{free_port, Site};

const LOCK: &str = "/tmp/mykey-dpkg.lock";
const UNIT: &str = "/lib/systemd/system/mykey-connect.service";
const CONFIG: &str = "/etc/mykey-connect/config.toml";
const STATE: &str = "/var/lib/mykey-connect";
const ENVIRONMENT: &str = "/etc/mykey-connect/environment";
/// A user id from systemd's DynamicUser range that no account uses.
const SERVICE_UID: u32 = 61_876;

/// Holds the machine's dpkg lock (a `flock` process) until dropped.
struct DpkgLock {
    child: Child,
}

/// The process holding the flock on `path`, from /proc/locks.
fn lock_holder(path: &str) -> Option<u32> {
    use std::os::unix::fs::MetadataExt as _;
    let inode = std::fs::metadata(path).ok()?.ino();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (kind, pid, id) = (fields.get(1)?, fields.get(4)?, fields.get(5)?);
        (*kind == "FLOCK" && id.rsplit(':').next()? == inode.to_string())
            .then(|| pid.parse().ok())
            .flatten()
    })
}

/// Whether `pid` is this process or one of its ancestors.
fn is_ancestor(pid: u32) -> bool {
    let mut current = std::process::id();
    while current > 1 {
        if current == pid {
            return true;
        }
        let Some(parent) = std::fs::read_to_string(format!("/proc/{current}/stat"))
            .ok()
            .and_then(|stat| {
                let after = stat.rsplit_once(')')?.1.to_owned();
                after.split_whitespace().nth(1)?.parse().ok()
            })
        else {
            return false;
        };
        current = parent;
    }
    false
}

impl DpkgLock {
    /// Takes the lock, unless this test already runs under it (`flock LOCK cargo test …`).
    fn take() -> Option<DpkgLock> {
        if lock_holder(LOCK).is_some_and(is_ancestor) {
            return None;
        }
        let mut child = Command::new("flock")
            .args([LOCK, "sh", "-c", "echo locked; read _"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("flock (util-linux)");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("lock");
        assert_eq!(line.trim(), "locked");
        Some(DpkgLock { child })
    }
}

impl Drop for DpkgLock {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        let _ = self.child.wait();
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", "mykey-connect"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// A folder the service user can read.
fn shared_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// The environment the unit gives its commands: `KEY=VALUE` lines of its environment file.
fn unit_environment(unit: &str) -> Vec<(String, String)> {
    let mut env = vec![("PATH".to_owned(), "/usr/bin:/bin".to_owned())];
    for file in values(unit, "EnvironmentFile") {
        let (optional, file) = match file.strip_prefix('-') {
            Some(f) => (true, f),
            None => (false, file),
        };
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(_) if optional => continue,
            Err(e) => panic!("{file}: {e}"),
        };
        for line in text.lines().map(str::trim) {
            if let Some((k, v)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
                env.push((k.to_owned(), v.to_owned()));
            }
        }
    }
    env
}

/// One of the unit's command lines, run as the service user, with the unit's umask, in its
/// working directory.
fn as_service(unit: &str, line: &str, env: &[(String, String)]) -> Command {
    let umask = values(unit, "UMask")[0];
    let mut cmd = Command::new("setpriv");
    cmd.args([
        &format!("--reuid={SERVICE_UID}"),
        &format!("--regid={SERVICE_UID}"),
        "--clear-groups",
        "--no-new-privs",
        "--",
        "/bin/sh",
        "-c",
        &format!("umask {umask} && exec \"$0\" \"$@\""),
    ])
    .args(line.split_whitespace())
    .env_clear()
    .envs(env.iter().map(|(k, v)| (k, v)))
    .current_dir(values(unit, "WorkingDirectory")[0]);
    cmd
}

/// The installed provider as the test's browser, helper and site see it.
struct Installed {
    issuer: String,
}

impl Site for Installed {
    fn issuer(&self) -> &str {
        &self.issuer
    }

    fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }
}

/// The serving process: stopped with SIGTERM (as systemd stops it) when dropped.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// Purges the package when the test ends early, so that a failure leaves the machine as it was.
struct PurgeOnDrop;

impl Drop for PurgeOnDrop {
    fn drop(&mut self) {
        if installed() {
            let _ = Command::new("dpkg")
                .args(["--purge", "mykey-connect"])
                .status();
        }
    }
}

fn gone(path: &str) -> bool {
    std::fs::symlink_metadata(path).is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_debian_package_installs_serves_a_login_as_its_unit_runs_it_and_purges_cleanly() {
    let _lock = DpkgLock::take();
    if installed() {
        run(Command::new("dpkg").args(["--purge", "mykey-connect"]));
    }
    assert!(gone(STATE), "{STATE} exists without the package");

    let out = tempfile::tempdir().expect("tempdir");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built = Command::new(repo.join("packaging/deb/build-provider"))
        .args([
            "--binary",
            env!("CARGO_BIN_EXE_mykey-connect"),
            "--fast",
            "--out",
        ])
        .arg(out.path())
        .output()
        .expect("build-provider");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&built.stdout),
        String::from_utf8_lossy(&built.stderr),
    );
    assert!(built.status.success(), "{stderr}");
    // lintian, where it is installed, finds no error.
    assert!(!stderr.lines().any(|l| l.starts_with("E: ")), "{stderr}");
    let deb = PathBuf::from(stdout.trim());
    let _purge = PurgeOnDrop;
    run(Command::new("dpkg").arg("-i").arg(&deb));
    let listed = run(Command::new("dpkg").args(["-L", "mykey-connect"]));
    for file in [
        "/usr/bin/mykey-connect",
        UNIT,
        CONFIG,
        "/usr/share/man/man8/mykey-connect.8.gz",
    ] {
        assert!(listed.lines().any(|l| l == file), "{file} in {listed}");
    }
    let status = run(Command::new("dpkg").args(["-s", "mykey-connect"]));
    assert!(
        status.contains(&format!("Conffiles:\n {CONFIG} ")),
        "{status}"
    );
    let analyzed = Command::new("systemd-analyze")
        .args(["verify", UNIT])
        .output()
        .expect("systemd-analyze");
    let complaints = String::from_utf8_lossy(&analyzed.stderr);
    assert!(
        analyzed.status.success() && complaints.trim().is_empty(),
        "{complaints}"
    );

    // The default settings as installed are valid.
    let checked =
        run(Command::new("/usr/bin/mykey-connect").args(["--config", CONFIG, "config", "check"]));
    assert!(
        checked
            .contains("database_url = \"sqlite:///var/lib/mykey-connect/mykey.sqlite3\"  # file"),
        "{checked}"
    );

    // What systemd does at start: the state directory for the service's own user, and the
    // environment file, here with a test CA's roots, a free port and the issuer for it.
    std::fs::create_dir(STATE).expect("state directory");
    std::os::unix::fs::chown(STATE, Some(SERVICE_UID), Some(SERVICE_UID)).expect("chown");
    std::fs::set_permissions(STATE, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let now = time::OffsetDateTime::now_utc();
    let mut ca = TestCa::ephemeral(now).expect("CA");
    let shared = shared_dir();
    for purpose in [Purpose::Auth, Purpose::Sign] {
        let dir = shared.path().join(purpose.as_str());
        std::fs::create_dir(&dir).expect("roots");
        std::fs::write(dir.join("root.pem"), ca.root_pem(purpose)).expect("root");
        let crl = ca
            .crl(purpose, now, now + time::Duration::days(1))
            .expect("CRL");
        std::fs::write(shared.path().join(format!("{purpose}.crl")), crl).expect("crl");
    }
    for entry in walk(shared.path()) {
        let mode = if entry.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let overrides = format!(
        "MYKEY_LISTEN=127.0.0.1:{port}\nMYKEY_ISSUER={issuer}\nMYKEY_ALLOW_TEST_CARDS=true\n\
         MYKEY_AUTH_ROOTS={}\nMYKEY_SIGN_ROOTS={}\n",
        shared.path().join("auth").display(),
        shared.path().join("sign").display()
    );
    std::fs::write(ENVIRONMENT, overrides).expect("environment file");
    std::fs::set_permissions(ENVIRONMENT, std::fs::Permissions::from_mode(0o600)).expect("chmod");

    let unit = std::fs::read_to_string(UNIT).expect("unit");
    let mut env = unit_environment(&unit);
    let migrated = run(&mut as_service(
        &unit,
        values(&unit, "ExecStartPre")[0],
        &env,
    ));
    assert!(migrated.contains("migration(s) applied"), "{migrated}");

    // systemd's readiness socket, which the service (another user) may write to.
    let notify_path = shared.path().join("notify");
    let notify = UnixDatagram::bind(&notify_path).expect("notify socket");
    std::fs::set_permissions(&notify_path, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    notify
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    env.push((
        "NOTIFY_SOCKET".to_owned(),
        notify_path.display().to_string(),
    ));
    let service = Service(
        as_service(&unit, values(&unit, "ExecStart")[0], &env)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let ready = tokio::task::spawn_blocking(move || {
        let mut buf = [0u8; 512];
        let n = notify.recv(&mut buf).expect("READY=1 within a minute");
        (String::from_utf8_lossy(&buf[..n]).into_owned(), notify)
    })
    .await
    .expect("join");
    assert!(ready.0.starts_with("READY=1\n"), "{}", ready.0);
    let health = run(&mut as_service(
        &unit,
        "/usr/bin/mykey-connect --config /etc/mykey-connect/config.toml healthcheck",
        &env,
    ));
    assert!(health.contains("200"), "{health}");

    // The operator's commands, as the service user, then a resident's login.
    let mut import = format!("/usr/bin/mykey-connect --config {CONFIG} crl import");
    for purpose in [Purpose::Auth, Purpose::Sign] {
        import.push_str(&format!(" {}/{purpose}.crl", shared.path().display()));
    }
    run(&mut as_service(&unit, &import, &env));
    let added = run(&mut as_service(
        &unit,
        &format!(
            "/usr/bin/mykey-connect --config {CONFIG} client add --name Library \
             --redirect-uri http://127.0.0.1:9/callback --json"
        ),
        &env,
    ));
    let added: serde_json::Value = serde_json::from_str(&added).expect("json");
    let site = Installed { issuer };
    let rp = Rp::discover(
        &site,
        added["client_id"].as_str().expect("id"),
        added["client_secret"].as_str().expect("secret"),
        "http://127.0.0.1:9/callback",
    )
    .await;
    let card = out.path().join("card.json");
    ca.issue_card(&CardOptions::example(), now)
        .expect("card")
        .save(&card)
        .expect("save");
    let pending = rp.authorize(&[]);
    let back = log_in(&Browser::new(), &site, &pending.url, &card).await;
    let tokens = rp.exchange(&query(&back)["code"], pending.verifier).await;
    rp.verify_id_token(&tokens, &pending.nonce);
    assert!(tokens.id_token().is_some());

    // The service's files belong to its user and only it can read its key.
    use std::os::unix::fs::MetadataExt as _;
    for file in ["mykey.sqlite3", "mykey.sqlite3.kek"] {
        let meta = std::fs::metadata(Path::new(STATE).join(file)).expect(file);
        assert_eq!(meta.uid(), SERVICE_UID, "{file}");
        assert_eq!(meta.mode() & 0o077, 0, "{file} is private");
    }

    // Stopped as systemd stops it, the service says so.
    let notify = ready.1;
    drop(service);
    let mut buf = [0u8; 512];
    let n = notify.recv(&mut buf).expect("STOPPING=1");
    assert_eq!(String::from_utf8_lossy(&buf[..n]), "STOPPING=1");

    run(Command::new("dpkg").args(["--purge", "mykey-connect"]));
    assert!(!installed());
    for path in [
        "/usr/bin/mykey-connect",
        UNIT,
        CONFIG,
        ENVIRONMENT,
        "/etc/mykey-connect",
        STATE,
        "/etc/systemd/system/multi-user.target.wants/mykey-connect.service",
    ] {
        assert!(gone(path), "{path} is left after purge");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}
