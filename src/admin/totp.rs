//! Time-based one-time passwords (RFC 6238 over RFC 4226): SHA-1, 6 digits, 30-second steps,
//! one step of drift either way, and an otpauth URI as a QR code for authenticator apps.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// RFC 6238 §4.1: X = 30 seconds.
pub const STEP: i64 = 30;
const DIGITS: u32 = 6;
/// RFC 4226 §4 R6: at least 128 bits, 160 recommended.
pub const KEY_LEN: usize = 20;

/// The time step of `unix` seconds (RFC 6238 §4.2, T0 = 0).
pub fn step_of(unix: i64) -> i64 {
    unix.div_euclid(STEP)
}

/// The code of one step: HOTP (RFC 4226 §5.3) with the step as the counter.
pub fn code(key: &[u8], step: i64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let mac = hmac::sign(&key, &step.to_be_bytes());
    let mac = mac.as_ref();
    // Dynamic truncation: the low nibble of the last byte picks four bytes.
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    format!(
        "{:0width$}",
        binary % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

/// The step whose code `given` is, within one step of `now` (RFC 6238 §5.2 allows for drift).
/// The caller must still refuse a step already used.
pub fn matching_step(key: &[u8], given: &str, now: i64) -> Option<i64> {
    let given = given.trim().replace(' ', "");
    if given.len() != DIGITS as usize || !given.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_of(now);
    [current - 1, current, current + 1].into_iter().find(|s| {
        crate::domain::secret::constant_time_eq(code(key, *s).as_bytes(), given.as_bytes())
    })
}

/// RFC 4648 §6 base32 without padding, as authenticator apps expect the key.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The Key URI Format authenticator apps read from a QR code.
pub fn otpauth_uri(issuer: &str, account: &str, key: &[u8]) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        enc(issuer),
        enc(account),
        base32(key),
        enc(issuer)
    )
}

/// An SVG QR code of `text` as a data URI (the page CSP allows `data:` images, no scripts).
pub fn qr_data_uri(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        STANDARD.encode(svg)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_KEY: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_sha1_test_vectors_of_rfc_6238_appendix_b() {
        // The appendix lists 8 digits; 6-digit codes are their last six.
        for (time, expected) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code(RFC_KEY, step_of(time)), expected, "T={time}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_early_or_late_but_not_two() {
        let now = 1_111_111_109;
        let step = step_of(now);
        assert_eq!(
            matching_step(RFC_KEY, &code(RFC_KEY, step - 1), now),
            Some(step - 1)
        );
        assert_eq!(
            matching_step(RFC_KEY, &code(RFC_KEY, step + 1), now),
            Some(step + 1)
        );
        assert_eq!(matching_step(RFC_KEY, &code(RFC_KEY, step - 2), now), None);
        assert_eq!(matching_step(RFC_KEY, "12345", now), None);
        assert_eq!(matching_step(RFC_KEY, "abcdef", now), None);
    }

    #[test]
    fn base32_follows_rfc_4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(RFC_KEY), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn the_otpauth_uri_names_issuer_account_and_parameters() {
        let uri = otpauth_uri("mykey connect", "ops", RFC_KEY);
        assert_eq!(
            uri,
            "otpauth://totp/mykey%20connect:ops?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=mykey%20connect&algorithm=SHA1&digits=6&period=30"
        );
        assert!(qr_data_uri(&uri).is_some_and(|d| d.starts_with("data:image/svg+xml;base64,")));
    }
}
