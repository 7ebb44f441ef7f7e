//! The `Authorization: OAuth …` header of RFC 5849 §3.5.1: parsing and
//! building.

use std::fmt;

use crate::encoding::{percent_decode, percent_encode_into};
use crate::error::OAuthError;
use crate::params::ParamSource;

/// The parameters of an `Authorization: OAuth …` header (RFC 5849 §3.5.1).
///
/// Parsing decodes names and values; building ([`fmt::Display`]) encodes
/// them, so a built header parses back to the same parameters.
///
/// ```
/// use lti_oauth::AuthorizationHeader;
///
/// let header = AuthorizationHeader::new()
///     .with_realm("Example")
///     .with_param("oauth_consumer_key", "key one");
/// let value = header.to_string();
/// assert_eq!(value, r#"OAuth realm="Example", oauth_consumer_key="key%20one""#);
/// assert_eq!(AuthorizationHeader::parse(&value).unwrap(), header);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthorizationHeader {
    realm: Option<String>,
    params: Vec<(String, String)>,
}

impl AuthorizationHeader {
    /// An empty header (`OAuth` with no parameters).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the `realm` (RFC 2617), which is never signed. Quotes and
    /// backslashes are escaped when the header is written; control
    /// characters become spaces.
    #[must_use]
    pub fn with_realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Appends a parameter (decoded; it is encoded when written).
    #[must_use]
    pub fn with_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.push(name, value);
        self
    }

    /// Appends a parameter (decoded; it is encoded when written).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.params.push((name.into(), value.into()));
    }

    /// The realm, if the header has one.
    #[must_use]
    pub fn realm(&self) -> Option<&str> {
        self.realm.as_deref()
    }

    /// The decoded parameters, in header order, without `realm`.
    #[must_use]
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The decoded parameters, in header order, without `realm`.
    #[must_use]
    pub fn into_params(self) -> Vec<(String, String)> {
        self.params
    }

    /// Whether an `Authorization` header value uses the `OAuth` scheme
    /// (compared case-insensitively, as RFC 7235 §2.1 requires).
    #[must_use]
    pub fn is_oauth_scheme(value: &str) -> bool {
        let value = value.trim_start_matches([' ', '\t']);
        value
            .get(..5)
            .is_some_and(|s| s.eq_ignore_ascii_case("oauth"))
            && value
                .get(5..)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    }

    /// Parses an `Authorization` header value of the `OAuth` scheme.
    ///
    /// Parameters are `name="value"`, separated by commas with optional
    /// whitespace; names and values are percent-decoded strictly (a `+`
    /// stays a plus sign). Unquoted values are accepted too, as several
    /// consumers send them. `realm` is kept apart and not decoded.
    ///
    /// # Errors
    ///
    /// [`OAuthError::MalformedAuthorizationHeader`] for another scheme or a
    /// syntax error, [`OAuthError::MalformedParameters`] for a bad
    /// percent-escape. Both are 400s.
    pub fn parse(value: &str) -> Result<Self, OAuthError> {
        if !Self::is_oauth_scheme(value) {
            return Err(malformed("the scheme is not OAuth"));
        }
        let start = value.len() - value.trim_start_matches([' ', '\t']).len() + 5;
        let mut cursor = Cursor {
            text: value,
            pos: start,
        };
        let mut header = AuthorizationHeader::new();
        loop {
            cursor.skip(|b| matches!(b, b' ' | b'\t' | b','));
            if cursor.at_end() {
                return Ok(header);
            }
            // An empty name is allowed, as in form bodies, so that every
            // header this crate builds parses back.
            let name = cursor.take_while(|b| !matches!(b, b'=' | b',' | b' ' | b'\t' | b'"'));
            cursor.skip(is_space);
            if !cursor.eat(b'=') {
                return Err(malformed("a parameter has no value"));
            }
            cursor.skip(is_space);
            let raw = if cursor.eat(b'"') {
                cursor.quoted_string()?
            } else {
                cursor
                    .take_while(|b| !matches!(b, b',' | b' ' | b'\t' | b'"'))
                    .to_owned()
            };
            cursor.skip(is_space);
            if !(cursor.at_end() || cursor.eat(b',')) {
                return Err(malformed("parameters must be separated by commas"));
            }
            if name == "realm" {
                if header.realm.replace(raw).is_some() {
                    return Err(malformed("realm is given twice"));
                }
                continue;
            }
            let decode = |text: &str| {
                percent_decode(text).map_err(|error| OAuthError::MalformedParameters {
                    origin: ParamSource::Header,
                    error,
                })
            };
            header.params.push((decode(name)?, decode(&raw)?));
        }
    }
}

