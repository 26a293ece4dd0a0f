//! Page language (Japanese by default, English by `ui_locales` or Accept-Language) and texts.

/// A supported page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// `ui_locales` (OIDC Core §3.1.2.1, space-separated, by preference) wins; then the
    /// browser's Accept-Language by q-value; then Japanese.
    pub fn negotiate(ui_locales: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(l) = ui_locales.and_then(|v| v.split(' ').find_map(Lang::parse)) {
            return l;
        }
        let Some(header) = accept_language else {
            return Lang::Ja;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let Some(lang) = pieces.next().and_then(Lang::parse) else {
                continue;
            };
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Ja)
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Ja => &JA,
            Lang::En => &EN,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }
}

/// Every user-facing string of the resident pages.
pub struct Texts {
    pub lang: &'static str,
    pub other_lang_name: &'static str,
    pub product: &'static str,
    pub login_title: &'static str,
    pub login_lead: &'static str,
    pub match_code: &'static str,
    pub match_code_help: &'static str,
    pub open_helper: &'static str,
    pub open_helper_help: &'static str,
    pub extension_working: &'static str,
    pub extension_accepted: &'static str,
    pub use_card_again: &'static str,
    pub command_help: &'static str,
    pub waiting: &'static str,
    pub continue_button: &'static str,
    pub no_script_help: &'static str,
    pub expires_at: &'static str,
    pub restart: &'static str,
    pub consent_title: &'static str,
    pub consent_lead: &'static str,
    pub consent_items_title: &'static str,
    pub consent_sub: &'static str,
    pub consent_card_login: &'static str,
    pub consent_remember: &'static str,
    pub approve: &'static str,
    pub deny: &'static str,
    pub terms: &'static str,
    pub privacy: &'static str,
    pub error_title: &'static str,
    pub back_to_site: &'static str,
    pub logout_title: &'static str,
    pub logout_lead: &'static str,
    pub logout_button: &'static str,
    pub logged_out_title: &'static str,
    pub logged_out_lead: &'static str,
    pub failed_expired: &'static str,
    pub failed_revoked: &'static str,
    pub failed_untrusted: &'static str,
    pub failed_cert_expired: &'static str,
    pub failed_stale: &'static str,
    pub failed_other: &'static str,
    pub blocked_pin_help: &'static str,
    pub request_expired: &'static str,
    pub generic_error: &'static str,
    pub verify_notice: &'static str,
    pub facts_title: &'static str,
    pub facts_source: &'static str,
    pub fact_name: &'static str,
    pub fact_address: &'static str,
    pub fact_birthdate: &'static str,
    pub fact_gender: &'static str,
    pub fact_substitutes: &'static str,
    pub gender_male: &'static str,
    pub gender_female: &'static str,
    pub gender_unknown: &'static str,
    pub approve_without_facts: &'static str,
}

pub static JA: Texts = Texts {
    lang: "ja",
    other_lang_name: "English",
    product: "マイナンバーカードでログイン",
    login_title: "マイナンバーカードでログイン",
    login_lead: "カードをカードリーダーに置いてください。暗証番号（4桁）は、このページではなくヘルパー（mykey-helper）の画面に入力します。",
    match_code: "照合番号",
    match_code_help: "ヘルパーに同じ番号が表示されていることを確認してください。",
    open_helper: "ヘルパーを開く",
    open_helper_help: "ヘルパーはこのパソコンに mykey-helper のパッケージを入れると使えます。ブラウザ拡張機能も入れると、このボタンを押さなくてもカードを使えます。",
    extension_working: "ヘルパーの画面に暗証番号を入力してください。画面の照合番号がこのページと同じか、先に確かめてください。",
    extension_accepted: "カードで確認できました。続けています…",
    use_card_again: "もう一度カードを使う",
    command_help: "ヘルパーをコマンドで起動する場合：",
    waiting: "ヘルパーからの応答を待っています…",
    continue_button: "続ける",
    no_script_help: "ヘルパーで操作を終えたら「続ける」を押してください。",
    expires_at: "有効期限",
    restart: "最初からやり直す",
    consent_title: "情報の提供への同意",
    consent_lead: "次のサイトがマイナンバーカードでのログインを求めています。",
    consent_items_title: "このサイトに提供される情報",
    consent_sub: "このサイト専用の識別子（他のサイトとは共有されません。マイナンバーやカードの番号は含みません）",
    consent_card_login: "マイナンバーカード（利用者証明用電子証明書）でログインしたこと",
    consent_remember: "この同意は記録され、次回からは確認を省略します。",
    approve: "同意してログイン",
    deny: "同意しない",
    terms: "利用規約",
    privacy: "プライバシーポリシー",
    error_title: "ログインを続けられません",
    back_to_site: "サイトに戻る",
    logout_title: "ログアウト",
    logout_lead: "マイナンバーカードでのログインを終了しますか？ログイン中のサイトにも通知されます。",
    logout_button: "ログアウトする",
    logged_out_title: "ログアウトしました",
    logged_out_lead: "ブラウザを閉じても構いません。",
    failed_expired: "ログインの有効期限が切れました。もう一度お試しください。",
    failed_revoked: "このカードの電子証明書は失効しています。市区町村の窓口で手続きをしてください。",
    failed_untrusted: "このカードの電子証明書を確認できませんでした。",
    failed_cert_expired: "このカードの電子証明書は有効期間外です。市区町村の窓口で更新してください。",
    failed_stale: "失効情報の更新待ちのため、現在このカードではログインできません。しばらくしてからお試しください。",
    failed_other: "カードでの認証に失敗しました。もう一度お試しください。",
    blocked_pin_help: "暗証番号を3回続けて間違えるとロックされます。ロックされた場合は、お住まいの市区町村の窓口で暗証番号の再設定をしてください。",
    request_expired: "このログイン手続きは期限切れか、既に完了しています。サイトに戻ってやり直してください。",
    generic_error: "問題が発生しました。しばらくしてからもう一度お試しください。",
    verify_notice: "このサイトは本人確認（氏名・住所などの確認）を求めています。ヘルパーは暗証番号のあとに署名用電子証明書のパスワード（英数字6〜16文字）も尋ねます。",
    facts_title: "本人確認のため提供される情報",
    facts_source: "マイナンバーカードの署名用電子証明書から読み取った、確認済みの情報です。",
    fact_name: "氏名",
    fact_address: "住所",
    fact_birthdate: "生年月日",
    fact_gender: "性別",
    fact_substitutes: "（外字を含みます）",
    gender_male: "男性",
    gender_female: "女性",
    gender_unknown: "不明",
    approve_without_facts: "本人確認情報は提供せずにログイン",
};

