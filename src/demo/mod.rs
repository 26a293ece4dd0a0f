//! `mykey-connect demo`: a working provider out of the box — SQLite in a folder, a test CA, one
//! software card, fresh CRLs, a demo client and the demo site on the same server.

mod backchannel;
pub mod rp;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::web;
use anyhow::Context as _;

use crate::card::jpki::Purpose;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::ClientId;
use crate::provider::clients::{build_client, new_secret, ClientSpec};
use crate::provider::Provider;
use crate::store::{self, clients::ClientRow};
use crate::testkit::card_file::CardFile;
use crate::testkit::{CardOptions, TestCa};
use crate::web::App;

pub const DEMO_CLIENT_ID: &str = "mykey-demo-site";

/// A prepared demo: the provider with the demo client registered and the demo site mounted on
/// its listener, not serving yet.
pub struct Demo {
    /// `http://{listen}`.
    pub issuer: String,
    pub provider: Arc<Provider>,
    pub app: App,
    /// The software card a resident logs in with (`mykey-helper login … --card file:PATH`).
    pub card_path: PathBuf,
    /// The card's holder and secrets (test values, printed for the newcomer).
    pub card: CardFile,
    pub database: PathBuf,
    /// The console's demo operator (`admin`) and its password, new at every start.
    pub admin_password: String,
}

impl Demo {
    /// Starts the background work and serves until stopped.
    pub async fn serve(self) -> std::io::Result<()> {
        crate::provider::background::spawn(self.provider.clone());
        self.app.run().await
    }

    /// The newcomer's walk-through, with the demo card's PIN and password.
    pub fn instructions(&self) -> String {
        let issuer = &self.issuer;
        format!(
            "\nmykey-connect demo is running at {issuer}\n\n\
             1. Open {issuer}/demo/ in a browser and press 「マイナンバーカードでログイン」.\n\
             2. The login page shows a match code and a helper command. In another terminal run it\n   \
                with the demo card (the software card in {card}):\n\n       \
                cargo run --bin mykey-helper -- login '<challenge URL from the page>' --card file:{card}\n\n   \
                Enter the PIN {pin} when asked, and check the match code is the one on the page.\n\
             3. The page continues by itself; agree on the consent page and the demo site shows the\n   \
                verified ID token and userinfo.\n\n\
             Card holder: {name}   PIN: {pin}   signature password: {password}\n\
             Admin console: {issuer}/admin   user: admin   password: {admin}\n\
             Database: {db}   Stop with Ctrl-C.\n",
            card = self.card_path.display(),
            pin = self.card.auth.secret,
            password = self.card.sign.secret,
            name = self.card.holder.name,
            db = self.database.display(),
            admin = self.admin_password,
        )
    }
}

/// Sets the demo up in `dir` (reusing what is there) and serves until stopped.
pub async fn run(dir: &Path, listen: &str) -> anyhow::Result<()> {
    let env: Vec<(String, String)> = passed_through_env().collect();
    let log_format = Settings::from_sources(None, &env)?.log_format;
    crate::cli::logging::init(log_format);
    let listener =
        TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
    let demo = prepare(dir, listen, listener, Clock::system()).await?;
    println!("{}", demo.instructions());
    demo.serve().await?;
    Ok(())
}

