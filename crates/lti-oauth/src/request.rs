//! [`SignedRequest`]: an incoming signed request, collected and ready to
//! verify.

use std::fmt;

use crate::base_string::{base_string_for, base_string_uri};
use crate::body_hash::verify_body_hash;
use crate::error::{OAuthError, echo};
use crate::params::{
    Parameter, check_protocol_duplicates, collect_parameters, strip_canvas_query_duplicates,
};
use crate::signature::{SignatureMethod, verify_signature};

/// Where the protocol parameters sit in the parameter list.
#[derive(Clone, Copy)]
struct Protocol {
    consumer_key: usize,
    signature: usize,
    signature_method: SignatureMethod,
    nonce: usize,
    timestamp: usize,
    token: Option<usize>,
    body_hash: Option<usize>,
}

/// An incoming OAuth 1.0a request: its parameters from every source, its
/// protocol parameters checked for presence and support, and its signature
/// base string, ready to be verified against the consumer's secret.
///
/// Building one checks everything that does not need the secret (all such
/// failures are [`ErrorClass::BadRequest`](crate::ErrorClass::BadRequest));
/// [`verify`](Self::verify) then checks the signature. The timestamp window
/// and the nonce are *not* checked here: see [`timestamp`](Self::timestamp)
/// and [`nonce`](Self::nonce).
///
/// `Debug` leaves out the parameters and the signature, so a request can be
/// logged.
#[derive(Clone)]
pub struct SignedRequest {
    method: String,
    base_uri: String,
    params: Vec<Parameter>,
    protocol: Protocol,
    base_string: String,
}

impl SignedRequest {
    /// Collects and checks a request.
    ///
    /// * `method`: the HTTP method (upper-cased for the base string).
    /// * `url`: the full URL the consumer signed, query included: the
    ///   framework builds it from its canonical root, never from `Host`. Its
    ///   query is a parameter source *and* is dropped from the base string
    ///   URI (RFC 5849 §3.4.1.2).
    /// * `form_body`: the raw body, only when the `Content-Type` is
    ///   `application/x-www-form-urlencoded`; `None` otherwise.
    /// * `authorization`: the `Authorization` header value, if any; other
    ///   schemes than `OAuth` are ignored.
    ///
    /// # Errors
    ///
    /// A 400-class [`OAuthError`]: [`InvalidUrl`](OAuthError::InvalidUrl),
    /// [`MalformedParameters`](OAuthError::MalformedParameters),
    /// [`MalformedAuthorizationHeader`](OAuthError::MalformedAuthorizationHeader),
    /// [`DuplicateProtocolParameter`](OAuthError::DuplicateProtocolParameter),
    /// [`MissingParameter`](OAuthError::MissingParameter) (for an absent or
    /// empty `oauth_consumer_key`, `oauth_signature`,
    /// `oauth_signature_method`, `oauth_nonce` or `oauth_timestamp`),
    /// [`UnsupportedSignatureMethod`](OAuthError::UnsupportedSignatureMethod)
    /// or [`UnsupportedVersion`](OAuthError::UnsupportedVersion).
    pub fn from_parts(
        method: &str,
        url: &str,
        form_body: Option<&[u8]>,
        authorization: Option<&str>,
    ) -> Result<Self, OAuthError> {
        let base_uri = base_string_uri(url)?;
        let params = collect_parameters(url, form_body, authorization)?;
        Self::build(method, base_uri, params)
    }

    /// Checks a request whose parameters were collected already (for
    /// instance by [`collect_parameters`] and then filtered).
    ///
    /// Only the scheme, host, port and path of `url` are used; its query is
    /// *not* added to `params`.
    ///
    /// # Errors
    ///
    /// As [`from_parts`](Self::from_parts).
    pub fn from_parameters(
        method: &str,
        url: &str,
        params: Vec<Parameter>,
    ) -> Result<Self, OAuthError> {
        let base_uri = base_string_uri(url)?;
        check_protocol_duplicates(&params)?;
        Self::build(method, base_uri, params)
    }

    fn build(method: &str, base_uri: String, params: Vec<Parameter>) -> Result<Self, OAuthError> {
        let protocol = find_protocol(&params)?;
        let method = method.to_ascii_uppercase();
        let base_string = base_string_for(&method, &base_uri, &params);
        Ok(SignedRequest {
            method,
            base_uri,
            params,
            protocol,
            base_string,
        })
    }

    /// Verifies the signature with the consumer's secret (and no token, as
    /// in LTI launches), in constant time.
    ///
    /// # Errors
    ///
    /// [`OAuthError::InvalidSignature`] (401).
    pub fn verify(&self, consumer_secret: &str) -> Result<(), OAuthError> {
        self.verify_with_token_secret(consumer_secret, "")
    }

    /// Verifies the signature with the consumer's and the token's secret.
    ///
    /// # Errors
    ///
    /// [`OAuthError::InvalidSignature`] (401).
    pub fn verify_with_token_secret(
        &self,
        consumer_secret: &str,
        token_secret: &str,
    ) -> Result<(), OAuthError> {
        verify_signature(
            self.protocol.signature_method,
            &self.base_string,
            consumer_secret,
            token_secret,
            self.value(self.protocol.signature),
        )
    }

    /// Checks `oauth_body_hash` against the raw body (LTI 1.1 outcomes).
    /// Verify the signature too: the hash is only as good as the signature
    /// over it.
    ///
    /// # Errors
    ///
    /// [`OAuthError::MissingParameter`] (400) when the request has no
    /// `oauth_body_hash`, [`OAuthError::BodyHashMismatch`] (401) when it
    /// does not match.
    pub fn verify_body_hash(&self, body: &[u8]) -> Result<(), OAuthError> {
        let claimed = self.body_hash().ok_or(OAuthError::MissingParameter {
            name: "oauth_body_hash",
        })?;
        verify_body_hash(body, claimed)
    }

