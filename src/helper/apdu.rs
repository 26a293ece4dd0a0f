//! ISO/IEC 7816-4 short APDUs: command parsing and encoding, responses, named status words.

use std::fmt;

/// Largest command data field of a short APDU (ISO/IEC 7816-4 §5.1: Lc is one byte, 1–255).
pub const MAX_SHORT_DATA: usize = 255;
/// Largest response a short APDU asks for (Le byte `00` means 256).
pub const MAX_SHORT_LE: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApduError {
    #[error("an APDU has at least the four header bytes CLA INS P1 P2, got {0}")]
    TooShort(usize),
    #[error("extended-length APDUs are not supported (Lc byte 00 followed by data)")]
    ExtendedLength,
    #[error("the APDU body length {body} does not match its Lc byte {lc}")]
    LengthMismatch { lc: usize, body: usize },
    #[error("command data of {0} bytes does not fit a short APDU (at most 255)")]
    DataTooLong(usize),
    #[error("Le {0} does not fit a short APDU (1 to 256)")]
    LeOutOfRange(usize),
    #[error("a response has at least the two status bytes SW1 SW2, got {0}")]
    ResponseTooShort(usize),
}

/// A command APDU (ISO/IEC 7816-4 §5.1), short form only: JPKI never needs more.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    /// Command data (Lc = its length); empty for cases 1 and 2.
    pub data: Vec<u8>,
    /// Expected response length, 1–256; `None` for cases 1 and 3.
    pub le: Option<usize>,
}

// VERIFY carries a PIN in its data: never print command data.
impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field(
                "header",
                &format_args!(
                    "{:02X} {:02X} {:02X} {:02X}",
                    self.cla, self.ins, self.p1, self.p2
                ),
            )
            .field("lc", &self.data.len())
            .field("le", &self.le)
            .finish()
    }
}

impl Command {
    /// A case 1 command (header only).
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Command {
        Command {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
        }
    }

    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> Command {
        self.data = data.into();
        self
    }

    pub fn with_le(mut self, le: usize) -> Command {
        self.le = Some(le);
        self
    }

    /// Parses a short command APDU, telling the four cases apart by length (ISO/IEC 7816-3 §12.1).
    pub fn parse(bytes: &[u8]) -> Result<Command, ApduError> {
        let [cla, ins, p1, p2, body @ ..] = bytes else {
            return Err(ApduError::TooShort(bytes.len()));
        };
        let mut command = Command::new(*cla, *ins, *p1, *p2);
        match body {
            [] => {}
            [le] => command.le = Some(decode_le(*le)),
            [0, _, ..] => return Err(ApduError::ExtendedLength),
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len() {
                    n if n == lc => command.data = rest.to_vec(),
                    n if n == lc + 1 => {
                        command.data = rest[..lc].to_vec();
                        command.le = Some(decode_le(rest[lc]));
                    }
                    n => return Err(ApduError::LengthMismatch { lc, body: n }),
                }
            }
        }
        Ok(command)
    }

    /// Encodes the command as a short APDU.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ApduError> {
        let mut out = Vec::with_capacity(6 + self.data.len());
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if !self.data.is_empty() {
            let lc = u8::try_from(self.data.len())
                .map_err(|_| ApduError::DataTooLong(self.data.len()))?;
            out.push(lc);
            out.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            out.push(encode_le(le)?);
        }
        Ok(out)
    }
}

fn decode_le(byte: u8) -> usize {
    // ISO/IEC 7816-4 §5.1: a short Le of 00 means 256.
    if byte == 0 {
        MAX_SHORT_LE
    } else {
        usize::from(byte)
    }
}

fn encode_le(le: usize) -> Result<u8, ApduError> {
    match le {
        MAX_SHORT_LE => Ok(0),
        1..=MAX_SHORT_DATA => Ok(le as u8),
        _ => Err(ApduError::LeOutOfRange(le)),
    }
}

/// The two status bytes SW1 SW2 ending every response.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    pub const OK: StatusWord = StatusWord(0x9000);
    /// Memory failure (ISO/IEC 7816-4 §5.6): the card could not store a change.
    pub const MEMORY_FAILURE: StatusWord = StatusWord(0x6581);
    pub const WRONG_LENGTH: StatusWord = StatusWord(0x6700);
    pub const INCOMPATIBLE_WITH_FILE: StatusWord = StatusWord(0x6981);
    pub const SECURITY_STATUS_NOT_SATISFIED: StatusWord = StatusWord(0x6982);
    /// Authentication method blocked; some readers report a blocked JPKI PIN with this.
    pub const AUTH_METHOD_BLOCKED: StatusWord = StatusWord(0x6983);
    /// Reference data not usable: how a JPKI card (JICSAP) reports a blocked PIN.
    pub const REFERENCE_DATA_BLOCKED: StatusWord = StatusWord(0x6984);
    pub const CONDITIONS_NOT_SATISFIED: StatusWord = StatusWord(0x6985);
    pub const NO_CURRENT_EF: StatusWord = StatusWord(0x6986);
    pub const WRONG_DATA: StatusWord = StatusWord(0x6A80);
    pub const FILE_NOT_FOUND: StatusWord = StatusWord(0x6A82);
    pub const INCORRECT_P1P2: StatusWord = StatusWord(0x6A86);
    pub const WRONG_P1P2: StatusWord = StatusWord(0x6B00);
    pub const INS_NOT_SUPPORTED: StatusWord = StatusWord(0x6D00);
    pub const CLA_NOT_SUPPORTED: StatusWord = StatusWord(0x6E00);

    /// `63Cx`: verification failed, `x` tries left (ISO/IEC 7816-4 §5.6).
    pub fn verification_failed(tries_left: u8) -> StatusWord {
        StatusWord(0x63C0 | u16::from(tries_left.min(0x0F)))
    }

    /// The tries left of a `63Cx` answer.
    pub fn tries_left(self) -> Option<u8> {
        (self.0 & 0xFFF0 == 0x63C0).then_some((self.0 & 0x000F) as u8)
    }

    /// Whether this says the PIN is blocked (`6984`, or `6983` from some readers).
    pub fn is_blocked(self) -> bool {
        self == StatusWord::REFERENCE_DATA_BLOCKED || self == StatusWord::AUTH_METHOD_BLOCKED
    }

    pub fn is_ok(self) -> bool {
        self == StatusWord::OK
    }

    pub fn sw1(self) -> u8 {
        (self.0 >> 8) as u8
    }

    pub fn sw2(self) -> u8 {
        self.0 as u8
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusWord({:04X})", self.0)
    }
}

