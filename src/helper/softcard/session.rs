//! The card session: the current application and EF and which secrets are verified, with
//! the rules a My Number Card follows for forgetting them (docs/softcard-fidelity.md).

use crate::card::jpki::{Purpose, JPKI_AID};
use crate::helper::apdu::StatusWord;

/// AIDs of the My Number Card's other applications, as public readers select them (jpki/myna:
/// 券面事項確認AP and 券面事項入力補助AP). The software card holds none of their files, but
/// selecting one succeeds as on a real card, and so leaves the JPKI application.
const OTHER_APPLICATIONS: [[u8; 10]; 2] = [
    [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02],
    [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08],
];

/// The application a SELECT by DF name made current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Application {
    Jpki,
    /// Another application of the card, whose files the software card does not hold.
    Other,
}

impl Application {
    /// The application with this AID (exact match), `None` when the card has none.
    pub fn by_aid(aid: &[u8]) -> Option<Application> {
        if aid == JPKI_AID {
            Some(Application::Jpki)
        } else if OTHER_APPLICATIONS.iter().any(|other| other == aid) {
            Some(Application::Other)
        } else {
            None
        }
    }
}

/// What a power cycle or reset forgets. After the answer to reset the MF is implicitly
/// selected (ISO/IEC 7816-4, SELECT), nothing is verified, and no EF is current.
#[derive(Debug, Clone, Default)]
pub struct Session {
    application: Option<Application>,
    current_ef: Option<u16>,
    auth_verified: bool,
    sign_verified: bool,
}

impl Session {
    /// A successful SELECT of an application, the JPKI one again included: the security state
    /// goes with the old selection. OpenSC's JPKI driver logs out by selecting the AP again;
    /// no public trace shows a real card keeping it, and the stricter rule makes a client that
    /// would need a second VERIFY on a real card fail here too.
    pub fn enter(&mut self, application: Application) {
        *self = Session {
            application: Some(application),
            ..Session::default()
        };
    }

    pub fn application(&self) -> Option<Application> {
        self.application
    }

    pub fn current_ef(&self) -> Option<u16> {
        self.current_ef
    }

    /// Selecting an EF of the current application keeps what was verified: the JPKI flow
    /// verifies at the PIN EF and signs at the key EF.
    pub fn select_ef(&mut self, fid: u16) {
        self.current_ef = Some(fid);
    }

    pub fn is_verified(&self, purpose: Purpose) -> bool {
        match purpose {
            Purpose::Auth => self.auth_verified,
            Purpose::Sign => self.sign_verified,
        }
    }

    /// The outcome of a VERIFY with data: a wrong secret also withdraws an earlier success.
    pub fn record_verify(&mut self, purpose: Purpose, matched: bool) {
        match purpose {
            Purpose::Auth => self.auth_verified = matched,
            Purpose::Sign => self.sign_verified = matched,
        }
    }
}

/// The answer to VERIFY without data (`00 20 00 80`, no Lc, no Le) on a secret that is not
/// blocked: always the tries left, `63Cx`, whether or not the secret is verified. A My Number
/// Card answers so even right after a correct VERIFY (OpenSC pull request 959), and OpenSC's
/// JPKI driver refuses the card when this answer does not start with 63. ISO/IEC 7816-4 would
/// allow `9000` for "verified"; a My Number Card does not use it.
pub fn status_answer(tries_left: u8) -> StatusWord {
    StatusWord::verification_failed(tries_left)
}
