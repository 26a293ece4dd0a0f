//! The scenarios S1–S7: what one request (or one flow) of each is, and what answer is expected.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use anyhow::{anyhow, bail};
use hyper::header;

use crate::flows::{log_in, Site};
use crate::http::{Conn, Jar};
use crate::oidc::{self, DISCOVERY_PATH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Discovery,
    Jwks,
    Introspection,
    Userinfo,
    SsoCodeFlow,
    /// S5 with a client whose `id_token_signed_response_alg` is ES256.
    SsoCodeFlowEs256,
    FullLogin,
    Refresh,
}

impl Scenario {
    pub const ALL: [Scenario; 8] = [
        Scenario::Discovery,
        Scenario::Jwks,
        Scenario::Introspection,
        Scenario::Userinfo,
        Scenario::SsoCodeFlow,
        Scenario::SsoCodeFlowEs256,
        Scenario::FullLogin,
        Scenario::Refresh,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Scenario::Discovery => "S1",
            Scenario::Jwks => "S2",
            Scenario::Introspection => "S3",
            Scenario::Userinfo => "S4",
            Scenario::SsoCodeFlow => "S5",
            Scenario::SsoCodeFlowEs256 => "S5E",
            Scenario::FullLogin => "S6",
            Scenario::Refresh => "S7",
        }
    }

    pub fn parse(text: &str) -> Option<Scenario> {
        Self::ALL
            .into_iter()
            .find(|s| s.id().eq_ignore_ascii_case(text.trim()))
    }

    pub fn title(self) -> &'static str {
        match self {
            Scenario::Discovery => "discovery",
            Scenario::Jwks => "JWKS",
            Scenario::Introspection => "introspection",
            Scenario::Userinfo => "userinfo",
            Scenario::SsoCodeFlow => "SSO code flow (authorize with session → code → token, PKCE)",
            Scenario::SsoCodeFlowEs256 => "SSO code flow as S5, the client with ES256 ID tokens",
            Scenario::FullLogin => "full login incl. card signature (dev login + consent on node)",
            Scenario::Refresh => "refresh",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Scenario::SsoCodeFlow | Scenario::SsoCodeFlowEs256 => "flows/s",
            Scenario::FullLogin => "logins/s",
            _ => "req/s",
        }
    }

    /// Whether the scenario needs a logged-in session and tokens first.
    pub fn needs_tokens(self) -> bool {
        matches!(
            self,
            Scenario::Introspection
                | Scenario::Userinfo
                | Scenario::SsoCodeFlow
                | Scenario::SsoCodeFlowEs256
                | Scenario::Refresh
        )
    }
}

/// What every worker of a run shares.
pub struct Shared {
    pub addr: SocketAddr,
    pub site: Arc<Site>,
    /// The `Cookie` header of the browser that logged in once (S5).
    pub session_cookie: String,
    /// Extra authorization parameters of S6 (`prompt=consent` on mykey-connect, so that both
    /// servers show consent on every fresh login, as node's devInteractions do).
    pub fresh_login_extra: Vec<(&'static str, &'static str)>,
    next_source: AtomicU32,
}

impl Shared {
    pub fn new(
        addr: SocketAddr,
        site: Arc<Site>,
        session_cookie: String,
        extra: Vec<(&'static str, &'static str)>,
    ) -> Shared {
        Shared {
            addr,
            site,
            session_cookie,
            fresh_login_extra: extra,
            next_source: AtomicU32::new(0),
        }
    }

    /// A loopback source address per simulated resident (127.1.0.1 upwards): each login comes
    /// from its own address, as residents' browsers do, so per-address limits (card-login spec
    /// §7) apply per resident and not to the whole benchmark.
    pub fn resident_address(&self) -> IpAddr {
        loop {
            if let Some(ip) = resident_ip(self.next_source.fetch_add(1, Ordering::Relaxed)) {
                return IpAddr::V4(ip);
            }
        }
    }
}

/// The `n`th address of 127.1.0.0–127.254.255.255, skipping host parts ending in 0 or 255.
pub fn resident_ip(n: u32) -> Option<Ipv4Addr> {
    let host = 0x01_0000 + (n % 0xFE_0000);
    let last = host & 0xFF;
    (last != 0 && last != 255).then(|| Ipv4Addr::from(0x7F00_0000 | host))
}