/// A response APDU: data followed by SW1 SW2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw: StatusWord,
}

impl Response {
    pub fn ok(data: Vec<u8>) -> Response {
        Response {
            data,
            sw: StatusWord::OK,
        }
    }

    pub fn status(sw: StatusWord) -> Response {
        Response {
            data: Vec::new(),
            sw,
        }
    }

    pub fn parse(bytes: &[u8]) -> Result<Response, ApduError> {
        let [data @ .., sw1, sw2] = bytes else {
            return Err(ApduError::ResponseTooShort(bytes.len()));
        };
        Ok(Response {
            data: data.to_vec(),
            sw: StatusWord(u16::from_be_bytes([*sw1, *sw2])),
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.0.to_be_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_of_the_four_cases_parses_and_encodes_back_to_the_same_bytes() {
        let cases: [&[u8]; 5] = [
            &[0x00, 0x20, 0x00, 0x80],
            &[0x00, 0xB0, 0x00, 0x00, 0x04],
            &[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A],
            &[0x80, 0x2A, 0x00, 0x80, 0x02, 0xAA, 0xBB, 0x00],
            &[0x00, 0xB0, 0x01, 0x00, 0xFF],
        ];
        for bytes in cases {
            let command = Command::parse(bytes).expect("valid short APDU");
            assert_eq!(command.to_bytes().expect("encodable"), bytes);
        }
    }

    #[test]
    fn le_byte_zero_means_256() {
        let command = Command::parse(&[0x00, 0xB0, 0x00, 0x00, 0x00]).expect("case 2");
        assert_eq!(command.le, Some(256));
        let sign = Command::parse(&[0x80, 0x2A, 0x00, 0x80, 0x01, 0x55, 0x00]).expect("case 4");
        assert_eq!((sign.data.as_slice(), sign.le), (&[0x55][..], Some(256)));
    }

    #[test]
    fn malformed_lengths_are_refused() {
        assert_eq!(
            Command::parse(&[0x00, 0xA4, 0x04]),
            Err(ApduError::TooShort(3))
        );
        assert_eq!(
            Command::parse(&[0x00, 0xA4, 0x02, 0x0C, 0x03, 0x00, 0x0A]),
            Err(ApduError::LengthMismatch { lc: 3, body: 2 })
        );
        assert_eq!(
            Command::parse(&[0x00, 0xA4, 0x02, 0x0C, 0x01, 0x00, 0x0A, 0x00]),
            Err(ApduError::LengthMismatch { lc: 1, body: 3 })
        );
        assert_eq!(
            Command::parse(&[0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00]),
            Err(ApduError::ExtendedLength)
        );
        let too_long = Command::new(0, 0xD6, 0, 0).with_data(vec![0; 256]);
        assert_eq!(too_long.to_bytes(), Err(ApduError::DataTooLong(256)));
        let le = Command::new(0, 0xB0, 0, 0).with_le(257);
        assert_eq!(le.to_bytes(), Err(ApduError::LeOutOfRange(257)));
    }

    #[test]
    fn verification_failed_words_carry_the_tries_left() {
        assert_eq!(StatusWord::verification_failed(2), StatusWord(0x63C2));
        assert_eq!(StatusWord(0x63C2).tries_left(), Some(2));
        assert_eq!(StatusWord::OK.tries_left(), None);
        assert!(StatusWord(0x6983).is_blocked() && StatusWord(0x6984).is_blocked());
        assert_eq!(StatusWord(0x6A82).to_string(), "6A82");
    }

    #[test]
    fn responses_split_data_from_the_status_word() {
        let response = Response::parse(&[0x01, 0x02, 0x90, 0x00]).expect("response");
        assert_eq!(response, Response::ok(vec![1, 2]));
        assert_eq!(response.to_bytes(), vec![1, 2, 0x90, 0x00]);
        assert_eq!(
            Response::parse(&[0x90]),
            Err(ApduError::ResponseTooShort(1))
        );
    }

    #[test]
    fn debug_output_never_shows_command_data() {
        let verify = Command::new(0, 0x20, 0, 0x80).with_data(b"1234".to_vec());
        let shown = format!("{verify:?}");
        assert!(
            !shown.contains("1234") && !shown.contains("49, 50"),
            "{shown}"
        );
    }
}
