//! Threads: [`spawn`], [`Builder`], [`scope`], [`sleep`], [`yield_now`], [`current`].
//!
//! The same shape as `std::thread`. In the real mode each call is the std
//! call. In the simulation mode every thread is still a real OS thread, but
//! only the one the scheduler picks runs; spawning, joining, sleeping and
//! yielding are scheduling points, and [`sleep`] waits on virtual time.

use std::fmt;
use std::io;
use std::num::NonZeroUsize;

use crate::time::Duration;

/// What [`JoinHandle::join`] returns: the thread's value, or its panic payload.
pub type Result<T> = std::thread::Result<T>;

/// A thread's identifier, unique among the threads of the process.
pub type ThreadId = std::thread::ThreadId;

/// Runs `f` on a new thread and returns a handle to join it.
///
/// Panics if the OS cannot create a thread, like `std::thread::spawn`.
#[inline]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    JoinHandle {
        inner: std::thread::spawn(f),
    }
}

/// Blocks the calling thread for at least `dur`.
///
/// In the simulation mode this waits on virtual time and takes no real time.
#[inline]
pub fn sleep(dur: Duration) {
    std::thread::sleep(dur)
}

/// Offers the processor to another thread.
///
/// In the simulation mode this is a scheduling point and nothing else.
#[inline]
pub fn yield_now() {
    std::thread::yield_now()
}

/// A handle on the calling thread: its name and id.
#[inline]
pub fn current() -> Thread {
    Thread {
        inner: std::thread::current(),
    }
}

/// True while the calling thread is unwinding from a panic.
#[inline]
pub fn panicking() -> bool {
    std::thread::panicking()
}

/// How many threads the machine can run at once, as `std` estimates it.
///
/// In the simulation mode this will be 1: only one thread runs at a time.
#[inline]
pub fn available_parallelism() -> io::Result<NonZeroUsize> {
    std::thread::available_parallelism()
}

/// An owned permission to join a thread (block until it ends and take its value).
///
/// Dropping the handle detaches the thread, as in std.
pub struct JoinHandle<T> {
    inner: std::thread::JoinHandle<T>,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish and returns its value, or `Err` with
    /// the panic payload if it panicked.
    #[inline]
    pub fn join(self) -> Result<T> {
        self.inner.join()
    }

    /// True once the thread's closure has returned or panicked. Does not block.
    #[inline]
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }

    /// The thread's name, if it was given one with [`Builder::name`].
    #[inline]
    pub fn name(&self) -> Option<&str> {
        self.inner.thread().name()
    }

    /// The thread's id.
    #[inline]
    pub fn id(&self) -> ThreadId {
        self.inner.thread().id()
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("name", &self.name())
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// A handle on a thread, as returned by [`current`].
#[derive(Clone, Debug)]
pub struct Thread {
    inner: std::thread::Thread,
}

impl Thread {
    /// The thread's name, if it has one. The main thread is called `"main"`.
    #[inline]
    pub fn name(&self) -> Option<&str> {
        self.inner.name()
    }

    /// The thread's id.
    #[inline]
    pub fn id(&self) -> ThreadId {
        self.inner.id()
    }
}

/// Configures a thread before spawning it: its name, its stack size.
#[derive(Debug)]
#[must_use = "a Builder does nothing until spawn() is called"]
pub struct Builder {
    inner: std::thread::Builder,
}

impl Default for Builder {
    #[inline]
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder with no name and the default stack size.
    #[inline]
    pub fn new() -> Builder {
        Builder {
            inner: std::thread::Builder::new(),
        }
    }

    /// Names the thread (shown in panic messages and by [`Thread::name`]).
    ///
    /// Takes a `String` exactly as std does, so `.name("x".into())` and
    /// `.name(format!(..))` keep compiling.
    #[inline]
    pub fn name(self, name: String) -> Builder {
        Builder {
            inner: self.inner.name(name),
        }
    }

    /// Sets the thread's stack size in bytes.
    #[inline]
    pub fn stack_size(self, size: usize) -> Builder {
        Builder {
            inner: self.inner.stack_size(size),
        }
    }

    /// Spawns the thread. Fails only if the OS cannot create it.
    #[inline]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.inner.spawn(f).map(|inner| JoinHandle { inner })
    }

    /// Spawns a scoped thread (one that may borrow from outside the scope).
    #[inline]
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> io::Result<ScopedJoinHandle<'scope, T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        self.inner
            .spawn_scoped(&scope.inner, f)
            .map(|inner| ScopedJoinHandle { inner })
    }
}

/// Runs `f` with a [`Scope`] on which it can spawn threads that borrow local
/// data; returns once every thread spawned in the scope has ended.
///
/// If any of those threads panicked and was not joined, `scope` panics after
/// they have all ended, as `std::thread::scope` does.
#[inline]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    std::thread::scope(|s| f(Scope::from_std(s)))
}

/// A scope to spawn borrowing threads in; see [`scope`].
#[repr(transparent)]
pub struct Scope<'scope, 'env: 'scope> {
    inner: std::thread::Scope<'scope, 'env>,
}

impl<'scope, 'env> Scope<'scope, 'env> {
    #[inline]
    fn from_std<'a>(s: &'a std::thread::Scope<'scope, 'env>) -> &'a Scope<'scope, 'env> {
        // SAFETY: `Scope` is `repr(transparent)` over `std::thread::Scope`,
        // so the two have the same layout and the reference cast is sound;
        // the lifetimes are carried over unchanged.
        unsafe { &*(s as *const std::thread::Scope<'scope, 'env>).cast::<Scope<'scope, 'env>>() }
    }

    /// Spawns a thread that may borrow anything that outlives the scope.
    /// Panics if the OS cannot create a thread.
    #[inline]
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        ScopedJoinHandle {
            inner: self.inner.spawn(f),
        }
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}

/// A handle to join a thread spawned in a [`Scope`].
pub struct ScopedJoinHandle<'scope, T> {
    inner: std::thread::ScopedJoinHandle<'scope, T>,
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread to finish and returns its value, or `Err` with
    /// the panic payload if it panicked.
    #[inline]
    pub fn join(self) -> Result<T> {
        self.inner.join()
    }

    /// True once the thread's closure has returned or panicked. Does not block.
    #[inline]
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

impl<T> fmt::Debug for ScopedJoinHandle<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedJoinHandle").finish_non_exhaustive()
    }
}
