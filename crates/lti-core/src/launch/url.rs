//! Checking URLs the consumer sends before the tool sends a browser there.

/// Whether `url` is an absolute `http` or `https` URL that is safe to
/// redirect a browser to: the scheme (either case) is followed by `//` and a
/// non-empty host with an optional numeric port, and the URL holds no
/// whitespace, control characters or backslashes (browsers read `\` as `/`,
/// which would let the host differ from what this check saw).
///
/// Used for `launch_presentation_return_url` (LTI 1.1 return-URL messages,
/// spec §5.7); relative URLs, `javascript:` and other schemes are refused.
///
/// ```
/// use lti_core::is_absolute_http_url;
///
/// assert!(is_absolute_http_url("https://lms.example.edu:8443/return?ok=1"));
/// assert!(is_absolute_http_url("HTTP://[::1]:8080/"));
/// assert!(!is_absolute_http_url("javascript:alert(1)"));
/// assert!(!is_absolute_http_url("//lms.example.edu/return"));
/// assert!(!is_absolute_http_url("https:///path"));
/// ```
#[must_use]
pub fn is_absolute_http_url(url: &str) -> bool {
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return false;
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Drop any user information; what matters is the host.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = split_host_port(host_port);
    !host.is_empty()
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Splits `host[:port]`, where the host may be a bracketed IPv6 literal.
fn split_host_port(host_port: &str) -> (&str, Option<&str>) {
    if host_port.starts_with('[') {
        return match host_port.split_once(']') {
            Some((inside, rest)) if inside.len() > 1 => {
                let host = &host_port[..=inside.len()];
                match rest.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None if rest.is_empty() => (host, None),
                    None => ("", None),
                }
            }
            _ => ("", None),
        };
    }
    match host_port.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_urls() {
        for url in [
            "http://www.imsglobal.org/developers/LTI/test/v1p1/lms_return.php",
            "https://canvas.example.edu/courses/1/external_content/success/external_tool_redirect",
            "https://user:pw@lms.example.edu/",
            "https://lms.example.edu",
            "https://lms.example.edu?x=1",
            "https://lms.example.edu#frag",
            "https://[2001:db8::1]/return",
            "https://münchen.example/return",
        ] {
            assert!(is_absolute_http_url(url), "{url}");
        }
    }

    #[test]
    fn refuses_the_rest() {
        for url in [
            "",
            "ftp://lms.example.edu/",
            "data:text/html,hi",
            "http:/lms.example.edu",
            "http://",
            "http://:80/",
            "http://lms.example.edu:/",
            "http://lms.example.edu:80a/",
            "http://lms.example.edu:123456/",
            "http://lms.example.edu\\@evil.example/",
            "http://lms.example.edu/a b",
            "http://lms.example.edu/\r\nSet-Cookie: x",
            "http://[::1/",
            "http://[]/",
            "http://[::1]x/",
            "http://user@/",
        ] {
            assert!(!is_absolute_http_url(url), "{url:?}");
        }
    }
}