/// One connection and the token it uses (access token for S3/S4, refresh token for S7).
pub struct Worker {
    pub conn: Conn,
    /// A connection to a second node of the same deployment (two nodes behind one address):
    /// the SSO flows alternate between the two per request, as a round-robin balancer does.
    pub alt: Option<Conn>,
    pub token: String,
}

impl Worker {
    /// One request or flow of `scenario`; an unexpected answer is an error.
    pub async fn step(&mut self, s: &Shared, scenario: Scenario) -> anyhow::Result<()> {
        let e = &s.site.endpoints;
        let c = &s.site.client;
        match scenario {
            Scenario::Discovery | Scenario::Jwks => {
                let path = if scenario == Scenario::Discovery {
                    DISCOVERY_PATH
                } else {
                    e.jwks.as_str()
                };
                let r = self.conn.get(path, &[]).await?;
                if r.status != 200 || r.body.is_empty() {
                    bail!("{path} answered {}", r.status);
                }
            }
            Scenario::Introspection => {
                let r = oidc::introspect(&mut self.conn, e, c, &self.token).await?;
                if r.status != 200 || !r.text().contains("\"active\":true") {
                    bail!("introspection answered {}: {}", r.status, r.excerpt());
                }
            }
            Scenario::Userinfo => {
                let bearer = format!("Bearer {}", self.token);
                let r = self
                    .conn
                    .get(&e.userinfo, &[(header::AUTHORIZATION, bearer.as_str())])
                    .await?;
                if r.status != 200 || !r.text().contains("\"sub\"") {
                    bail!("userinfo answered {}: {}", r.status, r.excerpt());
                }
            }
            Scenario::SsoCodeFlow | Scenario::SsoCodeFlowEs256 => {
                let c = match scenario {
                    Scenario::SsoCodeFlowEs256 => s
                        .site
                        .es256_client
                        .as_ref()
                        .ok_or_else(|| anyhow!("S5E needs --es256-client-file"))?,
                    _ => c,
                };
                let pending = oidc::authorization_request(e, c, &[]);
                let r = self
                    .conn
                    .get(
                        &pending.path,
                        &[(header::COOKIE, s.session_cookie.as_str())],
                    )
                    .await?;
                let code = oidc::code_from_redirect(&r, c, &pending.state)?;
                // With two nodes: the code from one is redeemed at the other, and the next
                // flow starts where this one ended.
                if let Some(alt) = self.alt.as_mut() {
                    std::mem::swap(&mut self.conn, alt);
                }
                oidc::redeem(&mut self.conn, e, c, &code, &pending.verifier).await?;
            }
            Scenario::FullLogin => {
                // A new resident: own address, own connection, no cookies.
                let mut conn = Conn::new(s.addr, Some(s.resident_address()));
                log_in(&mut conn, &s.site, Jar::default(), &s.fresh_login_extra).await?;
            }
            Scenario::Refresh => {
                let tokens = oidc::refresh(&mut self.conn, e, c, &self.token).await?;
                // Rotation (RFC 9700 §4.14.2) hands out a new one; otherwise keep using ours.
                if let Some(next) = tokens.refresh_token {
                    self.token = next;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_are_named_s1_to_s7_and_s5e_in_either_case() {
        assert_eq!(Scenario::parse("s5"), Some(Scenario::SsoCodeFlow));
        assert_eq!(Scenario::parse("s5e"), Some(Scenario::SsoCodeFlowEs256));
        assert_eq!(Scenario::parse("S7"), Some(Scenario::Refresh));
        assert_eq!(Scenario::parse("S8"), None);
        let ids: Vec<&str> = Scenario::ALL.iter().map(|s| s.id()).collect();
        assert_eq!(ids, ["S1", "S2", "S3", "S4", "S5", "S5E", "S6", "S7"]);
    }

    #[test]
    fn residents_get_distinct_loopback_addresses_without_network_or_broadcast_parts() {
        assert_eq!(resident_ip(0), None);
        assert_eq!(resident_ip(1), Some(Ipv4Addr::new(127, 1, 0, 1)));
        assert_eq!(resident_ip(255), None);
        assert_eq!(resident_ip(256 + 7), Some(Ipv4Addr::new(127, 1, 1, 7)));
        assert!((0..100_000)
            .filter_map(resident_ip)
            .all(|ip| ip.is_loopback()));
    }
}
