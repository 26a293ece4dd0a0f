//! `mykey-helper`: the resident's helper command line; parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use clap::{Parser, Subcommand};
use mykey_connect::helper::install;
use mykey_connect::helper::login::{login, LoginError, LoginOptions};
use mykey_connect::helper::messages::{self, exit, EXIT_CODES_HELP};
use mykey_connect::helper::native::{self, Caller, HostContext};
use mykey_connect::helper::pinentry::PinentryPrompter;
use mykey_connect::helper::prompt::{self, PromptError, Prompter};
use mykey_connect::helper::softcard::SoftCard;
use mykey_connect::helper::status::card_status;
use mykey_connect::helper::transport::{CardChoice, CardTransport, TransportError};
use mykey_connect::helper::vpcd;

#[derive(Parser)]
#[command(
    name = "mykey-helper",
    version,
    about = "マイナンバーカードでログイン — ローカルヘルパー / Log in with your My Number Card — local helper",
    after_help = EXIT_CODES_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// ログイン要求にカードで答える / Answer a login challenge with the card
    #[command(after_help = EXIT_CODES_HELP)]
    Login {
        /// チャレンジの URL または mykey://login リンク / challenge URL or mykey://login link
        target: String,
        /// pcsc, pcsc:READER, or file:CARD (a software card)
        #[arg(long)]
        card: Option<String>,
        /// 標準入力から1行ずつ読む（暗証番号、次に署名用パスワード）/ read the PIN (then the password) one line each from stdin
        #[arg(long, requires = "yes")]
        pin_stdin: bool,
        /// 確認せずに進む（要求の内容は表示します）/ do not ask before using the card (the request is still shown)
        #[arg(long)]
        yes: bool,
    },
    /// リーダー・カード・証明書・残り回数を表示 / Show readers, the card, its certificates and tries left
    #[command(after_help = EXIT_CODES_HELP)]
    Status {
        /// pcsc, pcsc:READER, or file:CARD (a software card)
        #[arg(long)]
        card: Option<String>,
        /// 署名用パスワードを入力して署名用証明書も表示 / also ask the signature password to show the signature certificate
        #[arg(long)]
        with_password: bool,
        /// パスワードを標準入力から読む / read the password from stdin
        #[arg(long, requires = "with_password")]
        pin_stdin: bool,
    },
    /// ブラウザ拡張機能のネイティブメッセージングホスト（ブラウザが起動します）/ The browser extension's native-messaging host (browsers start it)
    NativeHost {
        /// ブラウザが渡す引数 / what the browser passes: chrome-extension://ID/, or MANIFEST EXTENSION-ID
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        browser_args: Vec<String>,
    },
    /// mykey:// リンクとブラウザ拡張の接続先（ネイティブメッセージング）を登録 / Register mykey:// links and the browsers' native-messaging host
    Install {
        /// 全ユーザー用（パッケージ向け、システムのフォルダー）/ for every user: the system folders (Linux packages)
        #[arg(long)]
        system: bool,
        /// --system の書き込み先（パッケージの作業フォルダー、何も実行しない）/ with --system: write under this folder instead of / (package staging; runs nothing)
        #[arg(long, requires = "system")]
        root: Option<PathBuf>,
        /// 登録するヘルパーの絶対パス（省略時はこのプログラム）/ absolute path of the helper to register (default: this program)
        #[arg(long)]
        exe: Option<PathBuf>,
    },
    /// install が登録したものを削除 / Remove what install registered
    Uninstall {
        /// 全ユーザー用の登録を削除 / remove the registration for every user
        #[arg(long)]
        system: bool,
        /// --system の対象フォルダー / with --system: the folder standing for /
        #[arg(long, requires = "system")]
        root: Option<PathBuf>,
    },
    /// ソフトウェアカードを vpcd 経由で PC/SC に見せる / Serve a software card to pcscd through vsmartcard vpcd
    Vpcd {
        /// CARD file (file:CARD also accepted)
        #[arg(long)]
        card: String,
        #[arg(long, default_value = vpcd::DEFAULT_HOST)]
        host: String,
        #[arg(long, default_value_t = vpcd::DEFAULT_PORT)]
        port: u16,
    },
}

fn main() -> ExitCode {
    // A browser starts the host named in its manifest with its own arguments, not ours.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Caller::from_args(&args[1..]) {
        Some(_) => Cli {
            command: Command::NativeHost {
                browser_args: args[1..]
                    .iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect(),
            },
        },
        None => Cli::parse(),
    };
    let default_log = match cli.command {
        Command::Vpcd { .. } => "info",
        Command::NativeHost { .. } => "info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MYKEY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    ExitCode::from(match cli.command {
        Command::Login {
            target,
            card,
            pin_stdin,
            yes,
        } => run_login(&target, card.as_deref(), pin_stdin, yes),
        Command::Status {
            card,
            with_password,
            pin_stdin,
        } => run_status(card.as_deref(), with_password, pin_stdin),
        Command::Vpcd { card, host, port } => run_vpcd(&card, &host, port),
        Command::NativeHost { browser_args } => run_native_host(&browser_args),
        Command::Install { system, root, exe } => {
            run_install(&install::Options { system, root, exe }, Step::Install)
        }
        Command::Uninstall { system, root } => run_install(
            &install::Options {
                system,
                root,
                exe: None,
            },
            Step::Uninstall,
        ),
    })
}

fn choose(card: Option<&str>) -> Result<CardChoice, TransportError> {
    card.map(CardChoice::parse)
        .unwrap_or_else(CardChoice::default_choice)
}

fn fail(error: &LoginError) -> u8 {
    tracing::debug!(%error, "failed");
    eprintln!("{}", messages::login(error));
    messages::exit_code(error)
}

