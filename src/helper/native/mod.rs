//! The browser extension's native-messaging host (docs/card-login.md §8): the framing browsers
//! speak on a host's standard input and output, who launched the host, and what it answers.

mod host;

use std::ffi::OsStr;
use std::io::{self, Read, Write};

pub use host::{serve, HostContext, HostReply, HostRequest, ReplyError};

use crate::helper::install::{CHROMIUM_EXTENSION_ORIGIN, FIREFOX_EXTENSION_ID};

/// The longest message the host reads: a request is a URL and an origin, so far less.
pub const MAX_REQUEST: u32 = 64 * 1024;
/// Chrome refuses messages from a host above 1 MB; a reply is a few hundred bytes.
const MAX_REPLY: usize = 1024 * 1024;

/// Which browser started the host, read from the arguments it passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Chromium, Chrome, Edge: `chrome-extension://<id>/` (and `--parent-window=<n>` on
    /// Windows).
    Chromium { extension_origin: String },
    /// Firefox: the path of the host manifest, then the extension's id.
    Firefox {
        manifest: String,
        extension_id: String,
    },
}

impl Caller {
    /// Recognises the arguments a browser starts a native-messaging host with; `None` for
    /// anything else (a person typing a command).
    pub fn from_args<S: AsRef<OsStr>>(args: &[S]) -> Option<Caller> {
        let args: Vec<&str> = args.iter().filter_map(|a| a.as_ref().to_str()).collect();
        match args.as_slice() {
            [origin, rest @ ..]
                if origin.starts_with("chrome-extension://")
                    && rest.iter().all(|a| a.starts_with("--parent-window=")) =>
            {
                Some(Caller::Chromium {
                    extension_origin: (*origin).to_owned(),
                })
            }
            [manifest, extension_id]
                if manifest.ends_with(".json") && !extension_id.starts_with('-') =>
            {
                Some(Caller::Firefox {
                    manifest: (*manifest).to_owned(),
                    extension_id: (*extension_id).to_owned(),
                })
            }
            _ => None,
        }
    }

    /// Whether this is our extension. The browser only starts the host for the extensions
    /// its manifest allows; the host checks again rather than trust a manifest edited later.
    pub fn is_our_extension(&self) -> bool {
        match self {
            Caller::Chromium { extension_origin } => extension_origin == CHROMIUM_EXTENSION_ORIGIN,
            Caller::Firefox { extension_id, .. } => extension_id == FIREFOX_EXTENSION_ID,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    #[error("a message of {0} bytes is larger than the host accepts")]
    TooLarge(u32),
    #[error("the message ended early")]
    Truncated,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Reads one message: a 32-bit length in native byte order, then that many bytes of UTF-8
/// JSON. `None` when the browser closed the pipe between messages, as it does to stop us.
/// A message over [`MAX_REQUEST`] is skipped whole so the next one still lines up.
pub fn read_message(input: &mut impl Read) -> Result<Option<Vec<u8>>, FramingError> {
    let mut length = [0u8; 4];
    match input.read_exact(&mut length) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let length = u32::from_ne_bytes(length);
    if length > MAX_REQUEST {
        let skipped = io::copy(&mut input.take(u64::from(length)), &mut io::sink())?;
        if skipped < u64::from(length) {
            return Err(FramingError::Truncated);
        }
        return Err(FramingError::TooLarge(length));
    }
    let mut message = vec![0u8; length as usize];
    input.read_exact(&mut message).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => FramingError::Truncated,
        _ => FramingError::Io(e),
    })?;
    Ok(Some(message))
}

/// Writes one message in the same framing and flushes it, so the browser sees it at once.
pub fn write_message(output: &mut impl Write, message: &[u8]) -> Result<(), FramingError> {
    if message.len() > MAX_REPLY {
        return Err(FramingError::TooLarge(
            u32::try_from(message.len()).unwrap_or(u32::MAX),
        ));
    }
    let length = u32::try_from(message.len()).unwrap_or(u32::MAX);
    output.write_all(&length.to_ne_bytes())?;
    output.write_all(message)?;
    output.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut bytes = (body.len() as u32).to_ne_bytes().to_vec();
        bytes.extend_from_slice(body);
        bytes
    }

    #[test]
    fn messages_are_read_and_written_with_a_native_order_length() {
        let mut out = Vec::new();
        write_message(&mut out, br#"{"type":"version"}"#).expect("write");
        assert_eq!(out, framed(br#"{"type":"version"}"#));
        let mut input = io::Cursor::new([out.clone(), out].concat());
        for _ in 0..2 {
            let message = read_message(&mut input).expect("read").expect("a message");
            assert_eq!(message, br#"{"type":"version"}"#);
        }
        assert!(read_message(&mut input).expect("end").is_none());
    }

    #[test]
    fn an_oversized_message_is_skipped_so_the_next_one_still_lines_up() {
        let big = vec![b' '; MAX_REQUEST as usize + 1];
        let mut input = io::Cursor::new([framed(&big), framed(b"{}")].concat());
        assert!(matches!(
            read_message(&mut input),
            Err(FramingError::TooLarge(_))
        ));
        assert_eq!(read_message(&mut input).expect("next").expect("{}"), b"{}");
    }

    #[test]
    fn a_message_cut_short_is_an_error_not_a_shorter_message() {
        let mut bytes = framed(b"{\"type\":\"version\"}");
        bytes.truncate(8);
        assert!(matches!(
            read_message(&mut io::Cursor::new(bytes)),
            Err(FramingError::Truncated)
        ));
    }

    #[test]
    fn chromium_and_firefox_arguments_name_the_caller() {
        let chromium = Caller::from_args(&["chrome-extension://dojcljefpojahfgnhmnhomlimaofgnoc/"]);
        assert!(chromium.as_ref().is_some_and(Caller::is_our_extension));
        let windows = Caller::from_args(&[
            "chrome-extension://dojcljefpojahfgnhmnhomlimaofgnoc/",
            "--parent-window=6752",
        ]);
        assert_eq!(windows, chromium);
        let firefox = Caller::from_args(&[
            "/usr/lib/mozilla/native-messaging-hosts/jp.mykey.helper.json",
            "mykey-helper@mykey-connect.jp",
        ])
        .expect("firefox");
        assert!(firefox.is_our_extension());

        let other = Caller::from_args(&["chrome-extension://abcdefghijklmnopabcdefghijklmnop/"])
            .expect("a chromium caller");
        assert!(!other.is_our_extension());
        for typed in [&["login", "https://id.example.jp/x"][..], &["status"], &[]] {
            assert_eq!(Caller::from_args(typed), None, "{typed:?}");
        }
    }
}
