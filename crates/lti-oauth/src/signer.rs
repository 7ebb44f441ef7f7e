//! [`RequestSigner`]: signing outgoing requests, as a form body or as an
//! `Authorization` header.

use std::fmt;

use crate::base_string::{base_string_for, base_string_uri, url_query};
use crate::encoding::form_decode;
use crate::error::OAuthError;
use crate::header::AuthorizationHeader;
use crate::params::{ParamSource, Parameter, check_protocol_duplicates};
use crate::signature::{SignatureMethod, sign};

/// Signs outgoing requests with a consumer's credentials (RFC 5849 §3).
///
/// The caller supplies the nonce and the timestamp, so signing is
/// deterministic and this crate stays free of clocks and randomness. The
/// signer adds `oauth_consumer_key`, `oauth_nonce`,
/// `oauth_signature_method`, `oauth_timestamp`, `oauth_version=1.0` (unless
/// [`without_version`](Self::without_version)), any
/// [extra protocol parameters](Self::with_oauth_param), and
/// `oauth_signature`.
///
/// `Debug` redacts the secret.
///
/// ```
/// use lti_oauth::{form_encode, RequestSigner, SignedRequest};
///
/// let signer = RequestSigner::new("12345", "secret").with_oauth_param("oauth_callback", "about:blank");
/// let url = "https://tool.example.com/launch";
/// let launch = [("lti_message_type", "basic-lti-launch-request"), ("resource_link_id", "rl-1")];
/// let params = signer.sign_params("POST", url, launch, "nonce-1", 1_700_000_000)?;
/// let body = form_encode(&params);
///
/// let request = SignedRequest::from_parts("POST", url, Some(body.as_bytes()), None)?;
/// request.verify("secret")?;
/// # Ok::<(), lti_oauth::OAuthError>(())
/// ```
#[derive(Clone)]
pub struct RequestSigner {
    consumer_key: String,
    consumer_secret: String,
    signature_method: SignatureMethod,
    extra: Vec<(String, String)>,
    realm: Option<String>,
    with_version: bool,
}

impl RequestSigner {
    /// A signer for this consumer, using `HMAC-SHA1`.
    #[must_use]
    pub fn new(consumer_key: impl Into<String>, consumer_secret: impl Into<String>) -> Self {
        RequestSigner {
            consumer_key: consumer_key.into(),
            consumer_secret: consumer_secret.into(),
            signature_method: SignatureMethod::HmacSha1,
            extra: Vec::new(),
            realm: None,
            with_version: true,
        }
    }

    /// Uses another signature method.
    #[must_use]
    pub fn with_signature_method(mut self, method: SignatureMethod) -> Self {
        self.signature_method = method;
        self
    }

    /// Adds a protocol parameter to every signed request, such as
    /// `oauth_callback=about:blank`, which LTI consumers send.
    #[must_use]
    pub fn with_oauth_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Sets the `realm` of built `Authorization` headers (never signed).
    #[must_use]
    pub fn with_realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Leaves `oauth_version` out (RFC 5849 §3.1 makes it optional).
    #[must_use]
    pub fn without_version(mut self) -> Self {
        self.with_version = false;
        self
    }

