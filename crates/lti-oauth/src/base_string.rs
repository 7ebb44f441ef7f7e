//! The signature base string of RFC 5849 §3.4.1 and its two parts: the base
//! string URI (§3.4.1.2) and the normalised parameters (§3.4.1.3.2).

use crate::encoding::{cmp_encoded, double_percent_encode_into, percent_encode_into};
use crate::error::{UrlError, echo};
use crate::params::Parameter;

/// The query component of `url` (between `?` and `#`), if it has one.
pub(crate) fn url_query(url: &str) -> Option<&str> {
    let without_fragment = url.split_once('#').map_or(url, |(before, _)| before);
    without_fragment.split_once('?').map(|(_, query)| query)
}

/// Whether `scheme` follows RFC 3986 §3.1: a letter, then letters, digits,
/// `+`, `-` or `.`.
fn is_scheme(scheme: &str) -> bool {
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The base string URI of RFC 5849 §3.4.1.2 for a request URL.
///
/// Scheme and host are lower-cased; the port is dropped when it is the
/// default (80 for `http`, 443 for `https`) and kept otherwise; the path is
/// kept exactly as given (still percent-encoded; an empty path becomes
/// `/`); query and fragment are removed.
///
/// ```
/// assert_eq!(
///     lti_oauth::base_string_uri("HTTPS://Tool.Example.COM:443/lti/Launch?a=1#top").unwrap(),
///     "https://tool.example.com/lti/Launch",
/// );
/// assert_eq!(lti_oauth::base_string_uri("http://h:8080").unwrap(), "http://h:8080/");
/// ```
///
/// # Errors
///
/// A [`UrlError`] when the URL has no `http`/`https` scheme, no host, user
/// information, or a port that is not a number up to 65535.
pub fn base_string_uri(url: &str) -> Result<String, UrlError> {
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    let url = url.split_once('?').map_or(url, |(before, _)| before);
    let (scheme, rest) = url.split_once("://").ok_or(UrlError::MissingScheme)?;
    if !is_scheme(scheme) {
        return Err(UrlError::MissingScheme);
    }
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => {
            return Err(UrlError::UnsupportedScheme {
                scheme: echo(&scheme),
            });
        }
    };
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    if authority.contains('@') {
        return Err(UrlError::UserInfo);
    }
    let (host, port) = split_host_port(authority)?;
    if host.is_empty() {
        return Err(UrlError::MissingHost);
    }
    let port = match port {
        None | Some("") => None,
        Some(digits) => {
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UrlError::InvalidPort);
            }
            let number: u16 = digits.parse().map_err(|_| UrlError::InvalidPort)?;
            (number != default_port).then_some(number)
        }
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(&scheme);
    out.push_str("://");
    out.push_str(&host.to_ascii_lowercase());
    if let Some(port) = port {
        out.push(':');
        out.push_str(&port.to_string());
    }
    out.push_str(path);
    Ok(out)
}

/// Splits `host[:port]`, keeping an IPv6 literal's brackets with the host.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), UrlError> {
    if authority.starts_with('[') {
        let close = authority.find(']').ok_or(UrlError::MissingHost)?;
        let (host, after) = authority.split_at(close + 1);
        return match after.strip_prefix(':') {
            Some(port) => Ok((host, Some(port))),
            None if after.is_empty() => Ok((host, None)),
            None => Err(UrlError::InvalidPort),
        };
    }
    Ok(match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

/// The normalised request parameters of RFC 5849 §3.4.1.3.2.
///
/// Every name and value is percent-encoded (§3.6), the pairs are sorted by
/// encoded name and then encoded value, comparing bytes, and joined as
/// `name=value` with `&`. `oauth_signature` is left out; everything else
/// (duplicates, empty values) is kept. The cost is O(n log n) in the
/// number of parameters.
///
/// ```
/// let normalised = lti_oauth::normalized_parameters([
///     ("b", "x y"), ("a", "2"), ("oauth_signature", "ignored"), ("a", "1"),
/// ]);
/// assert_eq!(normalised, "a=1&a=2&b=x%20y");
/// ```
#[must_use]
pub fn normalized_parameters<I, K, V>(params: I) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let owned: Vec<(K, V)> = params.into_iter().collect();
    let sorted = sorted_pairs(owned.iter().map(|(n, v)| (n.as_ref(), v.as_ref())));
    let mut out = String::new();
    for (index, (name, value)) in sorted.into_iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, name);
        out.push('=');
        percent_encode_into(&mut out, value);
    }
    out
}

