//! The canonical bytes a card signs for a challenge (docs/card-login.md §3).

use super::protocol::ChallengePurpose;

/// Version string of the card login protocol.
pub const PROTOCOL_VERSION: &str = "mykey-clp/1";

/// Builds the message of spec §3: UTF-8, one `key=value` per line, each ending in `\n`.
///
/// Both the helper (from the fetched challenge) and the provider (from its own issuer and the
/// stored challenge) call this, so a signature only verifies when every field agrees.
pub fn signed_message(
    issuer: &str,
    challenge_id: &str,
    nonce: &str,
    purpose: ChallengePurpose,
    expires_at: i64,
) -> Vec<u8> {
    format!(
        "{PROTOCOL_VERSION}\nissuer={issuer}\nchallenge_id={challenge_id}\nnonce={nonce}\npurpose={}\nexpires_at={expires_at}\n",
        purpose.as_str()
    )
    .into_bytes()
}

/// DER `DigestInfo` prefix for SHA-256 (RFC 8017 §9.2 note 1); the card pads, so the helper
/// sends this prefix followed by the 32-byte hash.
pub const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// DER DigestInfo of SHA-256(message): what COMPUTE DIGITAL SIGNATURE receives.
pub fn sha256_digest_info(message: &[u8]) -> Vec<u8> {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
    let mut out = Vec::with_capacity(SHA256_DIGEST_INFO_PREFIX.len() + 32);
    out.extend_from_slice(&SHA256_DIGEST_INFO_PREFIX);
    out.extend_from_slice(digest.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_has_every_field_on_its_own_line_in_spec_order() {
        let m = signed_message(
            "https://id.example.jp",
            "abc",
            "n0nce",
            ChallengePurpose::Login,
            1764070000,
        );
        assert_eq!(
            String::from_utf8(m).expect("utf-8"),
            "mykey-clp/1\nissuer=https://id.example.jp\nchallenge_id=abc\nnonce=n0nce\npurpose=login\nexpires_at=1764070000\n"
        );
    }

    #[test]
    fn digest_info_is_51_bytes_with_the_sha256_prefix() {
        let di = sha256_digest_info(b"x");
        assert_eq!(di.len(), 51);
        assert_eq!(&di[..19], &SHA256_DIGEST_INFO_PREFIX);
    }
}
