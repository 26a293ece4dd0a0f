//! The vpcd bridge against a listener that speaks vpcd's side of the wire format.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mykey_connect::helper::softcard::{SoftCard, ATR};
use mykey_connect::helper::vpcd;

use crate::softcard::{fixture, SELECT_JPKI};

/// vpcd's side: length-prefixed messages.
struct Reader(TcpStream);

impl Reader {
    fn accept(listener: &TcpListener) -> Reader {
        let (stream, _) = listener.accept().expect("the bridge connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Reader(stream)
    }

    fn send(&mut self, message: &[u8]) {
        let mut framed = (message.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(message);
        self.0.write_all(&framed).expect("send");
    }

    fn receive(&mut self) -> Vec<u8> {
        let mut length = [0u8; 2];
        self.0.read_exact(&mut length).expect("length");
        let mut message = vec![0u8; usize::from(u16::from_be_bytes(length))];
        self.0.read_exact(&mut message).expect("message");
        message
    }

    fn apdu(&mut self, hex_apdu: &str) -> Vec<u8> {
        self.send(&hex::decode(hex_apdu.replace(' ', "")).expect("hex"));
        self.receive()
    }
}

#[test]
fn the_bridge_serves_atr_and_apdus_and_comes_back_after_vpcd_restarts() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(false).expect("blocking listener");
    let port = listener.local_addr().expect("addr").port();
    let stop = Arc::new(AtomicBool::new(false));
    let bridge = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut card = SoftCard::new(fixture::card()).expect("card");
            vpcd::run(&mut card, "127.0.0.1", port, &stop)
        })
    };

    let mut reader = Reader::accept(&listener);
    reader.send(&[0x04]);
    assert_eq!(reader.receive(), ATR.to_vec());
    reader.send(&[0x01]);
    assert_eq!(reader.apdu(SELECT_JPKI), vec![0x90, 0x00]);
    assert_eq!(reader.apdu("00 A4 02 0C 02 00 06"), vec![0x90, 0x00]);
    let label = reader.apdu("00 B0 00 00 0F");
    assert_eq!(&label[..15], b"JPKIAPICCTOKEN2");
    // A reset forgets the selection.
    reader.send(&[0x02]);
    assert_eq!(reader.apdu("00 B0 00 00 0F"), vec![0x69, 0x86]);
    reader.apdu(SELECT_JPKI);
    reader.apdu("00 A4 02 0C 02 00 06");

    // pcscd restarts: the connection drops and the bridge dials again, card session cleared.
    drop(reader);
    let mut reader = Reader::accept(&listener);
    reader.send(&[0x04]);
    assert_eq!(reader.receive(), ATR.to_vec());
    assert_eq!(reader.apdu("00 B0 00 00 0F"), vec![0x69, 0x86]);

    stop.store(true, Ordering::Relaxed);
    bridge
        .join()
        .expect("bridge thread")
        .expect("bridge stops cleanly");
}
