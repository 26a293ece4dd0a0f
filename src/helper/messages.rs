//! What residents are told, in Japanese and English, and the exit code of every failure.

use std::fmt;

use crate::card::jpki::Purpose;
use crate::card::protocol::CardErrorCode;
use crate::helper::jpki::JpkiError;
use crate::helper::login::LoginError;
use crate::helper::pinentry;
use crate::helper::prompt::PromptError;
use crate::helper::secret::SecretError;
use crate::helper::transport::TransportError;

/// One message in both languages; shown Japanese first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Bilingual {
    pub ja: String,
    pub en: String,
}

impl Bilingual {
    fn new(ja: impl Into<String>, en: impl Into<String>) -> Bilingual {
        Bilingual {
            ja: ja.into(),
            en: en.into(),
        }
    }
}

impl fmt::Display for Bilingual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}", self.ja, self.en)
    }
}

/// Exit codes of `mykey-helper`, listed in its `--help`.
pub mod exit {
    pub const OK: u8 = 0;
    /// The card or the software answered something unexpected.
    pub const UNEXPECTED: u8 = 1;
    /// The command line is wrong (also clap's code for usage errors).
    pub const USAGE: u8 = 2;
    /// No PC/SC service, no reader, no card, or the card was removed.
    pub const READER: u8 = 3;
    pub const NOT_MY_NUMBER_CARD: u8 = 4;
    /// Wrong PIN or password (or one not in the required format).
    pub const WRONG_PIN: u8 = 5;
    pub const BLOCKED: u8 = 6;
    /// The provider could not be reached or answered outside the protocol.
    pub const NETWORK: u8 = 7;
    /// The provider refused with an error code of spec §5.
    pub const PROVIDER_REFUSED: u8 = 8;
    /// The helper refused the challenge (foreign origin, plain http, expired, bad version).
    pub const CHALLENGE_REFUSED: u8 = 9;
    /// The person said no, or gave no PIN.
    pub const CANCELLED: u8 = 10;
}

/// Which secret, in words.
fn secret_words(purpose: Purpose) -> (&'static str, &'static str) {
    match purpose {
        Purpose::Auth => ("利用者証明用電子証明書の暗証番号", "PIN"),
        Purpose::Sign => ("署名用電子証明書のパスワード", "signature password"),
    }
}

/// The prompt for a secret, with the tries left.
pub fn secret_prompt(purpose: Purpose, tries_left: u8) -> String {
    let (ja, en) = secret_words(purpose);
    let format = match purpose {
        Purpose::Auth => ("数字4桁", "4 digits"),
        Purpose::Sign => ("英大文字と数字6〜16文字", "6–16 letters A–Z and digits"),
    };
    format!(
        "{ja}（{}、残り{tries_left}回）/ {en} ({}, {tries_left} tries left): ",
        format.0, format.1
    )
}

/// Shown before the last try: a wrong secret now blocks the certificate.
pub fn last_try(purpose: Purpose) -> Bilingual {
    let (ja, en) = secret_words(purpose);
    Bilingual::new(
        format!("注意: {ja}の入力は残り1回です。間違えるとロックされ、市区町村の窓口での再設定が必要になります。"),
        format!("Warning: this is the last try for your {en}. A wrong one blocks it, and only your city office can reset it."),
    )
}

pub fn secret_format(error: SecretError) -> Bilingual {
    match error {
        SecretError::PinFormat => Bilingual::new("暗証番号は数字4桁です。", "The PIN is 4 digits."),
        SecretError::PasswordFormat => Bilingual::new(
            "パスワードは英大文字と数字の6〜16文字です。",
            "The signature password is 6 to 16 letters A–Z and digits.",
        ),
    }
}

