//! Latency samples and their percentiles.

use serde::Serialize;

/// Percentiles of a set of latency samples, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// How many samples.
    pub samples: usize,
    /// The median.
    pub p50_us: f64,
    /// The 99th percentile.
    pub p99_us: f64,
    /// The 99.9th percentile.
    pub p999_us: f64,
    /// The slowest sample.
    pub max_us: f64,
}

impl Percentiles {
    /// The percentiles of `samples`, given in nanoseconds (nearest-rank).
    pub fn of(samples: &mut [u64]) -> Percentiles {
        samples.sort_unstable();
        let rank = |p: f64| -> f64 {
            if samples.is_empty() {
                return 0.0;
            }
            let last = samples.len() - 1;
            // Nearest rank: the smallest sample with at least p of them at
            // or below it.
            let at = ((p * samples.len() as f64).ceil() as usize).saturating_sub(1);
            samples.get(at.min(last)).copied().unwrap_or(0) as f64 / 1000.0
        };
        Percentiles {
            samples: samples.len(),
            p50_us: rank(0.50),
            p99_us: rank(0.99),
            p999_us: rank(0.999),
            max_us: rank(1.0),
        }
    }
}

/// Nanoseconds as `u64`, saturating.
pub(crate) fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Transactions per second for `count` transactions in `ns` nanoseconds.
pub(crate) fn per_second(count: usize, ns: u64) -> f64 {
    if ns == 0 {
        return 0.0;
    }
    count as f64 * 1e9 / ns as f64
}

/// Nanoseconds per transaction.
pub(crate) fn per_tx(ns: u64, count: usize) -> f64 {
    if count == 0 {
        return 0.0;
    }
    ns as f64 / count as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut samples: Vec<u64> = (1..=1000).map(|i| i * 1000).collect();
        let p = Percentiles::of(&mut samples);
        assert_eq!(p.samples, 1000);
        assert_eq!(p.p50_us, 500.0);
        assert_eq!(p.p99_us, 990.0);
        assert_eq!(p.p999_us, 999.0);
        assert_eq!(p.max_us, 1000.0);
    }

    #[test]
    fn no_samples_give_zeroes() {
        assert_eq!(Percentiles::of(&mut []), Percentiles::default());
        assert_eq!(per_second(10, 0), 0.0);
        assert_eq!(per_tx(10, 0), 0.0);
    }

    #[test]
    fn rates_are_per_second_and_per_transaction() {
        assert_eq!(per_second(1000, 1_000_000), 1_000_000.0);
        assert_eq!(per_tx(1_000_000, 1000), 1000.0);
    }
}
