//! A lean HTTP/1.1 client on hyper's connection API: one keep-alive connection per worker,
//! optionally bound to a chosen loopback source address, and a per-browser cookie jar.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpSocket;

/// What a step needs from an answer: status, redirect target, cookies and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: Bytes,
}

impl Response {
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("<not UTF-8>")
    }

    /// The start of the body, for error reports; of an HTML page, the text of its body
    /// (what the person would read), not the markup of its head.
    pub fn excerpt(&self) -> String {
        let text = self.text();
        let shown = match text.find("<body") {
            Some(at) => page_text(&text[at..]),
            None => text.to_owned(),
        };
        shown.chars().take(160).collect()
    }
}

/// The text of an HTML fragment: tags and scripts dropped, whitespace collapsed.
fn page_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        rest = &rest[open..];
        let end = if rest.starts_with("<script") {
            rest.find("</script>").map(|i| i + "</script>".len())
        } else {
            rest.find('>').map(|i| i + 1)
        };
        rest = end.map_or("", |i| &rest[i..]);
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A body with its media type.
pub enum Body {
    Empty,
    Form(String),
    Json(Vec<u8>),
}

/// One keep-alive connection to the server, reopened after an error or a close.
pub struct Conn {
    addr: SocketAddr,
    host: HeaderValue,
    local: Option<IpAddr>,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// Connections opened so far (the first one included).
    pub opened: u64,
}

impl Conn {
    pub fn new(addr: SocketAddr, local: Option<IpAddr>) -> Conn {
        // A socket address is always a valid header value; the fallback is never taken.
        let host = HeaderValue::from_str(&addr.to_string())
            .unwrap_or(HeaderValue::from_static("localhost"));
        Conn {
            addr,
            host,
            local,
            sender: None,
            opened: 0,
        }
    }

    /// Forgets the connection; the next request opens a new one.
    pub fn reset(&mut self) {
        self.sender = None;
    }

    async fn open(&mut self) -> anyhow::Result<SendRequest<Full<Bytes>>> {
        let socket = match self.addr {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        if let Some(ip) = self.local {
            // Linux routes all of 127.0.0.0/8 to `lo`: any of it is a valid source address.
            socket.bind(SocketAddr::new(ip, 0))?;
        }
        let stream = socket.connect(self.addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // The connection ends when the server closes it or the sender is dropped.
            let _ = connection.await;
        });
        self.opened += 1;
        Ok(sender)
    }

    /// Sends one request; `headers` are extra header pairs (Host is always set).
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(header::HeaderName, &str)],
        body: Body,
    ) -> anyhow::Result<Response> {
        let mut sender = match self.sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => self.open().await?,
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.host.clone());
        for (name, value) in headers {
            builder = builder.header(name, *value);
        }
        let bytes = match body {
            Body::Empty => Bytes::new(),
            Body::Form(text) => {
                builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Bytes::from(text)
            }
            Body::Json(bytes) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Bytes::from(bytes)
            }
        };
        let request = builder.body(Full::new(bytes))?;
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let set_cookies = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let body = response.into_body().collect().await?.to_bytes();
        self.sender = Some(sender);
        Ok(Response {
            status,
            location,
            set_cookies,
            body,
        })
    }

    pub async fn get(
        &mut self,
        path: &str,
        headers: &[(header::HeaderName, &str)],
    ) -> anyhow::Result<Response> {
        self.send(Method::GET, path, headers, Body::Empty).await
    }
}

/// The cookies of one simulated browser. Paths and expiry are ignored (every flow is short and
/// talks to one server); a cookie set empty or with `Max-Age=0` is removed.
#[derive(Debug, Default, Clone)]
pub struct Jar {
    cookies: HashMap<String, String>,
}

impl Jar {
    pub fn absorb(&mut self, response: &Response) {
        for text in &response.set_cookies {
            let mut parts = text.split(';');
            let pair = parts.next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            // Judged by the attributes only: a random value may contain anything.
            let removed = value.is_empty() || parts.any(removes);
            if removed {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }

    #[cfg(test)]
    pub fn has(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    /// The `Cookie` request header value.
    pub fn header(&self) -> String {
        let mut pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.sort();
        pairs.join("; ")
    }
}

/// Whether a `Set-Cookie` attribute deletes the cookie: `Max-Age` of zero or less, or an
/// `Expires` date in the past (servers delete with the epoch; any year before 2000 is taken
/// as past).
fn removes(attribute: &str) -> bool {
    let Some((key, value)) = attribute.trim().split_once('=') else {
        return false;
    };
    let value = value.trim();
    match key.trim().to_ascii_lowercase().as_str() {
        "max-age" => value.parse::<i64>().is_ok_and(|s| s <= 0),
        "expires" => value
            .split_whitespace()
            .filter_map(|w| w.parse::<u32>().ok())
            .any(|n| (1000..2000).contains(&n)),
        _ => false,
    }
}

/// The path and query of a `Location` that may be absolute or relative.
pub fn location_path(location: &str) -> String {
    if location.starts_with('/') {
        return location.to_owned();
    }
    match url::Url::parse(location) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        },
        Err(_) => location.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(cookies: &[&str]) -> Response {
        Response {
            status: 200,
            location: None,
            set_cookies: cookies.iter().map(|c| c.to_string()).collect(),
            body: Bytes::new(),
        }
    }

    #[test]
    fn the_jar_keeps_set_cookies_and_drops_removed_ones() {
        let mut jar = Jar::default();
        jar.absorb(&answer(&[
            "mykey_browser=abc; Path=/; HttpOnly",
            "_session=s1; path=/; expires=Tue, 01 Jan 2030 00:00:00 GMT",
        ]));
        assert_eq!(jar.header(), "_session=s1; mykey_browser=abc");
        jar.absorb(&answer(&["_session=; Max-Age=0"]));
        assert_eq!(jar.header(), "mykey_browser=abc");
        jar.absorb(&answer(&[
            "mykey_browser=x; expires=Thu, 01 Jan 1970 00:00:00 GMT",
        ]));
        assert!(!jar.has("mykey_browser"));
    }

    #[test]
    fn a_cookie_whose_value_looks_like_a_removal_is_kept() {
        let mut jar = Jar::default();
        jar.absorb(&answer(&[
            "mykey_session=ab1970cdmax-age=0x; Path=/; Max-Age=28800; HttpOnly",
        ]));
        assert_eq!(jar.header(), "mykey_session=ab1970cdmax-age=0x");
    }

    #[test]
    fn an_absolute_location_becomes_its_path_and_query() {
        assert_eq!(
            location_path("http://127.0.0.1:3000/auth/xyz?a=1"),
            "/auth/xyz?a=1"
        );
        assert_eq!(location_path("/login/abc"), "/login/abc");
    }
}