/// The signature base string of RFC 5849 §3.4.1.1:
/// `METHOD&enc(base string URI)&enc(normalised parameters)`.
///
/// The method is upper-cased. `base_uri` comes from [`base_string_uri`]
/// and `normalized` from [`normalized_parameters`].
///
/// ```
/// let base = lti_oauth::signature_base_string("post", "http://h/launch", "a=1&b=x%20y");
/// assert_eq!(base, "POST&http%3A%2F%2Fh%2Flaunch&a%3D1%26b%3Dx%2520y");
/// ```
#[must_use]
pub fn signature_base_string(method: &str, base_uri: &str, normalized: &str) -> String {
    let mut out = String::with_capacity(method.len() + 2 * base_uri.len() + 2 * normalized.len());
    push_method_and_uri(&mut out, method, base_uri);
    percent_encode_into(&mut out, normalized);
    out
}

/// The same as [`signature_base_string`] over [`normalized_parameters`],
/// written in one pass over the decoded parameters, with one allocation
/// for the text: the hot path of every verification.
pub(crate) fn base_string_for(method: &str, base_uri: &str, params: &[Parameter]) -> String {
    let sorted = sorted_pairs(params.iter().map(|p| (p.name(), p.value())));
    let raw_length: usize = sorted.iter().map(|(n, v)| n.len() + v.len()).sum();
    // Launch text is mostly unreserved; half again covers typical escapes.
    let mut out = String::with_capacity(
        method.len() + 2 * base_uri.len() + raw_length * 3 / 2 + 6 * sorted.len(),
    );
    push_method_and_uri(&mut out, method, base_uri);
    for (index, (name, value)) in sorted.into_iter().enumerate() {
        if index > 0 {
            out.push_str("%26"); // '&', encoded
        }
        double_percent_encode_into(&mut out, name);
        out.push_str("%3D"); // '=', encoded
        double_percent_encode_into(&mut out, value);
    }
    out
}

fn push_method_and_uri(out: &mut String, method: &str, base_uri: &str) {
    out.push_str(&method.to_ascii_uppercase());
    out.push('&');
    percent_encode_into(out, base_uri);
    out.push('&');
}

