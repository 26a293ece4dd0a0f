//! The PC/SC transport (cargo feature `pcsc`): list readers, find the card, exchange APDUs.

use std::ffi::CString;
use std::time::Duration;

use pcsc::{
    Card, Context, Protocols, ReaderState, Scope, ShareMode, State, Transaction, MAX_BUFFER_SIZE,
};

use crate::helper::transport::{CardTransport, TransportError};

/// One reader as PC/SC reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderStatus {
    pub name: String,
    pub card_present: bool,
}

/// Every reader PC/SC knows, with whether a card is in it.
pub fn list_readers() -> Result<Vec<ReaderStatus>, TransportError> {
    readers(&establish()?)
}

/// A card reached through PC/SC.
pub struct PcscTransport {
    card: Card,
    reader: String,
}

impl std::fmt::Debug for PcscTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscTransport")
            .field("reader", &self.reader)
            .finish()
    }
}

impl PcscTransport {
    /// Connects (shared, T=1 or T=0) to the named reader, or to the first reader with a card.
    ///
    /// A name matches a reader exactly, or else as a case-insensitive part of its name, so
    /// `pcsc:Virtual PCD` finds `Virtual PCD 00 00`.
    pub fn connect(reader: Option<&str>) -> Result<PcscTransport, TransportError> {
        let context = establish()?;
        let readers = readers(&context)?;
        let chosen = match reader {
            Some(wanted) => readers
                .iter()
                .find(|r| r.name == wanted)
                .or_else(|| {
                    let wanted = wanted.to_lowercase();
                    readers
                        .iter()
                        .find(|r| r.name.to_lowercase().contains(&wanted))
                })
                .ok_or_else(|| TransportError::ReaderNotFound(wanted.to_owned()))?,
            None => match readers.iter().find(|r| r.card_present) {
                Some(reader) => reader,
                None => {
                    let first = readers.first().ok_or(TransportError::NoReader)?;
                    return Err(TransportError::NoCard(first.name.clone()));
                }
            },
        };
        let name = CString::new(chosen.name.clone())
            .map_err(|_| TransportError::ReaderNotFound(chosen.name.clone()))?;
        let card = context
            .connect(&name, ShareMode::Shared, Protocols::ANY)
            .map_err(|error| match error {
                pcsc::Error::NoSmartcard
                | pcsc::Error::RemovedCard
                | pcsc::Error::UnpoweredCard
                | pcsc::Error::UnresponsiveCard => TransportError::NoCard(chosen.name.clone()),
                other => map_error(other),
            })?;
        Ok(PcscTransport {
            card,
            reader: chosen.name.clone(),
        })
    }

    pub fn reader_name(&self) -> &str {
        &self.reader
    }
}

impl CardTransport for PcscTransport {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        exchange(&self.card, apdu)
    }

    fn describe(&self) -> String {
        format!("PC/SC reader {}", self.reader)
    }

    /// Begins a PC/SC transaction; other applications' commands wait until it ends. If one
    /// of them holds the card now, this waits for it (pcsc-lite retries for as long as the
    /// other transaction lasts).
    fn hold(&mut self) -> Result<Box<dyn CardTransport + '_>, TransportError> {
        let transaction = self.card.transaction().map_err(map_error)?;
        Ok(Box::new(HeldCard {
            transaction,
            reader: &self.reader,
        }))
    }
}

/// The card inside a PC/SC transaction; dropping it ends the transaction and leaves the
/// card as it is (the helper resets it when it disconnects, so no verified PIN outlives it).
struct HeldCard<'a> {
    transaction: Transaction<'a>,
    reader: &'a str,
}

impl CardTransport for HeldCard<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        exchange(&self.transaction, apdu)
    }

    fn describe(&self) -> String {
        format!("PC/SC reader {} (held)", self.reader)
    }
}

fn exchange(card: &Card, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
    let mut buffer = [0u8; MAX_BUFFER_SIZE];
    let response = card.transmit(apdu, &mut buffer).map_err(map_error)?;
    Ok(response.to_vec())
}

fn establish() -> Result<Context, TransportError> {
    Context::establish(Scope::User).map_err(map_error)
}

fn readers(context: &Context) -> Result<Vec<ReaderStatus>, TransportError> {
    let names = match context.list_readers_owned() {
        Ok(names) => names,
        Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
        Err(other) => return Err(map_error(other)),
    };
    if names.is_empty() {
        return Err(TransportError::NoReader);
    }
    let mut states: Vec<ReaderState> = names
        .into_iter()
        .map(|name| ReaderState::new(name, State::UNAWARE))
        .collect();
    // With every state UNAWARE the call returns at once with the current states.
    context
        .get_status_change(Duration::from_secs(1), &mut states)
        .map_err(map_error)?;
    Ok(states
        .iter()
        .map(|state| ReaderStatus {
            name: state.name().to_string_lossy().into_owned(),
            card_present: state.event_state().contains(State::PRESENT)
                && !state.event_state().contains(State::MUTE),
        })
        .collect())
}

fn map_error(error: pcsc::Error) -> TransportError {
    match error {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => TransportError::NoService,
        pcsc::Error::NoReadersAvailable => TransportError::NoReader,
        pcsc::Error::RemovedCard | pcsc::Error::ResetCard | pcsc::Error::NoSmartcard => {
            TransportError::CardRemoved
        }
        other => TransportError::Pcsc(other.to_string()),
    }
}