pub fn transport(error: &TransportError) -> Bilingual {
    match error {
        TransportError::NoService => Bilingual::new(
            "スマートカードのサービス（pcscd）が動いていません。起動してからもう一度お試しください。",
            "The smart card service (pcscd) is not running. Start it and try again.",
        ),
        TransportError::NoReader => Bilingual::new(
            "カードリーダーが見つかりません。リーダーをパソコンに接続してください。",
            "No card reader found. Connect a card reader to this computer.",
        ),
        TransportError::ReaderNotFound(name) => Bilingual::new(
            format!("「{name}」という名前のカードリーダーはありません。`mykey-helper status` で一覧を確認できます。"),
            format!("There is no card reader named {name:?}. `mykey-helper status` lists them."),
        ),
        TransportError::NoCard(reader) => Bilingual::new(
            format!("カードリーダー「{reader}」にカードがありません。マイナンバーカードを置いてください。"),
            format!("There is no card in the reader {reader:?}. Place your My Number Card on it."),
        ),
        TransportError::PcscNotBuilt => Bilingual::new(
            "このヘルパーはカードリーダー（PC/SC）対応なしで作られています。--card file:CARD を指定してください。",
            "This helper was built without card reader (PC/SC) support. Use --card file:CARD.",
        ),
        TransportError::CardRemoved => Bilingual::new(
            "操作の途中でカードが外されました。カードを置き直して、もう一度お試しください。",
            "The card was removed during the operation. Place it again and retry.",
        ),
        TransportError::BadCardSpec(text) => Bilingual::new(
            format!("--card {text} は使えません。pcsc、pcsc:リーダー名、file:カードファイル のどれかを指定してください。"),
            format!("--card {text} is not understood; use pcsc, pcsc:READER or file:CARD."),
        ),
        other => Bilingual::new(
            format!("カードとの通信に失敗しました: {other}"),
            format!("Communication with the card failed: {other}"),
        ),
    }
}

pub fn card(error: &JpkiError) -> Bilingual {
    match error {
        JpkiError::Transport(error) => transport(error),
        JpkiError::NotJpki => Bilingual::new(
            "このカードはマイナンバーカードではありません（公的個人認証の機能がありません）。",
            "This is not a My Number Card (it has no JPKI application).",
        ),
        JpkiError::WrongPin {
            purpose,
            tries_left,
        } => {
            let (ja, en) = secret_words(*purpose);
            Bilingual::new(
                format!("{ja}が違います。残り{tries_left}回です。"),
                format!("Wrong {en}. {tries_left} tries left."),
            )
        }
        JpkiError::Blocked { purpose } => {
            let (ja, en) = secret_words(*purpose);
            Bilingual::new(
                format!("{ja}がロックされています。マイナンバーカードを持って、お住まいの市区町村の窓口で再設定（初期化）してください。"),
                format!("Your {en} is blocked. Take your My Number Card to your city office to have it reset."),
            )
        }
        JpkiError::SecurityStatusNotSatisfied => Bilingual::new(
            "カードが暗証番号の確認を求めています。もう一度お試しください。",
            "The card requires the PIN to be verified first. Please try again.",
        ),
        other => Bilingual::new(
            format!("カードが予期しない応答をしました: {other}"),
            format!("The card answered unexpectedly: {other}"),
        ),
    }
}

