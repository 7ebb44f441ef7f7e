//! The application root: the one source of the tool's public URL.
//!
//! Every absolute URL the framework makes (the OAuth base string, redirects,
//! the cookie test's return addresses) and the cookies' `Path` and `Secure`
//! attributes come from the configured canonical root, never from the
//! `Host` header (spec §0.1, §2.1; DESIGN.md §4).

use std::fmt;

/// Why a canonical root was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid canonical_root {url:?}: {reason}")]
pub struct RootError {
    url: String,
    reason: &'static str,
}

/// The parsed canonical root: scheme, host, port and path prefix.
///
/// ```
/// use axum_lti::AppRoot;
/// let root = AppRoot::parse("https://Tools.Example.edu:443/mytool").unwrap();
/// assert_eq!(root.url(), "https://tools.example.edu/mytool/");
/// assert_eq!(root.join("launch"), "https://tools.example.edu/mytool/launch");
/// assert_eq!(root.path(), "/mytool/");
/// assert!(root.is_https());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRoot {
    scheme: String,
    host: String,
    port: Option<u16>,
    /// Always starts and ends with `/`.
    path: String,
}

impl AppRoot {
    /// Parses `scheme://host[:port][/prefix]`. The scheme must be http or
    /// https; default ports are dropped; a query or fragment is refused.
    pub fn parse(url: &str) -> Result<Self, RootError> {
        let fail = |reason| RootError {
            url: url.to_owned(),
            reason,
        };
        let (scheme, rest) = url.split_once("://").ok_or(fail("missing scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(fail("the scheme must be http or https"));
        }
        if rest.contains(['?', '#']) {
            return Err(fail("a query or fragment is not allowed"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err(fail("user information is not allowed"));
        }
        let (host, port) = split_host_port(authority).ok_or(fail("bad host or port"))?;
        if host.is_empty() {
            return Err(fail("missing host"));
        }
        let default_port = if scheme == "https" { 443 } else { 80 };
        let port = port.filter(|p| *p != default_port);
        let mut path = path.to_owned();
        if !path.ends_with('/') {
            path.push('/');
        }
        if path.contains("//") || path.split('/').any(|s| s == "." || s == "..") {
            return Err(fail(
                "the path must not contain empty, '.' or '..' segments",
            ));
        }
        Ok(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            path,
        })
    }

    /// The default root for a local server: `http://localhost:<port>/`.
    pub fn localhost(port: u16) -> Self {
        Self {
            scheme: "http".into(),
            host: "localhost".into(),
            port: (port != 80).then_some(port),
            path: "/".into(),
        }
    }

    /// `scheme://host[:port]`, without the path.
    pub fn origin(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{}", self.scheme, self.host, port),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    /// The root URL, ending with `/` (Pyslet's `<root>`).
    pub fn url(&self) -> String {
        format!("{}{}", self.origin(), self.path)
    }

    /// The root's path, starting and ending with `/`: the cookie `Path`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The host name (lower case).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The scheme: `http` or `https`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// `host[:port]`, the port only when it is not the scheme's default:
    /// what a browser sends as `Host` for this root.
    pub fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }

    /// True for an https root: cookies get `Secure`.
    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// True when the host is a loopback name or address.
    pub fn is_loopback(&self) -> bool {
        matches!(self.host.as_str(), "localhost" | "[::1]")
            || self
                .host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// True when the browser treats this origin as a secure context
    /// (https, or http on a loopback host), so `Secure` and `SameSite=None`
    /// cookies work.
    pub fn is_secure_context(&self) -> bool {
        self.is_https() || self.is_loopback()
    }

    /// An absolute URL for a path relative to the root (`launch`,
    /// `resource/0000ABCD/`). A leading `/` is ignored.
    pub fn join(&self, relative: &str) -> String {
        format!("{}{}", self.url(), relative.trim_start_matches('/'))
    }

    /// True when `url` is an absolute URL of this root's origin whose path
    /// lies under the root path (used to refuse open redirects).
    pub fn contains_url(&self, url: &str) -> bool {
        let Ok(other) = Self::parse(strip_query(url)) else {
            return false;
        };
        other.scheme == self.scheme
            && other.host == self.host
            && other.port == self.port
            && other.path.starts_with(&self.path)
            // No control character (CR, LF, NUL, tab…) can reach a
            // `Location` header, and no `\` that a browser reads as `/`.
            && !url.chars().any(|c| c.is_control() || c == '\\')
    }
}

impl fmt::Display for AppRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url())
    }
}

fn strip_query(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        // IPv6 literal: keep the brackets in the host.
        let close = rest.find(']')?;
        let host = &authority[..close + 2];
        let after = &rest[close + 1..];
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((authority, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let r = AppRoot::parse("HTTP://LocalHost:8080").expect("valid");
        assert_eq!(r.url(), "http://localhost:8080/");
        assert_eq!(r.path(), "/");
        assert!(!r.is_https());
        assert!(r.is_loopback());
        let r = AppRoot::parse("https://x.org:443/a/b").expect("valid");
        assert_eq!(r.url(), "https://x.org/a/b/");
        assert_eq!(r.join("/launch"), "https://x.org/a/b/launch");
        let r = AppRoot::parse("http://[::1]:9000/").expect("valid");
        assert_eq!(r.origin(), "http://[::1]:9000");
    }

    #[test]
    fn only_real_loopback_hosts_are_loopback() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "[::1]"] {
            let root = AppRoot::parse(&format!("http://{host}:8080")).expect("valid");
            assert!(root.is_loopback(), "{host}");
        }
        for host in [
            "127.0.0.1.example.com",
            "localhost.example.com",
            "10.0.0.1",
            "example.com",
        ] {
            let root = AppRoot::parse(&format!("http://{host}:8080")).expect("valid");
            assert!(!root.is_loopback(), "{host}");
            assert!(
                !root.is_secure_context(),
                "{host} over http is not a secure context"
            );
        }
    }

    #[test]
    fn refuses_bad_roots() {
        for bad in [
            "localhost:8080",
            "ftp://x.org",
            "http://",
            "http://x.org/a?b",
            "http://x.org#f",
            "http://u@x.org",
            "http://x.org:99999",
            "http://x.org/a//b",
            "http://x.org/../b",
        ] {
            assert!(AppRoot::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn contains_only_same_origin_urls_under_the_root() {
        let r = AppRoot::parse("https://x.org/tool").expect("valid");
        assert!(r.contains_url("https://x.org/tool/resource/0000000A/?a=b"));
        assert!(r.contains_url("https://X.org:443/tool/"));
        assert!(!r.contains_url("https://x.org/other/"));
        assert!(!r.contains_url("https://x.org/toolbox/"));
        assert!(!r.contains_url("http://x.org/tool/"));
        assert!(!r.contains_url("https://evil.org/tool/"));
        assert!(!r.contains_url("https://x.org.evil.org/tool/"));
        assert!(!r.contains_url("//evil.org/tool/"));
        assert!(!r.contains_url("/tool/"));
        assert!(!r.contains_url("https://x.org/tool/\r\nSet-Cookie: a=b"));
        assert!(!r.contains_url("https://x.org/tool/\0/"));
        assert!(!r.contains_url("https://x.org/tool/\t/"));
    }
}
