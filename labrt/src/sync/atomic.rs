//! Atomic integers and booleans with std's API.
//!
//! Newtypes over `std::sync::atomic`, not re-exports: in the simulation mode
//! an atomic access is a scheduling point, so that a thread spinning on a
//! flag (`while !done.load(..) {}`) lets the thread that will set it run
//! instead of spinning forever. In the real mode each method is the std one.

use std::fmt;

pub use std::sync::atomic::{Ordering, compiler_fence, fence};

/// A boolean shared between threads.
#[derive(Default)]
#[repr(transparent)]
pub struct AtomicBool {
    inner: std::sync::atomic::AtomicBool,
}

impl AtomicBool {
    /// A new atomic holding `value`. Usable in `static`s.
    #[inline]
    pub const fn new(value: bool) -> AtomicBool {
        AtomicBool {
            inner: std::sync::atomic::AtomicBool::new(value),
        }
    }

    /// Reads the value.
    #[inline]
    pub fn load(&self, order: Ordering) -> bool {
        self.inner.load(order)
    }

    /// Writes `value`.
    #[inline]
    pub fn store(&self, value: bool, order: Ordering) {
        self.inner.store(value, order)
    }

    /// Writes `value` and returns the previous value.
    #[inline]
    pub fn swap(&self, value: bool, order: Ordering) -> bool {
        self.inner.swap(value, order)
    }

    /// Writes `new` if the value is `current`; `Ok(previous)` if it did,
    /// `Err(actual)` if not.
    #[inline]
    pub fn compare_exchange(
        &self,
        current: bool,
        new: bool,
        success: Ordering,
        failure: Ordering,
    ) -> Result<bool, bool> {
        self.inner.compare_exchange(current, new, success, failure)
    }

    /// Like [`AtomicBool::compare_exchange`] but may fail spuriously; for loops.
    #[inline]
    pub fn compare_exchange_weak(
        &self,
        current: bool,
        new: bool,
        success: Ordering,
        failure: Ordering,
    ) -> Result<bool, bool> {
        self.inner
            .compare_exchange_weak(current, new, success, failure)
    }

    /// Logical "and" with `value`; returns the previous value.
    #[inline]
    pub fn fetch_and(&self, value: bool, order: Ordering) -> bool {
        self.inner.fetch_and(value, order)
    }

    /// Logical "or" with `value`; returns the previous value.
    #[inline]
    pub fn fetch_or(&self, value: bool, order: Ordering) -> bool {
        self.inner.fetch_or(value, order)
    }

    /// Logical "xor" with `value`; returns the previous value.
    #[inline]
    pub fn fetch_xor(&self, value: bool, order: Ordering) -> bool {
        self.inner.fetch_xor(value, order)
    }

    /// Logical "nand" with `value`; returns the previous value.
    #[inline]
    pub fn fetch_nand(&self, value: bool, order: Ordering) -> bool {
        self.inner.fetch_nand(value, order)
    }

    /// Negates the value; returns the previous value.
    #[inline]
    pub fn fetch_not(&self, order: Ordering) -> bool {
        self.inner.fetch_not(order)
    }

    /// Applies `f` until it succeeds or returns `None`; see
    /// `std::sync::atomic::AtomicBool::fetch_update`.
    #[inline]
    pub fn fetch_update<F>(
        &self,
        set_order: Ordering,
        fetch_order: Ordering,
        f: F,
    ) -> Result<bool, bool>
    where
        F: FnMut(bool) -> Option<bool>,
    {
        self.inner.fetch_update(set_order, fetch_order, f)
    }

    /// A mutable reference to the value; `&mut self` proves no one else reads it.
    #[inline]
    pub fn get_mut(&mut self) -> &mut bool {
        self.inner.get_mut()
    }

    /// Consumes the atomic and returns the value.
    #[inline]
    pub fn into_inner(self) -> bool {
        self.inner.into_inner()
    }
}

impl From<bool> for AtomicBool {
    #[inline]
    fn from(value: bool) -> Self {
        AtomicBool::new(value)
    }
}

impl fmt::Debug for AtomicBool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