/// The message for each error code of spec §5.
pub fn provider_code(code: CardErrorCode) -> Bilingual {
    let ja = match code {
        CardErrorCode::InvalidRequest => "ログインの要求が正しくありません。ブラウザでログインをやり直してください。",
        CardErrorCode::UnknownChallenge => "このログインの要求は見つかりません。ブラウザでログインをやり直してください。",
        CardErrorCode::ExpiredChallenge => "ログインの要求の有効期限が切れました。ブラウザでログインをやり直してください。",
        CardErrorCode::ChallengeAlreadyUsed => "このログインの要求はすでに使われています。ブラウザでログインをやり直してください。",
        CardErrorCode::UntrustedCertificate => "このカードの電子証明書は、信頼できる公的個人認証の発行元のものではありません。",
        CardErrorCode::CertificateExpired => "電子証明書の有効期限が切れています（または有効期間前です）。市区町村の窓口で更新してください。",
        CardErrorCode::CertificateRevoked => "電子証明書は失効しています。お住まいの市区町村の窓口にお問い合わせください。",
        CardErrorCode::RevocationDataStale => "ログインサーバーの失効情報が古いため、いまはログインできません。しばらくしてからお試しください。",
        CardErrorCode::WrongCertificatePurpose => "この手続きに必要な種類の電子証明書ではありません。",
        CardErrorCode::InvalidSignature => "カードの署名を確認できませんでした。もう一度お試しください。",
    };
    let en = match code {
        CardErrorCode::InvalidRequest => "The login request was malformed. Start the login again in your browser.",
        CardErrorCode::UnknownChallenge => "This login request does not exist. Start the login again in your browser.",
        CardErrorCode::ExpiredChallenge => "The login request has expired. Start the login again in your browser.",
        CardErrorCode::ChallengeAlreadyUsed => "This login request was already answered. Start the login again in your browser.",
        CardErrorCode::UntrustedCertificate => "The card's certificate is not issued by a trusted JPKI authority.",
        CardErrorCode::CertificateExpired => "The certificate has expired or is not valid yet. Renew it at your city office.",
        CardErrorCode::CertificateRevoked => "The certificate has been revoked. Ask your city office.",
        CardErrorCode::RevocationDataStale => "The login server's revocation data is out of date, so logins are paused. Try again later.",
        CardErrorCode::WrongCertificatePurpose => "The certificate is not of the kind this step requires.",
        CardErrorCode::InvalidSignature => "The card's signature did not verify. Please try again.",
    };
    Bilingual::new(ja, en)
}

pub fn login(error: &LoginError) -> Bilingual {
    match error {
        LoginError::Card(error) => card(error),
        LoginError::Prompt(PromptError::Format(format)) => secret_format(*format),
        LoginError::Prompt(PromptError::NoTerminal) => Bilingual::new(
            "暗証番号を入力できる端末がありません。スクリプトから使うときは --pin-stdin を指定してください。",
            "There is no terminal to type the PIN on. Scripts must use --pin-stdin.",
        ),
        LoginError::Prompt(PromptError::Cancelled) => Bilingual::new("中止しました。", "Cancelled."),
        LoginError::Prompt(PromptError::Pinentry(error)) => pinentry::failure(error),
        LoginError::Prompt(_) => Bilingual::new(
            "暗証番号が入力されなかったため中止しました。",
            "Stopped: no PIN or password was given.",
        ),
        LoginError::Cancelled => Bilingual::new("中止しました。", "Cancelled."),
        LoginError::BadTarget(target) => Bilingual::new(
            format!("「{target}」はログイン用の URL でも mykey://login のリンクでもありません。"),
            format!("{target:?} is neither a challenge URL nor a mykey://login link."),
        ),
        LoginError::InsecureUrl(url) => Bilingual::new(
            format!("暗号化されていない接続（http）のため中止しました: {url}"),
            format!("Stopped: {url} uses plain http to another computer; the provider must use https."),
        ),
        LoginError::Network { url, reason } => Bilingual::new(
            format!("ログインサーバーに接続できません（{url}）。ネットワークの接続を確認してください。"),
            format!("Cannot reach the login server ({url}): {reason}. Check your network connection."),
        ),
        LoginError::Http { status } => Bilingual::new(
            format!("ログインサーバーがエラーを返しました（HTTP {status}）。しばらくしてからお試しください。"),
            format!("The login server answered HTTP {status}. Try again later."),
        ),
        LoginError::Provider { code: Some(code), .. } => provider_code(*code),
        LoginError::Provider { error, description, .. } => Bilingual::new(
            format!("ログインサーバーがログインを拒否しました（{error}）: {description}"),
            format!("The login server refused the login ({error}): {description}"),
        ),
        LoginError::ForeignIssuer { .. } | LoginError::ForeignResponseUri { .. } => Bilingual::new(
            "ログインの要求が、取得したサイトと別のサイトを指しています。偽サイトのおそれがあるため中止しました。",
            "The login request names a different site than the one it came from. Stopped: it may be a fake site.",
        ),
        LoginError::Expired { .. } => Bilingual::new(
            "ログインの要求の有効期限が切れています。ブラウザでログインをやり直してください。",
            "The login request has expired. Start the login again in your browser.",
        ),
        LoginError::UnsupportedVersion(_) | LoginError::MalformedChallenge(_) => Bilingual::new(
            "このログインの要求の形式には対応していません。ヘルパーを最新版に更新してください。",
            "This helper does not understand the login request. Update the helper.",
        ),
    }
}

