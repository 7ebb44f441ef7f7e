//! The cipher's error types.

use thiserror::Error;

use super::AppSecretError;

/// What is wrong with the shape of a ciphertext or MAC tag text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MalformedText {
    /// Not exactly one separator (`:` for ciphertexts, `.` for MAC tags).
    #[error("expected exactly one separator after the key number")]
    Separator,
    /// The key number is not a canonical decimal `u32` (digits only, no
    /// leading zeros).
    #[error("the key number is not a decimal number in range")]
    KeyNumber,
    /// The data part is not valid base64 of the expected alphabet and padding.
    #[error("the data is not valid base64")]
    Base64,
    /// The decoded data is too short (ciphertext) or not 32 bytes (MAC tag).
    #[error("the decoded data has the wrong length")]
    Length,
}

/// Why encryption or decryption failed.
///
/// Messages never contain key material or plaintext, so these errors may be
/// logged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CipherError {
    /// The text is not in the `<keynum>:<base64>` form. (The reason is part
    /// of the message, not a separate `source`.)
    #[error("malformed ciphertext: {0}")]
    Malformed(MalformedText),
    /// No key with this number is known (never configured, or dropped from
    /// the chain before this process started).
    #[error("unknown application key number {0}")]
    UnknownKey(u32),
    /// The key was dropped from the chain by a rotation in this process
    /// because it was more than [`MAX_CHAIN_DEPTH`](super::MAX_CHAIN_DEPTH)
    /// rotations old.
    #[error("application key {0} is too old: it has left the key chain")]
    KeyTooOld(u32),
    /// The authentication tag did not match: the text was altered, relabelled
    /// with another key number, bound to something else, or made with another
    /// secret under the same number.
    #[error("ciphertext under application key {0} failed authentication")]
    AuthenticationFailed(u32),
    /// The plaintext is not UTF-8 (from [`AppCipher::decrypt_str`](super::AppCipher::decrypt_str)).
    #[error("the decrypted data is not valid UTF-8")]
    InvalidUtf8,
    /// The plaintext exceeds AES-GCM's limit of 2³⁶ − 32 bytes.
    #[error("the plaintext is too long for AES-GCM")]
    PlaintextTooLong,
    /// The operating system's random number generator failed, so no nonce
    /// could be drawn.
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}

/// Why a key chain could not be loaded or rotated.
///
/// Underlying causes are reported through [`std::error::Error::source`], not
/// repeated in the message; print the whole chain (e.g. anyhow's `{:#}`).
///
/// [`AppCipher::from_chain`](super::AppCipher::from_chain) treats every one
/// of these as fatal: an application should refuse to start rather than run
/// with keys it cannot account for.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyChainError {
    /// Two keys in the chain (or a new key and the chain) share a number.
    #[error("application key number {0} is used more than once in the key chain")]
    DuplicateKeyNumber(u32),
    /// The configured current key has a record saying it was replaced: this
    /// instance was started with an out-of-date key.
    #[error(
        "application key {keynum} has already been replaced by key {successor}: configure \
         key {successor} instead"
    )]
    CurrentKeySuperseded {
        /// The configured (stale) key number.
        keynum: u32,
        /// The key that replaced it.
        successor: u32,
    },
    /// Two records claim to have been replaced by the same key.
    #[error("application keys {first} and {second} both claim to be replaced by key {successor}")]
    Fork {
        /// The key both records are wrapped under.
        successor: u32,
        /// One of the two records.
        first: u32,
        /// The other.
        second: u32,
    },
    /// Following the records' successors leads back to where it started.
    #[error("the key chain loops through application key {0}")]
    Loop(u32),
    /// The chain is longer than [`MAX_CHAIN_DEPTH`](super::MAX_CHAIN_DEPTH)
    /// older keys; the record for this key is one too many and should have
    /// been deleted when it was retired.
    #[error("application key {keynum} is deeper than the key chain's maximum depth")]
    TooDeep {
        /// The first key beyond the maximum depth.
        keynum: u32,
    },
    /// Records that cannot be reached from the current key: their successor
    /// is neither the current key nor an older key of its chain.
    #[error("application key records {0:?} cannot be reached from the current key")]
    Unreachable(Vec<u32>),
    /// A record could not be decrypted with its successor key.
    #[error("the record for application key {keynum} could not be unwrapped")]
    UnwrapFailed {
        /// The record's key number.
        keynum: u32,
        /// What went wrong.
        source: CipherError,
    },
    /// A record decrypted to something that is not a valid secret.
    #[error("the record for application key {keynum} holds an invalid secret")]
    BadSecret {
        /// The record's key number.
        keynum: u32,
        /// What went wrong.
        source: AppSecretError,
    },
    /// Wrapping the outgoing key during a rotation failed.
    #[error("could not wrap the outgoing application key")]
    Wrap(#[source] CipherError),
}

impl From<MalformedText> for CipherError {
    fn from(reason: MalformedText) -> Self {
        Self::Malformed(reason)
    }
}
