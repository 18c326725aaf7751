//! Locks and shared state: [`Mutex`], [`Condvar`], [`RwLock`], [`atomic`], [`Arc`],
//! and one-time initialization ([`Once`], [`OnceLock`], [`LazyLock`]).
//!
//! The API is std's, poisoning included: [`Mutex::lock`] returns a
//! [`LockResult`], [`Condvar::wait`] takes and gives back a [`MutexGuard`].
//! The types are newtypes (not re-exports) because the simulation mode keeps
//! its own state in them: who holds the lock, who waits on the condition
//! variable. In the real mode each method is the std method.

use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::time::Duration;

pub mod atomic;

pub use std::sync::{Arc, Weak};
pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

/// One-time initialization: std's [`std::sync::Once`], [`std::sync::OnceLock`]
/// and [`std::sync::LazyLock`], re-exported so callers name them through the
/// facade. A thread that finds another one initializing blocks, so the
/// simulation mode will replace these with newtypes of the same API (as it
/// does the locks); callers will not change.
///
/// ```
/// use labrt::sync::OnceLock;
/// static CONFIG: OnceLock<u32> = OnceLock::new();
/// assert_eq!(*CONFIG.get_or_init(|| 7), 7);
/// assert_eq!(CONFIG.get(), Some(&7));
/// ```
pub use std::sync::{LazyLock, Once, OnceLock, OnceState};

/// Rewraps the guard inside a std lock result, keeping poisoning as it was.
#[inline]
fn map_lock<G, H>(r: LockResult<G>, f: impl FnOnce(G) -> H) -> LockResult<H> {
    match r {
        Ok(g) => Ok(f(g)),
        Err(p) => Err(PoisonError::new(f(p.into_inner()))),
    }
}

/// Rewraps the guard inside a std try-lock result.
#[inline]
fn map_try_lock<G, H>(r: TryLockResult<G>, f: impl FnOnce(G) -> H) -> TryLockResult<H> {
    match r {
        Ok(g) => Ok(f(g)),
        Err(TryLockError::Poisoned(p)) => {
            Err(TryLockError::Poisoned(PoisonError::new(f(p.into_inner()))))
        }
        Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
    }
}

/// A mutual-exclusion lock around a `T`, with std's poisoning.
///
/// ```
/// use labrt::sync::{Arc, Mutex};
/// let m = Arc::new(Mutex::new(Vec::new()));
/// let m2 = Arc::clone(&m);
/// labrt::thread::spawn(move || m2.lock().unwrap().push(1)).join().unwrap();
/// assert_eq!(*m.lock().unwrap(), [1]);
/// ```
#[derive(Default)]
pub struct Mutex<T: ?Sized> {
    inner: std::sync::Mutex<T>,
}

/// Proof that a [`Mutex`] is held; unlocks it when dropped.
///
/// Dereferences to the protected value.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    inner: std::sync::MutexGuard<'a, T>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex holding `value`. Usable in `static`s.
    #[inline]
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            inner: std::sync::Mutex::new(value),
        }
    }

    /// Consumes the mutex and returns the value (`Err` if it is poisoned,
    /// with the value inside).
    #[inline]
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Blocks until the lock is free, then takes it.
    ///
    /// `Err` if a thread panicked while holding it (the guard is inside the
    /// error: `.unwrap_or_else(PoisonError::into_inner)` ignores poisoning).
    #[inline]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        map_lock(self.inner.lock(), |inner| MutexGuard { inner })
    }

    /// Takes the lock if it is free; `Err(TryLockError::WouldBlock)` if not.
    #[inline]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        map_try_lock(self.inner.try_lock(), |inner| MutexGuard { inner })
    }

    /// True if a thread panicked while holding the lock.
    #[inline]
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// Clears the poisoned flag.
    #[inline]
    pub fn clear_poison(&self) {
        self.inner.clear_poison()
    }

    /// A mutable reference to the value; no locking needed since `&mut self`
    /// proves no one else can hold the lock.
    #[inline]
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

impl<T> From<T> for Mutex<T> {
    #[inline]
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Whether a timed [`Condvar`] wait ended because its time ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult {
    timed_out: bool,
}

impl WaitTimeoutResult {
    /// True if the wait returned because the timeout elapsed (the condition
    /// may still have become true meanwhile: check it).
    #[inline]
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }
}

