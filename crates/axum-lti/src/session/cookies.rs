//! Reading the `Cookie` header and writing `Set-Cookie` values with the
//! attributes DESIGN.md §3 "Sessions" asks for.

use http::HeaderMap;
use http::header::COOKIE;

/// Every value sent for cookie `name`, in order. Browsers may send two
/// cookies of one name (a partitioned and an unpartitioned one, or two
/// paths), so callers try each.
pub(crate) fn cookie_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| {
            let (n, v) = pair.trim().split_once('=')?;
            (n.trim() == name).then(|| v.trim().trim_matches('"'))
        })
        .collect()
}

/// Which attributes cookies get, decided once from the canonical root and
/// the settings.
#[derive(Debug, Clone)]
pub(crate) struct CookiePolicy {
    /// Cookie `Path`: the application root's path.
    pub(crate) path: String,
    /// `Secure; SameSite=None`: the root is https or a loopback host, where
    /// browsers accept such cookies, so the tool works in a cross-site
    /// iframe.
    pub(crate) cross_site: bool,
    /// `Partitioned` (CHIPS), only together with `cross_site`.
    pub(crate) partitioned: bool,
}

impl CookiePolicy {
    fn attributes(&self, http_only: bool) -> String {
        let mut attrs = format!("; Path={}", self.path);
        if self.cross_site {
            attrs.push_str("; Secure; SameSite=None");
            if self.partitioned {
                attrs.push_str("; Partitioned");
            }
        } else {
            attrs.push_str("; SameSite=Lax");
        }
        if http_only {
            attrs.push_str("; HttpOnly");
        }
        attrs
    }

    /// The session cookie: a browser-session cookie, HttpOnly.
    pub(crate) fn session(&self, name: &str, value: &str) -> String {
        format!("{name}={value}{}", self.attributes(true))
    }

    /// Clears the session cookie.
    pub(crate) fn clear_session(&self, name: &str) -> String {
        format!("{name}=; Max-Age=0{}", self.attributes(true))
    }

    /// The test cookie (value `0`, spec §4.1), readable by scripts.
    pub(crate) fn test(&self, name: &str, max_age: i64) -> String {
        format!("{name}=0; Max-Age={max_age}{}", self.attributes(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn reads_every_value_of_a_name() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; sid=x; b=2"));
        h.append(COOKIE, HeaderValue::from_static("sid=\"y\";ctest=0"));
        assert_eq!(cookie_values(&h, "sid"), vec!["x", "y"]);
        assert_eq!(cookie_values(&h, "ctest"), vec!["0"]);
        assert!(cookie_values(&h, "none").is_empty());
    }

    #[test]
    fn attributes_follow_the_policy() {
        let secure = CookiePolicy {
            path: "/tool/".into(),
            cross_site: true,
            partitioned: true,
        };
        assert_eq!(
            secure.session("sid", "v"),
            "sid=v; Path=/tool/; Secure; SameSite=None; Partitioned; HttpOnly"
        );
        assert_eq!(
            secure.test("ctest", 8_640_000),
            "ctest=0; Max-Age=8640000; Path=/tool/; Secure; SameSite=None; Partitioned"
        );
        let plain = CookiePolicy {
            path: "/".into(),
            cross_site: false,
            partitioned: true,
        };
        assert_eq!(
            plain.clear_session("sid"),
            "sid=; Max-Age=0; Path=/; SameSite=Lax; HttpOnly"
        );
    }
}
