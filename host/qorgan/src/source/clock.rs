//! The time the activator judges packs by.
//!
//! Expiry and issue times are checked against "now", and activation times
//! are recorded; a clock that tests can set makes an expired pack, a pack
//! from the future and the age of the active pack testable without waiting.

use time::OffsetDateTime;

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's clock, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Any function returning the time is a clock: `|| some_time`.
impl<F> Clock for F
where
    F: Fn() -> OffsetDateTime + Send + Sync,
{
    fn now(&self) -> OffsetDateTime {
        self()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_is_a_clock() {
        let fixed = time::macros::datetime!(2025-03-01 10:00 UTC);
        let clock = move || fixed;
        assert_eq!(Clock::now(&clock), fixed);
        assert!(SystemClock.now() > fixed);
    }
}