/// Sets the demo up in `dir` (reusing what is there) on `listener`, which is bound to `listen`
/// (the issuer is `http://{listen}`), with time from `clock`. Logging is the caller's.
pub async fn prepare(
    dir: &Path,
    listen: &str,
    listener: TcpListener,
    clock: Clock,
) -> anyhow::Result<Demo> {
    let now = clock.now();
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let ca_dir = dir.join("ca");
    let mut ca = if ca_dir.join("state.json").exists() {
        TestCa::open(&ca_dir)?
    } else {
        TestCa::init(&ca_dir, now)?
    };
    let card_path = dir.join("card.json");
    let options = CardOptions::example();
    if !card_path.exists() {
        let card = ca.issue_card(&options, now)?;
        card.save(&card_path)?;
    }
    let card = CardFile::load(&card_path)?;
    for purpose in [Purpose::Auth, Purpose::Sign] {
        let roots = dir.join("roots").join(purpose.as_str());
        std::fs::create_dir_all(&roots)?;
        std::fs::write(
            roots.join(format!("{purpose}-root.pem")),
            ca.root_pem(purpose),
        )?;
    }
    let database = dir.join("mykey.sqlite3");
    let env: Vec<(String, String)> = [
        ("MYKEY_ISSUER", format!("http://{listen}")),
        ("MYKEY_LISTEN", listen.to_owned()),
        (
            "MYKEY_DATABASE_URL",
            format!("sqlite://{}", database.display()),
        ),
        (
            "MYKEY_AUTH_ROOTS",
            dir.join("roots/auth").display().to_string(),
        ),
        (
            "MYKEY_SIGN_ROOTS",
            dir.join("roots/sign").display().to_string(),
        ),
        ("MYKEY_ALLOW_TEST_CARDS", "true".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .chain(passed_through_env())
    .collect();
    let settings = Settings::from_sources(None, &env)?;
    let provider = {
        let clock = clock.clone();
        // Opening migrates and loads keys: blocking work, kept off the async threads.
        tokio::task::spawn_blocking(move || Provider::open(settings, clock))
            .await
            .context("opening the provider")??
    };
    let provider = Arc::new(provider);

    // Fresh CRLs for the demo CA, so logins pass the revocation check.
    for purpose in [Purpose::Auth, Purpose::Sign] {
        let crl = ca.crl(purpose, now, now + time::Duration::days(1))?;
        crate::provider::revocation::import_crl(&provider, crl, "demo")
            .await
            .with_context(|| format!("importing the demo {purpose} CRL"))?;
    }

    let secret = register_demo_client(&provider).await?;
    let admin_password = demo_operator(&provider).await?;
    let issuer = provider.settings.issuer_str().to_owned();
    let rp = web::Data::new(rp::DemoRp::new(
        issuer.clone(),
        DEMO_CLIENT_ID.to_owned(),
        secret,
    )?);
    let app = App::with_routes(
        provider.clone(),
        listener,
        Arc::new(rp::DemoRp::configure(rp)),
    )?;
    Ok(Demo {
        admin_password,
        issuer,
        provider,
        app,
        card_path,
        card,
        database,
    })
}

/// The settings a person may still choose for the demo through the environment.
fn passed_through_env() -> impl Iterator<Item = (String, String)> {
    std::env::vars().filter(|(k, _)| k == "MYKEY_LOG_FORMAT")
}

/// The console's `admin` operator with a fresh random password (printed for the newcomer).
async fn demo_operator(p: &Provider) -> anyhow::Result<String> {
    use crate::admin::password::Password;
    use crate::admin::{accounts, AdminError, Principal, Role};
    let password = crate::domain::secret::random_b64(12);
    let secret = Password::new(password.clone());
    let system = Principal::system();
    match accounts::create(p, &system, "admin", &secret, Role::Admin).await {
        Ok(_) => {}
        Err(AdminError::UsernameTaken(_)) => {
            accounts::reset_password(p, &system, "admin", &secret).await?
        }
        Err(e) => return Err(e.into()),
    }
    Ok(password)
}

/// Creates or refreshes the demo client; returns a new secret (kept only in memory).
async fn register_demo_client(p: &Provider) -> anyhow::Result<String> {
    let issuer = p.settings.issuer_str();
    let spec = ClientSpec {
        name: "デモサイト (Demo site)".to_owned(),
        redirect_uris: vec![format!("{issuer}/demo/callback")],
        post_logout_redirect_uris: vec![format!("{issuer}/demo/")],
        // The demo ends its own session when the provider ends it (and so `sid` means what it
        // means for any site that registers back-channel logout).
        backchannel_logout_uri: Some(rp::DemoRp::backchannel_logout_uri(issuer)),
        ..ClientSpec::default()
    };
    let (secret, hash) = new_secret();
    let id = ClientId::parse(DEMO_CLIENT_ID).context("demo client id")?;
    let client =
        build_client(id, &spec, Some(hash)).map_err(|e| anyhow::anyhow!("demo client: {e:?}"))?;
    let now = p.clock.unix();
    let row = ClientRow::from_client(&client, now, now);
    p.db.write(move |c| {
        if store::clients::get(c, &row.id)?.is_some() {
            store::clients::update(c, &row).map(drop)
        } else {
            store::clients::insert(c, &row)
        }
    })
    .await?;
    p.clients.invalidate(DEMO_CLIENT_ID);
    Ok(secret.expose().to_owned())
}
