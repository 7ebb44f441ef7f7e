//! [`LaunchBuilder`]: signed LTI 1.x launch forms, as an LMS would post
//! them.

use std::fmt;

use lti_core::{Clock, SystemClock};
use lti_oauth::{OAuthError, RequestSigner, SignatureMethod, form_encode};

/// The launch URL a builder signs unless told otherwise.
pub const DEFAULT_LAUNCH_URL: &str = "http://localhost:8080/launch";

/// A change made after signing, to forge or break a launch.
#[derive(Debug, Clone)]
enum Edit {
    Set(String, String),
    Append(String, String),
    Remove(String),
}

/// Builds the form body of a signed LTI launch (an OAuth 1.0a signed
/// `POST`, RFC 5849 §3.5.2), signing with [`lti_oauth::RequestSigner`].
///
/// Defaults: consumer `12345` / `secret`, URL
/// [`DEFAULT_LAUNCH_URL`], HMAC-SHA1, `oauth_version=1.0`, the system
/// clock's time, a random nonce (drawn once, so [`body`](Self::body) gives
/// the same text every time: post it twice to test a replay), and the
/// parameters `lti_message_type=basic-lti-launch-request`,
/// `lti_version=LTI-1p0`, `resource_link_id=resource-1`, `user_id=user-1`
/// and `roles=Learner`.
///
/// Parameters are kept in order, duplicates allowed. The `*_after_signing`
/// methods change the form once it is signed, to make forgeries.
///
/// ```
/// use lti_oauth::SignedRequest;
/// use lti_testkit::{FixedClock, LaunchBuilder};
///
/// let clock = FixedClock::new(1_700_000_000);
/// let launch = LaunchBuilder::new()
///     .url("https://tool.example/launch")
///     .at(&clock)
///     .user_id("u-42")
///     .roles("Instructor")
///     .param("custom_colour", "blue");
/// let body = launch.body();
/// let request =
///     SignedRequest::from_parts("POST", "https://tool.example/launch", Some(body.as_bytes()), None)
///         .unwrap();
/// request.verify("secret").unwrap();
/// assert_eq!(request.timestamp(), "1700000000");
/// assert!(launch.params().contains(&("roles".into(), "Instructor".into())));
/// ```
#[derive(Clone)]
#[must_use]
pub struct LaunchBuilder {
    url: String,
    consumer_key: String,
    consumer_secret: String,
    method: SignatureMethod,
    with_version: bool,
    oauth_params: Vec<(String, String)>,
    params: Vec<(String, String)>,
    nonce: String,
    timestamp: String,
    edits: Vec<Edit>,
}

impl fmt::Debug for LaunchBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LaunchBuilder")
            .field("url", &self.url)
            .field("consumer_key", &self.consumer_key)
            .field("params", &self.params)
            .field("nonce", &self.nonce)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

