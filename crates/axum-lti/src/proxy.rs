//! Reverse proxies: what a request says about the URL the browser used
//! (`Forwarded`, RFC 7239, and the de-facto `X-Forwarded-Proto`, `-Host`,
//! `-Port`, `-Prefix`), and the public root taken from it when the peer is
//! a trusted proxy (DESIGN.md §4).
//!
//! Precedence: a configured `server.canonical_root` always wins and the
//! headers are then only read by the launch doctor, to explain a mismatch.
//! Without one, and only for requests whose TCP peer is listed in
//! `server.trusted_proxies`, the root is built from the headers; every
//! other request gets the default root (`http://localhost:<port>/`). The
//! proxy must *set* these headers (overwrite what the client sent); where a
//! header holds a list, the last element (the one the nearest proxy added)
//! counts.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{HeaderMap, Request, header};

use crate::root::AppRoot;
use crate::state::LtiState;

/// Longest header value the proxy code looks at; longer ones are ignored.
const MAX_VALUE_LEN: usize = 512;

/// One `server.trusted_proxies` entry: an address or a CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IpBlock {
    addr: IpAddr,
    prefix: u8,
}

impl IpBlock {
    fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Self { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The parsed `server.trusted_proxies` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TrustedProxies(Vec<IpBlock>);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.5`, `::1`) and CIDR blocks
    /// (`10.0.0.0/8`); the error names the first bad entry.
    pub(crate) fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                IpBlock::parse(entry)
                    .ok_or_else(|| format!("{entry:?} is not an IP address or CIDR block"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `ip` lies in one of the blocks.
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(ip))
    }
}

/// What a request's headers say about the URL the browser used. Each value
/// keeps the header it came from, so messages can name it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Arrival {
    /// Scheme from `Forwarded: proto=` or `X-Forwarded-Proto`.
    pub(crate) proto: Option<(String, &'static str)>,
    /// Host (maybe with port) from `Forwarded: host=`, `X-Forwarded-Host`
    /// or else `Host`.
    pub(crate) host: Option<(String, &'static str)>,
    /// Port from `X-Forwarded-Port`.
    pub(crate) port: Option<String>,
    /// Path prefix from `X-Forwarded-Prefix`.
    pub(crate) prefix: Option<String>,
}

fn header_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    // The last value of the last header line: what the nearest proxy set.
    let value = headers.get_all(name).iter().next_back()?.to_str().ok()?;
    let value = value.rsplit(',').next()?.trim();
    (!value.is_empty() && value.len() <= MAX_VALUE_LEN).then_some(value)
}

/// `proto` and `host` of the last element of `Forwarded` (RFC 7239 §4).
fn forwarded_pairs(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let Some(element) = header_value(headers, "forwarded") else {
        return (None, None);
    };
    let (mut proto, mut host) = (None, None);
    for pair in element.split(';') {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_owned();
        match name.trim().to_ascii_lowercase().as_str() {
            "proto" => proto = Some(value),
            "host" => host = Some(value),
            _ => {}
        }
    }
    (proto, host)
}

/// True for a plausible `host[:port]`: nothing that would end the
/// authority of a URL or smuggle in user information.
fn is_authority(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        })
}

/// True when `host[:port]` has a port (an IPv6 literal keeps its colons
/// inside brackets).
fn has_port(authority: &str) -> bool {
    authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.contains(']'))
}

impl Arrival {
    /// Reads the headers (whoever sent them: trust is decided elsewhere).
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let (fwd_proto, fwd_host) = forwarded_pairs(headers);
        let proto = fwd_proto
            .map(|p| (p, "Forwarded"))
            .or_else(|| {
                header_value(headers, "x-forwarded-proto")
                    .map(|p| (p.to_owned(), "X-Forwarded-Proto"))
            })
            .map(|(p, source)| (p.to_ascii_lowercase(), source));
        let host = fwd_host
            .map(|h| (h, "Forwarded"))
            .or_else(|| {
                header_value(headers, "x-forwarded-host")
                    .map(|h| (h.to_owned(), "X-Forwarded-Host"))
            })
            .or_else(|| {
                header_value(headers, header::HOST.as_str()).map(|h| (h.to_owned(), "Host"))
            })
            .map(|(h, source)| (h.to_ascii_lowercase(), source));
        Self {
            proto,
            host,
            port: header_value(headers, "x-forwarded-port").map(str::to_owned),
            prefix: header_value(headers, "x-forwarded-prefix").map(str::to_owned),
        }
    }

    /// The host with the forwarded port added when the host has none.
    fn authority(&self) -> Option<String> {
        let (host, _) = self.host.as_ref()?;
        Some(match &self.port {
            Some(port) if !has_port(host) => format!("{host}:{port}"),
            _ => host.clone(),
        })
    }

    /// The root these headers describe; missing parts come from `fallback`.
    pub(crate) fn root(&self, fallback: &AppRoot) -> Result<AppRoot, String> {
        let scheme = self
            .proto
            .as_ref()
            .map_or(fallback.scheme(), |(p, _)| p.as_str());
        let authority = self.authority().unwrap_or_else(|| fallback.authority());
        if !is_authority(&authority) {
            return Err(format!("{authority:?} is not a host[:port]"));
        }
        let prefix = match &self.prefix {
            Some(prefix) => format!("/{}", prefix.trim_matches('/')),
            None => fallback.path().to_owned(),
        };
        AppRoot::parse(&format!("{scheme}://{authority}{prefix}")).map_err(|e| e.to_string())
    }

    /// What differs between this request and the canonical root, one
    /// sentence each, saying what to set. Empty when nothing does.
    pub(crate) fn mismatches(&self, root: &AppRoot) -> Vec<String> {
        let mut found = Vec::new();
        if let Some((proto, source)) = &self.proto
            && proto != root.scheme()
        {
            let fixed = AppRoot::parse(&format!("{proto}://{}{}", root.authority(), root.path()))
                .map(|r| r.url())
                .unwrap_or_else(|_| format!("{proto}://…"));
            found.push(format!(
                "The request came through a proxy that says the browser used {proto} \
                 ({source}: {proto}), but canonical_root is {}, so the tool verified an \
                 {} URL while the LMS signed an {proto} one. Set server.canonical_root \
                 (or --canonical-root) to {fixed}.",
                root.url(),
                root.scheme(),
            ));
        }
        if let Some(authority) = self.authority().filter(|a| is_authority(a)) {
            let source = self.host.as_ref().map_or("Host", |(_, source)| *source);
            let scheme = self
                .proto
                .as_ref()
                .map_or(root.scheme(), |(p, _)| p.as_str());
            // Parsed, so `x:443` on https equals `x`; without a port
            // (nginx's `$host`) only the names can be compared.
            let arrived = AppRoot::parse(&format!("{scheme}://{authority}/")).ok();
            let matches = arrived.as_ref().is_none_or(|a| {
                a.authority() == root.authority()
                    || (!has_port(&authority) && a.host() == root.host())
            });
            if !matches {
                found.push(format!(
                    "The request arrived for host {authority} ({source}), but canonical_root \
                     names {}. If the LMS launches {scheme}://{authority}{}…, set \
                     server.canonical_root to {scheme}://{authority}{} (a proxy that passes \
                     its upstream address as Host can cause this too: set \
                     `proxy_set_header Host $host;`).",
                    root.authority(),
                    root.path(),
                    root.path(),
                ));
            }
        }
        if let Some(prefix) = &self.prefix {
            let prefix = format!("/{}/", prefix.trim_matches('/')).replace("//", "/");
            if prefix != root.path() {
                found.push(format!(
                    "The proxy says the tool is served under {prefix} (X-Forwarded-Prefix), \
                     but canonical_root's path is {}. Put the prefix into \
                     server.canonical_root.",
                    root.path()
                ));
            }
        }
        found
    }
}

/// The state for one request: with a root from the forwarding headers
/// when the peer is a trusted proxy (and no canonical root is configured,
/// which the state decides when it is built), else the state as it is.
pub(crate) fn request_state(state: &LtiState, request: &Request<Body>) -> LtiState {
    let Some(proxies) = state.trusted_proxies() else {
        return state.clone();
    };
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return state.clone();
    };
    if !proxies.contains(peer.ip()) {
        return state.clone();
    }
    match Arrival::from_headers(request.headers()).root(state.root()) {
        Ok(root) => state.with_root(root),
        Err(err) => {
            tracing::warn!(peer = %peer, %err, "a trusted proxy sent unusable forwarding headers; using the default root");
            state.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn blocks_match_addresses() {
        let list =
            TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into(), "fd00::/8".into()])
                .expect("valid");
        for ip in ["127.0.0.1", "10.1.2.3", "fd12::1", "::ffff:10.9.9.9"] {
            assert!(list.contains(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["127.0.0.2", "11.0.0.1", "fe80::1", "::1"] {
            assert!(!list.contains(ip.parse().expect("ip")), "{ip}");
        }
        let all = TrustedProxies::parse(&["0.0.0.0/0".into()]).expect("valid");
        assert!(all.contains("8.8.8.8".parse().expect("ip")));
        for bad in ["", "10.0.0.0/33", "localhost", "1.2.3.4/x", "::1/129"] {
            assert!(TrustedProxies::parse(&[bad.into()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn x_forwarded_headers_make_the_root() {
        let fallback = AppRoot::localhost(8080);
        let h = headers(&[
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "Tools.Example.edu"),
            ("x-forwarded-prefix", "/tools/mytool"),
        ]);
        let root = Arrival::from_headers(&h).root(&fallback).expect("valid");
        assert_eq!(root.url(), "https://tools.example.edu/tools/mytool/");
        let h = headers(&[
            ("host", "tools.example.edu"),
            ("x-forwarded-proto", "http, https"),
            ("x-forwarded-port", "8443"),
        ]);
        let root = Arrival::from_headers(&h).root(&fallback).expect("valid");
        assert_eq!(root.url(), "https://tools.example.edu:8443/");
    }

    #[test]
    fn forwarded_wins_over_x_forwarded() {
        let h = headers(&[
            ("host", "upstream:1"),
            (
                "forwarded",
                "for=1.2.3.4;proto=http, for=5.6.7.8;proto=https;host=\"lti.example.org\"",
            ),
            ("x-forwarded-proto", "http"),
        ]);
        let root = Arrival::from_headers(&h)
            .root(&AppRoot::localhost(8080))
            .expect("valid");
        assert_eq!(root.url(), "https://lti.example.org/");
    }

    #[test]
    fn bad_headers_are_refused() {
        let h = headers(&[("x-forwarded-proto", "gopher"), ("host", "x.org")]);
        assert!(
            Arrival::from_headers(&h)
                .root(&AppRoot::localhost(1))
                .is_err()
        );
        let h = headers(&[("x-forwarded-prefix", "/a/../b"), ("host", "x.org")]);
        assert!(
            Arrival::from_headers(&h)
                .root(&AppRoot::localhost(1))
                .is_err()
        );
        for host in ["evil.org/x", "u@x.org", "x.org?q", "x.org#f", "x .org"] {
            let mut h = HeaderMap::new();
            h.insert(
                "x-forwarded-host",
                HeaderValue::from_str(host).expect("a value"),
            );
            assert!(
                Arrival::from_headers(&h)
                    .root(&AppRoot::localhost(1))
                    .is_err(),
                "{host}"
            );
        }
    }

    #[test]
    fn mismatches_name_the_header_and_the_fix() {
        let root = AppRoot::parse("http://localhost:8443/tools/mytool").expect("valid");
        let h = headers(&[("host", "localhost:8443"), ("x-forwarded-proto", "https")]);
        let found = Arrival::from_headers(&h).mismatches(&root);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("X-Forwarded-Proto: https"),
            "{}",
            found[0]
        );
        assert!(
            found[0].contains("https://localhost:8443/tools/mytool/"),
            "{}",
            found[0]
        );

        let h = headers(&[("host", "other.example:8443")]);
        let found = Arrival::from_headers(&h).mismatches(&root);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("other.example:8443 (Host)"),
            "{}",
            found[0]
        );

        // nginx's `proxy_set_header Host $host` drops the port: no finding.
        let h = headers(&[("host", "localhost")]);
        assert!(Arrival::from_headers(&h).mismatches(&root).is_empty());
        // A default port is no difference.
        let https = AppRoot::parse("https://tools.example.edu/").expect("valid");
        let h = headers(&[
            ("host", "Tools.Example.edu:443"),
            ("x-forwarded-proto", "https"),
        ]);
        assert!(Arrival::from_headers(&h).mismatches(&https).is_empty());
        let h = headers(&[("host", "localhost:8443"), ("x-forwarded-prefix", "/other")]);
        let found = Arrival::from_headers(&h).mismatches(&root);
        assert!(found[0].contains("X-Forwarded-Prefix"), "{found:?}");
        let h = headers(&[
            ("host", "localhost:8443"),
            ("x-forwarded-prefix", "/tools/mytool/"),
            ("x-forwarded-proto", "http"),
        ]);
        assert!(Arrival::from_headers(&h).mismatches(&root).is_empty());
    }
}
