//! Parameter collection from the three sources of RFC 5849 §3.4.1.3.1.

use std::collections::HashSet;
use std::fmt;

use crate::base_string::url_query;
use crate::encoding::form_decode_each;
use crate::error::{OAuthError, echo};
use crate::header::AuthorizationHeader;

/// Where a request parameter came from (RFC 5849 §3.4.1.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamSource {
    /// The query component of the request URL.
    Query,
    /// The `application/x-www-form-urlencoded` request body.
    Body,
    /// The `Authorization: OAuth …` header.
    Header,
}

impl fmt::Display for ParamSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParamSource::Query => "URL query",
            ParamSource::Body => "form body",
            ParamSource::Header => "Authorization header",
        })
    }
}

/// One decoded request parameter and the source it came from.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Parameter {
    /// The name, then the value: one allocation per parameter, as a launch
    /// has dozens of them.
    text: String,
    /// Where the name ends (always a char boundary).
    name_len: usize,
    source: ParamSource,
}

impl Parameter {
    /// A decoded parameter from `source`.
    #[must_use]
    pub fn new(name: impl AsRef<str>, value: impl AsRef<str>, source: ParamSource) -> Self {
        let (name, value) = (name.as_ref(), value.as_ref());
        let mut text = String::with_capacity(name.len() + value.len());
        text.push_str(name);
        text.push_str(value);
        Parameter {
            text,
            name_len: name.len(),
            source,
        }
    }

    /// A parameter from `text`, whose first `name_len` bytes are the name.
    /// `name_len` must be a char boundary of `text`.
    pub(crate) fn from_joined(text: String, name_len: usize, source: ParamSource) -> Self {
        debug_assert!(text.is_char_boundary(name_len));
        Parameter {
            text,
            name_len,
            source,
        }
    }

    /// The decoded name.
    #[must_use]
    pub fn name(&self) -> &str {
        self.text.get(..self.name_len).unwrap_or_default()
    }

    /// The decoded value.
    #[must_use]
    pub fn value(&self) -> &str {
        self.text.get(self.name_len..).unwrap_or_default()
    }

    /// Where the parameter came from.
    #[must_use]
    pub fn source(&self) -> ParamSource {
        self.source
    }

    /// Whether this is an OAuth protocol parameter (its name starts with
    /// `oauth_`).
    #[must_use]
    pub fn is_protocol(&self) -> bool {
        self.name().starts_with("oauth_")
    }
}

impl fmt::Debug for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parameter")
            .field("name", &self.name())
            .field("value", &self.value())
            .field("source", &self.source)
            .finish()
    }
}

/// Collects the parameters of a request from its URL query, its
/// `Authorization` header and its form body, in that order (the order of
/// RFC 5849 §3.4.1.3.1), keeping duplicates and their order.
///
/// * `url` is the request URL; its query component (if any) is decoded as
///   `application/x-www-form-urlencoded`.
/// * `form_body` is the raw body, to be passed only when the request's
///   `Content-Type` is `application/x-www-form-urlencoded` (RFC 5849
///   §3.4.1.3.1 ignores other bodies).
/// * `authorization` is the `Authorization` header value; a header using a
///   scheme other than `OAuth` is ignored, and `realm` is left out.
///
/// # Errors
///
/// [`OAuthError::MalformedParameters`] or
/// [`OAuthError::MalformedAuthorizationHeader`] when a source cannot be
/// decoded, and [`OAuthError::DuplicateProtocolParameter`] when an `oauth_*`
/// parameter occurs twice, within one source or across sources (RFC 5849
/// §3.2). All are [`ErrorClass::BadRequest`](crate::ErrorClass::BadRequest).
pub fn collect_parameters(
    url: &str,
    form_body: Option<&[u8]>,
    authorization: Option<&str>,
) -> Result<Vec<Parameter>, OAuthError> {
    let mut params = Vec::new();
    if let Some(query) = url_query(url) {
        push_form(&mut params, query.as_bytes(), ParamSource::Query)?;
    }
    if let Some(value) = authorization.filter(|v| AuthorizationHeader::is_oauth_scheme(v)) {
        let header = AuthorizationHeader::parse(value)?;
        params.extend(
            header
                .into_params()
                .into_iter()
                .map(|(name, value)| Parameter::new(name, value, ParamSource::Header)),
        );
    }
    if let Some(body) = form_body {
        push_form(&mut params, body, ParamSource::Body)?;
    }
    check_protocol_duplicates(&params)?;
    Ok(params)
}

