//! Time, injected: the [`Clock`] trait, the system and fixed clocks, and the
//! OAuth timestamp window check (spec §5.2, DESIGN §3 Launch).
//!
//! Every time the framework stores or compares is UTC unix seconds from a
//! `Clock`, so tests can freeze and move it (STYLE: "Time and randomness are
//! injected").

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current time as UTC unix seconds.
    fn now(&self) -> i64;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            // A clock set before 1970: count backwards rather than fail.
            Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
        }
    }
}

/// A clock that stands still until told to move, for tests.
///
/// Clones share the same time, so a test can keep one handle and give
/// another to the application.
///
/// ```
/// use lti_core::{Clock, FixedClock};
///
/// let clock = FixedClock::new(1_420_370_306);
/// let app_clock = clock.clone();
/// clock.advance(90 * 60);
/// assert_eq!(app_clock.now(), 1_420_375_706);
/// clock.set(0);
/// assert_eq!(app_clock.now(), 0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct FixedClock {
    now: Arc<AtomicI64>,
}

impl FixedClock {
    /// A clock showing `now` (UTC unix seconds).
    #[must_use]
    pub fn new(now: i64) -> Self {
        FixedClock {
            now: Arc::new(AtomicI64::new(now)),
        }
    }

    /// Sets the time, for this clock and all its clones.
    pub fn set(&self, now: i64) {
        self.now.store(now, Ordering::SeqCst);
    }

    /// Moves the time by `secs` (backwards when negative), saturating at the
    /// ends of the `i64` range.
    pub fn advance(&self, secs: i64) {
        // fetch_update only fails when the closure returns None; it never does.
        let _ = self
            .now
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(secs))
            });
    }
}

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> i64 {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for Box<C> {
    fn now(&self) -> i64 {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> i64 {
        (**self).now()
    }
}

/// How far, in seconds, an `oauth_timestamp` may be from the tool's clock
/// either way: 600 s, oauthlib's default that Pyslet relied on (spec §0 item
/// 8, §5.2).
pub const DEFAULT_TIMESTAMP_WINDOW: u32 = 600;

/// The most digits accepted in an `oauth_timestamp`: enough for any date in
/// the next 30 000 years, and small enough that parsing never overflows.
const MAX_TIMESTAMP_DIGITS: usize = 12;

/// Why an `oauth_timestamp` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The parameter is missing or empty.
    #[error("the request has no oauth_timestamp")]
    Missing,
    /// Not a plain decimal number of seconds (signs, spaces, letters,
    /// fractions, or more than 12 digits).
    #[error("the oauth_timestamp is not a number of seconds since 1970")]
    Malformed,
    /// Older than the window allows: the consumer's clock is slow, or the
    /// launch form was submitted long after the page was made.
    #[error(
        "the oauth_timestamp is {age_secs} seconds old, more than the {window_secs} seconds \
         allowed; check that the clocks of the learning platform and the tool are right, \
         then launch again from a freshly loaded page"
    )]
    TooOld {
        /// How many seconds before the tool's clock the timestamp lies.
        age_secs: i64,
        /// The window that was applied.
        window_secs: u32,
    },
    /// Later than the window allows: the consumer's clock is fast, or the
    /// tool's is slow.
    #[error(
        "the oauth_timestamp is {ahead_secs} seconds in the future, more than the \
         {window_secs} seconds allowed; check that the clocks of the learning platform and \
         the tool are right"
    )]
    InFuture {
        /// How many seconds after the tool's clock the timestamp lies.
        ahead_secs: i64,
        /// The window that was applied.
        window_secs: u32,
    },
}

impl TimestampError {
    /// The clock skew, for the launch doctor: the tool's time minus the
    /// timestamp, in seconds (positive when the timestamp is old, negative
    /// when it is in the future), or `None` when there was no valid
    /// timestamp.
    #[must_use]
    pub fn skew_secs(&self) -> Option<i64> {
        match self {
            Self::TooOld { age_secs, .. } => Some(*age_secs),
            Self::InFuture { ahead_secs, .. } => Some(ahead_secs.saturating_neg()),
            Self::Missing | Self::Malformed => None,
        }
    }
}

