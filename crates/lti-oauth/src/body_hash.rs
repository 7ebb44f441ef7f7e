//! `oauth_body_hash`: the OAuth Request Body Hash extension used by LTI 1.1
//! Basic Outcomes, whose bodies are XML rather than form parameters.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

use crate::error::OAuthError;
use crate::signature::constant_time_eq;

/// The `oauth_body_hash` value of a raw body: base64 of its SHA-1 digest.
///
/// ```
/// assert_eq!(lti_oauth::body_hash(b"Hello World!"), "Lve95gjOVATpfV8EL5X4nxwjKHE=");
/// assert_eq!(lti_oauth::body_hash(b""), "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
/// ```
#[must_use]
pub fn body_hash(body: &[u8]) -> String {
    STANDARD.encode(Sha1::digest(body))
}

/// Checks a claimed `oauth_body_hash` (decoded, i.e. plain base64) against
/// the raw body, in constant time with respect to the claimed value.
///
/// The hash proves the body only together with a valid signature over the
/// parameters that include it; verify both.
///
/// # Errors
///
/// [`OAuthError::BodyHashMismatch`] (401) when it does not match.
pub fn verify_body_hash(body: &[u8], claimed: &str) -> Result<(), OAuthError> {
    if constant_time_eq(&body_hash(body), claimed) {
        Ok(())
    } else {
        Err(OAuthError::BodyHashMismatch)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let body = b"<?xml version=\"1.0\"?><x/>";
        let hash = body_hash(body);
        assert!(verify_body_hash(body, &hash).is_ok());
        assert_eq!(
            verify_body_hash(b"<?xml version=\"1.0\"?><y/>", &hash),
            Err(OAuthError::BodyHashMismatch)
        );
        assert_eq!(
            verify_body_hash(body, ""),
            Err(OAuthError::BodyHashMismatch)
        );
        assert_eq!(
            OAuthError::BodyHashMismatch.class(),
            crate::ErrorClass::Unauthorized
        );
    }
}
