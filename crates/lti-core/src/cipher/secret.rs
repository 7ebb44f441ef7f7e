//! The application secret: the root of every key the cipher uses.

use core::fmt;
use core::str::FromStr;

use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// The shortest application secret accepted, in bytes.
///
/// Sixteen bytes (128 bits) is the least that keeps an offline guess out of
/// reach *if* the secret is random. Length matters even though the keys are
/// derived: HKDF adds no entropy, and every session cookie carries a MAC
/// tag that an attacker can test guesses against at leisure, without ever
/// talking to the server. A short value such as Pyslet's sample `secret`
/// would fall to a dictionary in seconds. Longer is fine; a random value
/// (e.g. 32 random bytes, hex- or base64-encoded) is best.
pub const MIN_APP_SECRET_LEN: usize = 16;

/// Why a value was refused as an application secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AppSecretError {
    /// No secret at all: the configuration left it out.
    #[error("the application secret is empty")]
    Empty,
    /// Fewer than [`MIN_APP_SECRET_LEN`] bytes.
    #[error(
        "the application secret is too short: {len} bytes, at least {MIN_APP_SECRET_LEN} are \
         needed"
    )]
    TooShort {
        /// The length that was offered, in bytes.
        len: usize,
    },
}

/// The application secret (spec §8.3 `WSGIDataApp.secret`): arbitrary bytes,
/// at least [`MIN_APP_SECRET_LEN`] long.
///
/// The bytes are used exactly as given: a configuration layer that reads the
/// secret from a file should trim the trailing newline itself. The value is
/// wiped from memory when dropped and never shown by `Debug`.
///
/// ```
/// use lti_core::{AppSecret, AppSecretError};
///
/// let secret: AppSecret = "a long and random application secret".parse()?;
/// assert_eq!(format!("{secret:?}"), "AppSecret(<redacted>)");
/// assert!(matches!(AppSecret::new("secret"), Err(AppSecretError::TooShort { len: 6 })));
/// # Ok::<(), AppSecretError>(())
/// ```
#[derive(Clone)]
pub struct AppSecret(Zeroizing<Vec<u8>>);

impl AppSecret {
    /// Copies `bytes` (a `&str`, `&[u8]`, …) into a new secret.
    ///
    /// # Errors
    /// [`AppSecretError::Empty`] or [`AppSecretError::TooShort`].
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self, AppSecretError> {
        Self::try_from(bytes.as_ref().to_vec())
    }

    /// The raw secret, for key derivation and wrapping only.
    pub(super) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl TryFrom<Vec<u8>> for AppSecret {
    type Error = AppSecretError;

    /// Takes ownership without copying; a refused value is wiped too.
    fn try_from(bytes: Vec<u8>) -> Result<Self, Self::Error> {
        let bytes = Zeroizing::new(bytes);
        match bytes.len() {
            0 => Err(AppSecretError::Empty),
            len if len < MIN_APP_SECRET_LEN => Err(AppSecretError::TooShort { len }),
            _ => Ok(Self(bytes)),
        }
    }
}

impl TryFrom<String> for AppSecret {
    type Error = AppSecretError;

    /// The UTF-8 bytes of the string, taken without copying.
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::try_from(text.into_bytes())
    }
}

impl TryFrom<&str> for AppSecret {
    type Error = AppSecretError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Self::new(text)
    }
}

impl TryFrom<&[u8]> for AppSecret {
    type Error = AppSecretError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        Self::new(bytes)
    }
}

impl FromStr for AppSecret {
    type Err = AppSecretError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::new(text)
    }
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret(<redacted>)")
    }
}

/// Wipes a buffer that held secret bytes before it is dropped.
pub(super) fn wipe(mut bytes: Vec<u8>) {
    bytes.zeroize();
}