pub static EN: Texts = Texts {
    lang: "en",
    other_lang_name: "日本語",
    product: "Log in with My Number Card",
    login_title: "Log in with your My Number Card",
    login_lead: "Place your card on the card reader. You type your 4-digit PIN into the helper's window (mykey-helper), never into this page.",
    match_code: "Match code",
    match_code_help: "Check that the helper shows the same number.",
    open_helper: "Open the helper",
    open_helper_help: "The helper works once the mykey-helper package is installed on this computer. With the browser extension as well, the card is used without this button.",
    extension_working: "Enter your PIN in the helper's window. First check that it shows the same match code as this page.",
    extension_accepted: "Your card was accepted. Continuing…",
    use_card_again: "Use the card again",
    command_help: "To start the helper from a terminal:",
    waiting: "Waiting for the helper…",
    continue_button: "Continue",
    no_script_help: "When the helper has finished, press Continue.",
    expires_at: "Expires at",
    restart: "Start again",
    consent_title: "Share information",
    consent_lead: "This site asks you to log in with your My Number Card.",
    consent_items_title: "What this site will receive",
    consent_sub: "An identifier for this site only (not shared with other sites; it contains neither your My Number nor your card's number)",
    consent_card_login: "That you logged in with your My Number Card (user-authentication certificate)",
    consent_remember: "Your consent is remembered, so you will not be asked again next time.",
    approve: "Agree and log in",
    deny: "Do not agree",
    terms: "Terms of service",
    privacy: "Privacy policy",
    error_title: "The login cannot continue",
    back_to_site: "Back to the site",
    logout_title: "Log out",
    logout_lead: "End your My Number Card login? The sites you are logged in to will be told.",
    logout_button: "Log out",
    logged_out_title: "You have logged out",
    logged_out_lead: "You may close this window.",
    failed_expired: "The login has expired. Please try again.",
    failed_revoked: "This card's certificate has been revoked. Please contact your city office.",
    failed_untrusted: "This card's certificate could not be verified.",
    failed_cert_expired: "This card's certificate is not valid at this time. Please renew it at your city office.",
    failed_stale: "Logins with this card are paused while revocation data is updated. Please try again later.",
    failed_other: "The card login failed. Please try again.",
    blocked_pin_help: "After three wrong PINs in a row the card locks. If it is locked, your city office can reset the PIN.",
    request_expired: "This login has expired or has already finished. Go back to the site and start again.",
    generic_error: "Something went wrong. Please try again shortly.",
    verify_notice: "This site asks to verify your identity (name, address and so on). After the PIN, the helper also asks the password of your signature certificate (6–16 letters and digits).",
    facts_title: "Verified facts this site will receive",
    facts_source: "Read from the signature certificate of your My Number Card, as verified there.",
    fact_name: "Name",
    fact_address: "Address",
    fact_birthdate: "Date of birth",
    fact_gender: "Sex",
    fact_substitutes: " (contains substitute characters)",
    gender_male: "male",
    gender_female: "female",
    gender_unknown: "unknown",
    approve_without_facts: "Log in without sharing these facts",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_locales_beat_the_browser_and_japanese_is_the_default() {
        assert_eq!(Lang::negotiate(Some("en-US ja"), Some("ja")), Lang::En);
        assert_eq!(
            Lang::negotiate(Some("fr"), Some("en;q=0.8, ja;q=0.9")),
            Lang::Ja
        );
        assert_eq!(Lang::negotiate(None, Some("de, en-GB;q=0.5")), Lang::En);
        assert_eq!(Lang::negotiate(None, None), Lang::Ja);
        assert_eq!(Lang::negotiate(None, Some("en;q=0")), Lang::Ja);
    }
}