fn push_form(
    params: &mut Vec<Parameter>,
    input: &[u8],
    source: ParamSource,
) -> Result<(), OAuthError> {
    form_decode_each(input, |text, name_len| {
        params.push(Parameter::from_joined(text, name_len, source));
    })
    .map_err(|error| OAuthError::MalformedParameters {
        origin: source,
        error,
    })
}

/// Fails when an `oauth_*` name occurs more than once (RFC 5849 §3.2:
/// "duplicated protocol parameter" is a 400).
///
/// Sorting the (few) protocol names is O(n log n) and, for the usual
/// seven, cheaper than hashing them.
pub(crate) fn check_protocol_duplicates(params: &[Parameter]) -> Result<(), OAuthError> {
    let mut names: Vec<&str> = params
        .iter()
        .filter(|p| p.is_protocol())
        .map(Parameter::name)
        .collect();
    names.sort_unstable();
    match names.windows(2).find(|pair| pair[0] == pair[1]) {
        Some(pair) => Err(OAuthError::DuplicateProtocolParameter {
            name: echo(pair[0]),
        }),
        None => Ok(()),
    }
}

/// Drops the URL-query parameters that Canvas also copied into the body.
///
/// Canvas copies the launch URL's query parameters into the form body but
/// signs each of them only once (pylti/lti #50, instructure/canvas-lms
/// #600), so the RFC 5849 base string — which counts the query copy *and*
/// the body copy — never matches. This returns `params` without every
/// [`ParamSource::Query`] parameter whose name **and** value also occur in
/// the body; a query parameter whose value differs from the body's is kept.
///
/// Verifying with this list is weaker than plain RFC 5849 only in accepting
/// such doubled parameters, so a framework should try it only after plain
/// verification failed (see
/// [`SignedRequest::without_canvas_query_duplicates`](crate::SignedRequest::without_canvas_query_duplicates)).
///
/// ```
/// use lti_oauth::{strip_canvas_query_duplicates, ParamSource, Parameter};
///
/// let params = [
///     Parameter::new("course", "7", ParamSource::Query),
///     Parameter::new("page", "2", ParamSource::Query),
///     Parameter::new("course", "7", ParamSource::Body),
///     Parameter::new("page", "3", ParamSource::Body),
/// ];
/// let kept = strip_canvas_query_duplicates(&params);
/// assert_eq!(kept, params[1..]);
/// ```
#[must_use]
pub fn strip_canvas_query_duplicates(params: &[Parameter]) -> Vec<Parameter> {
    let in_body: HashSet<(&str, &str)> = params
        .iter()
        .filter(|p| p.source == ParamSource::Body)
        .map(|p| (p.name(), p.value()))
        .collect();
    params
        .iter()
        .filter(|p| !(p.source == ParamSource::Query && in_body.contains(&(p.name(), p.value()))))
        .cloned()
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn names_and_sources(params: &[Parameter]) -> Vec<(&str, &str, ParamSource)> {
        params
            .iter()
            .map(|p| (p.name(), p.value(), p.source()))
            .collect()
    }

    #[test]
    fn collects_query_header_and_body_in_order_with_duplicates() {
        let params = collect_parameters(
            "https://tool.example/launch?b=2&a=1&a=1#frag",
            Some(b"c=3&a=1"),
            Some(r#"OAuth realm="x", oauth_nonce="n%20n", c="4""#),
        )
        .unwrap();
        assert_eq!(
            names_and_sources(&params),
            [
                ("b", "2", ParamSource::Query),
                ("a", "1", ParamSource::Query),
                ("a", "1", ParamSource::Query),
                ("oauth_nonce", "n n", ParamSource::Header),
                ("c", "4", ParamSource::Header),
                ("c", "3", ParamSource::Body),
                ("a", "1", ParamSource::Body),
            ]
        );
    }

    #[test]
    fn fragment_is_not_part_of_the_query() {
        let params = collect_parameters("http://h/p?a=1#b=2", None, None).unwrap();
        assert_eq!(names_and_sources(&params), [("a", "1", ParamSource::Query)]);
    }

    #[test]
    fn non_oauth_authorization_schemes_are_ignored() {
        let params = collect_parameters("http://h/", None, Some("Basic dXNlcjpwYXNz")).unwrap();
        assert!(params.is_empty());
    }

    #[test]
    fn duplicate_protocol_parameter_across_sources_is_an_error() {
        let err = collect_parameters(
            "http://h/launch?oauth_nonce=1",
            Some(b"oauth_nonce=1"),
            None,
        )
        .unwrap_err();
        assert_eq!(
            err,
            OAuthError::DuplicateProtocolParameter {
                name: "oauth_nonce".into()
            }
        );
        assert_eq!(err.class(), crate::ErrorClass::BadRequest);

        let err = collect_parameters(
            "http://h/launch",
            Some(b"oauth_consumer_key=k"),
            Some(r#"OAuth oauth_consumer_key="k""#),
        )
        .unwrap_err();
        assert_eq!(
            err,
            OAuthError::DuplicateProtocolParameter {
                name: "oauth_consumer_key".into()
            }
        );
    }

    #[test]
    fn duplicate_protocol_parameter_within_one_source_is_an_error() {
        let err = collect_parameters(
            "http://h/",
            Some(b"oauth_signature=a&oauth_signature=b"),
            None,
        )
        .unwrap_err();
        assert_eq!(
            err,
            OAuthError::DuplicateProtocolParameter {
                name: "oauth_signature".into()
            }
        );
        let err = collect_parameters(
            "http://h/",
            None,
            Some(r#"OAuth oauth_nonce="a", oauth_nonce="b""#),
        )
        .unwrap_err();
        assert!(
            matches!(err, OAuthError::DuplicateProtocolParameter { name } if name == "oauth_nonce")
        );
    }

    #[test]
    fn duplicate_ordinary_parameters_are_kept() {
        let params =
            collect_parameters("http://h/?x=1", Some(b"x=1&x=2&oauthx=1&oauthx=1"), None).unwrap();
        assert_eq!(params.len(), 5);
    }

    #[test]
    fn malformed_sources_name_their_origin() {
        let err = collect_parameters("http://h/?a=%zz", None, None).unwrap_err();
        assert!(matches!(
            err,
            OAuthError::MalformedParameters {
                origin: ParamSource::Query,
                ..
            }
        ));
        let err = collect_parameters("http://h/", Some(b"a=\xff"), None).unwrap_err();
        assert!(matches!(
            err,
            OAuthError::MalformedParameters {
                origin: ParamSource::Body,
                ..
            }
        ));
        assert_eq!(err.class(), crate::ErrorClass::BadRequest);
    }

    #[test]
    fn canvas_helper_removes_only_identical_name_and_value() {
        let params = collect_parameters(
            "http://h/launch?course=7&course=8&page=2&only_query=1",
            Some(b"course=7&page=3&x=1&course=7"),
            None,
        )
        .unwrap();
        let kept = strip_canvas_query_duplicates(&params);
        assert_eq!(
            names_and_sources(&kept),
            [
                ("course", "8", ParamSource::Query),
                ("page", "2", ParamSource::Query),
                ("only_query", "1", ParamSource::Query),
                ("course", "7", ParamSource::Body),
                ("page", "3", ParamSource::Body),
                ("x", "1", ParamSource::Body),
                ("course", "7", ParamSource::Body),
            ]
        );
    }

    #[test]
    fn canvas_helper_never_touches_body_or_header_parameters() {
        let params = vec![
            Parameter::new("a", "1", ParamSource::Header),
            Parameter::new("a", "1", ParamSource::Body),
            Parameter::new("a", "1", ParamSource::Body),
        ];
        assert_eq!(strip_canvas_query_duplicates(&params), params);
    }
}
