//! Time: [`Instant`] (a monotonic clock reading), [`Duration`], [`sleep`].
//!
//! In the real mode [`Instant`] is `std::time::Instant`. In the simulation
//! mode it reads the simulation's virtual clock, which only moves when every
//! thread is blocked (it then jumps to the earliest timer). That is why the
//! kit reads the clock only through here, and why there is no conversion to
//! or from `std::time::Instant`: such a value would mean nothing there.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

pub use std::time::Duration;

pub use crate::thread::sleep;

/// A reading of a monotonic clock: never goes backwards, only meaningful
/// compared with other readings of the same run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    inner: std::time::Instant,
}

impl Instant {
    /// The clock now.
    #[inline]
    pub fn now() -> Instant {
        Instant {
            inner: std::time::Instant::now(),
        }
    }

    /// Time since `self`; zero if `self` is in the future.
    #[inline]
    pub fn elapsed(&self) -> Duration {
        self.inner.elapsed()
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later than `self`
    /// (as std does since Rust 1.60).
    #[inline]
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.inner.duration_since(earlier.inner)
    }

    /// Time from `earlier` to `self`, or `None` if `earlier` is later.
    #[inline]
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.inner.checked_duration_since(earlier.inner)
    }

    /// Time from `earlier` to `self`, or zero if `earlier` is later.
    #[inline]
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.inner.saturating_duration_since(earlier.inner)
    }

    /// `self + dur`, or `None` if that cannot be represented.
    #[inline]
    pub fn checked_add(&self, dur: Duration) -> Option<Instant> {
        self.inner.checked_add(dur).map(|inner| Instant { inner })
    }

    /// `self - dur`, or `None` if that cannot be represented.
    #[inline]
    pub fn checked_sub(&self, dur: Duration) -> Option<Instant> {
        self.inner.checked_sub(dur).map(|inner| Instant { inner })
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Panics on overflow, as std does.
    #[inline]
    fn add(self, dur: Duration) -> Instant {
        Instant {
            inner: self.inner + dur,
        }
    }
}

impl AddAssign<Duration> for Instant {
    #[inline]
    fn add_assign(&mut self, dur: Duration) {
        self.inner += dur;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    /// Panics on overflow, as std does.
    #[inline]
    fn sub(self, dur: Duration) -> Instant {
        Instant {
            inner: self.inner - dur,
        }
    }
}

impl SubAssign<Duration> for Instant {
    #[inline]
    fn sub_assign(&mut self, dur: Duration) {
        self.inner -= dur;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Same as [`Instant::duration_since`].
    #[inline]
    fn sub(self, earlier: Instant) -> Duration {
        self.inner - earlier.inner
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl Instant {
    /// The std instant behind this one, for the channel module's deadlines.
    #[inline]
    pub(crate) fn to_std(self) -> std::time::Instant {
        self.inner
    }
}
