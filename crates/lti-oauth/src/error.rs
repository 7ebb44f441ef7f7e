//! Errors, and their RFC 5849 §3.2 classification.

use crate::params::ParamSource;

/// The longest piece of request text an error carries (in characters).
///
/// Names and values in errors come from the request; capping them keeps a
/// hostile request from turning one log line into megabytes.
const MAX_ECHO_CHARS: usize = 64;

/// How a failure must be answered, per RFC 5849 §3.2.
///
/// `BadRequest` (HTTP 400) covers requests that are malformed or use what
/// the server does not support; `Unauthorized` (HTTP 401) covers requests
/// that are well formed but whose credentials do not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// Unsupported parameter or signature method, missing required
    /// parameter, duplicated protocol parameter, malformed encoding (400).
    BadRequest,
    /// Invalid signature, body hash, or similar credential failure (401).
    Unauthorized,
}

impl ErrorClass {
    /// The HTTP status code RFC 5849 §3.2 prescribes for this class.
    #[must_use]
    pub fn status_code(self) -> u16 {
        match self {
            ErrorClass::BadRequest => 400,
            ErrorClass::Unauthorized => 401,
        }
    }
}

/// A malformed `application/x-www-form-urlencoded` or percent-encoded text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodingError {
    /// A `%` not followed by two hexadecimal digits.
    #[error("invalid percent-escape at byte {offset}")]
    InvalidPercentEscape {
        /// Byte offset of the `%` in the input.
        offset: usize,
    },
    /// The decoded bytes are not UTF-8 text.
    #[error("decoded text is not valid UTF-8")]
    InvalidUtf8,
}

/// Why a URL cannot be turned into a base string URI (RFC 5849 §3.4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// No `scheme://` prefix.
    #[error("the URL has no scheme")]
    MissingScheme,
    /// A scheme other than `http` or `https`.
    #[error("unsupported URL scheme {scheme:?}")]
    UnsupportedScheme {
        /// The scheme, lower-cased (truncated if long).
        scheme: String,
    },
    /// No host between `//` and the path.
    #[error("the URL has no host")]
    MissingHost,
    /// The URL carries `user:password@` credentials.
    #[error("the URL carries user information")]
    UserInfo,
    /// The port is not a number from 0 to 65535.
    #[error("the URL port is invalid")]
    InvalidPort,
}

/// Everything that can go wrong while collecting, verifying or signing.
///
/// [`OAuthError::class`] tells whether the answer is 400 or 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The request URL cannot be used for the base string.
    #[error("invalid request URL: {0}")]
    InvalidUrl(#[from] UrlError),
    /// A parameter source is not valid form or percent encoding.
    #[error("malformed parameters in the {origin}: {error}")]
    MalformedParameters {
        /// Where the malformed text was.
        origin: ParamSource,
        /// What is wrong with it.
        #[source]
        error: EncodingError,
    },
    /// The `Authorization: OAuth …` header cannot be parsed (RFC 5849 §3.5.1).
    #[error("malformed Authorization header: {reason}")]
    MalformedAuthorizationHeader {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An `oauth_*` parameter appears more than once, in one source or
    /// across sources (RFC 5849 §3.2).
    #[error("protocol parameter {name:?} is given more than once")]
    DuplicateProtocolParameter {
        /// The parameter name (truncated if long).
        name: String,
    },
    /// A required protocol parameter is absent or empty.
    #[error("required parameter {name} is missing or empty")]
    MissingParameter {
        /// The parameter name.
        name: &'static str,
    },
    /// The signature method is not `HMAC-SHA1` or `HMAC-SHA256`
    /// (`PLAINTEXT` and the RSA methods are refused on purpose).
    #[error("unsupported signature method {method:?}")]
    UnsupportedSignatureMethod {
        /// The method as given (truncated if long).
        method: String,
    },
    /// `oauth_version` is present and not `1.0` (RFC 5849 §3.1).
    #[error("unsupported oauth_version {version:?}")]
    UnsupportedVersion {
        /// The version as given (truncated if long).
        version: String,
    },
    /// The signature does not match the request and secret.
    #[error("invalid signature")]
    InvalidSignature,
    /// `oauth_body_hash` does not match the body.
    #[error("oauth_body_hash does not match the body")]
    BodyHashMismatch,
}

impl OAuthError {
    /// Whether this failure is answered with 400 or 401 (RFC 5849 §3.2).
    #[must_use]
    pub fn class(&self) -> ErrorClass {
        match self {
            OAuthError::InvalidUrl(_)
            | OAuthError::MalformedParameters { .. }
            | OAuthError::MalformedAuthorizationHeader { .. }
            | OAuthError::DuplicateProtocolParameter { .. }
            | OAuthError::MissingParameter { .. }
            | OAuthError::UnsupportedSignatureMethod { .. }
            | OAuthError::UnsupportedVersion { .. } => ErrorClass::BadRequest,
            OAuthError::InvalidSignature | OAuthError::BodyHashMismatch => ErrorClass::Unauthorized,
        }
    }
}

/// A copy of request text short enough to put in an error message.
pub(crate) fn echo(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHO_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_rfc5849_section_3_2() {
        assert_eq!(
            OAuthError::MissingParameter {
                name: "oauth_nonce"
            }
            .class(),
            ErrorClass::BadRequest
        );
        assert_eq!(
            OAuthError::UnsupportedSignatureMethod {
                method: "PLAINTEXT".into()
            }
            .class(),
            ErrorClass::BadRequest
        );
        assert_eq!(
            OAuthError::InvalidSignature.class(),
            ErrorClass::Unauthorized
        );
        assert_eq!(OAuthError::BodyHashMismatch.class().status_code(), 401);
        assert_eq!(ErrorClass::BadRequest.status_code(), 400);
    }

    #[test]
    fn echo_caps_long_text_on_a_char_boundary() {
        assert_eq!(echo("short"), "short");
        let long = "é".repeat(100);
        let shown = echo(&long);
        assert_eq!(shown.chars().count(), MAX_ECHO_CHARS + 1);
        assert!(shown.ends_with('…'));
    }
}