    /// The same request with the URL-query parameters that Canvas copied
    /// into the body removed (see [`strip_canvas_query_duplicates`]), or
    /// `None` when there are none (so a retry would be pointless).
    ///
    /// Try it only after [`verify`](Self::verify) failed on `self`.
    #[must_use]
    pub fn without_canvas_query_duplicates(&self) -> Option<Self> {
        let params = strip_canvas_query_duplicates(&self.params);
        if params.len() == self.params.len() {
            return None;
        }
        // Only non-protocol parameters were removed (a protocol parameter
        // in both query and body is rejected when collecting), so this
        // cannot fail; `ok()` keeps that reasoning out of the signature.
        Self::build(&self.method, self.base_uri.clone(), params).ok()
    }

    /// The HTTP method, upper-cased.
    #[must_use]
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The base string URI (RFC 5849 §3.4.1.2) computed from the URL.
    #[must_use]
    pub fn base_uri(&self) -> &str {
        &self.base_uri
    }

    /// The signature base string (RFC 5849 §3.4.1.1) the signature is
    /// checked over: what a "launch doctor" shows when verification fails.
    /// It contains no secret.
    #[must_use]
    pub fn base_string(&self) -> &str {
        &self.base_string
    }

    /// Every parameter, `oauth_*` included, in collection order (query,
    /// `Authorization` header, body), with its source.
    #[must_use]
    pub fn parameters(&self) -> &[Parameter] {
        &self.params
    }

    /// Consumes the request, returning its parameters.
    #[must_use]
    pub fn into_parameters(self) -> Vec<Parameter> {
        self.params
    }

    /// `oauth_consumer_key` (never empty).
    #[must_use]
    pub fn consumer_key(&self) -> &str {
        self.value(self.protocol.consumer_key)
    }

    /// The signature method (from `oauth_signature_method`).
    #[must_use]
    pub fn signature_method(&self) -> SignatureMethod {
        self.protocol.signature_method
    }

    /// `oauth_nonce` (never empty). Uniqueness is the caller's to check.
    #[must_use]
    pub fn nonce(&self) -> &str {
        self.value(self.protocol.nonce)
    }

    /// `oauth_timestamp` as sent (never empty). Its format and window are
    /// the caller's to check; see also
    /// [`timestamp_secs`](Self::timestamp_secs).
    #[must_use]
    pub fn timestamp(&self) -> &str {
        self.value(self.protocol.timestamp)
    }

    /// `oauth_timestamp` as seconds since the Unix epoch, when it is all
    /// ASCII digits and fits in a `u64`.
    #[must_use]
    pub fn timestamp_secs(&self) -> Option<u64> {
        let text = self.timestamp();
        if text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse().ok()
        } else {
            None
        }
    }

    /// `oauth_token`, if present (LTI launches have none).
    #[must_use]
    pub fn token(&self) -> Option<&str> {
        self.protocol.token.map(|i| self.value(i))
    }

    /// `oauth_body_hash`, if present.
    #[must_use]
    pub fn body_hash(&self) -> Option<&str> {
        self.protocol.body_hash.map(|i| self.value(i))
    }

    fn value(&self, index: usize) -> &str {
        self.params.get(index).map_or("", Parameter::value)
    }
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("base_uri", &self.base_uri)
            .field("consumer_key", &self.consumer_key())
            .field("signature_method", &self.signature_method())
            .field("nonce", &self.nonce())
            .field("timestamp", &self.timestamp())
            .field("parameters", &self.params.len())
            .field("signature", &"<redacted>")
            .finish()
    }
}

/// Finds the protocol parameters in one pass and checks those that must be
/// present (RFC 5849 §3.1) and supported (§3.2). Duplicates were rejected
/// before, so each name has at most one index.
fn find_protocol(params: &[Parameter]) -> Result<Protocol, OAuthError> {
    let (mut consumer_key, mut signature, mut method, mut nonce) = (None, None, None, None);
    let (mut timestamp, mut version, mut token, mut body_hash) = (None, None, None, None);
    for (index, param) in params.iter().enumerate() {
        let slot = match param.name() {
            "oauth_consumer_key" => &mut consumer_key,
            "oauth_signature" => &mut signature,
            "oauth_signature_method" => &mut method,
            "oauth_nonce" => &mut nonce,
            "oauth_timestamp" => &mut timestamp,
            "oauth_version" => &mut version,
            "oauth_token" => &mut token,
            "oauth_body_hash" => &mut body_hash,
            _ => continue,
        };
        *slot = Some(index);
    }
    let value = |index: usize| params.get(index).map_or("", Parameter::value);
    let required = |index: Option<usize>, name: &'static str| {
        index
            .filter(|&i| !value(i).is_empty())
            .ok_or(OAuthError::MissingParameter { name })
    };
    let protocol = Protocol {
        consumer_key: required(consumer_key, "oauth_consumer_key")?,
        signature: required(signature, "oauth_signature")?,
        signature_method: value(required(method, "oauth_signature_method")?).parse()?,
        nonce: required(nonce, "oauth_nonce")?,
        timestamp: required(timestamp, "oauth_timestamp")?,
        token,
        body_hash,
    };
    // RFC 5849 §3.1: "If present, the value MUST be set to 1.0".
    if let Some(version) = version.map(value).filter(|&v| v != "1.0") {
        return Err(OAuthError::UnsupportedVersion {
            version: echo(version),
        });
    }
    Ok(protocol)
}