/// The browser extension asked for a challenge of another site than the page it came from.
pub fn origin_mismatch(page: &str, challenge: &str) -> Bilingual {
    Bilingual::new(
        format!("{page} のページが、別のサイト（{challenge}）のログインにカードを使おうとしました。偽サイトのおそれがあるため中止しました。"),
        format!("The page at {page} asked to use your card for a login at another site ({challenge}). Stopped: it may be a fake site."),
    )
}

/// The browser extension sent something the helper does not understand.
pub fn invalid_host_request() -> Bilingual {
    Bilingual::new(
        "ブラウザ拡張機能からの要求を理解できませんでした。拡張機能とヘルパーを最新版に更新してください。",
        "The helper did not understand the browser extension's request. Update the extension and the helper.",
    )
}

pub fn transport_exit_code(error: &TransportError) -> u8 {
    match error {
        TransportError::BadCardSpec(_) => exit::USAGE,
        TransportError::SoftCard(_) => exit::UNEXPECTED,
        _ => exit::READER,
    }
}

pub fn exit_code(error: &LoginError) -> u8 {
    match error {
        LoginError::Card(JpkiError::Transport(error)) => transport_exit_code(error),
        LoginError::Card(JpkiError::NotJpki) => exit::NOT_MY_NUMBER_CARD,
        LoginError::Card(JpkiError::WrongPin { .. }) => exit::WRONG_PIN,
        LoginError::Card(JpkiError::Blocked { .. }) => exit::BLOCKED,
        LoginError::Card(_) => exit::UNEXPECTED,
        LoginError::Prompt(PromptError::Format(_)) => exit::WRONG_PIN,
        LoginError::Prompt(_) | LoginError::Cancelled => exit::CANCELLED,
        LoginError::BadTarget(_) => exit::USAGE,
        LoginError::Network { .. } | LoginError::Http { .. } => exit::NETWORK,
        LoginError::Provider { .. } => exit::PROVIDER_REFUSED,
        LoginError::InsecureUrl(_)
        | LoginError::ForeignIssuer { .. }
        | LoginError::ForeignResponseUri { .. }
        | LoginError::Expired { .. }
        | LoginError::UnsupportedVersion(_)
        | LoginError::MalformedChallenge(_) => exit::CHALLENGE_REFUSED,
    }
}

/// The exit code table of `mykey-helper --help`; kept next to the codes it describes.
pub const EXIT_CODES_HELP: &str = "\
終了コード / Exit codes:
  0   成功 / success
  1   予期しない応答 / unexpected answer from the card or the software
  2   コマンドの指定誤り / usage error (bad arguments, bad --card, not a challenge URL)
  3   サービス・リーダー・カードがない / no PC/SC service, no reader, no card, card removed
  4   マイナンバーカードではない / not a My Number Card
  5   暗証番号・パスワードの誤り / wrong PIN or password (or not in the required format)
  6   暗証番号・パスワードのロック / PIN or password blocked: reset it at your city office
  7   ネットワークの問題 / network error, or the provider answered outside the protocol
  8   ログインサーバーが拒否 / the provider refused (error code of the card login protocol)
  9   ログイン要求を拒否 / the helper refused the challenge (other site, plain http, expired)
  10  中止 / cancelled, or no PIN was given";
