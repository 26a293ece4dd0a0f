//! PKCE (RFC 7636): only S256, verifier and challenge syntax checked.

use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::domain::secret::constant_time_eq;

/// A stored code challenge: base64url(SHA-256(verifier)), 43 characters (RFC 7636 §4.2).
pub fn parse_challenge(challenge: &str, method: Option<&str>) -> Result<String, &'static str> {
    match method {
        Some("S256") => {}
        Some("plain") => return Err("code_challenge_method plain is not allowed; use S256"),
        Some(_) => return Err("unsupported code_challenge_method; use S256"),
        None => return Err("code_challenge_method is required and must be S256"),
    }
    let ok = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err("code_challenge must be the 43-character base64url SHA-256 of the verifier");
    }
    Ok(challenge.to_owned())
}

/// RFC 7636 §4.1 verifier syntax and §4.6 comparison.
pub fn verify(challenge: &str, verifier: &str) -> bool {
    let syntax = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !syntax {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_appendix_b_example_verifies() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(parse_challenge(challenge, Some("S256")).is_ok());
        assert!(verify(challenge, verifier));
        assert!(!verify(
            challenge,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx"
        ));
    }

    #[test]
    fn plain_and_missing_methods_are_refused() {
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(parse_challenge(c, Some("plain")).is_err());
        assert!(parse_challenge(c, None).is_err());
        assert!(parse_challenge("short", Some("S256")).is_err());
    }
}
