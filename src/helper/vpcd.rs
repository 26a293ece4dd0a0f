//! The vpcd bridge: serves the software card to pcscd through the vsmartcard `vpcd` driver.
//!
//! vpcd (loaded by pcscd, Debian `vsmartcard-vpcd`) listens on TCP port 0x8C7B and waits for a
//! virtual card to connect. Every message either way is a 2-byte big-endian length and that
//! many bytes. From vpcd, a 1-byte message is a control: 00 power off, 01 power on, 02 reset,
//! 04 "send the ATR"; anything longer is a command APDU. The card answers the ATR request and
//! every APDU, and nothing else (vsmartcard `virtualsmartcard/doc/api.rst`).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::helper::softcard::SoftCard;

pub const DEFAULT_HOST: &str = "127.0.0.1";
/// The port of `/etc/reader.conf.d/vpcd` (`CHANNELID 0x8C7B`).
pub const DEFAULT_PORT: u16 = 0x8C7B;

const POWER_OFF: u8 = 0x00;
const POWER_ON: u8 = 0x01;
const RESET: u8 = 0x02;
const GET_ATR: u8 = 0x04;

/// How often a waiting bridge looks at its stop flag.
const POLL: Duration = Duration::from_millis(100);
/// Pause between attempts to reach vpcd while pcscd is down or restarting.
const RECONNECT_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VpcdError {
    #[error("cannot resolve the vpcd address {0}")]
    Address(String),
    #[error("vpcd connection failed: {0}")]
    Io(#[from] io::Error),
}

/// Why a connection to vpcd ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// vpcd closed it: pcscd stopped or restarted.
    ClosedByReader,
    /// The stop flag was raised.
    Stopped,
}

/// Serves the card on one established connection until it closes or `stop` is raised.
///
/// Reads must time out now and then (for a socket: `set_read_timeout`) so the stop flag is
/// seen. Power-off, reset and the end of the connection all clear the card's session, as
/// removing a real card from a reader would.
pub fn serve_connection<S: Read + Write>(
    card: &mut SoftCard,
    stream: &mut S,
    stop: &AtomicBool,
) -> io::Result<Ended> {
    let ended = serve_messages(card, stream, stop);
    card.power_off();
    ended
}

fn serve_messages<S: Read + Write>(
    card: &mut SoftCard,
    stream: &mut S,
    stop: &AtomicBool,
) -> io::Result<Ended> {
    loop {
        let mut length = [0u8; 2];
        if let Some(ended) = read_full(stream, &mut length, stop)? {
            return Ok(ended);
        }
        let mut message = vec![0u8; usize::from(u16::from_be_bytes(length))];
        if let Some(ended) = read_full(stream, &mut message, stop)? {
            return Ok(ended);
        }
        match message.as_slice() {
            [] => {}
            [POWER_OFF] | [POWER_ON] => card.power_off(),
            [RESET] => card.reset(),
            [GET_ATR] => send(stream, card.atr())?,
            [other] => tracing::warn!(control = other, "unknown vpcd control message ignored"),
            apdu => {
                let response = card.transmit(apdu);
                send(stream, &response)?;
            }
        }
    }
}

/// Fills `buffer`; `Some` when the peer closed or the stop flag was raised first.
fn read_full<S: Read>(
    stream: &mut S,
    buffer: &mut [u8],
    stop: &AtomicBool,
) -> io::Result<Option<Ended>> {
    let mut filled = 0;
    while filled < buffer.len() {
        if stop.load(Ordering::Relaxed) {
            return Ok(Some(Ended::Stopped));
        }
        match stream.read(&mut buffer[filled..]) {
            Ok(0) => return Ok(Some(Ended::ClosedByReader)),
            Ok(n) => filled += n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                return Ok(Some(Ended::ClosedByReader))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

fn send<S: Write>(stream: &mut S, payload: &[u8]) -> io::Result<()> {
    let length = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "message over 65535 bytes"))?;
    let mut framed = Vec::with_capacity(payload.len() + 2);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(payload);
    stream.write_all(&framed)?;
    stream.flush()
}

/// Keeps the card inserted in the vpcd reader at `host:port` until `stop` is raised,
/// reconnecting whenever pcscd restarts.
pub fn run(card: &mut SoftCard, host: &str, port: u16, stop: &AtomicBool) -> Result<(), VpcdError> {
    let address = (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .ok_or_else(|| VpcdError::Address(format!("{host}:{port}")))?;
    let mut waiting_logged = false;
    while !stop.load(Ordering::Relaxed) {
        let mut stream = match TcpStream::connect_timeout(&address, Duration::from_secs(1)) {
            Ok(stream) => stream,
            Err(error) => {
                if !waiting_logged {
                    tracing::info!(%address, %error, "waiting for vpcd (is pcscd running?)");
                    waiting_logged = true;
                }
                pause(RECONNECT_EVERY, stop);
                continue;
            }
        };
        waiting_logged = false;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(POLL))?;
        tracing::info!(%address, "card inserted in the vpcd reader");
        match serve_connection(card, &mut stream, stop) {
            Ok(Ended::Stopped) => break,
            Ok(Ended::ClosedByReader) => {
                tracing::info!("vpcd closed the connection; reconnecting");
            }
            Err(error) => tracing::warn!(%error, "vpcd connection lost; reconnecting"),
        }
        pause(RECONNECT_EVERY, stop);
    }
    Ok(())
}

/// Waits up to `total`, returning early once `stop` is raised.
fn pause(total: Duration, stop: &AtomicBool) {
    let mut waited = Duration::ZERO;
    while waited < total && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(POLL);
        waited += POLL;
    }
}
