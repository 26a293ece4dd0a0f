//! The client side of the Assuan protocol as pinentry speaks it: commands and their replies.

use std::io::{ErrorKind, Read, Write};

use zeroize::Zeroizing;

use super::wire::{escape, unescape_into, Lines, LINE_LIMIT};

/// libgpg-error codes, in the low 16 bits of an `ERR` code (the high bits name the source,
/// e.g. `83886179` = pinentry (5) << 24 | `GPG_ERR_CANCELED` (99)).
const GPG_ERR_TIMEOUT: u32 = 62;
const GPG_ERR_CANCELED: u32 = 99;
const GPG_ERR_NOT_CONFIRMED: u32 = 114;
const GPG_ERR_FULLY_CANCELED: u32 = 198;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssuanError {
    #[error("the pinentry program closed the connection")]
    Closed,
    #[error("cannot talk to the pinentry program: {0}")]
    Io(String),
    #[error("the pinentry program sent a line longer than {LINE_LIMIT} bytes")]
    LineTooLong,
    #[error("the text for {0} does not fit in one Assuan line")]
    CommandTooLong(&'static str),
    // The line itself is left out: it might hold part of a PIN.
    #[error("the pinentry program answered {0} with a line outside the protocol")]
    Unexpected(&'static str),
    #[error("the pinentry program refused {verb}: ERR {code} {text}")]
    Refused {
        verb: &'static str,
        code: u32,
        text: String,
    },
}

/// Whether an `ERR` code means the person closed the dialog (Cancel, Escape, the window's
/// close button) or let it time out.
pub fn is_cancel(code: u32) -> bool {
    matches!(
        code & 0xFFFF,
        GPG_ERR_TIMEOUT | GPG_ERR_CANCELED | GPG_ERR_NOT_CONFIRMED | GPG_ERR_FULLY_CANCELED
    )
}

/// The final line of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Ok,
    Err { code: u32, text: String },
}

/// One connection to a pinentry: commands go to `writer`, answers come from `reader`.
pub struct Assuan<R, W> {
    lines: Lines<R>,
    writer: W,
}

impl<R: Read, W: Write> Assuan<R, W> {
    /// Reads the server's greeting (`OK Pleased to meet you`).
    pub fn connect(reader: R, writer: W) -> Result<Assuan<R, W>, AssuanError> {
        let mut assuan = Assuan {
            lines: Lines::new(reader),
            writer,
        };
        match assuan.reply("the greeting", None)? {
            Reply::Ok => Ok(assuan),
            Reply::Err { code, text } => Err(AssuanError::Refused {
                verb: "the greeting",
                code,
                text,
            }),
        }
    }

    /// Sends `verb` with `text` (escaped here) and reads the answer.
    pub fn send(&mut self, verb: &'static str, text: Option<&str>) -> Result<Reply, AssuanError> {
        self.write(verb, text)?;
        self.reply(verb, None)
    }

    /// A `SET…` command, which every pinentry accepts.
    pub fn set(&mut self, verb: &'static str, text: &str) -> Result<(), AssuanError> {
        match self.send(verb, Some(text))? {
            Reply::Ok => Ok(()),
            Reply::Err { code, text } => Err(AssuanError::Refused { verb, code, text }),
        }
    }

    /// Shows the PIN dialog. `None` when the person cancelled it.
    pub fn get_pin(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>, AssuanError> {
        self.write("GETPIN", None)?;
        let mut pin = Zeroizing::new(Vec::with_capacity(LINE_LIMIT + 2));
        match self.reply("GETPIN", Some(&mut pin))? {
            Reply::Ok => Ok(Some(pin)),
            Reply::Err { code, .. } if is_cancel(code) => Ok(None),
            Reply::Err { code, text } => Err(AssuanError::Refused {
                verb: "GETPIN",
                code,
                text,
            }),
        }
    }

    /// Shows a question with OK and Cancel; whether the person chose OK.
    pub fn confirm(&mut self) -> Result<bool, AssuanError> {
        match self.send("CONFIRM", None)? {
            Reply::Ok => Ok(true),
            Reply::Err { code, .. } if is_cancel(code) => Ok(false),
            Reply::Err { code, text } => Err(AssuanError::Refused {
                verb: "CONFIRM",
                code,
                text,
            }),
        }
    }

    /// Shows the description with one button; closing the window counts as read.
    pub fn message(&mut self) -> Result<(), AssuanError> {
        match self.send("MESSAGE", None)? {
            Reply::Ok => Ok(()),
            Reply::Err { code, .. } if is_cancel(code) => Ok(()),
            Reply::Err { code, text } => Err(AssuanError::Refused {
                verb: "MESSAGE",
                code,
                text,
            }),
        }
    }

    /// Ends the session; the pinentry exits after answering.
    pub fn bye(&mut self) -> Result<(), AssuanError> {
        self.send("BYE", None).map(|_| ())
    }

    fn write(&mut self, verb: &'static str, text: Option<&str>) -> Result<(), AssuanError> {
        let line = match text {
            Some(text) => format!("{verb} {}\n", escape(text)),
            None => format!("{verb}\n"),
        };
        if line.len() > LINE_LIMIT + 1 {
            return Err(AssuanError::CommandTooLong(verb));
        }
        tracing::debug!(command = verb, "pinentry");
        self.writer
            .write_all(line.as_bytes())
            .and_then(|()| self.writer.flush())
            .map_err(|e| match e.kind() {
                ErrorKind::BrokenPipe => AssuanError::Closed,
                _ => AssuanError::Io(e.to_string()),
            })
    }

    /// Reads up to the `OK` or `ERR` that ends the answer to `verb`. Data lines go to `data`
    /// (only GETPIN expects them); status lines and comments are skipped.
    fn reply(
        &mut self,
        verb: &'static str,
        mut data: Option<&mut Zeroizing<Vec<u8>>>,
    ) -> Result<Reply, AssuanError> {
        loop {
            let line = self.lines.next()?;
            let (keyword, rest) = match line.iter().position(|&b| b == b' ') {
                Some(space) => (&line[..space], &line[space + 1..]),
                None => (&line[..], &[][..]),
            };
            match keyword {
                b"OK" => return Ok(Reply::Ok),
                b"ERR" => {
                    let rest = String::from_utf8_lossy(rest);
                    let (code, text) = rest.split_once(' ').unwrap_or((&rest, ""));
                    let code = code.parse().map_err(|_| AssuanError::Unexpected(verb))?;
                    return Ok(Reply::Err {
                        code,
                        text: text.to_owned(),
                    });
                }
                b"D" => match data.as_deref_mut() {
                    Some(data) => unescape_into(rest, data)?,
                    None => return Err(AssuanError::Unexpected(verb)),
                },
                // Status lines (`S PIN_REPEATED`), comments, and blank lines carry no answer.
                b"S" | b"" => {}
                _ if keyword.starts_with(b"#") => {}
                // This client never asks for a quality bar or the like: decline.
                b"INQUIRE" => self.write("CAN", None)?,
                _ => return Err(AssuanError::Unexpected(verb)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pinentry that answers from a script; what the client wrote is kept.
    fn talk(script: &str, conversation: impl FnOnce(&mut Assuan<&[u8], &mut Vec<u8>>)) -> String {
        let mut sent = Vec::new();
        let mut assuan = Assuan::connect(script.as_bytes(), &mut sent).expect("greeting");
        conversation(&mut assuan);
        String::from_utf8(sent).expect("utf-8")
    }

    #[test]
    fn the_pin_comes_from_data_lines_split_and_escaped_as_the_server_likes() {
        let mut pin = None;
        let sent = talk(
            "# comment\nOK Pleased to meet you\nOK\nS PIN_REPEATED\nD 12\nD %334\nOK\n",
            |assuan| {
                assuan
                    .set("SETDESC", "Line one\nline two")
                    .expect("SETDESC");
                pin = assuan.get_pin().expect("GETPIN");
            },
        );
        assert_eq!(sent, "SETDESC Line one%0Aline two\nGETPIN\n");
        assert_eq!(pin.as_deref().map(|p| &p[..]), Some(&b"1234"[..]));
    }

    #[test]
    fn cancel_in_any_source_reads_as_cancel_and_other_errors_as_refusals() {
        let mut answers = Vec::new();
        talk(
            "OK\nERR 83886179 Operation cancelled <Pinentry>\nERR 83886142 Timeout\nERR 83886254 Bad PIN <Pinentry>\n",
            |assuan| {
                answers.push(format!("{:?}", assuan.get_pin()));
                answers.push(format!("{:?}", assuan.get_pin()));
                answers.push(format!("{:?}", assuan.get_pin()));
            },
        );
        assert_eq!(answers[0], "Ok(None)");
        assert_eq!(answers[1], "Ok(None)");
        assert!(answers[2].contains("Refused"), "{}", answers[2]);
    }

    #[test]
    fn confirm_and_message_read_their_buttons() {
        let mut results = Vec::new();
        let sent = talk(
            "OK\nOK\nERR 83886194 Not confirmed\nERR 83886179 cancelled\nOK closing connection\n",
            |assuan| {
                results.push(assuan.confirm().expect("CONFIRM"));
                results.push(assuan.confirm().expect("CONFIRM"));
                assuan.message().expect("closing a message is fine");
                assuan.bye().expect("BYE");
            },
        );
        assert_eq!(results, [true, false]);
        assert_eq!(sent, "CONFIRM\nCONFIRM\nMESSAGE\nBYE\n");
    }

    #[test]
    fn an_inquiry_is_declined() {
        let sent = talk(
            "OK\nINQUIRE QUALITY 1234\nERR 83886179 cancelled\n",
            |assuan| {
                assert!(assuan.get_pin().expect("GETPIN").is_none());
            },
        );
        assert_eq!(sent, "GETPIN\nCAN\n");
    }

    #[test]
    fn a_command_too_long_for_one_line_is_not_sent() {
        let mut error = None;
        let sent = talk("OK\n", |assuan| {
            error = assuan.set("SETDESC", &"照".repeat(400)).err();
        });
        assert!(matches!(
            error,
            Some(AssuanError::CommandTooLong("SETDESC"))
        ));
        assert_eq!(sent, "");
    }

    #[test]
    fn a_closed_pipe_and_lines_outside_the_protocol_are_errors_that_do_not_echo_the_line() {
        let mut errors = Vec::new();
        talk("OK\n1234 garbage\n", |assuan| {
            errors.push(assuan.get_pin().expect_err("not Assuan"));
            errors.push(assuan.get_pin().expect_err("closed"));
        });
        assert!(matches!(errors[0], AssuanError::Unexpected("GETPIN")));
        assert!(!errors[0].to_string().contains("1234"));
        assert!(matches!(errors[1], AssuanError::Closed));
    }

    #[test]
    fn a_server_line_longer_than_the_limit_is_refused() {
        let script = format!("OK\nD {}\nOK\n", "1".repeat(LINE_LIMIT + 10));
        let mut sent = Vec::new();
        let mut assuan = Assuan::connect(script.as_bytes(), &mut sent).expect("greeting");
        assert!(matches!(assuan.get_pin(), Err(AssuanError::LineTooLong)));
    }

    #[test]
    fn a_server_that_refuses_to_greet_is_an_error() {
        let mut sent = Vec::new();
        let refused = Assuan::connect(&b"ERR 1 no\n"[..], &mut sent);
        assert!(matches!(refused, Err(AssuanError::Refused { code: 1, .. })));
    }
}
