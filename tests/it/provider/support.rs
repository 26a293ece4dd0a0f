//! A real provider on port 0 with a fresh database (SQLite file or PostgreSQL database), a
//! test CA whose roots it trusts, fresh CRLs, and helpers to register clients and issue cards.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use diesel::connection::SimpleConnection as _;
use diesel::Connection as _;
use mykey_connect::card::jpki::Purpose;
use mykey_connect::clock::Clock;
use mykey_connect::config::Settings;
use mykey_connect::provider::clients::ClientSpec;
use mykey_connect::provider::Provider;
use mykey_connect::testkit::card_file::CardFile;
use mykey_connect::testkit::{CardOptions, TestCa};
use mykey_connect::web::App;
use tempfile::TempDir;

/// A provider the test's browser, helper and site talk to: in this process, or another one.
pub trait Site {
    fn issuer(&self) -> &str;
    /// The provider's time (for the helper's checks).
    fn now(&self) -> i64;
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer())
    }
}

impl Site for TestProvider {
    fn issuer(&self) -> &str {
        &self.issuer
    }

    fn now(&self) -> i64 {
        self.clock.unix()
    }

    fn url(&self, path: &str) -> String {
        TestProvider::url(self, path)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The server URL of PostgreSQL for tests (`.ci/run` sets it; this machine's server otherwise).
pub fn postgres_admin_url() -> String {
    std::env::var("MYKEY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A PostgreSQL database created for one test and dropped after it.
pub struct PgDatabase {
    pub url: String,
    name: String,
}

impl PgDatabase {
    pub fn create() -> PgDatabase {
        let admin = postgres_admin_url();
        let name = format!(
            "mykey_test_{}",
            mykey_connect::domain::secret::random_b64(9)
                .to_ascii_lowercase()
                .replace(['-', '_'], "x")
        );
        let mut conn = diesel::pg::PgConnection::establish(&admin).unwrap_or_else(|e| {
            panic!("PostgreSQL at {admin} is needed for these tests (bash .ci/run starts it): {e}")
        });
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        PgDatabase {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = diesel::pg::PgConnection::establish(&postgres_admin_url()) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

pub struct TestProvider {
    pub issuer: String,
    pub provider: Arc<Provider>,
    pub clock: Clock,
    pub ca: TestCa,
    pub dir: TempDir,
    pub database_url: String,
    pub kek: String,
    handle: actix_web::dev::ServerHandle,
    _pg: Option<Arc<PgDatabase>>,
}

impl TestProvider {
    pub async fn start(db: Db) -> TestProvider {
        Self::start_with(db, &[]).await
    }

    /// Starts a provider; `extra` are more `MYKEY_*` settings.
    pub async fn start_with(db: Db, extra: &[(&str, &str)]) -> TestProvider {
        Self::start_full(db, extra, true).await
    }

    /// A provider without background work (no deliveries): other processes do it.
    pub async fn start_quiet(db: Db, extra: &[(&str, &str)]) -> TestProvider {
        Self::start_full(db, extra, false).await
    }

    async fn start_full(db: Db, extra: &[(&str, &str)], background: bool) -> TestProvider {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = Clock::adjustable();
        let ca = TestCa::ephemeral(clock.now()).expect("test CA");
        let pg = (db == Db::Postgres).then(|| Arc::new(PgDatabase::create()));
        let database_url = match &pg {
            Some(pg) => pg.url.clone(),
            None => format!("sqlite://{}", dir.path().join("mykey.sqlite3").display()),
        };
        let kek = base64_key();
        Self::launch(dir, clock, ca, database_url, kek, pg, extra, background).await
    }

    /// A SQLite provider without a key-encryption key in its settings: it creates and keeps
    /// one in `<database>.kek`, as a deployment with zero set-up does.
    pub async fn start_with_key_file(extra: &[(&str, &str)]) -> TestProvider {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = Clock::adjustable();
        let ca = TestCa::ephemeral(clock.now()).expect("test CA");
        let url = format!("sqlite://{}", dir.path().join("mykey.sqlite3").display());
        Self::launch(dir, clock, ca, url, String::new(), None, extra, true).await
    }

    /// The SQLite file of this provider's database.
    pub fn sqlite_path(&self) -> PathBuf {
        PathBuf::from(
            self.database_url
                .strip_prefix("sqlite://")
                .expect("a SQLite provider"),
        )
    }

    /// A provider on an existing database (kept by the caller) with its key-encryption key: a
    /// restored backup or an upgraded database. Its CA is new, so earlier cards' CRLs are not
    /// loaded; sessions, tokens and keys are the database's.
    pub async fn start_on(
        database_url: String,
        kek: String,
        pg: Option<Arc<PgDatabase>>,
        extra: &[(&str, &str)],
    ) -> TestProvider {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = Clock::adjustable();
        let ca = TestCa::ephemeral(clock.now()).expect("test CA");
        Self::launch(dir, clock, ca, database_url, kek, pg, extra, true).await
    }

    #[expect(clippy::too_many_arguments, reason = "start-up inputs, each distinct")]
    async fn launch(
        dir: TempDir,
        clock: Clock,
        mut ca: TestCa,
        database_url: String,
        kek: String,
        pg: Option<Arc<PgDatabase>>,
        extra: &[(&str, &str)],
        background: bool,
    ) -> TestProvider {
        for purpose in [Purpose::Auth, Purpose::Sign] {
            let roots = dir.path().join("roots").join(purpose.as_str());
            std::fs::create_dir_all(&roots).expect("roots dir");
            std::fs::write(roots.join("root.pem"), ca.root_pem(purpose)).expect("write root");
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let issuer = format!("http://127.0.0.1:{port}");
        let mut env: Vec<(String, String)> = vec![
            ("MYKEY_ISSUER".into(), issuer.clone()),
            ("MYKEY_LISTEN".into(), format!("127.0.0.1:{port}")),
            ("MYKEY_DATABASE_URL".into(), database_url.clone()),
            ("MYKEY_AUTH_ROOTS".into(), path(&dir, "roots/auth")),
            ("MYKEY_SIGN_ROOTS".into(), path(&dir, "roots/sign")),
            ("MYKEY_ALLOW_TEST_CARDS".into(), "true".into()),
            ("MYKEY_WORKERS".into(), "2".into()),
        ];
        // Without one, a SQLite deployment keeps its key in `<database>.kek`.
        if !kek.is_empty() {
            env.push(("MYKEY_KEY_ENCRYPTION_KEY".into(), kek.clone()));
        }
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let settings = Settings::from_sources(None, &env).expect("settings");
        let provider = {
            let clock = clock.clone();
            tokio::task::spawn_blocking(move || Provider::open(settings, clock))
                .await
                .expect("join")
                .expect("provider starts")
        };
        let provider = Arc::new(provider);
        let now = clock.now();
        for purpose in [Purpose::Auth, Purpose::Sign] {
            let crl = ca
                .crl(purpose, now, now + time::Duration::days(1))
                .expect("CRL");
            mykey_connect::provider::revocation::import_crl(&provider, crl.as_slice(), "test")
                .await
                .expect("import CRL");
        }
        let app = App::with_listener(provider.clone(), listener).expect("app");
        let handle = app.handle();
        tokio::spawn(app.run());
        if background {
            mykey_connect::provider::background::spawn(provider.clone());
        }
        TestProvider {
            issuer,
            provider,
            clock,
            ca,
            dir,
            database_url,
            kek,
            handle,
            _pg: pg,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// Registers a client through the same operation as the CLI and console (audited as the
    /// operator `cli`).
    pub async fn register(&self, spec: ClientSpec) -> (String, String) {
        let (client, secret) = mykey_connect::admin::clients::create(
            &self.provider,
            &mykey_connect::admin::Principal::cli(),
            &spec,
        )
        .await
        .expect("client registers");
        (
            client.id.as_str().to_owned(),
            secret.map(|s| s.expose().to_owned()).unwrap_or_default(),
        )
    }

    /// A card for a new person, saved in the test folder.
    pub fn issue_card(&mut self, name: &str) -> PathBuf {
        let mut options = CardOptions::example();
        options.holder.name = name.to_owned();
        self.issue_card_with(&options)
    }

    /// A card with the given holder facts and secrets, saved in the test folder.
    pub fn issue_card_with(&mut self, options: &CardOptions) -> PathBuf {
        let card = self.ca.issue_card(options, self.clock.now()).expect("card");
        let path = self.dir.path().join(format!(
            "card-{}.json",
            mykey_connect::domain::secret::random_b64(6)
        ));
        card.save(&path).expect("save card");
        path
    }

    pub fn card(&self, path: &std::path::Path) -> CardFile {
        CardFile::load(path).expect("card file")
    }

    /// Stops this process's HTTP server only (its address is free again); the database, keys,
    /// CA and settings stay for other processes of the same deployment.
    pub async fn stop_listening(&self) {
        self.handle.stop(true).await;
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

fn path(dir: &TempDir, rel: &str) -> String {
    dir.path().join(rel).display().to_string()
}

fn base64_key() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .encode(mykey_connect::domain::secret::random_bytes(32))
}

/// A confidential web client on loopback with one redirect URI.
pub fn web_client(name: &str, host: &str) -> ClientSpec {
    ClientSpec {
        name: name.to_owned(),
        redirect_uris: vec![format!("http://{host}/callback")],
        post_logout_redirect_uris: vec![format!("http://{host}/bye")],
        ..ClientSpec::default()
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port()
}

/// The real `mykey-connect` binary with this provider's settings (same database, keys, roots
/// and issuer: another node of the same deployment, or a command run by an operator).
pub fn command(tp: &TestProvider) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mykey-connect"));
    cmd.env("MYKEY_ISSUER", &tp.issuer)
        .env("MYKEY_DATABASE_URL", &tp.database_url)
        .env("MYKEY_AUTH_ROOTS", tp.dir.path().join("roots/auth"))
        .env("MYKEY_SIGN_ROOTS", tp.dir.path().join("roots/sign"))
        .env("MYKEY_ALLOW_TEST_CARDS", "true");
    if !tp.kek.is_empty() {
        cmd.env("MYKEY_KEY_ENCRYPTION_KEY", &tp.kek);
    }
    cmd
}

/// `mykey-connect serve` as a second node on `port` (one worker), output discarded.
pub fn spawn_serve(tp: &TestProvider, port: u16, extra: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = command(tp);
    cmd.arg("serve")
        .env("MYKEY_LISTEN", format!("127.0.0.1:{port}"))
        .env("MYKEY_WORKERS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn mykey-connect serve")
}
