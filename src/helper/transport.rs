//! How the helper reaches a card: the `CardTransport` trait and the `--card` choice.

use std::path::PathBuf;

use crate::helper::softcard::{SoftCard, SoftCardError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    #[error(
        "the PC/SC service is not running (pcscd on Linux, the Smart Card service on Windows)"
    )]
    NoService,
    #[error("no card reader is connected")]
    NoReader,
    #[error("there is no reader named {0:?}")]
    ReaderNotFound(String),
    #[error("no card is in the reader {0}")]
    NoCard(String),
    #[error("this helper was built without PC/SC support (cargo feature `pcsc`)")]
    PcscNotBuilt,
    #[error("the card was removed or reset during the operation")]
    CardRemoved,
    #[error("PC/SC error: {0}")]
    Pcsc(String),
    #[error("cannot use the software card: {0}")]
    SoftCard(#[from] SoftCardError),
    #[error("`--card {0}` is not understood; use `pcsc`, `pcsc:READER` or `file:CARD`")]
    BadCardSpec(String),
}

/// A channel to one card that exchanges APDUs.
pub trait CardTransport {
    /// Sends one command APDU and returns the response APDU (data and SW1 SW2).
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError>;

    /// Which reader or card this is, for messages and `status`.
    fn describe(&self) -> String;

    /// The card for this process alone until the returned transport is dropped: no other
    /// application's commands reach the card in between (a PC/SC transaction), so nothing
    /// can come between a VERIFY and the signature it unlocks. A card that only this
    /// process reaches needs no holding.
    fn hold(&mut self) -> Result<Box<dyn CardTransport + '_>, TransportError> {
        Ok(Box::new(self))
    }
}

impl<T: CardTransport + ?Sized> CardTransport for &mut T {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(apdu)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }

    fn hold(&mut self) -> Result<Box<dyn CardTransport + '_>, TransportError> {
        (**self).hold()
    }
}

impl<T: CardTransport + ?Sized> CardTransport for Box<T> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(apdu)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }

    fn hold(&mut self) -> Result<Box<dyn CardTransport + '_>, TransportError> {
        (**self).hold()
    }
}

/// The software card in this process.
impl CardTransport for SoftCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        Ok(SoftCard::transmit(self, apdu))
    }

    fn describe(&self) -> String {
        match self.path() {
            Some(path) => format!("software card {}", path.display()),
            None => "software card (in memory)".to_owned(),
        }
    }
}

/// The `--card` option: which card to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardChoice {
    /// The first PC/SC reader holding a card, or the named reader.
    Pcsc { reader: Option<String> },
    /// A software card loaded from (and saved back to) a CARD file.
    File(PathBuf),
}

impl CardChoice {
    /// `pcsc`, `pcsc:READER` or `file:CARD`.
    pub fn parse(text: &str) -> Result<CardChoice, TransportError> {
        match text.split_once(':') {
            None if text == "pcsc" => Ok(CardChoice::Pcsc { reader: None }),
            Some(("pcsc", reader)) if !reader.is_empty() => Ok(CardChoice::Pcsc {
                reader: Some(reader.to_owned()),
            }),
            Some(("file", path)) if !path.is_empty() => Ok(CardChoice::File(PathBuf::from(path))),
            _ => Err(TransportError::BadCardSpec(text.to_owned())),
        }
    }

    /// What `--card` means when it is not given: PC/SC when this build has it.
    pub fn default_choice() -> Result<CardChoice, TransportError> {
        if cfg!(feature = "pcsc") {
            Ok(CardChoice::Pcsc { reader: None })
        } else {
            Err(TransportError::PcscNotBuilt)
        }
    }

    /// Connects to the card.
    pub fn open(&self) -> Result<Box<dyn CardTransport>, TransportError> {
        match self {
            CardChoice::File(path) => Ok(Box::new(SoftCard::open(path)?)),
            #[cfg(feature = "pcsc")]
            CardChoice::Pcsc { reader } => Ok(Box::new(
                crate::helper::pcsc::PcscTransport::connect(reader.as_deref())?,
            )),
            #[cfg(not(feature = "pcsc"))]
            CardChoice::Pcsc { .. } => Err(TransportError::PcscNotBuilt),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_choices_parse_from_their_command_line_spelling() {
        assert_eq!(
            CardChoice::parse("pcsc").expect("pcsc"),
            CardChoice::Pcsc { reader: None }
        );
        assert_eq!(
            CardChoice::parse("pcsc:Virtual PCD 00 00").expect("named reader"),
            CardChoice::Pcsc {
                reader: Some("Virtual PCD 00 00".to_owned())
            }
        );
        assert_eq!(
            CardChoice::parse("file:/tmp/a:b.card").expect("file"),
            CardChoice::File(PathBuf::from("/tmp/a:b.card"))
        );
        for bad in ["", "pcsc:", "file:", "usb", "card.json"] {
            assert!(CardChoice::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
