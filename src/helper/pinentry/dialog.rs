//! What the pinentry dialogs say: who asks (spec §2), which secret, and the failures.

use crate::card::jpki::Purpose;
use crate::card::protocol::ChallengePurpose;
use crate::helper::login::CheckedChallenge;
use crate::helper::messages::{self, Bilingual};

use super::locate::Platform;
use super::wire::{escape, LINE_LIMIT};
use super::PinentryError;

pub const TITLE: &str = "マイナンバーカードでログイン / My Number Card login";
pub const OK_BUTTON: &str = "OK";
pub const CANCEL_BUTTON: &str = "中止 / Cancel";
pub const CLOSE_BUTTON: &str = "閉じる / Close";

/// Room for the text of one command: the line limit less the verb and its space.
const TEXT_LIMIT: usize = LINE_LIMIT - "SETDESC ".len();

/// A site name longer than this is cut: the origin and the match code must stay in view.
const SITE_LIMIT: usize = 60;

/// The request as the dialog describes it; kept from `show_request` until the PIN is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    site: String,
    origin: String,
    match_code: String,
    purpose: ChallengePurpose,
}

impl Request {
    pub fn of(challenge: &CheckedChallenge) -> Request {
        let document = &challenge.document;
        Request {
            site: shown_name(&document.client_name),
            origin: challenge.issuer_origin.clone(),
            match_code: document.match_code.clone(),
            purpose: document.purpose,
        }
    }
}

