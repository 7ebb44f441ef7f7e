//! Signature methods, signing and constant-time verification (RFC 5849 §3.4).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use subtle::ConstantTimeEq;

use crate::encoding::percent_encode_into;
use crate::error::{OAuthError, echo};

/// A signature method this crate accepts.
///
/// Only the HMAC methods are supported: `PLAINTEXT` sends the secret itself
/// and LTI 1.x has no RSA key distribution, so both are refused with
/// [`OAuthError::UnsupportedSignatureMethod`] (400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SignatureMethod {
    /// `HMAC-SHA1` (RFC 5849 §3.4.2), the method LTI 1.x mandates.
    #[default]
    HmacSha1,
    /// `HMAC-SHA256`, the same construction over SHA-256.
    HmacSha256,
}

impl SignatureMethod {
    /// The value of `oauth_signature_method` for this method.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureMethod::HmacSha1 => "HMAC-SHA1",
            SignatureMethod::HmacSha256 => "HMAC-SHA256",
        }
    }
}

impl fmt::Display for SignatureMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignatureMethod {
    type Err = OAuthError;

    /// Parses an `oauth_signature_method` value (case-sensitive, as RFC
    /// 5849 §3.4 names them).
    fn from_str(method: &str) -> Result<Self, OAuthError> {
        match method {
            "HMAC-SHA1" => Ok(SignatureMethod::HmacSha1),
            "HMAC-SHA256" => Ok(SignatureMethod::HmacSha256),
            _ => Err(OAuthError::UnsupportedSignatureMethod {
                method: echo(method),
            }),
        }
    }
}

/// The HMAC key of RFC 5849 §3.4.2: `enc(consumer secret) & enc(token
/// secret)`. LTI launches have no token, so `token_secret` is usually `""`.
fn signing_key(consumer_secret: &str, token_secret: &str) -> String {
    let mut key = String::with_capacity(consumer_secret.len() + token_secret.len() + 1);
    percent_encode_into(&mut key, consumer_secret);
    key.push('&');
    percent_encode_into(&mut key, token_secret);
    key
}

fn mac_base64<M: KeyInit + Mac>(key: &[u8], message: &[u8]) -> String {
    // HMAC takes keys of any length (RFC 2104 §2), so this cannot fail.
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Signs a signature base string and returns the base64 `oauth_signature`
/// value (not yet percent-encoded).
///
/// ```
/// use lti_oauth::{sign, SignatureMethod};
///
/// let base = "GET&http%3A%2F%2Fh%2F&a%3D1";
/// let signature = sign(SignatureMethod::HmacSha1, base, "secret", "");
/// assert_eq!(signature.len(), 28);
/// ```
#[must_use]
pub fn sign(
    method: SignatureMethod,
    base_string: &str,
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let key = signing_key(consumer_secret, token_secret);
    match method {
        SignatureMethod::HmacSha1 => {
            mac_base64::<Hmac<sha1::Sha1>>(key.as_bytes(), base_string.as_bytes())
        }
        SignatureMethod::HmacSha256 => {
            mac_base64::<Hmac<sha2::Sha256>>(key.as_bytes(), base_string.as_bytes())
        }
    }
}

/// Checks an `oauth_signature` value against a base string, in constant
/// time with respect to the signature's content.
///
/// # Errors
///
/// [`OAuthError::InvalidSignature`] (401) when it does not match.
pub fn verify_signature(
    method: SignatureMethod,
    base_string: &str,
    consumer_secret: &str,
    token_secret: &str,
    signature: &str,
) -> Result<(), OAuthError> {
    let expected = sign(method, base_string, consumer_secret, token_secret);
    // `ct_eq` on slices of different lengths returns false at once; the
    // length of a valid signature is public, so that leaks nothing.
    if bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
        Ok(())
    } else {
        Err(OAuthError::InvalidSignature)
    }
}

/// Compares two strings in constant time with respect to their content.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn method_names_parse_exactly() {
        assert_eq!("HMAC-SHA1".parse(), Ok(SignatureMethod::HmacSha1));
        assert_eq!("HMAC-SHA256".parse(), Ok(SignatureMethod::HmacSha256));
        for refused in [
            "PLAINTEXT",
            "RSA-SHA1",
            "RSA-SHA256",
            "HMAC-SHA512",
            "hmac-sha1",
            "",
        ] {
            let err = refused.parse::<SignatureMethod>().unwrap_err();
            assert_eq!(
                err,
                OAuthError::UnsupportedSignatureMethod {
                    method: refused.into()
                }
            );
            assert_eq!(err.class(), crate::ErrorClass::BadRequest);
        }
        assert_eq!(SignatureMethod::HmacSha256.to_string(), "HMAC-SHA256");
    }

    #[test]
    fn key_encodes_both_secrets() {
        assert_eq!(signing_key("secret", ""), "secret&");
        assert_eq!(
            signing_key("s&e=c r%t+/", "t k"),
            "s%26e%3Dc%20r%25t%2B%2F&t%20k"
        );
    }

    #[test]
    fn rfc5849_section_3_4_2_example_signature() {
        // The base string of the RFC 5849 §3.4.1.1 example, with the client
        // and token secrets of §1.2; the signature was computed
        // independently with Python's `hmac` module.
        let base = "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
                    %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_\
                    key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m\
                    ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk\
                    9d7dh3k39sjv7";
        let signature = sign(
            SignatureMethod::HmacSha1,
            base,
            "j49sk3j29djd",
            "dh893hdasih9",
        );
        assert_eq!(signature, "r6/TJjbCOr97/+UU0NsvSne7s5g=");
        assert!(
            verify_signature(
                SignatureMethod::HmacSha1,
                base,
                "j49sk3j29djd",
                "dh893hdasih9",
                &signature
            )
            .is_ok()
        );
    }

    #[test]
    fn verification_fails_on_any_difference() {
        let base = "POST&http%3A%2F%2Fh%2F&a%3D1";
        let good = sign(SignatureMethod::HmacSha256, base, "secret", "");
        assert_eq!(good.len(), 44);
        let verify = |m, b, s, sig: &str| verify_signature(m, b, s, "", sig);
        assert!(verify(SignatureMethod::HmacSha256, base, "secret", &good).is_ok());
        assert_eq!(
            verify(SignatureMethod::HmacSha1, base, "secret", &good),
            Err(OAuthError::InvalidSignature)
        );
        assert!(verify(SignatureMethod::HmacSha256, base, "secreT", &good).is_err());
        assert!(verify(SignatureMethod::HmacSha256, "POST&x", "secret", &good).is_err());
        assert!(verify(SignatureMethod::HmacSha256, base, "secret", &good[1..]).is_err());
        assert!(verify(SignatureMethod::HmacSha256, base, "secret", "").is_err());
        assert_eq!(
            OAuthError::InvalidSignature.class(),
            crate::ErrorClass::Unauthorized
        );
    }
}
