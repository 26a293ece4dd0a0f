//! The address a request came from, also behind the operator's reverse proxies: the card
//! endpoints' rate limit and the console's failed-login record count per resident, not per
//! proxy.

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::config::Network;

/// The client's address: the TCP peer, unless the peer is one of the `trusted` proxies; then
/// the right-most forwarded address that is not a trusted proxy itself, from the `for=`
/// parameters of `Forwarded` (RFC 7239) when a proxy sent that header, else from
/// `X-Forwarded-For`. Entries left of that are whatever the client sent and are never
/// believed. A hop that cannot be read (an obfuscated `for=_node`, `unknown`, a value that
/// is not text) stops the walk at the last trusted hop.
pub fn of(req: &HttpRequest, trusted: &[Network]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    let headers = req.headers();
    let rfc7239 = headers.contains_key("forwarded");
    let name = if rfc7239 {
        "forwarded"
    } else {
        "x-forwarded-for"
    };
    // A value that is not text reads as one unparseable hop, which stops the walk.
    let values: Vec<&str> = headers
        .get_all(name)
        .map(|v| v.to_str().unwrap_or("?"))
        .collect();
    let elements = values.iter().flat_map(|v| v.split(','));
    let hops: Vec<&str> = if rfc7239 {
        elements.map(forwarded_for).collect()
    } else {
        elements.collect()
    };
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(addr) = parse_hop(hop) else {
            break;
        };
        client = addr;
        if !is_trusted(addr, trusted) {
            break;
        }
    }
    Some(client)
}

fn is_trusted(addr: IpAddr, trusted: &[Network]) -> bool {
    trusted.iter().any(|n| n.contains(addr))
}

/// The `for=` node of one `Forwarded` element (`for=192.0.2.60;proto=https;by=…`), unquoted;
/// `?` (unreadable) when the element names none. Quoted strings here never hold `,` or `;`:
/// a node is an address, `[v6]`, either with a port, `unknown` or an `_obfuscated` name.
fn forwarded_for(element: &str) -> &str {
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
        .map_or("?", |(_, value)| value.trim().trim_matches('"'))
}

/// One forwarded node: an address, an IPv6 address in brackets, either with a port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(addr) = hop.parse::<IpAddr>() {
        return Some(addr);
    }
    if let Ok(socket) = hop.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn networks(list: &[&str]) -> Vec<Network> {
        list.iter().map(|n| n.parse().expect("network")).collect()
    }

    fn request(peer: &str, forwarded: Option<&str>) -> HttpRequest {
        with_header(peer, "X-Forwarded-For", forwarded)
    }

    fn with_header(peer: &str, name: &str, value: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::default().peer_addr(peer.parse().expect("socket address"));
        if let Some(v) = value {
            r = r.insert_header((name, v));
        }
        r.to_http_request()
    }

    #[test]
    fn a_peer_that_is_not_a_trusted_proxy_is_the_client_whatever_it_forwards() {
        let req = request("198.51.100.4:5000", Some("203.0.113.7"));
        assert_eq!(of(&req, &[]), "198.51.100.4".parse().ok());
        let trusted = networks(&["10.0.0.0/8"]);
        assert_eq!(of(&req, &trusted), "198.51.100.4".parse().ok());
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = networks(&["10.0.0.0/8", "192.0.2.10"]);
        // The client claims an address (spoofed), its own proxy adds the real one, then ours.
        let req = request("10.1.2.3:443", Some("1.1.1.1, 203.0.113.7, 192.0.2.10"));
        assert_eq!(of(&req, &trusted), "203.0.113.7".parse().ok());
        let v6 = request("10.1.2.3:443", Some("[2001:db8::7]:51234"));
        assert_eq!(of(&v6, &trusted), "2001:db8::7".parse().ok());
    }

    #[test]
    fn a_trusted_proxy_without_a_readable_header_is_counted_as_itself() {
        let trusted = networks(&["10.0.0.0/8"]);
        let none = request("10.1.2.3:443", None);
        assert_eq!(of(&none, &trusted), "10.1.2.3".parse().ok());
        let garbage = request("10.1.2.3:443", Some("203.0.113.7, unknown"));
        assert_eq!(of(&garbage, &trusted), "10.1.2.3".parse().ok());
    }

    #[test]
    fn a_trusted_proxy_speaking_rfc_7239_forwarded_is_read_like_x_forwarded_for() {
        let trusted = networks(&["10.0.0.0/8"]);
        let req = with_header(
            "10.1.2.3:443",
            "Forwarded",
            Some(r#"for=1.1.1.1, for=203.0.113.7;proto=https, For="10.9.9.9""#),
        );
        assert_eq!(of(&req, &trusted), "203.0.113.7".parse().ok());
        let v6 = with_header(
            "10.1.2.3:443",
            "Forwarded",
            Some(r#"for="[2001:db8::7]:51234";proto=https"#),
        );
        assert_eq!(of(&v6, &trusted), "2001:db8::7".parse().ok());
        // Not believed from a peer that is not a trusted proxy.
        let direct = with_header("198.51.100.4:5000", "Forwarded", Some("for=203.0.113.7"));
        assert_eq!(of(&direct, &trusted), "198.51.100.4".parse().ok());
    }

    #[test]
    fn an_obfuscated_or_missing_forwarded_node_stops_the_walk_at_the_trusted_proxy() {
        let trusted = networks(&["10.0.0.0/8"]);
        for value in ["for=_hidden", "for=unknown", "proto=https;by=10.0.0.1"] {
            let req = with_header("10.1.2.3:443", "Forwarded", Some(value));
            assert_eq!(of(&req, &trusted), "10.1.2.3".parse().ok(), "{value}");
        }
    }
}
