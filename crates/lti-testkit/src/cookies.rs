//! [`SetCookie`] (one parsed `Set-Cookie` line) and [`CookieJar`], the
//! browser-like store both test clients share.

use std::collections::BTreeMap;

use http::HeaderMap;
use http::header::SET_COOKIE;

/// One `Set-Cookie` header, parsed (RFC 6265 §4.1), so a test can assert
/// every attribute the tool sent.
///
/// ```
/// use lti_testkit::SetCookie;
///
/// let c = SetCookie::parse("sid=abc; Path=/; Secure; SameSite=None; Partitioned; HttpOnly")
///     .unwrap();
/// assert_eq!((c.name.as_str(), c.value.as_str()), ("sid", "abc"));
/// assert_eq!(c.path.as_deref(), Some("/"));
/// assert!(c.secure && c.http_only && c.partitioned);
/// assert_eq!(c.same_site.as_deref(), Some("None"));
/// assert!(!c.is_removal());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetCookie {
    /// The cookie name.
    pub name: String,
    /// The cookie value (surrounding double quotes removed).
    pub value: String,
    /// The `Path` attribute, if any.
    pub path: Option<String>,
    /// The `Domain` attribute, if any.
    pub domain: Option<String>,
    /// The `Max-Age` attribute in seconds, if any (and a valid integer).
    pub max_age: Option<i64>,
    /// The `Expires` attribute as sent, if any.
    pub expires: Option<String>,
    /// The `Secure` flag.
    pub secure: bool,
    /// The `HttpOnly` flag.
    pub http_only: bool,
    /// The `SameSite` attribute as sent (`Strict`, `Lax` or `None`), if any.
    pub same_site: Option<String>,
    /// The `Partitioned` flag (CHIPS).
    pub partitioned: bool,
    /// The header line as received.
    pub raw: String,
}

impl SetCookie {
    /// Parses a `Set-Cookie` value; `None` when it has no `name=value`
    /// pair. Attribute names are case-insensitive; unknown ones are ignored.
    pub fn parse(line: &str) -> Option<Self> {
        let mut parts = line.split(';');
        let (name, value) = parts.next()?.split_once('=')?;
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        let mut cookie = Self {
            name: name.to_owned(),
            value: value.trim().trim_matches('"').to_owned(),
            path: None,
            domain: None,
            max_age: None,
            expires: None,
            secure: false,
            http_only: false,
            same_site: None,
            partitioned: false,
            raw: line.to_owned(),
        };
        for attribute in parts {
            let (key, value) = match attribute.split_once('=') {
                Some((key, value)) => (key.trim(), Some(value.trim())),
                None => (attribute.trim(), None),
            };
            match (key.to_ascii_lowercase().as_str(), value) {
                ("path", Some(v)) => cookie.path = Some(v.to_owned()),
                ("domain", Some(v)) => cookie.domain = Some(v.to_owned()),
                ("max-age", Some(v)) => cookie.max_age = v.parse().ok(),
                ("expires", Some(v)) => cookie.expires = Some(v.to_owned()),
                ("samesite", Some(v)) => cookie.same_site = Some(v.to_owned()),
                ("secure", _) => cookie.secure = true,
                ("httponly", _) => cookie.http_only = true,
                ("partitioned", _) => cookie.partitioned = true,
                _ => {}
            }
        }
        Some(cookie)
    }

    /// True when this header deletes the cookie: an empty value or
    /// `Max-Age` of zero or less.
    pub fn is_removal(&self) -> bool {
        self.value.is_empty() || self.max_age.is_some_and(|age| age <= 0)
    }

    /// True when `SameSite` is `None` (case-insensitive).
    pub fn same_site_none(&self) -> bool {
        self.same_site
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("none"))
    }
}

/// A cookie held by the jar.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stored {
    name: String,
    value: String,
    path: String,
}

