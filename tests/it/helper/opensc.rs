//! OpenSC's own JPKI driver (written apart from this project) against the software card,
//! through pcscd and `mykey-helper vpcd`, driven as a user would with `pkcs15-tool`,
//! `pkcs11-tool` and `opensc-tool` from Debian's `opensc` packages (`.ci/run` installs them).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mykey_connect::card::jpki::Purpose;
use mykey_connect::card::message::sha256_digest_info;
use mykey_connect::testkit::card_file::CardFile;

use super::cli::text;
use super::pcsc::{readers, wait_for_virtual_card, Bridge, VPCD};
use crate::softcard::fixture::{self, PIN};

/// Where Debian's `opensc-pkcs11` puts the module (`dpkg -L opensc-pkcs11`).
const PKCS11_MODULES: [&str; 2] = [
    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
];
/// The PKCS#11 token OpenSC makes of the user-authentication PIN and key.
const AUTH_TOKEN: &str = "JPKI (User Authentication PIN)";
/// No OpenSC tool should take this long against a card in the same machine.
const TOOL_DEADLINE: Duration = Duration::from_secs(60);

/// A software card in the virtual reader, and an OpenSC configuration of its own: no file
/// cache, the card left as it is when a tool disconnects (OpenSC's default, spelled out
/// because the reported failure needs it), and a debug log that failures quote.
struct OpenscCard {
    dir: tempfile::TempDir,
    card: PathBuf,
    reader: String,
    _bridge: Bridge,
}

