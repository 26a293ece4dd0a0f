//! The JWS algorithms this crate knows (RFC 7518 §3.1 names).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::JoseError;

/// A JWS `alg`. The provider signs with RS256 (the OIDC default) or ES256; client assertions
/// may also use PS256. `none` and the HMAC algorithms are deliberately absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3).
    RS256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 7518 §3.5).
    PS256,
    /// ECDSA on P-256 with SHA-256, signature as the 64-byte `r ‖ s` (RFC 7518 §3.4).
    ES256,
}

impl Alg {
    /// The registered name, as written in a JOSE header or a JWK `alg`.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::PS256 => "PS256",
            Alg::ES256 => "ES256",
        }
    }

    /// Whether a key of this algorithm is an RSA key (otherwise an EC P-256 key).
    pub fn is_rsa(self) -> bool {
        matches!(self, Alg::RS256 | Alg::PS256)
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Alg {
    type Err = JoseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "RS256" => Ok(Alg::RS256),
            "PS256" => Ok(Alg::PS256),
            "ES256" => Ok(Alg::ES256),
            // RFC 7518 §3.6: an unsecured JWS is never acceptable here, whatever its case.
            other if other.eq_ignore_ascii_case("none") => Err(JoseError::AlgNone),
            other => Err(JoseError::UnsupportedAlg(printable(other))),
        }
    }
}

/// A short, printable copy of an attacker-supplied string for an error message.
pub(crate) fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text() {
        for alg in [Alg::RS256, Alg::PS256, Alg::ES256] {
            assert_eq!(alg.as_str().parse::<Alg>().expect("known name"), alg);
        }
    }

    #[test]
    fn none_in_any_case_is_refused_as_alg_none() {
        for name in ["none", "None", "NONE"] {
            assert!(matches!(name.parse::<Alg>(), Err(JoseError::AlgNone)));
        }
    }

    #[test]
    fn hmac_is_not_supported() {
        let err = "HS256".parse::<Alg>().expect_err("HS256 is refused");
        assert!(matches!(err, JoseError::UnsupportedAlg(ref name) if name == "HS256"));
    }
}