macro_rules! atomic_int {
    ($(#[$doc:meta])* $name:ident, $int:ty) => {
        $(#[$doc])*
        #[derive(Default)]
        #[repr(transparent)]
        pub struct $name {
            inner: std::sync::atomic::$name,
        }

        impl $name {
            /// A new atomic holding `value`. Usable in `static`s.
            #[inline]
            pub const fn new(value: $int) -> $name {
                $name {
                    inner: std::sync::atomic::$name::new(value),
                }
            }

            /// Reads the value.
            #[inline]
            pub fn load(&self, order: Ordering) -> $int {
                self.inner.load(order)
            }

            /// Writes `value`.
            #[inline]
            pub fn store(&self, value: $int, order: Ordering) {
                self.inner.store(value, order)
            }

            /// Writes `value` and returns the previous value.
            #[inline]
            pub fn swap(&self, value: $int, order: Ordering) -> $int {
                self.inner.swap(value, order)
            }

            /// Writes `new` if the value is `current`; `Ok(previous)` if it
            /// did, `Err(actual)` if not.
            #[inline]
            pub fn compare_exchange(
                &self,
                current: $int,
                new: $int,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$int, $int> {
                self.inner.compare_exchange(current, new, success, failure)
            }

            /// Like `compare_exchange` but may fail spuriously; for loops.
            #[inline]
            pub fn compare_exchange_weak(
                &self,
                current: $int,
                new: $int,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$int, $int> {
                self.inner.compare_exchange_weak(current, new, success, failure)
            }

            /// Adds `value` (wrapping on overflow); returns the previous value.
            #[inline]
            pub fn fetch_add(&self, value: $int, order: Ordering) -> $int {
                self.inner.fetch_add(value, order)
            }

            /// Subtracts `value` (wrapping on overflow); returns the previous value.
            #[inline]
            pub fn fetch_sub(&self, value: $int, order: Ordering) -> $int {
                self.inner.fetch_sub(value, order)
            }

            /// Bitwise "and" with `value`; returns the previous value.
            #[inline]
            pub fn fetch_and(&self, value: $int, order: Ordering) -> $int {
                self.inner.fetch_and(value, order)
            }

            /// Bitwise "or" with `value`; returns the previous value.
            #[inline]
            pub fn fetch_or(&self, value: $int, order: Ordering) -> $int {
                self.inner.fetch_or(value, order)
            }

            /// Bitwise "xor" with `value`; returns the previous value.
            #[inline]
            pub fn fetch_xor(&self, value: $int, order: Ordering) -> $int {
                self.inner.fetch_xor(value, order)
            }

            /// Stores the maximum of the value and `value`; returns the previous value.
            #[inline]
            pub fn fetch_max(&self, value: $int, order: Ordering) -> $int {
                self.inner.fetch_max(value, order)
            }

            /// Stores the minimum of the value and `value`; returns the previous value.
            #[inline]
            pub fn fetch_min(&self, value: $int, order: Ordering) -> $int {
                self.inner.fetch_min(value, order)
            }

            /// Applies `f` until it succeeds or returns `None`; see std's
            /// `fetch_update`.
            #[inline]
            pub fn fetch_update<F>(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                f: F,
            ) -> Result<$int, $int>
            where
                F: FnMut($int) -> Option<$int>,
            {
                self.inner.fetch_update(set_order, fetch_order, f)
            }

            /// A mutable reference to the value; `&mut self` proves no one
            /// else reads it.
            #[inline]
            pub fn get_mut(&mut self) -> &mut $int {
                self.inner.get_mut()
            }

            /// Consumes the atomic and returns the value.
            #[inline]
            pub fn into_inner(self) -> $int {
                self.inner.into_inner()
            }
        }

        impl From<$int> for $name {
            #[inline]
            fn from(value: $int) -> Self {
                $name::new(value)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.inner.fmt(f)
            }
        }
    };
}

atomic_int!(
    /// A `u32` shared between threads.
    AtomicU32,
    u32
);
atomic_int!(
    /// An `i32` shared between threads.
    AtomicI32,
    i32
);
atomic_int!(
    /// A `u64` shared between threads.
    AtomicU64,
    u64
);
atomic_int!(
    /// An `i64` shared between threads.
    AtomicI64,
    i64
);
atomic_int!(
    /// A `usize` shared between threads.
    AtomicUsize,
    usize
);
atomic_int!(
    /// An `isize` shared between threads.
    AtomicIsize,
    isize
);
