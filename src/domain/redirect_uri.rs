//! Redirect URIs: absolute, no fragment, compared as exact strings (OAuth 2.0 Security BCP §4.1).

use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri {
    uri: String,
    /// Whether `uri` reads exactly as the URL parser writes it back, so that response
    /// parameters can be appended to the string without parsing it again.
    canonical: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectUriError {
    #[error("not an absolute URI")]
    NotAbsolute,
    #[error("must not contain a fragment")]
    Fragment,
    #[error("must use https (http only for loopback hosts, or a private-use scheme with a dot)")]
    Insecure,
}

impl RedirectUri {
    /// RFC 6749 §3.1.2: absolute and without fragment. `https` for web clients; `http` only on a
    /// loopback host; private-use schemes in reverse-domain form for native apps (RFC 8252 §7.1).
    pub fn parse(s: &str) -> Result<RedirectUri, RedirectUriError> {
        let url = Url::parse(s).map_err(|_| RedirectUriError::NotAbsolute)?;
        if url.fragment().is_some() || s.contains('#') {
            return Err(RedirectUriError::Fragment);
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => return Err(RedirectUriError::Insecure),
            other if other.contains('.') => {}
            _ => return Err(RedirectUriError::Insecure),
        }
        Ok(RedirectUri {
            uri: s.to_owned(),
            canonical: url.as_str() == s,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.uri
    }

    /// The host, which is the pairwise sector unless a sector_identifier_uri is registered.
    pub fn host(&self) -> Option<String> {
        Url::parse(&self.uri)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
    }

    /// This URI with `params` appended to its query (RFC 6749 §4.1.2), keeping its own query.
    /// Every authorization response goes through here; a URI registered in the parser's own
    /// form is extended as a string, the same bytes the parser would write.
    pub fn with_query(&self, params: &[(&str, &str)]) -> String {
        if !self.canonical {
            return self.with_query_parsed(params);
        }
        let extra: usize = params.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        let mut out = String::with_capacity(self.uri.len() + extra + extra / 4);
        out.push_str(&self.uri);
        let query_start = match self.uri.find('?') {
            Some(at) => at + 1,
            None => {
                out.push('?');
                out.len()
            }
        };
        url::form_urlencoded::Serializer::for_suffix(out, query_start)
            .extend_pairs(params)
            .finish()
    }

    fn with_query_parsed(&self, params: &[(&str, &str)]) -> String {
        match Url::parse(&self.uri) {
            Ok(mut url) => {
                {
                    let mut q = url.query_pairs_mut();
                    for (k, v) in params {
                        q.append_pair(k, v);
                    }
                }
                url.into()
            }
            Err(_) => self.uri.clone(),
        }
    }
}

/// Whether a URL names a loopback host (`localhost`, 127.0.0.0/8 or `::1`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_redirect_uris_must_be_https_except_on_loopback() {
        assert!(RedirectUri::parse("https://rp.example.jp/cb").is_ok());
        assert!(RedirectUri::parse("http://127.0.0.1:8080/cb").is_ok());
        assert!(RedirectUri::parse("http://localhost/cb").is_ok());
        assert_eq!(
            RedirectUri::parse("http://rp.example.jp/cb"),
            Err(RedirectUriError::Insecure)
        );
        assert!(RedirectUri::parse("jp.example.app:/cb").is_ok());
    }

    #[test]
    fn fragments_and_relative_uris_are_refused() {
        assert_eq!(
            RedirectUri::parse("https://rp.example.jp/cb#x"),
            Err(RedirectUriError::Fragment)
        );
        assert_eq!(
            RedirectUri::parse("/cb"),
            Err(RedirectUriError::NotAbsolute)
        );
    }

    #[test]
    fn response_parameters_are_added_to_the_existing_query() {
        let uri = RedirectUri::parse("https://rp.example.jp/cb?x=1").expect("valid");
        assert_eq!(
            uri.with_query(&[("code", "a b"), ("state", "s")]),
            "https://rp.example.jp/cb?x=1&code=a+b&state=s"
        );
    }

    #[test]
    fn response_parameters_read_the_same_whether_the_uri_is_parsed_again_or_not() {
        let params = [
            ("code", "ab-_~.Z9+/="),
            ("state", "日本 &?#%"),
            ("iss", "https://id.example.jp/x?y"),
        ];
        for registered in [
            "https://rp.example.jp/cb",
            "https://rp.example.jp/cb?",
            "https://rp.example.jp/cb?x=1&y=%20",
            "https://rp.example.jp",
            "HTTPS://RP.example.jp/a/../cb",
            "http://127.0.0.1:8080/cb?",
            "http://[::1]/cb",
            "jp.example.app:/cb",
            "jp.example.app:/cb?mode=1",
            "https://rp.example.jp/パス?q=値",
        ] {
            let uri = RedirectUri::parse(registered).expect("valid");
            assert_eq!(
                uri.with_query(&params),
                uri.with_query_parsed(&params),
                "{registered}"
            );
            assert_eq!(
                uri.with_query(&[]),
                uri.with_query_parsed(&[]),
                "{registered}"
            );
        }
    }
}
