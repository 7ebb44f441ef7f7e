//! Random keys and resource identifiers (spec §8.1, §7, DESIGN §3 Data).
//!
//! Randomness comes from the operating system (`getrandom`), never from a
//! seeded generator (QL-15).

use std::fmt;
use std::str::FromStr;

/// The key length [`generate_key`] is usually asked for: 128 bits, Pyslet's
/// default (8 groups, 39 characters).
pub const DEFAULT_KEY_BITS: u32 = 128;

/// The longest key [`generate_key`] makes, so a mistaken length cannot
/// allocate without bound.
pub const MAX_KEY_BITS: u32 = 4096;

/// Why a random identifier could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdGenerationError {
    /// The key length is below 1 bit or above [`MAX_KEY_BITS`].
    #[error("a key must have between 1 and {MAX_KEY_BITS} bits, not {bits}")]
    InvalidKeyLength {
        /// The length asked for.
        bits: u32,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system could not supply random bytes: {reason}")]
    RandomnessUnavailable {
        /// The operating system's explanation.
        reason: String,
    },
}

impl From<getrandom::Error> for IdGenerationError {
    fn from(err: getrandom::Error) -> Self {
        IdGenerationError::RandomnessUnavailable {
            reason: err.to_string(),
        }
    }
}

/// A random key of at least `bits` bits, as Pyslet prints it (spec §8.1):
/// ⌈bits/16⌉ groups of 4 upper-case hex digits joined by `.`.
///
/// Used for generated consumer keys and secrets and for random application
/// secrets in memory mode.
///
/// # Errors
///
/// [`IdGenerationError::InvalidKeyLength`] when `bits` is 0 or above
/// [`MAX_KEY_BITS`]; [`IdGenerationError::RandomnessUnavailable`] when the
/// OS random number generator fails.
///
/// ```
/// let key = lti_core::generate_key(lti_core::DEFAULT_KEY_BITS)?;
/// assert_eq!(key.len(), 39);
/// assert_eq!(key.split('.').count(), 8);
/// assert_eq!(lti_core::generate_key(33)?.split('.').count(), 3);
/// # Ok::<(), lti_core::IdGenerationError>(())
/// ```
pub fn generate_key(bits: u32) -> Result<String, IdGenerationError> {
    if bits == 0 || bits > MAX_KEY_BITS {
        return Err(IdGenerationError::InvalidKeyLength { bits });
    }
    let groups = bits.div_ceil(16) as usize;
    let mut bytes = vec![0u8; groups * 2];
    getrandom::fill(&mut bytes)?;
    let mut key = String::with_capacity(groups * 5);
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        if i > 0 {
            key.push('.');
        }
        let group = u16::from_be_bytes([pair[0], pair[1]]);
        key.push_str(&format!("{group:04X}"));
    }
    Ok(key)
}

/// A random non-negative 63-bit integer from the OS random number generator.
///
/// # Errors
///
/// [`IdGenerationError::RandomnessUnavailable`] when the generator fails.
pub fn random_i63() -> Result<i64, IdGenerationError> {
    let value = getrandom::u64()? >> 1;
    // The shift leaves 63 bits, so the value always fits.
    Ok(i64::try_from(value).unwrap_or(i64::MAX))
}

/// The identifier of a resource (a launched link), shown in URLs as
/// `/resource/<ID>/` (spec §6.3).
///
/// A random non-negative 63-bit integer (DESIGN §3 Data). It prints as
/// upper-case hex with at least 8 digits (Pyslet's `%08X`) and parses from
/// hex in either case.
///
/// ```
/// use lti_core::ResourceId;
///
/// let id = ResourceId::new(0xABC).expect("non-negative");
/// assert_eq!(id.to_string(), "00000ABC");
/// assert_eq!("00000abc".parse::<ResourceId>(), Ok(id));
/// assert!("-1".parse::<ResourceId>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceId(i64);

