//! Deterministic, explicitly seeded random numbers.
//!
//! There is deliberately no `thread_rng` and no seeding from the clock or
//! the OS: every random choice in the kit descends from a seed someone wrote
//! down, so a failing run can be replayed. Give each peer or component its
//! own stream with [`seeded`]`(seed, stream)` (and [`stream_id`] to turn a
//! name into a stream number), so that adding a draw in one peer does not
//! shift every other peer's numbers.
//!
//! The generator is xoshiro256** seeded through splitmix64. Its output for a
//! given `(seed, stream)` is part of the crate's contract: a test pins it.
//! It is fast and statistically good, and not for cryptography.
//!
//! ```
//! use labrt::rand::{seeded, stream_id};
//! use labrt::time::Duration;
//!
//! let mut a = seeded(42, stream_id("peer-0"));
//! let mut b = seeded(42, stream_id("peer-0"));
//! assert_eq!(a.next_u64(), b.next_u64());
//! let timeout = a.duration_in(Duration::from_millis(300), Duration::from_millis(600));
//! assert!(timeout >= Duration::from_millis(300) && timeout < Duration::from_millis(600));
//! ```

use std::ops::Range;

use crate::time::Duration;

/// A deterministic pseudo-random generator (xoshiro256**). Not for cryptography.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
/// Keeps stream 0 of seed 0 away from the all-small-numbers corner.
const STREAM_KEY: u64 = 0xD1B5_4A32_D192_ED03;

/// The splitmix64 finalizer: a bijection on `u64` that mixes every bit.
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A generator for stream `stream` of seed `seed`.
///
/// Same `(seed, stream)`, same numbers, on every platform and in every
/// version of the kit. Different streams of one seed are independent for
/// all practical purposes. `seeded(seed, 0)` is [`Rng::new`]`(seed)`.
#[inline]
pub fn seeded(seed: u64, stream: u64) -> Rng {
    Rng::with_stream(seed, stream)
}

/// A stable stream number for a name (FNV-1a of its bytes), for
/// `seeded(seed, stream_id("server-2"))`. Unlike std's hasher it is the same
/// in every run and on every platform.
pub fn stream_id(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

impl Rng {
    /// The generator for `seed` (its stream 0).
    #[inline]
    pub fn new(seed: u64) -> Rng {
        Rng::with_stream(seed, 0)
    }

    /// The generator for stream `stream` of `seed`; the same as [`seeded`].
    pub fn with_stream(seed: u64, stream: u64) -> Rng {
        let mut x = seed ^ mix64(stream ^ STREAM_KEY);
        let mut s = [0u64; 4];
        for word in &mut s {
            x = x.wrapping_add(GOLDEN_GAMMA);
            *word = mix64(x);
        }
        // splitmix64 outputs are a bijection of distinct inputs, so at most
        // one of the four can be zero: the state is never all zeros.
        Rng { s }
    }

    /// A new generator drawn from this one, for handing to a sub-component.
    /// Advances `self`.
    pub fn fork(&mut self) -> Rng {
        let seed = self.next_u64();
        let stream = self.next_u64();
        Rng::with_stream(seed, stream)
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let out = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        out
    }

    /// The next 32 random bits (the high half of [`Rng::next_u64`]).
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A uniform integer in `0..n`, without bias. Panics if `n` is 0.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below(0): empty range");
        // Lemire's multiply-and-reject: exact uniformity, rarely a second draw.
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as u64
    }

    /// A uniform integer in `range` (`start..end`). Panics if it is empty.
    #[inline]
    pub fn in_range(&mut self, range: Range<u64>) -> u64 {
        assert!(range.start < range.end, "Rng::in_range: empty range");
        range.start + self.below(range.end - range.start)
    }

    /// A uniform index into a collection of `len` items. Panics if `len` is 0.
    #[inline]
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// True with probability `num / den` exactly. Panics if `den` is 0.
    #[inline]
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (clamped to `[0, 1]`).
    #[inline]
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniform duration in `[low, high)`, to the nanosecond; `low` if the
    /// range is empty. For randomized timeouts.
    pub fn duration_in(&mut self, low: Duration, high: Duration) -> Duration {
        let span = high.saturating_sub(low).as_nanos();
        if span == 0 {
            return low;
        }
        let span = u64::try_from(span).unwrap_or(u64::MAX);
        low + Duration::from_nanos(self.below(span))
    }

    /// A uniformly chosen element, or `None` if `items` is empty.
    #[inline]
    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            Some(&items[self.index(items.len())])
        }
    }

    /// Puts `items` in a uniformly random order (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix64_is_the_splitmix_finalizer() {
        // splitmix64 with state 0: first output is mix64(GOLDEN_GAMMA); the
        // published first output of splitmix64(0) is 0xe220a8397b1dcdaf.
        assert_eq!(mix64(GOLDEN_GAMMA), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn next_u64_is_xoshiro256_star_star() {
        // The reference implementation's output from state {1, 2, 3, 4}.
        let mut r = Rng { s: [1, 2, 3, 4] };
        let got: Vec<u64> = (0..6).map(|_| r.next_u64()).collect();
        assert_eq!(
            got,
            [
                11520,
                0,
                1_509_978_240,
                1_215_971_899_390_074_240,
                1_216_172_134_540_287_360,
                607_988_272_756_665_600
            ]
        );
    }

    #[test]
    fn state_is_never_all_zero_for_small_inputs() {
        for seed in 0..64 {
            for stream in 0..64 {
                assert_ne!(Rng::with_stream(seed, stream).s, [0; 4]);
            }
        }
    }
}