/// The site's name on one line (a line break in a registered name could otherwise draw a
/// fake "provider" line under it), cut to [`SITE_LIMIT`] characters.
fn shown_name(name: &str) -> String {
    let one_line: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() > SITE_LIMIT {
        let cut: String = one_line.chars().take(SITE_LIMIT - 1).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// The PIN dialog's description: the request (Japanese first, then English), then what to
/// do. A compact form when a long origin would not fit in one Assuan line.
pub fn description(request: Option<&Request>, secret: Purpose) -> String {
    let (place_ja, place_en) = match (secret, request.is_some()) {
        (Purpose::Auth, _) => (
            "マイナンバーカードをカードリーダーに置いて、暗証番号を入力してください。",
            "Place your My Number Card on the reader and enter its PIN.",
        ),
        // After the PIN, in an identity verification.
        (Purpose::Sign, true) => (
            "続けて、署名用電子証明書のパスワードを入力してください。",
            "Now enter the signature password.",
        ),
        (Purpose::Sign, false) => (
            "マイナンバーカードをカードリーダーに置いて、署名用電子証明書のパスワードを入力してください。",
            "Place your My Number Card on the reader and enter its signature password.",
        ),
    };
    let Some(r) = request else {
        return format!("{place_ja}\n{place_en}");
    };
    let (purpose_ja, purpose_en) = match r.purpose {
        ChallengePurpose::Login => ("ログイン", "log in"),
        ChallengePurpose::Verify => (
            "本人確認（署名用電子証明書も使います）",
            "identity verification (also uses the signature certificate)",
        ),
    };
    let full = format!(
        "「{site}」がログインを求めています。\n\
         ログイン先: {origin}\n\
         照合番号: {code}（ブラウザの表示と同じか確かめてください）\n\
         用途: {purpose_ja}\n\
         {place_ja}\n\n\
         \"{site}\" asks you to log in.\n\
         Provider: {origin}\n\
         Match code: {code} (check that your browser shows the same)\n\
         Purpose: {purpose_en}\n\
         {place_en}",
        site = r.site,
        origin = r.origin,
        code = r.match_code,
    );
    if escape(&full).len() <= TEXT_LIMIT {
        return full;
    }
    fit(&format!(
        "{site}\n\
         照合番号 / Match code: {code}\n\
         ログイン先 / Provider: {origin}",
        site = r.site,
        origin = r.origin,
        code = r.match_code,
    ))
}

/// The label next to the entry: which secret, its format and the tries left.
pub fn prompt(secret: Purpose, tries_left: u8) -> String {
    messages::secret_prompt(secret, tries_left)
        .trim_end_matches([':', ' '])
        .to_owned()
}

/// Several messages in one text, each Japanese first.
pub fn joined(messages: &[Bilingual]) -> String {
    let text = messages
        .iter()
        .map(Bilingual::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    fit(&text)
}

/// A text cut, if need be, to fit one command line; only failure texts built from error
/// details ever come near the limit.
pub fn fit(text: &str) -> String {
    if escape(text).len() <= TEXT_LIMIT {
        return text.to_owned();
    }
    let budget = TEXT_LIMIT - '…'.len_utf8();
    let mut used = 0;
    let mut cut = String::new();
    for c in text.chars() {
        let size = escape(c.encode_utf8(&mut [0; 4])).len();
        if used + size > budget {
            break;
        }
        used += size;
        cut.push(c);
    }
    cut.push('…');
    cut
}

/// What residents are told when the helper cannot show its PIN dialog.
pub fn failure(error: &PinentryError) -> Bilingual {
    match error {
        PinentryError::NotFound(platform) => {
            let (ja, en) = match platform {
                Platform::Linux => (
                    "pinentry-gnome3 などをインストールしてください（例: sudo apt install pinentry-gnome3）。",
                    "Install one, e.g. `sudo apt install pinentry-gnome3` (or pinentry-qt).",
                ),
                Platform::MacOs => (
                    "Homebrew で pinentry-mac をインストールしてください（brew install pinentry-mac）。GPG Suite にも含まれています。",
                    "Install pinentry-mac with Homebrew (`brew install pinentry-mac`); GPG Suite includes it too.",
                ),
                Platform::Windows => (
                    "Gpg4win（https://gpg4win.org/）をインストールしてください。",
                    "Install Gpg4win (https://gpg4win.org/).",
                ),
            };
            Bilingual {
                ja: format!("暗証番号を入力する画面（pinentry）が見つかりません。{ja}"),
                en: format!("No PIN dialog program (pinentry) was found. {en} Or set MYKEY_PINENTRY to its path."),
            }
        }
        PinentryError::Configured(path) => Bilingual {
            ja: format!(
                "環境変数 MYKEY_PINENTRY の「{}」は実行できるプログラムではありません。",
                path.display()
            ),
            en: format!(
                "MYKEY_PINENTRY names {}, which is not a program.",
                path.display()
            ),
        },
        other => Bilingual {
            ja: format!("暗証番号を入力する画面（pinentry）を使えませんでした: {other}"),
            en: format!("The PIN dialog (pinentry) failed: {other}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(site: &str, origin: &str) -> Request {
        Request {
            site: shown_name(site),
            origin: origin.to_owned(),
            match_code: "4821".to_owned(),
            purpose: ChallengePurpose::Login,
        }
    }

    #[test]
    fn the_description_names_site_origin_and_match_code_japanese_first() {
        let text = description(
            Some(&request("Example City Library", "https://id.example.jp")),
            Purpose::Auth,
        );
        let ja = text
            .find("「Example City Library」がログインを求めています")
            .expect("ja");
        let en = text
            .find("\"Example City Library\" asks you to log in")
            .expect("en");
        assert!(ja < en, "{text}");
        for expected in [
            "ログイン先: https://id.example.jp",
            "照合番号: 4821",
            "Provider: https://id.example.jp",
            "Match code: 4821",
            "暗証番号を入力してください",
        ] {
            assert!(text.contains(expected), "{expected:?} in {text}");
        }
    }

    #[test]
    fn a_line_break_in_the_site_name_cannot_draw_a_line_of_its_own() {
        let text = description(
            Some(&request(
                "Evil\nログイン先: https://id.example.jp",
                "https://evil.example",
            )),
            Purpose::Auth,
        );
        assert!(
            text.starts_with("「Evil ログイン先: https://id.example.jp」"),
            "{text}"
        );
        assert!(
            !text.contains("\nログイン先: https://id.example.jp"),
            "{text}"
        );
    }

    #[test]
    fn long_names_are_cut_and_a_long_origin_still_fits_with_the_match_code() {
        let long_site = "図".repeat(200);
        let long_origin = format!("https://{}.example.jp", "a".repeat(240));
        let text = description(Some(&request(&long_site, &long_origin)), Purpose::Auth);
        assert!(escape(&text).len() <= TEXT_LIMIT);
        assert!(
            text.contains(&long_origin) && text.contains("4821"),
            "{text}"
        );
        assert!(text.contains(&format!("{}…", "図".repeat(SITE_LIMIT - 1))));
    }

    #[test]
    fn without_a_request_the_description_says_only_what_to_enter() {
        assert_eq!(
            description(None, Purpose::Sign),
            "マイナンバーカードをカードリーダーに置いて、署名用電子証明書のパスワードを入力してください。\n\
             Place your My Number Card on the reader and enter its signature password."
        );
    }

    #[test]
    fn the_prompt_says_which_secret_and_the_tries_left() {
        assert_eq!(
            prompt(Purpose::Auth, 2),
            "利用者証明用電子証明書の暗証番号（数字4桁、残り2回）/ PIN (4 digits, 2 tries left)"
        );
        assert!(prompt(Purpose::Sign, 5).contains("signature password"));
    }

    #[test]
    fn an_overlong_failure_text_is_cut_to_one_line() {
        let text = fit(&"エラー".repeat(400));
        assert!(escape(&text).len() <= TEXT_LIMIT && text.ends_with('…'));
    }
}
