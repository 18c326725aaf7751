//! Exact heap accounting for test binaries.
//!
//! A test binary installs [`CountingAlloc`] as its global allocator (see
//! [`crate::install_counting_allocator!`]); from then on [`live`] and [`peak`]
//! are exact byte counts of what the program holds, with no garbage collector
//! to guess around. The memory tests of lab 1 measure a server's duplicate
//! table this way.
//!
//! # Process-wide counts and a run's own figure
//!
//! [`live`] and [`peak`] count the whole process: the test harness's own data,
//! and whatever earlier tests in the same process left allocated. Under plain
//! `cargo test` many tests share one process, and a test that failed can leave
//! a great deal behind: the standard library's backtrace printer, for one,
//! keeps the parsed debug information of the binary (tens of MiB) for the rest
//! of the process once `RUST_BACKTRACE` has made it print a backtrace.
//!
//! A measurement therefore starts with [`reset_peak`], which notes the live
//! bytes at that moment as its *baseline*; [`peak_growth`] is the peak above
//! that baseline: the most bytes that were live at once beyond what the
//! process already held when the measurement started. testkit's run plumbing
//! calls [`reset_peak`] as each run begins and reports [`peak_growth`] as the
//! run's heap peak, so the figure is the run's own whether the run has the
//! process to itself (as under the grader) or follows other tests.
//!
//! One limit, in a process shared with earlier tests: memory that an earlier
//! test left behind and that is freed *during* the measurement makes room
//! that is not counted, so the figure can then be low by at most that much.
//! Memory left behind and never freed (the usual case) changes nothing.

use std::alloc::{GlobalAlloc, Layout, System};
// Stays on std: the global allocator counts real process memory and must never be a scheduling point.
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Live bytes at the last [`reset_peak`].
static BASELINE: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// A global allocator that forwards to the system allocator and counts live
/// and peak bytes.
pub struct CountingAlloc;

impl CountingAlloc {
    /// The allocator (a unit value, usable in a `static`).
    pub const fn new() -> CountingAlloc {
        CountingAlloc
    }
}

impl Default for CountingAlloc {
    fn default() -> Self {
        CountingAlloc::new()
    }
}

fn grew(bytes: usize) {
    let now = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    LIVE.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; the counters are side bookkeeping that never touch the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours, forwarded.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            INSTALLED.store(true, Ordering::Relaxed);
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours, forwarded.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            INSTALLED.store(true, Ordering::Relaxed);
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours, forwarded.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours, forwarded.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

/// Whether this binary counts allocations (has [`CountingAlloc`] installed
/// and has allocated at least once).
pub fn installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Bytes allocated and not yet freed, or `None` without [`CountingAlloc`].
pub fn live() -> Option<usize> {
    installed().then(|| LIVE.load(Ordering::Relaxed))
}

/// The most bytes live at once since the last [`reset_peak`] (or since the
/// program started), counting everything the process holds, or `None`
/// without [`CountingAlloc`]. See [`peak_growth`] for the measurement's own
/// figure.
pub fn peak() -> Option<usize> {
    installed().then(|| PEAK.load(Ordering::Relaxed))
}

/// The live bytes when the current measurement started (the last
/// [`reset_peak`]; 0 before the first), or `None` without [`CountingAlloc`].
pub fn baseline() -> Option<usize> {
    installed().then(|| BASELINE.load(Ordering::Relaxed))
}

/// The most the live heap has risen above its [`baseline`] since the last
/// [`reset_peak`]: [`peak`] − [`baseline`]. This is the measurement's own
/// peak, without what the process already held when it started (see the
/// [module documentation](self) for its one limit). `None` without
/// [`CountingAlloc`].
pub fn peak_growth() -> Option<usize> {
    installed().then(|| {
        PEAK.load(Ordering::Relaxed)
            .saturating_sub(BASELINE.load(Ordering::Relaxed))
    })
}

/// Starts a new peak measurement: the live bytes now become both the
/// [`baseline`] and the [`peak`], so [`peak_growth`] starts from 0.
pub fn reset_peak() {
    let now = LIVE.load(Ordering::Relaxed);
    BASELINE.store(now, Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
}

/// Installs [`CountingAlloc`] as the global allocator of the calling binary.
/// Put it once at the top of a test file.
#[macro_export]
macro_rules! install_counting_allocator {
    () => {
        #[global_allocator]
        static DISTLAB_COUNTING_ALLOC: $crate::heap::CountingAlloc =
            $crate::heap::CountingAlloc::new();
    };
}
