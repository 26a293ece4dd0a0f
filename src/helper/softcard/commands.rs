//! The four JPKI commands of the software card: SELECT, READ BINARY, VERIFY, COMPUTE SIGNATURE.

use rsa::Pkcs1v15Sign;

use super::files::{kind_of, FileKind};
use super::session::{status_answer, Application};
use super::{max_tries, SoftCard};
use crate::helper::apdu::{Command, Response, StatusWord, MAX_SHORT_LE};

/// SELECT by DF name (ISO/IEC 7816-4 §11.2.2, P1=04).
const SELECT_BY_NAME: u8 = 0x04;
/// SELECT an EF under the current DF by its identifier (P1=02).
const SELECT_EF_UNDER_DF: u8 = 0x02;
/// P2: first occurrence, no response data. JPKI readers always use it.
const SELECT_NO_RESPONSE: u8 = 0x0C;
/// P2 of VERIFY and COMPUTE DIGITAL SIGNATURE: the reference is specific to the selected DF.
const SPECIFIC_REFERENCE: u8 = 0x80;
/// Longest JPKI secret: the signature password has 6–16 characters.
const MAX_SECRET_LEN: usize = 16;

fn status(sw: StatusWord) -> Response {
    Response::status(sw)
}

impl SoftCard {
    pub(super) fn select(&mut self, command: &Command) -> Response {
        if command.p2 != SELECT_NO_RESPONSE {
            return status(StatusWord::INCORRECT_P1P2);
        }
        match command.p1 {
            SELECT_BY_NAME => {
                if command.data.is_empty() {
                    return status(StatusWord::WRONG_LENGTH);
                }
                // A failed SELECT leaves the current selection as it was (ISO/IEC 7816-4 §7.1.1).
                let Some(application) = Application::by_aid(&command.data) else {
                    return status(StatusWord::FILE_NOT_FOUND);
                };
                self.session.enter(application);
                Response::ok(Vec::new())
            }
            SELECT_EF_UNDER_DF => {
                let [hi, lo] = command.data[..] else {
                    return status(StatusWord::WRONG_LENGTH);
                };
                let fid = u16::from_be_bytes([hi, lo]);
                // The EFs live in the JPKI application: from the MF or another application
                // they do not exist.
                if self.session.application() != Some(Application::Jpki) || kind_of(fid).is_none() {
                    return status(StatusWord::FILE_NOT_FOUND);
                }
                self.session.select_ef(fid);
                Response::ok(Vec::new())
            }
            _ => status(StatusWord::INCORRECT_P1P2),
        }
    }

    pub(super) fn read_binary(&mut self, command: &Command) -> Response {
        let Some(le) = command.le.filter(|_| command.data.is_empty()) else {
            return status(StatusWord::WRONG_LENGTH);
        };
        // P1 bit 8 set would address an EF by short identifier (ISO/IEC 7816-4 §11.3.3): unsupported.
        if command.p1 & 0x80 != 0 {
            return status(StatusWord::INCORRECT_P1P2);
        }
        let Some(fid) = self.session.current_ef() else {
            return status(StatusWord::NO_CURRENT_EF);
        };
        match kind_of(fid) {
            Some(FileKind::Binary { guard }) => {
                if guard.is_some_and(|purpose| !self.session.is_verified(purpose)) {
                    return status(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
                }
                let content = self.files.content(fid).unwrap_or_default();
                let offset = usize::from(u16::from_be_bytes([command.p1, command.p2]));
                if offset >= content.len() {
                    return status(StatusWord::WRONG_P1P2);
                }
                let end = content.len().min(offset + le);
                Response::ok(content[offset..end].to_vec())
            }
            _ => status(StatusWord::INCOMPATIBLE_WITH_FILE),
        }
    }

    pub(super) fn verify(&mut self, command: &Command) -> Response {
        if command.p1 != 0x00 || command.p2 != SPECIFIC_REFERENCE {
            return status(StatusWord::INCORRECT_P1P2);
        }
        if command.le.is_some() || command.data.len() > MAX_SECRET_LEN {
            return status(StatusWord::WRONG_LENGTH);
        }
        let Some(fid) = self.session.current_ef() else {
            return status(StatusWord::NO_CURRENT_EF);
        };
        let Some(FileKind::Secret(purpose)) = kind_of(fid) else {
            return status(StatusWord::INCOMPATIBLE_WITH_FILE);
        };
        let tries_left = self.slot_mut(purpose).tries_left;
        if tries_left == 0 {
            return status(StatusWord::REFERENCE_DATA_BLOCKED);
        }
        // VERIFY without data asks for the state, never costs a try (ISO/IEC 7816-4 §11.5.6)
        // and changes nothing.
        if command.data.is_empty() {
            return status(status_answer(tries_left));
        }
        let matches = constant_time_eq(&command.data, self.slot_mut(purpose).secret.as_bytes());
        let (tries_after, answer) = if matches {
            (max_tries(purpose), StatusWord::OK)
        } else {
            let left = tries_left - 1;
            (left, StatusWord::verification_failed(left))
        };
        self.session.record_verify(purpose, matches);
        if tries_after != tries_left {
            self.slot_mut(purpose).tries_left = tries_after;
            // The counter must be on disk before the host learns the result, or pulling the
            // card after a wrong answer would give a free try.
            if !self.persist() {
                return status(StatusWord::MEMORY_FAILURE);
            }
        }
        status(answer)
    }

    pub(super) fn compute_signature(&mut self, command: &Command) -> Response {
        if command.p1 != 0x00 || command.p2 != SPECIFIC_REFERENCE {
            return status(StatusWord::INCORRECT_P1P2);
        }
        if command.data.is_empty() || command.le != Some(MAX_SHORT_LE) {
            return status(StatusWord::WRONG_LENGTH);
        }
        let Some(fid) = self.session.current_ef() else {
            return status(StatusWord::NO_CURRENT_EF);
        };
        let Some(FileKind::Key(purpose)) = kind_of(fid) else {
            return status(StatusWord::INCOMPATIBLE_WITH_FILE);
        };
        if !self.session.is_verified(purpose) {
            return status(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
        }
        // The card pads exactly what it is given with PKCS#1 v1.5 type 1 (RFC 8017 §9.2 step 5)
        // and applies the private key: the host is responsible for the DigestInfo.
        match self
            .key(purpose)
            .sign(Pkcs1v15Sign::new_unprefixed(), &command.data)
        {
            Ok(signature) => Response::ok(signature),
            // Only "message too long for the key" can fail here.
            Err(_) => status(StatusWord::WRONG_LENGTH),
        }
    }
}

fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = given.len() ^ expected.len();
    for (i, byte) in expected.iter().enumerate() {
        difference |= usize::from(byte ^ given.get(i).copied().unwrap_or(!byte));
    }
    difference == 0
}