/// [`fail`], and the message in a dialog too when the prompter is one; not after Cancel,
/// which the person chose.
fn fail_shown(error: &LoginError, prompter: &mut dyn Prompter) -> u8 {
    let code = fail(error);
    if code != exit::CANCELLED {
        prompter.show_failure(&messages::login(error));
    }
    code
}

fn run_login(target: &str, card: Option<&str>, pin_stdin: bool, yes: bool) -> u8 {
    let mut prompter = match prompt::for_this_process(pin_stdin) {
        Ok(prompter) => prompter,
        Err(error) => return fail(&error.into()),
    };
    let transport: Box<dyn CardTransport> = match choose(card).and_then(|c| c.open()) {
        Ok(transport) => transport,
        Err(error) => return fail_shown(&error.into(), &mut *prompter),
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let options = LoginOptions { assume_yes: yes };
    match login(target, transport, &mut *prompter, &options, now) {
        Ok(outcome) => {
            println!(
                "ログインしました（{}）。ブラウザに戻ってください。\nLogged in to {} ({}). Return to your browser.",
                outcome.client_name, outcome.client_name, outcome.issuer_origin
            );
            exit::OK
        }
        Err(error) => fail_shown(&error, &mut *prompter),
    }
}

fn run_status(card: Option<&str>, with_password: bool, pin_stdin: bool) -> u8 {
    let choice = match choose(card) {
        Ok(choice) => choice,
        Err(error) => return fail(&error.into()),
    };
    if let Err(error) = print_readers(&choice) {
        return fail(&error.into());
    }
    let transport = match choice.open() {
        Ok(transport) => transport,
        Err(error) => return fail(&error.into()),
    };
    let mut prompter = match with_password.then(|| prompt::for_this_process(pin_stdin)) {
        Some(Ok(prompter)) => Some(prompter),
        Some(Err(error)) => return fail(&error.into()),
        None => None,
    };
    let prompter = prompter.as_mut().map(|p| &mut **p as &mut dyn Prompter);
    match card_status(transport, prompter) {
        Ok(status) => {
            println!("{status}");
            exit::OK
        }
        Err(error) => fail(&error),
    }
}

#[cfg(feature = "pcsc")]
fn print_readers(choice: &CardChoice) -> Result<(), TransportError> {
    if let CardChoice::Pcsc { .. } = choice {
        for reader in mykey_connect::helper::pcsc::list_readers()? {
            let card = if reader.card_present {
                "カードあり / card present"
            } else {
                "カードなし / no card"
            };
            println!("リーダー / Reader: {} — {card}", reader.name);
        }
    }
    Ok(())
}

#[cfg(not(feature = "pcsc"))]
fn print_readers(_choice: &CardChoice) -> Result<(), TransportError> {
    Ok(())
}

enum Step {
    Install,
    Uninstall,
}

fn run_install(options: &install::Options, step: Step) -> u8 {
    let result = install::plan(options, &|name| std::env::var_os(name)).and_then(|plan| {
        let mut out = std::io::stdout();
        match step {
            Step::Install => install::install(&plan, &mut out),
            Step::Uninstall => install::uninstall(&plan, &mut out),
        }
    });
    match result {
        Ok(()) => exit::OK,
        Err(error) => {
            let (ja, en) = match step {
                Step::Install => ("インストールできませんでした", "Install failed"),
                Step::Uninstall => ("アンインストールできませんでした", "Uninstall failed"),
            };
            eprintln!("{ja}: {error}\n{en}: {error}");
            error.exit_code()
        }
    }
}

fn run_vpcd(card: &str, host: &str, port: u16) -> u8 {
    let path = std::path::Path::new(card.strip_prefix("file:").unwrap_or(card));
    let mut card = match SoftCard::open(path) {
        Ok(card) => card,
        Err(error) => return fail(&TransportError::from(error).into()),
    };
    eprintln!(
        "ソフトウェアカード {0} を vpcd（{host}:{port}）に挿入します。Ctrl-C で終了します。\nServing the software card {0} to vpcd at {host}:{port}. Ctrl-C to stop.",
        path.display()
    );
    // Runs until the process is stopped; the card saves its counters after every change.
    let never = AtomicBool::new(false);
    match vpcd::run(&mut card, host, port, &never) {
        Ok(()) => exit::OK,
        Err(error) => {
            eprintln!("vpcd: {error}");
            exit::READER
        }
    }
}

/// The machine the native host runs on: the card from `MYKEY_CARD` (as `--card`; PC/SC by
/// default) and a PIN dialog, since standard input is the browser's pipe.
struct Desktop;

impl HostContext for Desktop {
    fn prompter(&mut self) -> Result<Box<dyn Prompter>, PromptError> {
        Ok(Box::new(PinentryPrompter::locate()?))
    }

    fn card(&mut self) -> Result<Box<dyn CardTransport>, TransportError> {
        choose(std::env::var("MYKEY_CARD").ok().as_deref())?.open()
    }

    fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }
}

fn run_native_host(browser_args: &[String]) -> u8 {
    let caller = Caller::from_args(browser_args);
    if caller.as_ref().is_some_and(|c| !c.is_our_extension()) {
        tracing::warn!(
            ?caller,
            "refusing a browser extension that is not mykey-helper's"
        );
        return exit::USAGE;
    }
    tracing::info!(?caller, "native-messaging host started");
    let (stdin, stdout) = (std::io::stdin(), std::io::stdout());
    match native::serve(&mut stdin.lock(), &mut stdout.lock(), &mut Desktop) {
        Ok(()) => exit::OK,
        Err(error) => {
            tracing::warn!(%error, "the browser's pipe failed");
            exit::UNEXPECTED
        }
    }
}
