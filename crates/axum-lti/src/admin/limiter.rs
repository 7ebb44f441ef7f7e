//! The login rate limiter: at most [`MAX_FAILURES_PER_EMAIL`] failed logins
//! per account and [`MAX_FAILURES_PER_ADDRESS`] per client address within
//! [`WINDOW_SECS`]; beyond that every login attempt, right or wrong, is
//! refused with 429 until the oldest failure leaves the window.
//!
//! The counts live in memory, **per instance**: behind a load balancer with
//! N instances an attacker gets up to N times the budget, and a restart
//! forgets it. The password hash (Argon2id) is what makes guessing slow in
//! any case; the limiter stops online guessing at a rate that matters.
//!
//! The per-address limit is higher than the per-account one because an
//! address may be shared (a campus proxy, NAT); it catches one client trying
//! many accounts. The address is the TCP peer, or, when the peer is listed
//! in `server.trusted_proxies`, the last `X-Forwarded-For` entry it added.
//! Without a peer address (a router driven in process) only the account
//! limit applies.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, MutexGuard};

use axum::extract::{ConnectInfo, FromRequestParts};
use http::request::Parts;

use crate::error::LtiRejection;
use crate::proxy::TrustedProxies;
use crate::state::LtiState;

/// Failed logins allowed per account within the window.
pub(crate) const MAX_FAILURES_PER_EMAIL: usize = 5;
/// Failed logins allowed per client address within the window.
pub(crate) const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// The window: 15 minutes.
pub(crate) const WINDOW_SECS: i64 = 15 * 60;
/// Above this many tracked keys, expired ones are swept on every failure.
const SWEEP_ABOVE: usize = 10_000;

/// Failure times per key, newest last, never more than the limit.
#[derive(Debug)]
struct Failures<K> {
    limit: usize,
    times: HashMap<K, VecDeque<i64>>,
}

impl<K: Eq + Hash + Clone> Failures<K> {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            times: HashMap::new(),
        }
    }

    /// Seconds until `key` may try again, if it is limited now.
    fn retry_after(&mut self, key: &K, now: i64) -> Option<i64> {
        let times = self.times.get_mut(key)?;
        times.retain(|&t| t > now - WINDOW_SECS);
        if times.len() < self.limit {
            if times.is_empty() {
                self.times.remove(key);
            }
            return None;
        }
        let oldest = times.front().copied().unwrap_or(now);
        Some((oldest + WINDOW_SECS - now).max(1))
    }

    fn record(&mut self, key: &K, now: i64) {
        if self.times.len() > SWEEP_ABOVE {
            self.times
                .retain(|_, times| times.back().is_some_and(|&last| last > now - WINDOW_SECS));
        }
        let times = self.times.entry(key.clone()).or_default();
        times.push_back(now);
        while times.len() > self.limit {
            times.pop_front();
        }
    }

    fn clear(&mut self, key: &K) {
        self.times.remove(key);
    }
}

/// The limiter; one per built tool ([`crate::ToolProvider`]).
pub(crate) struct LoginLimiter {
    inner: Mutex<Inner>,
}

struct Inner {
    emails: Failures<String>,
    addresses: Failures<IpAddr>,
}

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("LoginLimiter")
            .field("accounts", &inner.emails.times.len())
            .field("addresses", &inner.addresses.times.len())
            .finish()
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                emails: Failures::new(MAX_FAILURES_PER_EMAIL),
                addresses: Failures::new(MAX_FAILURES_PER_ADDRESS),
            }),
        }
    }
}

impl LoginLimiter {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Plain counters: a panic elsewhere leaves them usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Seconds until a login for `email` from `address` may be tried, when
    /// either is limited now.
    pub(crate) fn retry_after(
        &self,
        email: &str,
        address: Option<IpAddr>,
        now: i64,
    ) -> Option<i64> {
        let mut inner = self.lock();
        let by_email = inner.emails.retry_after(&email.to_owned(), now);
        let by_address = address.and_then(|ip| inner.addresses.retry_after(&ip, now));
        by_email.max(by_address)
    }

