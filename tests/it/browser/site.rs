//! The demo exactly as `mykey-connect demo` sets it up (`demo::prepare`), on port 0 with an
//! adjustable clock, and residents' helpers with software cards of the demo's test CA.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mykey_connect::clock::Clock;
use mykey_connect::demo;
use mykey_connect::helper::login::{login, LoginOptions, LoginOutcome};
use mykey_connect::helper::softcard::SoftCard;
use mykey_connect::provider::Provider;
use mykey_connect::testkit::card_file::CardFile;
use mykey_connect::testkit::{CardOptions, TestCa};
use tempfile::TempDir;

use crate::helper::ScriptedPerson;

pub struct DemoSite {
    pub issuer: String,
    pub provider: Arc<Provider>,
    pub clock: Clock,
    /// The card the demo made and prints the PIN of.
    pub card_path: PathBuf,
    handle: actix_web::dev::ServerHandle,
    dir: TempDir,
}

impl DemoSite {
    pub async fn start() -> DemoSite {
        let dir = tempfile::tempdir().expect("demo dir");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let listen = listener.local_addr().expect("addr").to_string();
        let clock = Clock::adjustable();
        let site = demo::prepare(dir.path(), &listen, listener, clock.clone())
            .await
            .expect("the demo sets itself up");
        let handle = site.app.handle();
        let started = DemoSite {
            issuer: site.issuer.clone(),
            provider: site.provider.clone(),
            clock,
            card_path: site.card_path.clone(),
            handle,
            dir,
        };
        tokio::spawn(site.serve());
        started
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// Another resident's card from the demo's CA (`<dir>/ca`, as `mykey-testkit` would).
    pub fn issue_card(&self, name: &str) -> PathBuf {
        let mut ca = TestCa::open(&self.dir.path().join("ca")).expect("the demo CA");
        let mut options = CardOptions::example();
        options.holder.name = name.to_owned();
        let card = ca.issue_card(&options, self.clock.now()).expect("card");
        let path = self.dir.path().join(format!(
            "card-{}.json",
            mykey_connect::domain::secret::random_b64(6)
        ));
        card.save(&path).expect("save card");
        path
    }

    /// The resident runs `mykey-helper login <challenge URL> --card file:<card>` and types the
    /// card's PIN; on a blocking thread, like the real helper next to the browser.
    pub fn run_helper(
        &self,
        challenge_url: &str,
        card: &Path,
    ) -> tokio::task::JoinHandle<Result<LoginOutcome, mykey_connect::helper::login::LoginError>>
    {
        let (url, card, now) = (challenge_url.to_owned(), card.to_owned(), self.clock.unix());
        let pin: &'static str = CardFile::load(&card).expect("card file").auth.secret.leak();
        tokio::task::spawn_blocking(move || {
            let softcard = SoftCard::open(&card).expect("the card");
            let mut person = ScriptedPerson::typing(&[pin]);
            login(
                &url,
                softcard,
                &mut person,
                &LoginOptions { assume_yes: true },
                now,
            )
        })
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}