/// Parses an `oauth_timestamp`: one to 12 ASCII digits, nothing else (no
/// sign, no spaces). oauthlib 0.7.2 insisted on exactly 10 digits; any
/// plain number of seconds is accepted here, so a consumer with a clock set
/// before 2001 gets a "too old" answer that names the skew instead of
/// "malformed".
///
/// # Errors
///
/// [`TimestampError::Missing`] for an empty value,
/// [`TimestampError::Malformed`] otherwise.
pub fn parse_oauth_timestamp(value: &str) -> Result<i64, TimestampError> {
    if value.is_empty() {
        return Err(TimestampError::Missing);
    }
    if value.len() > MAX_TIMESTAMP_DIGITS || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TimestampError::Malformed);
    }
    // At most 12 digits: always fits in an i64.
    value.parse().map_err(|_| TimestampError::Malformed)
}

/// Checks an `oauth_timestamp` against the tool's clock: it must lie within
/// `window_secs` of `now`, either way, edges included (spec §5.2; DESIGN §3
/// Launch: ±600 s, configurable).
///
/// Returns the timestamp.
///
/// # Errors
///
/// A [`TimestampError`] saying whether the timestamp is missing, malformed,
/// too old or in the future, with the skew in seconds.
///
/// ```
/// use lti_core::{check_timestamp, TimestampError, DEFAULT_TIMESTAMP_WINDOW};
///
/// let now = 1_420_370_306;
/// assert_eq!(check_timestamp("1420369706", now, DEFAULT_TIMESTAMP_WINDOW), Ok(1_420_369_706));
/// assert_eq!(
///     check_timestamp("1420369705", now, DEFAULT_TIMESTAMP_WINDOW),
///     Err(TimestampError::TooOld { age_secs: 601, window_secs: 600 })
/// );
/// assert_eq!(check_timestamp("-1", now, 600), Err(TimestampError::Malformed));
/// ```
pub fn check_timestamp(
    oauth_timestamp: &str,
    now: i64,
    window_secs: u32,
) -> Result<i64, TimestampError> {
    let timestamp = parse_oauth_timestamp(oauth_timestamp)?;
    let skew = now.saturating_sub(timestamp);
    let window = i64::from(window_secs);
    if skew > window {
        Err(TimestampError::TooOld {
            age_secs: skew,
            window_secs,
        })
    } else if skew < -window {
        Err(TimestampError::InFuture {
            ahead_secs: skew.saturating_neg(),
            window_secs,
        })
    } else {
        Ok(timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > 1_577_836_800);
    }

    #[test]
    fn fixed_clock_saturates() {
        let clock = FixedClock::new(i64::MAX - 1);
        clock.advance(10);
        assert_eq!(clock.now(), i64::MAX);
        clock.set(i64::MIN);
        clock.advance(-1);
        assert_eq!(clock.now(), i64::MIN);
    }

    #[test]
    fn clocks_behind_pointers() {
        let shared: Arc<dyn Clock> = Arc::new(FixedClock::new(5));
        assert_eq!(shared.now(), 5);
        let boxed: Box<dyn Clock> = Box::new(FixedClock::new(6));
        assert_eq!(boxed.now(), 6);
        fn read<C: Clock>(clock: C) -> i64 {
            clock.now()
        }
        let fixed = FixedClock::new(7);
        assert_eq!(read(&fixed), 7);
    }

    #[test]
    fn skew_sign() {
        assert_eq!(
            check_timestamp("100", 1000, 10).map_err(|e| e.skew_secs()),
            Err(Some(900))
        );
        assert_eq!(
            check_timestamp("1000", 100, 10).map_err(|e| e.skew_secs()),
            Err(Some(-900))
        );
        assert_eq!(TimestampError::Malformed.skew_secs(), None);
    }

    #[test]
    fn extreme_now_does_not_overflow() {
        assert!(matches!(
            check_timestamp("999999999999", i64::MIN, 600),
            Err(TimestampError::InFuture { .. })
        ));
        assert!(matches!(
            check_timestamp("0", i64::MAX, u32::MAX),
            Err(TimestampError::TooOld { .. })
        ));
    }
}