    /// Signs a form request: returns `params` followed by the protocol
    /// parameters and `oauth_signature`, to be sent as the form body
    /// (see [`form_encode`](crate::form_encode)).
    ///
    /// Query parameters of `url` are signed as well but not returned: they
    /// travel in the URL.
    ///
    /// # Errors
    ///
    /// [`OAuthError::InvalidUrl`] or [`OAuthError::MalformedParameters`]
    /// for an unusable URL, [`OAuthError::DuplicateProtocolParameter`] when
    /// `params` or the query repeat a protocol parameter the signer sets.
    pub fn sign_params<I, K, V>(
        &self,
        method: &str,
        url: &str,
        params: I,
        nonce: &str,
        timestamp: impl fmt::Display,
    ) -> Result<Vec<(String, String)>, OAuthError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut signed: Vec<(String, String)> = params
            .into_iter()
            .map(|(name, value)| (name.into(), value.into()))
            .collect();
        signed.extend(self.protocol_params(nonce, &timestamp.to_string(), None));
        let signature = self.signature(method, url, &signed, ParamSource::Body)?;
        signed.push(("oauth_signature".to_owned(), signature));
        Ok(signed)
    }

    /// Builds the `Authorization` header value for a request whose
    /// parameters travel in the URL query and the header only, such as an
    /// LTI 1.1 outcomes POST with an XML body: pass
    /// `Some(&`[`body_hash`](crate::body_hash)`(body))` to sign the body too
    /// (`oauth_body_hash`).
    ///
    /// ```
    /// use lti_oauth::{body_hash, RequestSigner, SignedRequest};
    ///
    /// let body = b"<imsx_POXEnvelopeRequest/>";
    /// let url = "https://lms.example.edu/outcomes";
    /// let header = RequestSigner::new("12345", "secret")
    ///     .authorization_header("POST", url, Some(&body_hash(body)), "n-1", 1_700_000_100)?;
    ///
    /// let request = SignedRequest::from_parts("POST", url, None, Some(&header))?;
    /// request.verify("secret")?;
    /// request.verify_body_hash(body)?;
    /// # Ok::<(), lti_oauth::OAuthError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`sign_params`](Self::sign_params).
    pub fn authorization_header(
        &self,
        method: &str,
        url: &str,
        body_hash: Option<&str>,
        nonce: &str,
        timestamp: impl fmt::Display,
    ) -> Result<String, OAuthError> {
        let params = self.protocol_params(nonce, &timestamp.to_string(), body_hash);
        let signature = self.signature(method, url, &params, ParamSource::Header)?;
        let mut header = AuthorizationHeader::new();
        if let Some(realm) = &self.realm {
            header = header.with_realm(realm.clone());
        }
        for (name, value) in params {
            header.push(name, value);
        }
        header.push("oauth_signature", signature);
        Ok(header.to_string())
    }

    fn protocol_params(
        &self,
        nonce: &str,
        timestamp: &str,
        body_hash: Option<&str>,
    ) -> Vec<(String, String)> {
        let mut params = Vec::with_capacity(7 + self.extra.len());
        let mut add = |name: &str, value: &str| params.push((name.to_owned(), value.to_owned()));
        add("oauth_consumer_key", &self.consumer_key);
        add("oauth_nonce", nonce);
        add("oauth_signature_method", self.signature_method.as_str());
        add("oauth_timestamp", timestamp);
        if self.with_version {
            add("oauth_version", "1.0");
        }
        if let Some(hash) = body_hash {
            add("oauth_body_hash", hash);
        }
        params.extend(self.extra.iter().cloned());
        params
    }

    /// Signs `params` (which travel in `source`) plus the URL query.
    fn signature(
        &self,
        method: &str,
        url: &str,
        params: &[(String, String)],
        source: ParamSource,
    ) -> Result<String, OAuthError> {
        let base_uri = base_string_uri(url)?;
        let query = match url_query(url) {
            Some(query) => {
                form_decode(query.as_bytes()).map_err(|error| OAuthError::MalformedParameters {
                    origin: ParamSource::Query,
                    error,
                })?
            }
            None => Vec::new(),
        };
        let all: Vec<Parameter> = query
            .into_iter()
            .map(|(name, value)| Parameter::new(name, value, ParamSource::Query))
            .chain(
                params
                    .iter()
                    .map(|(name, value)| Parameter::new(name.as_str(), value.as_str(), source)),
            )
            // The signature is appended after signing: a caller's own
            // `oauth_signature` must count as a duplicate of it.
            .chain([Parameter::new("oauth_signature", "", source)])
            .collect();
        check_protocol_duplicates(&all)?;
        let base_string = base_string_for(method, &base_uri, &all);
        Ok(sign(
            self.signature_method,
            &base_string,
            &self.consumer_secret,
            "",
        ))
    }
}

impl fmt::Debug for RequestSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestSigner")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"<redacted>")
            .field("signature_method", &self.signature_method)
            .field("extra", &self.extra)
            .field("realm", &self.realm)
            .field("with_version", &self.with_version)
            .finish()
    }
}