impl OpenscCard {
    fn insert() -> OpenscCard {
        let before = readers();
        assert!(
            !before
                .iter()
                .any(|r| r.name.starts_with("Virtual PCD") && r.card_present),
            "another virtual card is already inserted: {before:?}"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let card = fixture::card_in(dir.path());
        let log = dir.path().join("opensc-debug.log");
        let config = format!(
            "app default {{\n debug = 3;\n debug_file = {};\n \
             reader_driver pcsc {{ disconnect_action = leave; }}\n \
             framework pkcs15 {{ use_file_caching = no; }}\n}}\n",
            log.display()
        );
        std::fs::write(dir.path().join("opensc.conf"), config).expect("write opensc.conf");
        let bridge = Bridge::start(&card);
        let reader = wait_for_virtual_card(Duration::from_secs(20)).name;
        OpenscCard {
            dir,
            card,
            reader,
            _bridge: bridge,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs one OpenSC tool: one PC/SC session, from connect to disconnect.
    fn tool(&self, program: &str, args: &[&str]) -> Output {
        let mut child = Command::new(program)
            .args(args)
            .env("OPENSC_CONF", self.path("opensc.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program} ({e}): install opensc"));
        let stdout = read_all(child.stdout.take().expect("stdout"));
        let stderr = read_all(child.stderr.take().expect("stderr"));
        let until = Instant::now() + TOOL_DEADLINE;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the tool") {
                break status;
            }
            if Instant::now() > until {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{program} {args:?} hung\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Output {
            status,
            stdout: stdout.join().expect("stdout reader"),
            stderr: stderr.join().expect("stderr reader"),
        }
    }

    /// What a tool that must succeed printed on standard output.
    fn succeeded(&self, what: &str, output: Output) -> String {
        assert!(output.status.success(), "{}", self.failure(what, &output));
        text(&output.stdout)
    }

    fn failure(&self, what: &str, output: &Output) -> String {
        format!(
            "{what} failed ({}):\n{}{}\n{}",
            output.status,
            text(&output.stdout),
            text(&output.stderr),
            self.log_tail()
        )
    }

    fn pkcs15(&self, args: &[&str]) -> String {
        let mut all = vec!["--reader", self.reader.as_str()];
        all.extend_from_slice(args);
        self.succeeded("pkcs15-tool", self.tool("pkcs15-tool", &all))
    }

    fn pkcs11(&self, args: &[&str]) -> Output {
        let module = PKCS11_MODULES
            .into_iter()
            .find(|path| Path::new(path).exists())
            .expect("OpenSC's PKCS#11 module (Debian opensc-pkcs11) is installed");
        let mut all = vec!["--module", module, "--token-label", AUTH_TOKEN];
        all.extend_from_slice(args);
        self.tool("pkcs11-tool", &all)
    }

    /// `pkcs11-tool --login --sign` with the user-authentication key over `message`.
    fn sign(&self, pin: &str, message: &[u8]) -> Result<Vec<u8>, Output> {
        let (input, signature) = (self.path("message"), self.path("signature"));
        std::fs::write(&input, message).expect("write message");
        let _ = std::fs::remove_file(&signature);
        let output = self.pkcs11(&[
            "--login",
            "--pin",
            pin,
            "--sign",
            "--mechanism",
            "SHA256-RSA-PKCS",
            "--id",
            "01",
            "--input-file",
            path_str(&input),
            "--output-file",
            path_str(&signature),
        ]);
        match output.status.success() {
            true => Ok(std::fs::read(&signature).expect("read the signature")),
            false => Err(output),
        }
    }

    /// [`OpenscCard::sign`] with the right PIN, which must succeed.
    fn signed(&self, message: &[u8]) -> Vec<u8> {
        match self.sign(PIN, message) {
            Ok(signature) => signature,
            Err(output) => panic!("{}", self.failure("pkcs11-tool --sign", &output)),
        }
    }

    /// The user-authentication certificate as OpenSC reads it from the card.
    fn read_auth_certificate(&self) -> Vec<u8> {
        let out = self.path("auth.der");
        let read = ["--read-object", "--type", "cert", "--id", "01"];
        let output = self.pkcs11(&[&read[..], &["--output-file", path_str(&out)]].concat());
        self.succeeded("pkcs11-tool --read-object", output);
        std::fs::read(out).expect("read the certificate file")
    }

    /// `opensc-tool --send-apdu` of each APDU in turn; the status words it printed.
    fn raw_status_words(&self, apdus: &[String]) -> Vec<String> {
        let mut args = vec!["--reader", self.reader.as_str()];
        for apdu in apdus {
            args.extend(["--send-apdu", apdu.as_str()]);
        }
        let stdout = self.succeeded("opensc-tool", self.tool("opensc-tool", &args));
        let received = stdout.lines().filter_map(|l| l.strip_prefix("Received "));
        received.map(str::to_owned).collect()
    }

    fn tries_left(&self) -> u8 {
        let file = CardFile::load(&self.card).expect("card file");
        file.auth.tries_left
    }

    /// The last APDUs and answers in OpenSC's debug log, to show where a step went wrong.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.path("opensc-debug.log")).unwrap_or_default();
        let mut exchanges = Vec::new();
        let mut lines = log.lines();
        while let Some(line) = lines.next() {
            if line.starts_with("Outgoing APDU") || line.starts_with("Incoming APDU") {
                let hex: Vec<&str> = lines.by_ref().take_while(|l| !l.is_empty()).collect();
                exchanges.push(format!("{line} {}", hex.join(" | ")));
            }
        }
        let tail = exchanges[exchanges.len().saturating_sub(30)..].join("\n");
        format!("--- the last APDUs in the OpenSC debug log ---\n{tail}")
    }
}

fn read_all<R: Read + Send + 'static>(mut pipe: R) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// The `Tries left` of one PIN in `pkcs15-tool --list-pins`.
fn listed_tries_left(listing: &str, pin_label: &str) -> Option<u8> {
    let block = listing.split(&format!("PIN [{pin_label}]")).nth(1)?;
    let line = block.lines().find(|l| l.trim().starts_with("Tries left"))?;
    line.split(':').nth(1)?.trim().parse().ok()
}

#[test]
fn opensc_lists_the_four_certificates_and_signs_after_the_pin_session_after_session() {
    let _only_one = VPCD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let card = OpenscCard::insert();

    // The first program logs in, signs and leaves the card as it is.
    let first = card.signed(b"first session");

    // The next programs find the card as a new one (the reported failure was
    // CKR_TOKEN_NOT_RECOGNIZED: the card answered 9000 to VERIFY without data).
    let listing = card.pkcs15(&["--list-certificates"]);
    for label in [
        "User Authentication Certificate",
        "Digital Signature Certificate",
        "User Authentication Certificate CA",
        "Digital Signature Certificate CA",
    ] {
        let entry = format!("X.509 Certificate [{label}]");
        assert!(listing.contains(&entry), "{entry} missing:\n{listing}");
    }
    assert_eq!(listing.matches("X.509 Certificate [").count(), 4);

    let certificate = card.read_auth_certificate();
    assert_eq!(certificate, fixture::certificate(Purpose::Auth));
    let verifies = |message: &[u8], signature: &[u8]| {
        fixture::signature_verifies(&certificate, message, signature)
    };
    assert!(verifies(b"first session", &first));
    let second = card.signed(b"second session");
    assert!(verifies(b"second session", &second));
    assert_eq!(card.tries_left(), 3);

    // What those sessions verified is gone for the next program: selecting the application
    // clears it, so the key refuses to sign without a VERIFY of its own.
    let digest_info = sha256_digest_info(b"no PIN given");
    let sign = format!(
        "80:2A:00:80:{:02X}:{}:00",
        digest_info.len(),
        hex::encode_upper(&digest_info)
    );
    let answers = card.raw_status_words(&[
        "00:A4:04:0C:0A:D3:92:F0:00:26:01:00:00:00:01".to_owned(),
        "00:A4:02:0C:02:00:17".to_owned(),
        sign,
    ]);
    let expected = ["90, SW2=0x00", "90, SW2=0x00", "69, SW2=0x82"];
    let expected = expected.map(|sw| format!("(SW1=0x{sw})"));
    assert_eq!(answers, expected);
}

#[test]
fn a_wrong_pin_given_through_opensc_costs_one_try_and_opensc_shows_the_tries_left() {
    let _only_one = VPCD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let card = OpenscCard::insert();
    let pins = card.pkcs15(&["--list-pins"]);
    assert_eq!(listed_tries_left(&pins, "User Authentication PIN"), Some(3));
    assert_eq!(listed_tries_left(&pins, "Digital Signature PIN"), Some(5));

    let Err(refused) = card.sign("0000", b"wrong PIN") else {
        panic!("a wrong PIN signed");
    };
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("CKR_PIN_INCORRECT"), "{stderr}");
    assert_eq!(card.tries_left(), 2);
    let pins = card.pkcs15(&["--list-pins"]);
    assert_eq!(listed_tries_left(&pins, "User Authentication PIN"), Some(2));

    // The right PIN still signs, and restores every try.
    let signature = card.signed(b"right PIN");
    let certificate = fixture::certificate(Purpose::Auth);
    assert!(fixture::signature_verifies(
        &certificate,
        b"right PIN",
        &signature
    ));
    assert_eq!(card.tries_left(), 3);
}