    /// Counts a failed login.
    pub(crate) fn record_failure(&self, email: &str, address: Option<IpAddr>, now: i64) {
        let mut inner = self.lock();
        inner.emails.record(&email.to_owned(), now);
        if let Some(ip) = address {
            inner.addresses.record(&ip, now);
        }
    }

    /// Forgets an account's failures after a successful login (the
    /// address's stay: one good account must not reset a guesser's budget).
    pub(crate) fn record_success(&self, email: &str) {
        self.lock().emails.clear(&email.to_owned());
    }
}

/// The client's address as the limiter counts it (see the module docs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(pub(crate) Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = LtiRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(Self(None));
        };
        let peer = peer.ip().to_canonical();
        let state = LtiState::from_extensions(&parts.extensions)?;
        let proxies =
            TrustedProxies::parse(&state.settings().server.trusted_proxies).unwrap_or_default();
        if !proxies.contains(peer) {
            return Ok(Self(Some(peer)));
        }
        // The nearest proxy appends the address it saw last.
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .next_back()
            .and_then(|last| last.trim().parse::<IpAddr>().ok());
        Ok(Self(Some(forwarded.map_or(peer, |ip| ip.to_canonical()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_000_000;

    #[test]
    fn five_failures_per_account_then_wait() {
        let limiter = LoginLimiter::default();
        for i in 0..5 {
            assert_eq!(limiter.retry_after("a@b.c", None, T + i), None);
            limiter.record_failure("a@b.c", None, T + i);
        }
        assert_eq!(
            limiter.retry_after("a@b.c", None, T + 10),
            Some(WINDOW_SECS - 10)
        );
        assert_eq!(limiter.retry_after("other@b.c", None, T + 10), None);
        // The first failure leaves the window: one more try.
        assert_eq!(limiter.retry_after("a@b.c", None, T + WINDOW_SECS), None);
        limiter.record_failure("a@b.c", None, T + WINDOW_SECS);
        assert!(
            limiter
                .retry_after("a@b.c", None, T + WINDOW_SECS)
                .is_some()
        );
    }

    #[test]
    fn addresses_are_limited_across_accounts() {
        let limiter = LoginLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().expect("an address");
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            limiter.record_failure(&format!("user{i}@b.c"), Some(ip), T);
        }
        assert!(limiter.retry_after("fresh@b.c", Some(ip), T + 1).is_some());
        assert_eq!(limiter.retry_after("fresh@b.c", None, T + 1), None);
        let other: IpAddr = "192.0.2.2".parse().expect("an address");
        assert_eq!(limiter.retry_after("fresh@b.c", Some(other), T + 1), None);
    }

    #[test]
    fn success_clears_the_account_only() {
        let limiter = LoginLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().expect("an address");
        for _ in 0..4 {
            limiter.record_failure("a@b.c", Some(ip), T);
        }
        limiter.record_success("a@b.c");
        limiter.record_failure("a@b.c", Some(ip), T);
        assert_eq!(limiter.retry_after("a@b.c", Some(ip), T), None);
        let inner = limiter.lock();
        assert_eq!(inner.emails.times.get("a@b.c").map(VecDeque::len), Some(1));
        assert_eq!(inner.addresses.times.get(&ip).map(VecDeque::len), Some(5));
    }

    #[test]
    fn memory_stays_bounded() {
        let limiter = LoginLimiter::default();
        for i in 0..(SWEEP_ABOVE as i64 + 10) {
            limiter.record_failure(&format!("u{i}"), None, T);
        }
        // Much later, every old entry has expired and is swept.
        limiter.record_failure("late", None, T + 2 * WINDOW_SECS);
        assert!(limiter.lock().emails.times.len() <= 2);
        for _ in 0..100 {
            limiter.record_failure("late", None, T + 2 * WINDOW_SECS);
        }
        let inner = limiter.lock();
        assert_eq!(
            inner.emails.times.get("late").map(VecDeque::len),
            Some(MAX_FAILURES_PER_EMAIL)
        );
    }
}
