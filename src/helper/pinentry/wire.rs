//! Assuan on the wire: percent-escaping, data decoding, and lines that may carry a PIN.

use std::io::{ErrorKind, Read};

use zeroize::Zeroizing;

use super::assuan::AssuanError;

/// An Assuan line holds at most 1000 bytes before its line end (libassuan's
/// `ASSUAN_LINELENGTH`); a longer command is refused by the server.
pub const LINE_LIMIT: usize = 1000;

/// Bytes read from the pipe at a time.
const CHUNK: usize = 1024;

/// Percent-escapes what an Assuan parameter must not hold raw: `%`, CR and LF (the line
/// syntax), and every other control character, which pinentry decodes the same way.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '%' || c.is_ascii_control() {
            out.push_str(&format!("%{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Decodes the `%XX` escapes of a data line into `out`, which holds a secret: it is given
/// enough capacity up front that no copy is left behind by a reallocation.
pub fn unescape_into(data: &[u8], out: &mut Zeroizing<Vec<u8>>) -> Result<(), AssuanError> {
    // Decoding never lengthens the data.
    if out.len() + data.len() > out.capacity() {
        return Err(AssuanError::LineTooLong);
    }
    let mut bytes = data.iter();
    while let Some(&b) = bytes.next() {
        if b != b'%' {
            out.push(b);
            continue;
        }
        let mut digit = || {
            bytes
                .next()
                .and_then(|&d| char::from(d).to_digit(16))
                .ok_or(AssuanError::Unexpected("GETPIN"))
        };
        let high = digit()?;
        let low = digit()?;
        // Two hex digits make at most 255.
        out.push((high * 16 + low) as u8);
    }
    Ok(())
}

/// Splits what the server writes into lines; every buffer that may hold a PIN is wiped.
pub struct Lines<R> {
    inner: R,
    pending: Zeroizing<Vec<u8>>,
}

impl<R: Read> Lines<R> {
    pub fn new(inner: R) -> Lines<R> {
        Lines {
            inner,
            pending: Zeroizing::new(Vec::with_capacity(LINE_LIMIT + 2 + CHUNK)),
        }
    }

    /// The next line without its line end.
    pub fn next(&mut self) -> Result<Zeroizing<Vec<u8>>, AssuanError> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let mut line = Zeroizing::new(Vec::with_capacity(LINE_LIMIT + 2));
                line.extend_from_slice(&self.pending[..end]);
                self.pending.drain(..=end);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.pending.len() > LINE_LIMIT + 1 {
                return Err(AssuanError::LineTooLong);
            }
            let mut chunk = Zeroizing::new([0u8; CHUNK]);
            let read = match self.inner.read(&mut chunk[..]) {
                Ok(0) => return Err(AssuanError::Closed),
                Ok(read) => read,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(AssuanError::Io(e.to_string())),
            };
            self.pending.extend_from_slice(&chunk[..read]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(data: &str) -> Result<Vec<u8>, AssuanError> {
        let mut out = Zeroizing::new(Vec::with_capacity(64));
        unescape_into(data.as_bytes(), &mut out)?;
        Ok(out.to_vec())
    }

    #[test]
    fn percent_cr_lf_and_control_characters_are_escaped_and_the_rest_is_sent_as_is() {
        assert_eq!(
            escape("100% 照合番号\r\n4821\tend"),
            "100%25 照合番号%0D%0A4821%09end"
        );
        assert_eq!(escape("plain text: ok"), "plain text: ok");
    }

    #[test]
    fn data_lines_are_decoded() {
        assert_eq!(decoded("12%2534%0A").expect("decodes"), b"12%34\n");
        assert_eq!(decoded("%e3%81%82").expect("decodes"), "あ".as_bytes());
        for broken in ["%", "%4", "%zz"] {
            assert!(decoded(broken).is_err(), "{broken:?}");
        }
    }
}