impl ResourceId {
    /// The largest number of hex digits accepted: `7FFFFFFFFFFFFFFF`.
    const MAX_DIGITS: usize = 16;

    /// The identifier `value`, or `None` when it is negative.
    #[must_use]
    pub const fn new(value: i64) -> Option<ResourceId> {
        if value >= 0 {
            Some(ResourceId(value))
        } else {
            None
        }
    }

    /// A new random identifier.
    ///
    /// # Errors
    ///
    /// [`IdGenerationError::RandomnessUnavailable`] when the OS random number
    /// generator fails.
    pub fn random() -> Result<ResourceId, IdGenerationError> {
        random_i63().map(ResourceId)
    }

    /// The integer value, for storage.
    #[must_use]
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08X}", self.0)
    }
}

impl fmt::Debug for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResourceId({self})")
    }
}

impl From<ResourceId> for i64 {
    fn from(id: ResourceId) -> i64 {
        id.0
    }
}

impl TryFrom<i64> for ResourceId {
    type Error = ResourceIdError;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        ResourceId::new(value).ok_or(ResourceIdError::OutOfRange)
    }
}

impl FromStr for ResourceId {
    type Err = ResourceIdError;

    /// Parses 1 to 16 hex digits, either case. Unlike Pyslet's `int(x, 16)`
    /// (spec §6.3), no sign, `0x` prefix or whitespace is accepted.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(ResourceIdError::Empty);
        }
        if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ResourceIdError::InvalidDigit);
        }
        if s.len() > Self::MAX_DIGITS {
            return Err(ResourceIdError::TooLong);
        }
        // Up to 16 hex digits always fit in a u64.
        let value = u64::from_str_radix(s, 16).map_err(|_| ResourceIdError::InvalidDigit)?;
        i64::try_from(value)
            .map(ResourceId)
            .map_err(|_| ResourceIdError::OutOfRange)
    }
}

/// Why a text or number is not a [`ResourceId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceIdError {
    /// The text is empty.
    #[error("the resource id is empty")]
    Empty,
    /// A character other than a hex digit (including signs, `0x` and
    /// whitespace).
    #[error("the resource id may contain only the hex digits 0-9 and A-F")]
    InvalidDigit,
    /// More than 16 digits.
    #[error("the resource id has more than 16 hex digits")]
    TooLong,
    /// Negative, or 2^63 or more.
    #[error("the resource id is outside the range 0 to 7FFFFFFFFFFFFFFF")]
    OutOfRange,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_groups_are_upper_hex() {
        let key = generate_key(64).expect("rng");
        assert_eq!(key.len(), 19);
        for group in key.split('.') {
            assert_eq!(group.len(), 4);
            assert!(
                group
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F')),
                "{key}"
            );
        }
    }

    #[test]
    fn key_length_limits() {
        assert_eq!(
            generate_key(MAX_KEY_BITS + 1),
            Err(IdGenerationError::InvalidKeyLength {
                bits: MAX_KEY_BITS + 1
            })
        );
        assert_eq!(generate_key(MAX_KEY_BITS).map(|k| k.len()), Ok(256 * 5 - 1));
        assert_eq!(generate_key(1).map(|k| k.len()), Ok(4));
    }

    #[test]
    fn random_values_are_non_negative() {
        for _ in 0..64 {
            assert!(random_i63().expect("rng") >= 0);
            assert!(ResourceId::random().expect("rng").get() >= 0);
        }
    }

    #[test]
    fn conversions() {
        assert_eq!(ResourceId::try_from(-1), Err(ResourceIdError::OutOfRange));
        assert_eq!(ResourceId::try_from(i64::MAX).map(i64::from), Ok(i64::MAX));
        assert_eq!(
            ResourceId::new(i64::MAX)
                .map(|id| id.to_string())
                .as_deref(),
            Some("7FFFFFFFFFFFFFFF")
        );
        assert_eq!(
            format!("{:?}", ResourceId::new(10)),
            "Some(ResourceId(0000000A))"
        );
    }
}