/// A browser-like cookie store for one client (one browser profile, or one
/// third-party iframe context).
///
/// * Stores cookies from `Set-Cookie` headers by name and `Path`; a header
///   with an empty value or `Max-Age=0` (or less) deletes the cookie.
/// * Sends a cookie only on requests whose path lies under its `Path`
///   (RFC 6265 §5.1.4); without a `Path` the default path of the request
///   is used (§5.1.4 "default-path").
/// * `Domain`, `Expires` and `Secure` are recorded but not enforced: every
///   request of a test client counts as same-host and secure.
/// * Remembers the last `Set-Cookie` per name, so tests can assert the
///   attributes even of a deletion.
/// * A [blocked](Self::blocked) jar stores nothing at all, like an iframe
///   whose third-party cookies the browser blocks.
///
/// ```
/// use lti_testkit::CookieJar;
///
/// let mut jar = CookieJar::new();
/// jar.store("sid=abc; Path=/tool/; HttpOnly", "/tool/launch");
/// jar.store("ctest=0; Path=/tool/; Max-Age=8640000", "/tool/launch");
/// assert_eq!(jar.cookie_header("/tool/resource/1/").as_deref(), Some("sid=abc; ctest=0"));
/// assert_eq!(jar.cookie_header("/other/"), None);
/// jar.store("sid=; Max-Age=0; Path=/tool/", "/tool/ctest");
/// assert_eq!(jar.get("sid"), None);
/// assert_eq!(jar.last_set_cookie("sid").and_then(|c| c.max_age), Some(0));
/// ```
#[derive(Debug, Clone, Default)]
pub struct CookieJar {
    cookies: Vec<Stored>,
    last: BTreeMap<String, SetCookie>,
    blocked: bool,
}

impl CookieJar {
    /// An empty jar that accepts cookies.
    pub fn new() -> Self {
        Self::default()
    }

    /// A jar that never stores anything (cookies blocked).
    pub fn blocked() -> Self {
        Self {
            blocked: true,
            ..Self::default()
        }
    }

    /// True for a jar made by [`blocked`](Self::blocked).
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }

    /// Applies one `Set-Cookie` line received for a request to
    /// `request_path`. Returns the parsed header, or `None` when it was
    /// unparseable or the jar is blocked.
    pub fn store(&mut self, line: &str, request_path: &str) -> Option<SetCookie> {
        if self.blocked {
            return None;
        }
        let cookie = SetCookie::parse(line)?;
        let path = match cookie.path.as_deref() {
            Some(p) if p.starts_with('/') => p.to_owned(),
            _ => default_path(request_path),
        };
        self.cookies
            .retain(|c| !(c.name == cookie.name && c.path == path));
        if !cookie.is_removal() {
            self.cookies.push(Stored {
                name: cookie.name.clone(),
                value: cookie.value.clone(),
                path,
            });
        }
        self.last.insert(cookie.name.clone(), cookie.clone());
        Some(cookie)
    }

    /// Applies every `Set-Cookie` header of a response to a request for
    /// `request_path`.
    pub fn store_response(&mut self, headers: &HeaderMap, request_path: &str) {
        for value in headers.get_all(SET_COOKIE) {
            if let Ok(line) = value.to_str() {
                self.store(line, request_path);
            }
        }
    }

    /// Puts a cookie into the jar by hand (for example a forged session
    /// cookie), replacing one of the same name and path. Works on a blocked
    /// jar too: only responses are blocked.
    pub fn insert(&mut self, name: &str, value: &str, path: &str) {
        self.cookies.retain(|c| !(c.name == name && c.path == path));
        self.cookies.push(Stored {
            name: name.to_owned(),
            value: value.to_owned(),
            path: path.to_owned(),
        });
    }

    /// Removes every cookie of this name, whatever its path.
    pub fn remove(&mut self, name: &str) {
        self.cookies.retain(|c| c.name != name);
    }

    /// Removes every cookie.
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    /// The value of the cookie of this name (the one with the longest path
    /// when there are several).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .filter(|c| c.name == name)
            .max_by_key(|c| c.path.len())
            .map(|c| c.value.as_str())
    }

    /// The names of the cookies held, sorted, without duplicates.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.cookies.iter().map(|c| c.name.clone()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// The number of cookies held.
    pub fn len(&self) -> usize {
        self.cookies.len()
    }

    /// True when the jar holds no cookie.
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// The last `Set-Cookie` received for this name (also a deletion).
    pub fn last_set_cookie(&self, name: &str) -> Option<&SetCookie> {
        self.last.get(name)
    }

    /// The `Cookie` header for a request to `request_path`: the matching
    /// cookies, longer paths first, then in order of creation; `None` when
    /// no cookie matches.
    pub fn cookie_header(&self, request_path: &str) -> Option<String> {
        let mut matching: Vec<(usize, &Stored)> = self
            .cookies
            .iter()
            .enumerate()
            .filter(|(_, c)| path_matches(request_path, &c.path))
            .collect();
        if matching.is_empty() {
            return None;
        }
        matching.sort_by(|(ia, a), (ib, b)| b.path.len().cmp(&a.path.len()).then(ia.cmp(ib)));
        Some(
            matching
                .iter()
                .map(|(_, c)| format!("{}={}", c.name, c.value))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }
}