impl Default for LaunchBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// 128 random bits as 32 hex digits.
pub fn random_nonce() -> String {
    let mut bytes = [0u8; 16];
    // The OS RNG failing is not something a test can recover from.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl LaunchBuilder {
    /// A launch with the defaults listed above.
    pub fn new() -> Self {
        Self {
            url: DEFAULT_LAUNCH_URL.to_owned(),
            consumer_key: "12345".to_owned(),
            consumer_secret: "secret".to_owned(),
            method: SignatureMethod::HmacSha1,
            with_version: true,
            oauth_params: Vec::new(),
            params: [
                ("lti_message_type", "basic-lti-launch-request"),
                ("lti_version", "LTI-1p0"),
                ("resource_link_id", "resource-1"),
                ("user_id", "user-1"),
                ("roles", "Learner"),
            ]
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
            nonce: random_nonce(),
            timestamp: SystemClock.now().to_string(),
            edits: Vec::new(),
        }
    }

    /// Signs for this launch URL (it may carry a query string, which is
    /// signed too and stays in the URL).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// The launch URL.
    pub fn launch_url(&self) -> &str {
        &self.url
    }

    /// Signs as this consumer.
    pub fn consumer(mut self, key: impl Into<String>, secret: impl Into<String>) -> Self {
        self.consumer_key = key.into();
        self.consumer_secret = secret.into();
        self
    }

    /// Uses this signature method.
    pub fn signature_method(mut self, method: SignatureMethod) -> Self {
        self.method = method;
        self
    }

    /// Leaves `oauth_version` out (it is optional).
    pub fn without_oauth_version(mut self) -> Self {
        self.with_version = false;
        self
    }

    /// Adds a signed protocol parameter, e.g. `oauth_callback=about:blank`
    /// (or, with [`without_oauth_version`](Self::without_oauth_version), an
    /// `oauth_version` of your choice).
    pub fn oauth_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.oauth_params.push((name.into(), value.into()));
        self
    }

    /// Takes `oauth_timestamp` from a clock.
    pub fn at(mut self, clock: &impl Clock) -> Self {
        self.timestamp = clock.now().to_string();
        self
    }

    /// Sets `oauth_timestamp` as given (any text, to test malformed ones).
    pub fn timestamp(mut self, timestamp: impl fmt::Display) -> Self {
        self.timestamp = timestamp.to_string();
        self
    }

    /// Sets `oauth_nonce`.
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = nonce.into();
        self
    }

    /// Draws a new random nonce (for launching the same thing again).
    pub fn fresh_nonce(mut self) -> Self {
        self.nonce = random_nonce();
        self
    }

    /// Sets a parameter: the first one of this name takes the value and
    /// the others go; appended when there is none.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        set(&mut self.params, name.into(), value.into());
        self
    }

    /// Appends a parameter, even when one of that name exists (duplicates
    /// are legal in OAuth and must be signed as such).
    pub fn add_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Removes every parameter of this name.
    pub fn remove(mut self, name: &str) -> Self {
        self.params.retain(|(n, _)| n != name);
        self
    }

    /// Sets `resource_link_id`.
    pub fn resource_link_id(self, value: impl Into<String>) -> Self {
        self.param("resource_link_id", value)
    }

    /// Sets `user_id`.
    pub fn user_id(self, value: impl Into<String>) -> Self {
        self.param("user_id", value)
    }

    /// Sets `roles` (comma-separated handles or URNs).
    pub fn roles(self, value: impl Into<String>) -> Self {
        self.param("roles", value)
    }

    /// Sets `context_id`.
    pub fn context_id(self, value: impl Into<String>) -> Self {
        self.param("context_id", value)
    }

    /// Sets `lis_person_name_full`.
    pub fn person_name(self, value: impl Into<String>) -> Self {
        self.param("lis_person_name_full", value)
    }

    /// Sets `launch_presentation_return_url`.
    pub fn return_url(self, value: impl Into<String>) -> Self {
        self.param("launch_presentation_return_url", value)
    }

    /// After signing, sets a parameter (replacing the first of that name,
    /// appending otherwise): a tampered launch, or a protocol parameter
    /// the signer will not write, such as
    /// `oauth_signature_method=PLAINTEXT`.
    pub fn set_after_signing(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.edits.push(Edit::Set(name.into(), value.into()));
        self
    }

    /// After signing, appends a parameter (e.g. a second `oauth_nonce`).
    pub fn append_after_signing(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.edits.push(Edit::Append(name.into(), value.into()));
        self
    }

    /// After signing, removes every parameter of this name (e.g.
    /// `oauth_signature`).
    pub fn remove_after_signing(mut self, name: impl Into<String>) -> Self {
        self.edits.push(Edit::Remove(name.into()));
        self
    }

    /// The parameters before signing, in order.
    pub fn unsigned_params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The signed form parameters, edits applied.
    ///
    /// # Errors
    ///
    /// What [`RequestSigner::sign_params`] reports: an unusable URL, or a
    /// protocol parameter given twice.
    pub fn try_params(&self) -> Result<Vec<(String, String)>, OAuthError> {
        let mut signer = RequestSigner::new(&self.consumer_key, &self.consumer_secret)
            .with_signature_method(self.method);
        if !self.with_version {
            signer = signer.without_version();
        }
        for (name, value) in &self.oauth_params {
            signer = signer.with_oauth_param(name, value);
        }
        let mut params = signer.sign_params(
            "POST",
            &self.url,
            self.params.iter().cloned(),
            &self.nonce,
            &self.timestamp,
        )?;
        for edit in &self.edits {
            match edit {
                Edit::Set(name, value) => set(&mut params, name.clone(), value.clone()),
                Edit::Append(name, value) => params.push((name.clone(), value.clone())),
                Edit::Remove(name) => params.retain(|(n, _)| n != name),
            }
        }
        Ok(params)
    }

    /// The signed form parameters, edits applied.
    ///
    /// # Panics
    ///
    /// When signing fails (see [`try_params`](Self::try_params)): a
    /// mistake in the test.
    pub fn params(&self) -> Vec<(String, String)> {
        self.try_params()
            .unwrap_or_else(|err| panic!("LaunchBuilder cannot sign this launch: {err}"))
    }

    /// The value of a signed parameter (the first of that name).
    pub fn signed_param(&self, name: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The form body (`application/x-www-form-urlencoded`, RFC 3986
    /// percent-encoding as LMSs send it).
    ///
    /// # Panics
    ///
    /// As [`params`](Self::params).
    pub fn body(&self) -> String {
        form_encode(&self.params())
    }
}

fn set(params: &mut Vec<(String, String)>, name: String, value: String) {
    match params.iter().position(|(n, _)| *n == name) {
        Some(first) => {
            params[first].1 = value;
            let mut index = 0;
            params.retain(|(n, _)| {
                let keep = index <= first || *n != name;
                index += 1;
                keep
            });
        }
        None => params.push((name, value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lti_oauth::SignedRequest;

    fn verify(launch: &LaunchBuilder, secret: &str) -> Result<(), OAuthError> {
        let body = launch.body();
        SignedRequest::from_parts("POST", launch.launch_url(), Some(body.as_bytes()), None)?
            .verify(secret)
    }

    #[test]
    fn defaults_sign_and_verify() {
        let launch = LaunchBuilder::new().timestamp(1_420_370_306).nonce("n-1");
        verify(&launch, "secret").expect("verifies");
        assert!(verify(&launch, "other").is_err());
        let p = launch.params();
        for name in [
            "lti_message_type",
            "lti_version",
            "resource_link_id",
            "user_id",
            "roles",
            "oauth_consumer_key",
            "oauth_nonce",
            "oauth_timestamp",
            "oauth_signature_method",
            "oauth_version",
            "oauth_signature",
        ] {
            assert!(p.iter().any(|(n, _)| n == name), "{name} missing");
        }
        assert_eq!(
            launch.signed_param("oauth_timestamp").as_deref(),
            Some("1420370306")
        );
        assert_eq!(launch.body(), launch.body(), "the nonce is drawn once");
    }

    #[test]
    fn nonces_are_random() {
        assert_ne!(LaunchBuilder::new().body(), LaunchBuilder::new().body());
        assert_eq!(random_nonce().len(), 32);
    }

    #[test]
    fn params_can_be_set_added_and_removed() {
        let launch = LaunchBuilder::new()
            .add_param("roles", "Instructor")
            .param("roles", "Mentor")
            .add_param("x", "1")
            .add_param("x", "2")
            .remove("user_id");
        let names: Vec<_> = launch
            .unsigned_params()
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        assert!(names.contains(&"roles=Mentor".to_owned()));
        assert!(!names.iter().any(|n| n.starts_with("user_id")));
        assert_eq!(names.iter().filter(|n| n.starts_with("roles=")).count(), 1);
        assert_eq!(names.iter().filter(|n| n.starts_with("x=")).count(), 2);
        verify(&launch, "secret").expect("duplicates are signed");
    }

    #[test]
    fn edits_after_signing_break_the_signature() {
        let launch = LaunchBuilder::new().set_after_signing("roles", "Instructor");
        assert!(verify(&launch, "secret").is_err());
        let launch = LaunchBuilder::new().remove_after_signing("oauth_signature");
        assert!(!launch.params().iter().any(|(n, _)| n == "oauth_signature"));
        let launch = LaunchBuilder::new().append_after_signing("oauth_nonce", "again");
        assert_eq!(
            launch
                .params()
                .iter()
                .filter(|(n, _)| n == "oauth_nonce")
                .count(),
            2
        );
    }

    #[test]
    fn url_queries_are_signed_but_not_in_the_body() {
        let launch = LaunchBuilder::new().url("http://localhost:8080/launch?course=7");
        verify(&launch, "secret").expect("verifies with the query");
        assert!(!launch.body().contains("course"));
    }

    #[test]
    fn sha256_and_no_version() {
        let launch = LaunchBuilder::new()
            .signature_method(SignatureMethod::HmacSha256)
            .without_oauth_version()
            .oauth_param("oauth_callback", "about:blank");
        verify(&launch, "secret").expect("verifies");
        assert_eq!(
            launch.signed_param("oauth_signature_method").as_deref(),
            Some("HMAC-SHA256")
        );
        assert_eq!(launch.signed_param("oauth_version"), None);
    }
}
