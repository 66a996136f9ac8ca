//! How long a remote source waits after a failure before it asks again.
//!
//! A registry or web server that is down, or answering 5xx, must not be
//! hammered by every bank's host at the poll interval; nor should a host
//! give up on it. Each failure in a row doubles the wait, up to a cap; the
//! first success resets it. The active pack keeps deciding all the while:
//! a source that cannot be reached only delays the next pack.

use std::time::{Duration, Instant};

/// The first wait after a failure, by default.
pub(crate) const DEFAULT_INITIAL: Duration = Duration::from_secs(1);
/// The longest wait, by default.
pub(crate) const DEFAULT_MAX: Duration = Duration::from_secs(300);

/// Exponential backoff over failures in a row.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
    /// The last failure and the wait after it.
    waiting: Option<(Instant, Duration)>,
}

impl Backoff {
    /// Waits `initial` after the first failure, doubling up to `max`.
    pub(crate) fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max: max.max(initial),
            failures: 0,
            waiting: None,
        }
    }

    /// Whether the source may ask at `now`.
    pub(crate) fn ready(&self, now: Instant) -> bool {
        self.waiting
            .is_none_or(|(failed_at, wait)| now.saturating_duration_since(failed_at) >= wait)
    }

    /// Records a failure at `now`; how long to wait before the next attempt.
    pub(crate) fn failed(&mut self, now: Instant) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let wait = self.delay(self.failures);
        self.waiting = Some((now, wait));
        wait
    }

    /// Records a success: the next failure waits `initial` again.
    pub(crate) fn succeeded(&mut self) {
        self.failures = 0;
        self.waiting = None;
    }

    /// Failures in a row.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// The wait after the `failures`-th failure in a row:
    /// `initial × 2^(failures − 1)`, at most `max`.
    fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.initial
            .checked_mul(1u32 << doublings)
            .map_or(self.max, |d| d.min(self.max))
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(DEFAULT_INITIAL, DEFAULT_MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_doubles_the_wait_up_to_the_cap() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        let now = Instant::now();
        let waits: Vec<u64> = (0..6).map(|_| backoff.failed(now).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
        assert_eq!(backoff.failures(), 6);
    }

    #[test]
    fn a_source_waits_out_its_backoff_and_a_success_resets_it() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let now = Instant::now();
        assert!(backoff.ready(now));
        backoff.failed(now);
        backoff.failed(now);
        assert!(!backoff.ready(now));
        assert!(!backoff.ready(now + Duration::from_millis(199)));
        assert!(backoff.ready(now + Duration::from_millis(200)));
        backoff.succeeded();
        assert!(backoff.ready(now));
        assert_eq!(backoff.failed(now), Duration::from_millis(100));
    }

    #[test]
    fn the_wait_never_overflows() {
        let mut backoff = Backoff::new(Duration::from_secs(u64::MAX / 4), Duration::MAX);
        let now = Instant::now();
        for _ in 0..100 {
            let _ = backoff.failed(now);
        }
        assert_eq!(backoff.failures(), 100);
        assert!(!backoff.ready(now));
    }
}
