//! One runtime facade for everything in the kit that blocks or tells time.
//!
//! The kit's code, the reference solutions, the test harnesses and the student
//! skeletons all use `labrt` instead of `std::thread`, `std::sync`,
//! `std::time::Instant` and `crossbeam_channel` directly:
//!
//! | instead of | use |
//! | --- | --- |
//! | `std::thread::{spawn, Builder, sleep, scope, yield_now}` | [`thread`] |
//! | `std::sync::{Mutex, Condvar, RwLock}`, `std::sync::atomic::*` | [`sync`] |
//! | `std::sync::mpsc`, `crossbeam_channel` (and its `select!`) | [`channel`], [`select!`] |
//! | `std::time::Instant` | [`time`] |
//! | any random numbers | [`rand`] (explicitly seeded only) |
//!
//! Today there is one mode, the **real** mode: every type is a thin
//! `#[inline]` newtype over the std or crossbeam-channel item it replaces and
//! behaves exactly like it (the crate's README has the benchmark figures).
//! The point of the facade is that a later **simulation** mode (one thread runs
//! at a time, chosen by a seeded scheduler; virtual time that jumps to the next
//! timer when every thread is blocked; exact replay from a seed) can be put
//! behind the very same API without changing any caller. The README describes
//! how that mode plugs in.
//!
//! ```
//! use labrt::channel;
//! use labrt::sync::{Arc, Mutex};
//! use labrt::time::{Duration, Instant};
//!
//! let counter = Arc::new(Mutex::new(0u32));
//! let (tx, rx) = channel::unbounded();
//! let start = Instant::now();
//! let workers: Vec<_> = (0..4)
//!     .map(|i| {
//!         let counter = Arc::clone(&counter);
//!         let tx = tx.clone();
//!         labrt::thread::spawn(move || {
//!             *counter.lock().unwrap() += 1;
//!             tx.send(i).unwrap();
//!         })
//!     })
//!     .collect();
//! for w in workers {
//!     w.join().unwrap();
//! }
//! drop(tx);
//! let mut got: Vec<i32> = rx.iter().collect();
//! got.sort();
//! assert_eq!(got, [0, 1, 2, 3]);
//! assert_eq!(*counter.lock().unwrap(), 4);
//! assert!(start.elapsed() < Duration::from_secs(60));
//! ```

#![warn(missing_docs)]

pub mod channel;
pub mod rand;
pub mod sync;
pub mod thread;
pub mod time;

/// Which runtime is behind the facade.
///
/// Marked `#[non_exhaustive]`: the simulation mode will add a variant, so
/// match with a `_` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// Real OS threads, real locks, the real clock: std and crossbeam-channel.
    Real,
}

/// The mode the calling thread runs under. Always [`Mode::Real`] for now.
///
/// Harnesses can use it to decide, say, whether wall-clock budgets apply.
#[inline]
pub fn mode() -> Mode {
    Mode::Real
}
