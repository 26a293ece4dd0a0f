//! Which challenge to answer, and the checks of spec §2 before anyone is asked for a PIN.

use std::net::IpAddr;

use url::{Host, Url};

use super::LoginError;
use crate::card::message::PROTOCOL_VERSION;
use crate::card::protocol::{ChallengeDocument, ChallengePurpose};

/// Scheme of the link a login page offers (spec §1).
pub const LINK_SCHEME: &str = "mykey";

/// The challenge URL named by a command-line argument: the URL itself or a
/// `mykey://login?challenge=<percent-encoded URL>` link.
pub fn challenge_url(target: &str) -> Result<Url, LoginError> {
    let bad = || LoginError::BadTarget(target.to_owned());
    let url = Url::parse(target.trim()).map_err(|_| bad())?;
    let url = if url.scheme() == LINK_SCHEME {
        if url.host_str() != Some("login") {
            return Err(bad());
        }
        let inner = url
            .query_pairs()
            .find(|(key, _)| key == "challenge")
            .map(|(_, value)| value.into_owned())
            .ok_or_else(bad)?;
        Url::parse(&inner).map_err(|_| bad())?
    } else {
        url
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(LoginError::InsecureUrl(url.to_string())),
        _ => Err(bad()),
    }
}

/// Whether the URL's host is this machine: an address in 127.0.0.0/8, `::1`, or `localhost`
/// (RFC 6761 §6.3), where plain http cannot be intercepted on the network.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A challenge that passed every check of spec §2: what the helper shows and signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedChallenge {
    pub document: ChallengeDocument,
    /// The origin of the provider, as shown to the person (`https://id.example.jp`).
    pub issuer_origin: String,
    pub response_uri: Url,
}

impl CheckedChallenge {
    pub fn purpose(&self) -> ChallengePurpose {
        self.document.purpose
    }
}

/// Spec §2: right version, `issuer` and `response_uri` on the origin that was fetched, not
/// expired at `now` (Unix seconds).
pub fn check(
    fetched: &Url,
    document: ChallengeDocument,
    now: i64,
) -> Result<CheckedChallenge, LoginError> {
    if document.version != PROTOCOL_VERSION {
        return Err(LoginError::UnsupportedVersion(document.version));
    }
    let origin = fetched.origin();
    let issuer = Url::parse(&document.issuer)
        .ok()
        .filter(|issuer| issuer.origin() == origin)
        .ok_or_else(|| LoginError::ForeignIssuer {
            issuer: document.issuer.clone(),
            fetched: origin.ascii_serialization(),
        })?;
    let response_uri = Url::parse(&document.response_uri)
        .ok()
        .filter(|uri| uri.origin() == origin)
        .ok_or_else(|| LoginError::ForeignResponseUri {
            response_uri: document.response_uri.clone(),
            fetched: origin.ascii_serialization(),
        })?;
    if document.expires_at <= now {
        return Err(LoginError::Expired {
            expires_at: document.expires_at,
            now,
        });
    }
    Ok(CheckedChallenge {
        issuer_origin: issuer.origin().unicode_serialization(),
        response_uri,
        document,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> ChallengeDocument {
        ChallengeDocument {
            version: "mykey-clp/1".to_owned(),
            challenge_id: "c1".to_owned(),
            issuer: "https://id.example.jp".to_owned(),
            nonce: "n".to_owned(),
            purpose: ChallengePurpose::Login,
            client_name: "Example City Library".to_owned(),
            match_code: "4821".to_owned(),
            expires_at: 1_000,
            response_uri: "https://id.example.jp/card/challenges/c1/response".to_owned(),
        }
    }

    fn fetched() -> Url {
        Url::parse("https://id.example.jp/card/challenges/c1").expect("url")
    }

    #[test]
    fn a_mykey_link_carries_the_percent_encoded_challenge_url() {
        let link = "mykey://login?challenge=https%3A%2F%2Fid.example.jp%2Fcard%2Fchallenges%2Fc1";
        assert_eq!(challenge_url(link).expect("link"), fetched());
        assert_eq!(challenge_url(fetched().as_str()).expect("url"), fetched());
        assert!(matches!(
            challenge_url("mykey://other?challenge=x"),
            Err(LoginError::BadTarget(_))
        ));
        assert!(matches!(
            challenge_url("ftp://id.example.jp/"),
            Err(LoginError::BadTarget(_))
        ));
    }

    #[test]
    fn plain_http_is_refused_unless_the_host_is_this_machine() {
        for ok in [
            "http://127.0.0.1:8080/c",
            "http://[::1]/c",
            "http://localhost:3000/c",
        ] {
            assert!(challenge_url(ok).is_ok(), "{ok}");
        }
        for refused in ["http://id.example.jp/c", "http://192.168.1.10/c"] {
            assert!(
                matches!(challenge_url(refused), Err(LoginError::InsecureUrl(_))),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_challenge_on_the_fetched_origin_and_not_expired_passes() {
        let checked = check(&fetched(), document(), 999).expect("valid challenge");
        assert_eq!(checked.issuer_origin, "https://id.example.jp");
    }

    #[test]
    fn a_challenge_naming_another_origin_or_expired_is_refused() {
        let mut foreign = document();
        foreign.issuer = "https://id.example.jp.evil.test".to_owned();
        assert!(matches!(
            check(&fetched(), foreign, 0),
            Err(LoginError::ForeignIssuer { .. })
        ));
        let mut port = document();
        port.response_uri = "https://id.example.jp:8443/card/challenges/c1/response".to_owned();
        assert!(matches!(
            check(&fetched(), port, 0),
            Err(LoginError::ForeignResponseUri { .. })
        ));
        assert!(matches!(
            check(&fetched(), document(), 1_000),
            Err(LoginError::Expired { .. })
        ));
        let mut version = document();
        version.version = "mykey-clp/2".to_owned();
        assert!(matches!(
            check(&fetched(), version, 0),
            Err(LoginError::UnsupportedVersion(_))
        ));
    }
}
