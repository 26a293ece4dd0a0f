//! Addresses and CIDR blocks (`trusted_proxies`).

/// An address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl Network {
    pub fn contains(&self, addr: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        // An IPv4 client may arrive as an IPv4-mapped IPv6 address on a dual-stack socket.
        let addr = match addr {
            V6(v6) => v6.to_ipv4_mapped().map(V4).unwrap_or(addr),
            v4 => v4,
        };
        match (self.addr, addr) {
            (V4(net), V4(a)) => prefix_eq(&net.octets(), &a.octets(), self.prefix),
            (V6(net), V6(a)) => prefix_eq(&net.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(net: &[u8], addr: &[u8], prefix: u8) -> bool {
    let (whole, rest) = (usize::from(prefix / 8), prefix % 8);
    if net[..whole] != addr[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        net[whole] & mask == addr[whole] & mask
    }
}

/// Why text is not a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    #[error("{0:?} is not an IP address or CIDR block")]
    NotAnAddress(String),
    #[error("{0:?} has no valid prefix length (0–{1})")]
    BadPrefix(String, u8),
}

impl std::str::FromStr for Network {
    type Err = NetworkError;

    fn from_str(text: &str) -> Result<Network, NetworkError> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: std::net::IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| NetworkError::NotAnAddress(text.to_owned()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| NetworkError::BadPrefix(text.to_owned(), max))?,
        };
        Ok(Network { addr, prefix })
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}
