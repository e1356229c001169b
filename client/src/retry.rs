//! When and how long to wait before sending a request again.
//!
//! Exponential backoff with jitter: the n-th retry waits a random time in `[d/2, d]` where
//! `d = min(initial · 2ⁿ, max_delay)`, so clients that failed together do not come back
//! together. A `Retry-After` header (seconds) from the server raises the wait, still capped at
//! `max_delay`. Only [retryable](crate::Error::is_retryable) errors are retried.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// How often and how patiently to retry a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: never retry).
    pub max_retries: u32,
    /// The first wait (before jitter).
    pub initial_delay: Duration,
    /// No wait is longer than this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 5 retries starting at 100 ms, at most 10 s apart: about 3 s of patience in all.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The wait before retry number `retry` (0-based), given the server's `Retry-After`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .initial_delay
            .saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        // Uniform in [exp/2, exp].
        let half = exp / 2;
        let nanos = half.as_nanos() as u64;
        let jitter = if nanos == 0 {
            Duration::ZERO
        } else {
            Duration::from_nanos(random_u64() % (nanos + 1))
        };
        let wait = half + jitter;
        match retry_after {
            Some(after) => wait.max(after.min(self.max_delay)),
            None => wait,
        }
    }
}

/// A random number from the standard library's per-process hash keys (no RNG dependency: the
/// jitter needs spread, not quality).
fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_within_jitter_bounds_and_cap() {
        let p = RetryPolicy {
            max_retries: 10,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for _ in 0..50 {
            for (retry, full_ms) in [
                (0, 100),
                (1, 200),
                (2, 400),
                (3, 800),
                (4, 1000),
                (20, 1000),
            ] {
                let d = p.delay(retry, None);
                let full = Duration::from_millis(full_ms);
                assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?}");
            }
        }
    }

    #[test]
    fn jitter_spreads_the_waits() {
        let p = RetryPolicy::default();
        let waits: std::collections::HashSet<_> = (0..20).map(|_| p.delay(3, None)).collect();
        assert!(waits.len() > 1, "no spread: {waits:?}");
    }

    #[test]
    fn retry_after_raises_the_wait_but_not_past_the_cap() {
        let p = RetryPolicy::default();
        assert!(p.delay(0, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
        assert_eq!(p.delay(0, Some(Duration::from_secs(3600))), p.max_delay);
    }

    #[test]
    fn huge_retry_numbers_do_not_overflow() {
        let p = RetryPolicy::default();
        assert!(p.delay(u32::MAX, None) <= p.max_delay);
    }
}