/// Steps 1 and 2 of RFC 5849 §3.4.1.3.2 without materialising the
/// encoding: the pairs but `oauth_signature`, in the order of their
/// encoded names, then encoded values (see [`cmp_encoded`]). Equal pairs
/// are indistinguishable, so an unstable sort is fine.
fn sorted_pairs<'a>(params: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
    let mut pairs: Vec<(&str, &str)> = params
        .filter(|(name, _)| *name != "oauth_signature")
        .collect();
    pairs.sort_unstable_by(|a, b| cmp_encoded(a.0, b.0).then_with(|| cmp_encoded(a.1, b.1)));
    pairs
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn scheme_and_host_are_lower_cased_path_is_not() {
        assert_eq!(
            base_string_uri("HTTP://EXAMPLE.COM/Path/To").unwrap(),
            "http://example.com/Path/To"
        );
        assert_eq!(
            base_string_uri("HtTpS://Tool.Example.Com/a").unwrap(),
            "https://tool.example.com/a"
        );
    }

    #[test]
    fn default_ports_are_dropped_others_kept() {
        assert_eq!(base_string_uri("http://h:80/r").unwrap(), "http://h/r");
        assert_eq!(base_string_uri("https://h:443/r").unwrap(), "https://h/r");
        assert_eq!(
            base_string_uri("http://h:8080/r").unwrap(),
            "http://h:8080/r"
        );
        // A default port of the *other* scheme is not a default.
        assert_eq!(base_string_uri("http://h:443/r").unwrap(), "http://h:443/r");
        assert_eq!(base_string_uri("https://h:80/r").unwrap(), "https://h:80/r");
        // RFC 3986 §6.2.3: an empty port means the default.
        assert_eq!(base_string_uri("http://h:/r").unwrap(), "http://h/r");
        assert_eq!(base_string_uri("http://h:0080/r").unwrap(), "http://h/r");
    }

    #[test]
    fn query_and_fragment_are_removed() {
        assert_eq!(base_string_uri("http://h/r?a=1&b=2").unwrap(), "http://h/r");
        assert_eq!(base_string_uri("http://h/r#frag").unwrap(), "http://h/r");
        assert_eq!(
            base_string_uri("http://h/r?a=1#frag?x").unwrap(),
            "http://h/r"
        );
        assert_eq!(base_string_uri("http://h?a=1").unwrap(), "http://h/");
        assert_eq!(base_string_uri("http://h#x/y").unwrap(), "http://h/");
    }

    #[test]
    fn empty_path_becomes_slash_and_paths_are_kept_as_given() {
        assert_eq!(base_string_uri("http://h").unwrap(), "http://h/");
        assert_eq!(
            base_string_uri("https://h:8443").unwrap(),
            "https://h:8443/"
        );
        assert_eq!(
            base_string_uri("https://h/tools/my%20tool/launch").unwrap(),
            "https://h/tools/my%20tool/launch"
        );
        assert_eq!(
            base_string_uri("https://h/a//b/").unwrap(),
            "https://h/a//b/"
        );
    }

    #[test]
    fn ipv6_hosts_keep_their_brackets() {
        assert_eq!(
            base_string_uri("http://[::1]:80/x").unwrap(),
            "http://[::1]/x"
        );
        assert_eq!(
            base_string_uri("http://[::1]:8080/x").unwrap(),
            "http://[::1]:8080/x"
        );
        assert_eq!(
            base_string_uri("http://[FE80::1]/x").unwrap(),
            "http://[fe80::1]/x"
        );
        assert_eq!(
            base_string_uri("http://[::1]x/"),
            Err(UrlError::InvalidPort)
        );
    }

    #[test]
    fn unusable_urls_are_rejected() {
        assert_eq!(base_string_uri("/launch"), Err(UrlError::MissingScheme));
        assert_eq!(
            base_string_uri("example.com/launch"),
            Err(UrlError::MissingScheme)
        );
        assert_eq!(base_string_uri("://h/launch"), Err(UrlError::MissingScheme));
        assert_eq!(base_string_uri("1http://h/"), Err(UrlError::MissingScheme));
        assert_eq!(
            base_string_uri("http:///launch"),
            Err(UrlError::MissingHost)
        );
        assert_eq!(
            base_string_uri("http://:8080/launch"),
            Err(UrlError::MissingHost)
        );
        assert_eq!(base_string_uri("http://u:p@h/"), Err(UrlError::UserInfo));
        assert_eq!(base_string_uri("http://h:x/"), Err(UrlError::InvalidPort));
        assert_eq!(base_string_uri("http://h:+80/"), Err(UrlError::InvalidPort));
        assert_eq!(
            base_string_uri("http://h:65536/"),
            Err(UrlError::InvalidPort)
        );
        assert_eq!(
            base_string_uri("ftp://h/"),
            Err(UrlError::UnsupportedScheme {
                scheme: "ftp".into()
            })
        );
    }

    #[test]
    fn url_query_is_between_question_mark_and_fragment() {
        assert_eq!(url_query("http://h/p?a=1&b#c"), Some("a=1&b"));
        assert_eq!(url_query("http://h/p?"), Some(""));
        assert_eq!(url_query("http://h/p#x?y"), None);
        assert_eq!(url_query("http://h/p"), None);
    }

    #[test]
    fn rfc5849_section_3_4_1_3_2_example() {
        // The parameters of the RFC's example request, as decoded.
        let params = [
            ("b5", "=%3D"),
            ("a3", "a"),
            ("c@", ""),
            ("a2", "r b"),
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("c2", ""),
            ("a3", "2 q"),
            ("oauth_signature", "djosJKDKJSD8743243%2Fjdk33klY%3D"),
        ];
        assert_eq!(
            normalized_parameters(params),
            "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9dj\
             dj82h48djs9d2&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1\
             &oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7"
        );
    }

    #[test]
    fn sorting_is_bytewise_on_encoded_names_then_values() {
        // Upper-case sorts before lower-case; "%" (0x25) before digits.
        let params = [
            ("b", "1"),
            ("B", "1"),
            ("a", "b"),
            ("a", "B"),
            ("a b", ""),
            ("a", ""),
        ];
        assert_eq!(normalized_parameters(params), "B=1&a=&a=B&a=b&a%20b=&b=1");
    }

    proptest::proptest! {
        #[test]
        fn one_pass_base_string_equals_the_composed_one(
            method in "[a-zA-Z]{0,7}",
            params in proptest::collection::vec((".{0,8}", ".{0,8}"), 0..10),
        ) {
            let composed = signature_base_string(&method, "http://h/p", &normalized_parameters(params.clone()));
            let params: Vec<Parameter> = params
                .into_iter()
                .map(|(n, v)| Parameter::new(n, v, crate::ParamSource::Body))
                .collect();
            proptest::prop_assert_eq!(base_string_for(&method, "http://h/p", &params), composed);
        }
    }

    #[test]
    fn base_string_upper_cases_the_method() {
        assert_eq!(
            signature_base_string("get", "http://h/", ""),
            "GET&http%3A%2F%2Fh%2F&"
        );
    }
}