/// A condition variable: block until another thread says something changed.
///
/// Used with a [`Mutex`] exactly like `std::sync::Condvar`. Waits may wake
/// spuriously; [`Condvar::wait_while`] loops for you.
#[derive(Default)]
pub struct Condvar {
    inner: std::sync::Condvar,
}

impl Condvar {
    /// A new condition variable. Usable in `static`s.
    #[inline]
    pub const fn new() -> Condvar {
        Condvar {
            inner: std::sync::Condvar::new(),
        }
    }

    /// Unlocks `guard`'s mutex, blocks until notified (or woken spuriously),
    /// locks it again and returns the guard.
    #[inline]
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        map_lock(self.inner.wait(guard.inner), |inner| MutexGuard { inner })
    }

    /// Waits while `condition` holds on the protected value; returns with the
    /// lock held and the condition false.
    #[inline]
    pub fn wait_while<'a, T, F>(
        &self,
        guard: MutexGuard<'a, T>,
        condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        map_lock(self.inner.wait_while(guard.inner, condition), |inner| {
            MutexGuard { inner }
        })
    }

    /// Like [`Condvar::wait`], but gives up after about `dur`; the result
    /// tells whether the time ran out.
    #[inline]
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        map_lock(self.inner.wait_timeout(guard.inner, dur), |(inner, r)| {
            (
                MutexGuard { inner },
                WaitTimeoutResult {
                    timed_out: r.timed_out(),
                },
            )
        })
    }

    /// Like [`Condvar::wait_while`], but gives up after about `dur`.
    #[inline]
    pub fn wait_timeout_while<'a, T, F>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
        condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        map_lock(
            self.inner.wait_timeout_while(guard.inner, dur, condition),
            |(inner, r)| {
                (
                    MutexGuard { inner },
                    WaitTimeoutResult {
                        timed_out: r.timed_out(),
                    },
                )
            },
        )
    }

    /// Wakes one thread blocked on this condition variable, if any.
    #[inline]
    pub fn notify_one(&self) {
        self.inner.notify_one()
    }

    /// Wakes every thread blocked on this condition variable.
    #[inline]
    pub fn notify_all(&self) {
        self.inner.notify_all()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}

/// A reader-writer lock: many readers or one writer, with std's poisoning.
#[derive(Default)]
pub struct RwLock<T: ?Sized> {
    inner: std::sync::RwLock<T>,
}

/// Shared read access to an [`RwLock`]; released when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    inner: std::sync::RwLockReadGuard<'a, T>,
}

/// Exclusive write access to an [`RwLock`]; released when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    inner: std::sync::RwLockWriteGuard<'a, T>,
}

impl<T> RwLock<T> {
    /// A new unlocked lock holding `value`. Usable in `static`s.
    #[inline]
    pub const fn new(value: T) -> RwLock<T> {
        RwLock {
            inner: std::sync::RwLock::new(value),
        }
    }

    /// Consumes the lock and returns the value (`Err` if poisoned).
    #[inline]
    pub fn into_inner(self) -> LockResult<T> {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Blocks until no writer holds the lock, then takes shared access.
    #[inline]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        map_lock(self.inner.read(), |inner| RwLockReadGuard { inner })
    }

    /// Blocks until no one holds the lock, then takes exclusive access.
    #[inline]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        map_lock(self.inner.write(), |inner| RwLockWriteGuard { inner })
    }

    /// Takes shared access if no writer holds the lock.
    #[inline]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        map_try_lock(self.inner.try_read(), |inner| RwLockReadGuard { inner })
    }

    /// Takes exclusive access if no one holds the lock.
    #[inline]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        map_try_lock(self.inner.try_write(), |inner| RwLockWriteGuard { inner })
    }

    /// True if a writer panicked while holding the lock.
    #[inline]
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// Clears the poisoned flag.
    #[inline]
    pub fn clear_poison(&self) {
        self.inner.clear_poison()
    }

    /// A mutable reference to the value, without locking.
    #[inline]
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

impl<T> From<T> for RwLock<T> {
    #[inline]
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
