//! The generator's own pseudo-random numbers: SplitMix64 and the draws built
//! on it.
//!
//! Why not the `rand` crate: a data set is named by its seed, so the same
//! seed must give the same bytes on every platform and with every version of
//! this crate's dependencies, forever. `rand` reserves the right to change
//! its algorithms between versions, and the floating-point functions of the
//! standard library (`exp`, `ln`, `powf`) call the platform's math library,
//! whose last bits differ between systems. So everything here is built from
//! 64-bit integer arithmetic and the IEEE 754 operations that are exactly
//! specified (`+`, `-`, `*`, `/`, `sqrt`, rounding): the same on every
//! machine.
//!
//! Streams are *derived*, not shared: every actor gets a fresh generator per
//! day from `(seed, purpose, actor, day)`, so what one account does never
//! shifts the random numbers of another.

/// SplitMix64 (Steele, Lea and Flood, 2014): 64 bits of state, full period,
/// passes BigCrush, and trivially seedable from any `u64`.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function: a bijective mix of 64 bits.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of `seed` and `parts`, for deriving streams and stable ids.
pub(crate) fn hash(seed: u64, parts: &[u64]) -> u64 {
    parts.iter().fold(mix64(seed ^ GOLDEN), |acc, part| {
        mix64(acc.wrapping_add(GOLDEN) ^ mix64(part.wrapping_add(GOLDEN)))
    })
}

impl Rng {
    /// A generator started from `seed`.
    pub(crate) fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// An independent stream for `parts` (purpose, actor, day, ...) under
    /// `seed`.
    pub(crate) fn derive(seed: u64, parts: &[u64]) -> Rng {
        Rng::new(hash(seed, parts))
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }

    /// A uniform integer in `0..n` (Lemire's method, unbiased); 0 when `n`
    /// is 0.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let wide = u128::from(self.next_u64()) * u128::from(n);
            // The low half decides rejection; the high half is the draw.
            if (wide as u64) >= threshold {
                return (wide >> 64) as u64;
            }
        }
    }

    /// A uniform index into a collection of `len` items; 0 when empty.
    pub(crate) fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(len as u64)).unwrap_or(0)
    }

    /// A uniform integer in `lo..=hi` (`lo` when `hi < lo`).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = hi.abs_diff(lo).saturating_add(1);
        lo.wrapping_add_unsigned(self.below(span))
    }

    /// A uniform `u32` in `lo..=hi`.
    pub(crate) fn range_u32(&mut self, lo: u32, hi: u32) -> u32 {
        u32::try_from(self.range(i64::from(lo), i64::from(hi))).unwrap_or(lo)
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform float in `[lo, hi)`.
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// `true` with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniformly chosen item; `None` when `items` is empty.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.index(items.len()))
    }

    /// An item chosen with the given integer weights; `None` when all are 0.
    pub(crate) fn weighted<'a, T>(&mut self, items: &'a [(u32, T)]) -> Option<&'a T> {
        let total: u64 = items.iter().map(|(w, _)| u64::from(*w)).sum();
        let mut draw = self.below(total);
        for (weight, item) in items {
            let weight = u64::from(*weight);
            if draw < weight {
                return Some(item);
            }
            draw -= weight;
        }
        None
    }

    /// An index chosen with the given integer weights (0 when all are 0).
    pub(crate) fn weighted_index(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut draw = self.below(total);
        for (i, weight) in weights.iter().enumerate() {
            let weight = u64::from(*weight);
            if draw < weight {
                return i;
            }
            draw -= weight;
        }
        0
    }

    /// A float between `lo` and `hi` whose logarithm is uniform: most draws
    /// are small, a few large, as with amounts of money. `ratio^u` is built
    /// from square roots (exactly rounded) rather than `powf`.
    pub(crate) fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        if !(lo > 0.0 && hi > lo) {
            return lo;
        }
        const BITS: u32 = 20;
        let u = self.below(1 << BITS);
        let mut root = hi / lo;
        let mut factor = 1.0;
        for bit in (0..BITS).rev() {
            root = root.sqrt();
            if u & (1 << bit) != 0 {
                factor *= root;
            }
        }
        lo * factor
    }

    /// A Poisson-distributed count with the given mean: Knuth's method for
    /// small means, a normal approximation (Irwin-Hall) for large ones.
    pub(crate) fn poisson(&mut self, mean: f64) -> u32 {
        if mean <= 0.0 || mean.is_nan() {
            return 0;
        }
        if mean > 30.0 {
            let z: f64 = (0..12).map(|_| self.unit()).sum::<f64>() - 6.0;
            let x = (mean + mean.sqrt() * z).round();
            return if x <= 0.0 { 0 } else { x as u32 };
        }
        let limit = exp_neg(mean);
        let mut product = self.unit();
        let mut count = 0u32;
        while product > limit && count < 1000 {
            product *= self.unit();
            count += 1;
        }
        count
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

/// `e^(-x)` for `0 <= x <= 64` from basic operations only: a Taylor series
/// for `e^(-x/64)`, squared six times.
pub(crate) fn exp_neg(x: f64) -> f64 {
    let y = -x / 64.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 1..=16 {
        term *= y / f64::from(n);
        sum += term;
    }
    for _ in 0..6 {
        sum *= sum;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_the_same_numbers() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // The first outputs of SplitMix64 seeded with 1234567 (reference C code).
        let mut rng = Rng::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn derived_streams_differ_by_any_part() {
        let mut a = Rng::derive(7, &[1, 2, 3]);
        let mut b = Rng::derive(7, &[1, 2, 4]);
        let mut c = Rng::derive(8, &[1, 2, 3]);
        let (x, y, z) = (a.next_u64(), b.next_u64(), c.next_u64());
        assert_ne!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn draws_stay_in_their_ranges() {
        let mut rng = Rng::new(9);
        for _ in 0..10_000 {
            assert!(rng.below(7) < 7);
            let r = rng.range(-3, 3);
            assert!((-3..=3).contains(&r));
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
            let l = rng.log_uniform(10.0, 1000.0);
            assert!((10.0..=1000.0).contains(&l), "{l}");
        }
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.range(5, 5), 5);
        assert_eq!(rng.range(5, 1), 5);
    }

    #[test]
    fn poisson_has_about_the_asked_mean() {
        let mut rng = Rng::new(3);
        for mean in [0.2, 3.0, 45.0] {
            let n = 20_000;
            let total: u64 = (0..n).map(|_| u64::from(rng.poisson(mean))).sum();
            let got = total as f64 / f64::from(n);
            assert!((got - mean).abs() < mean * 0.05 + 0.02, "{mean}: {got}");
        }
    }

    #[test]
    fn exp_neg_is_accurate() {
        for (x, expected) in [
            (0.0, 1.0),
            (1.0, 0.367_879_441_171_442_3),
            (10.0, 4.539_992_976_248_485e-5),
        ] {
            let got = exp_neg(x);
            assert!((got - expected).abs() <= expected * 1e-12, "{x}: {got}");
        }
    }

    #[test]
    fn weighted_choice_never_picks_zero_weights() {
        let mut rng = Rng::new(5);
        let items = [(0, 'a'), (3, 'b'), (0, 'c'), (1, 'd')];
        for _ in 0..1000 {
            let got = rng.weighted(&items).copied();
            assert!(matches!(got, Some('b' | 'd')), "{got:?}");
        }
        assert_eq!(rng.weighted::<char>(&[]), None);
    }
}