impl fmt::Display for AuthorizationHeader {
    /// Writes the header value: `OAuth realm="…", name="value", …`, with
    /// names and values encoded per RFC 5849 §3.6.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OAuth")?;
        let mut separator = " ";
        if let Some(realm) = &self.realm {
            f.write_str(" realm=\"")?;
            for c in realm.chars() {
                match c {
                    '"' | '\\' => write!(f, "\\{c}")?,
                    c if c.is_control() => f.write_str(" ")?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str("\"")?;
            separator = ", ";
        }
        let mut encoded = String::new();
        for (name, value) in &self.params {
            encoded.clear();
            percent_encode_into(&mut encoded, name);
            encoded.push_str("=\"");
            percent_encode_into(&mut encoded, value);
            encoded.push('"');
            f.write_str(separator)?;
            f.write_str(&encoded)?;
            separator = ", ";
        }
        Ok(())
    }
}

fn malformed(reason: &'static str) -> OAuthError {
    OAuthError::MalformedAuthorizationHeader { reason }
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t')
}

/// A position in the header value. Every delimiter it stops at is ASCII,
/// so every slice it takes falls on a char boundary.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn skip(&mut self, mut skipped: impl FnMut(u8) -> bool) {
        while self.peek().is_some_and(&mut skipped) {
            self.pos += 1;
        }
    }

    fn take_while(&mut self, mut kept: impl FnMut(u8) -> bool) -> &'a str {
        let start = self.pos;
        // Non-ASCII bytes are never delimiters, so this stops only on ASCII.
        self.skip(&mut kept);
        &self.text[start..self.pos]
    }

    /// The rest of a quoted-string whose opening quote was eaten, with
    /// RFC 7230 §3.2.6 backslash escapes resolved.
    fn quoted_string(&mut self) -> Result<String, OAuthError> {
        let mut out = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((offset, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += offset + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => out.push(escaped),
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(malformed("a quoted value is not terminated"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parsed(value: &str) -> Vec<(String, String)> {
        AuthorizationHeader::parse(value).unwrap().into_params()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|&(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn parses_the_rfc5849_section_3_5_1_example() {
        let header = AuthorizationHeader::parse(
            "OAuth realm=\"Example\", oauth_consumer_key=\"0685bd9184jfhq22\", \
             oauth_token=\"ad180jjd733klru7\", oauth_signature_method=\"HMAC-SHA1\", \
             oauth_signature=\"wOJIO9A2W5mFwDgiDvZbTSMK%2FPY%3D\", \
             oauth_timestamp=\"137131200\", oauth_nonce=\"4572616e48616d6d65724c61686176\", \
             oauth_version=\"1.0\"",
        )
        .unwrap();
        assert_eq!(header.realm(), Some("Example"));
        assert_eq!(
            header.params(),
            pairs(&[
                ("oauth_consumer_key", "0685bd9184jfhq22"),
                ("oauth_token", "ad180jjd733klru7"),
                ("oauth_signature_method", "HMAC-SHA1"),
                ("oauth_signature", "wOJIO9A2W5mFwDgiDvZbTSMK/PY="),
                ("oauth_timestamp", "137131200"),
                ("oauth_nonce", "4572616e48616d6d65724c61686176"),
                ("oauth_version", "1.0"),
            ])
        );
    }

    #[test]
    fn whitespace_case_and_unquoted_values_are_tolerated() {
        assert_eq!(
            parsed("  oauth   a=\"1\" ,b = \"x%20y+z\",,c=3 , "),
            pairs(&[("a", "1"), ("b", "x y+z"), ("c", "3")])
        );
        assert_eq!(parsed("OAuth"), pairs(&[]));
        assert_eq!(parsed("OAUTH\tx=\"\""), pairs(&[("x", "")]));
        assert_eq!(parsed(r#"OAuth q="a\"b""#), pairs(&[("q", "a\"b")]));
        assert_eq!(
            parsed(r#"OAuth ="", a="1""#),
            pairs(&[("", ""), ("a", "1")])
        );
    }

    #[test]
    fn malformed_headers_are_rejected_with_a_reason() {
        for bad in [
            "Bearer abc",
            "OAuthx a=\"1\"",
            "OAuth a",
            "OAuth a=\"1",
            "OAuth a=\"1\" b=\"2\"",
            "OAuth \"a\"=\"1\"",
            "OAuth realm=\"a\", realm=\"b\"",
            "OAuth a=\"1\\",
        ] {
            let err = AuthorizationHeader::parse(bad).unwrap_err();
            assert!(
                matches!(err, OAuthError::MalformedAuthorizationHeader { .. }),
                "{bad}: {err:?}"
            );
            assert_eq!(err.class(), crate::ErrorClass::BadRequest);
        }
        let err = AuthorizationHeader::parse("OAuth a=\"%2\"").unwrap_err();
        assert!(matches!(
            err,
            OAuthError::MalformedParameters {
                origin: ParamSource::Header,
                ..
            }
        ));
    }

    #[test]
    fn scheme_detection() {
        assert!(AuthorizationHeader::is_oauth_scheme("OAuth a=\"1\""));
        assert!(AuthorizationHeader::is_oauth_scheme("oauth"));
        assert!(AuthorizationHeader::is_oauth_scheme(" \tOAuth\ta=1"));
        assert!(!AuthorizationHeader::is_oauth_scheme("OAuthx"));
        assert!(!AuthorizationHeader::is_oauth_scheme("Basic abc"));
        assert!(!AuthorizationHeader::is_oauth_scheme("OAut"));
        assert!(!AuthorizationHeader::is_oauth_scheme("OAuŧ"));
    }

    #[test]
    fn build_writes_encoded_quoted_parameters() {
        let header = AuthorizationHeader::new()
            .with_realm("say \"hi\" \\ \n")
            .with_param("oauth_body_hash", "fUO1KGQcuc/eIxdNOeBQrpSXz6U=")
            .with_param("name with space", "välue, \"q\" = +")
            .with_param("", "");
        assert_eq!(
            header.to_string(),
            "OAuth realm=\"say \\\"hi\\\" \\\\  \", \
             oauth_body_hash=\"fUO1KGQcuc%2FeIxdNOeBQrpSXz6U%3D\", \
             name%20with%20space=\"v%C3%A4lue%2C%20%22q%22%20%3D%20%2B\", =\"\""
        );
        assert_eq!(AuthorizationHeader::new().to_string(), "OAuth");
    }

    #[test]
    fn build_then_parse_round_trips() {
        let header = AuthorizationHeader::new()
            .with_realm("say \"hi\" \\")
            .with_param("oauth_body_hash", "fUO1KGQcuc/eIxdNOeBQrpSXz6U=")
            .with_param("name with space", "välue, \"q\" = +")
            .with_param("", "")
            .with_param("empty", "");
        assert_eq!(
            AuthorizationHeader::parse(&header.to_string()).unwrap(),
            header
        );
        let no_realm = AuthorizationHeader::new().with_param("a", "b");
        assert_eq!(
            AuthorizationHeader::parse(&no_realm.to_string()).unwrap(),
            no_realm
        );
    }
}
