//! `mykey-helper status`: what the card says about itself, without spending any try.

use std::fmt;

use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::card::jpki::Purpose;
use crate::helper::jpki::{Jpki, JpkiError, SecretState};
use crate::helper::login::{with_unlocked, LoginError};
use crate::helper::prompt::Prompter;
use crate::helper::transport::CardTransport;

/// The parts of a certificate a resident cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    pub subject: String,
    pub not_after: OffsetDateTime,
}

impl CertificateSummary {
    pub fn parse(der: &[u8]) -> Result<CertificateSummary, JpkiError> {
        let (_, certificate) =
            X509Certificate::from_der(der).map_err(|e| JpkiError::Malformed {
                command: "READ BINARY",
                reason: format!("the certificate does not parse: {e}"),
            })?;
        Ok(CertificateSummary {
            subject: certificate.subject().to_string(),
            not_after: certificate.validity().not_after.to_datetime(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardStatus {
    /// The transport's description (reader name or card file).
    pub card: String,
    pub token_label: String,
    pub auth_certificate: CertificateSummary,
    /// Present only when the signature password was given: the card hides it until then.
    pub sign_certificate: Option<CertificateSummary>,
    pub pin: SecretState,
    pub password: SecretState,
}

/// Reads the card's state without spending a try. With a prompter, also asks the signature
/// password and verifies it once (a wrong one costs a try) to read the signature certificate.
pub fn card_status<T: CardTransport>(
    card: T,
    password_prompter: Option<&mut dyn Prompter>,
) -> Result<CardStatus, LoginError> {
    let description = card.describe();
    let mut jpki = Jpki::new(card);
    jpki.select_application()?;
    let token_label = jpki.token_label()?;
    let auth_certificate = CertificateSummary::parse(&jpki.read_certificate(Purpose::Auth)?)?;
    let pin = jpki.secret_state(Purpose::Auth)?;
    let password = jpki.secret_state(Purpose::Sign)?;
    let sign_certificate = match password_prompter {
        None => None,
        Some(prompter) => {
            let der = with_unlocked(&mut jpki, prompter, Purpose::Sign, |card| {
                card.read_certificate(Purpose::Sign)
            })?;
            Some(CertificateSummary::parse(&der)?)
        }
    };
    Ok(CardStatus {
        card: description,
        token_label,
        auth_certificate,
        sign_certificate,
        pin,
        password,
    })
}

fn state_text(state: SecretState) -> String {
    match state {
        SecretState::Verified => "確認済み / verified".to_owned(),
        SecretState::TriesLeft(n) => format!("残り{n}回 / {n} tries left"),
        SecretState::Blocked => {
            "ロック中（市区町村の窓口で再設定）/ blocked (reset at your city office)".to_owned()
        }
    }
}

fn date(moment: OffsetDateTime) -> String {
    let d = moment.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

impl fmt::Display for CardStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "カード / Card:                 {}", self.card)?;
        writeln!(f, "トークン / Token label:        {}", self.token_label)?;
        writeln!(
            f,
            "利用者証明用証明書 / Authentication certificate: {} (有効期限 / valid until {})",
            self.auth_certificate.subject,
            date(self.auth_certificate.not_after)
        )?;
        match &self.sign_certificate {
            Some(sign) => writeln!(
                f,
                "署名用証明書 / Signature certificate: {} (有効期限 / valid until {})",
                sign.subject,
                date(sign.not_after)
            )?,
            None => writeln!(
                f,
                "署名用証明書 / Signature certificate: パスワードを入力すると表示します（--with-password）/ shown only with the signature password (--with-password)"
            )?,
        }
        writeln!(f, "暗証番号 / PIN:                {}", state_text(self.pin))?;
        write!(
            f,
            "署名用パスワード / Signature password: {}",
            state_text(self.password)
        )
    }
}