/// RFC 6265 §5.1.4 default-path: the request path up to, not including,
/// its last `/`; `/` when that leaves nothing.
fn default_path(request_path: &str) -> String {
    match request_path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => request_path[..i].to_owned(),
    }
}

/// RFC 6265 §5.1.4 path-match.
fn path_matches(request_path: &str, cookie_path: &str) -> bool {
    request_path == cookie_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/')
                || request_path.as_bytes().get(cookie_path.len()) == Some(&b'/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_attribute() {
        let c = SetCookie::parse(
            "ctest=\"0\"; max-age=8640000; path=/t/; domain=x.org; expires=Thu, 01 Jan 1970 \
             00:00:00 GMT; samesite=Lax",
        )
        .expect("valid");
        assert_eq!(c.value, "0");
        assert_eq!(c.max_age, Some(8_640_000));
        assert_eq!(c.path.as_deref(), Some("/t/"));
        assert_eq!(c.domain.as_deref(), Some("x.org"));
        assert!(c.expires.is_some());
        assert_eq!(c.same_site.as_deref(), Some("Lax"));
        assert!(!c.secure && !c.http_only && !c.partitioned && !c.same_site_none());
        assert!(SetCookie::parse("novalue").is_none());
        assert!(SetCookie::parse("=x").is_none());
    }

    #[test]
    fn deletes_on_empty_value_or_zero_max_age() {
        let mut jar = CookieJar::new();
        jar.store("a=1; Path=/", "/x");
        jar.store("b=2; Path=/", "/x");
        assert_eq!(jar.len(), 2);
        jar.store("a=; Path=/", "/x");
        jar.store("b=2; Max-Age=0; Path=/", "/x");
        assert!(jar.is_empty());
        assert_eq!(
            jar.last_set_cookie("b").map(|c| c.raw.as_str()),
            Some("b=2; Max-Age=0; Path=/")
        );
    }

    #[test]
    fn paths_are_kept_apart_and_matched() {
        let mut jar = CookieJar::new();
        jar.store("a=root; Path=/", "/");
        jar.store("a=deep; Path=/tool", "/");
        assert_eq!(jar.get("a"), Some("deep"));
        assert_eq!(
            jar.cookie_header("/tool/x").as_deref(),
            Some("a=deep; a=root")
        );
        assert_eq!(
            jar.cookie_header("/tool").as_deref(),
            Some("a=deep; a=root")
        );
        assert_eq!(jar.cookie_header("/toolbox").as_deref(), Some("a=root"));
        // Deleting one path leaves the other.
        jar.store("a=; Max-Age=0; Path=/tool", "/");
        assert_eq!(jar.get("a"), Some("root"));
    }

    #[test]
    fn default_path_comes_from_the_request() {
        let mut jar = CookieJar::new();
        jar.store("a=1", "/tool/launch");
        assert_eq!(jar.cookie_header("/tool/other").as_deref(), Some("a=1"));
        assert_eq!(jar.cookie_header("/"), None);
        assert_eq!(default_path("/"), "/");
        assert_eq!(default_path("/launch"), "/");
    }

    #[test]
    fn blocked_jars_store_nothing() {
        let mut jar = CookieJar::blocked();
        assert!(jar.store("a=1; Path=/", "/").is_none());
        assert!(jar.is_empty());
        assert!(jar.last_set_cookie("a").is_none());
        jar.insert("forged", "x", "/");
        assert_eq!(jar.cookie_header("/").as_deref(), Some("forged=x"));
    }
}
