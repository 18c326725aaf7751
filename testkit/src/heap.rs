//! Exact heap accounting for test binaries.
//!
//! A test binary installs [`CountingAlloc`] as its global allocator (see
//! [`crate::install_counting_allocator!`]); from then on [`live`] and [`peak`]
//! are exact byte counts of what the program holds, with no garbage collector
//! to guess around. The memory tests of lab 1 measure a server's duplicate
//! table this way.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
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

/// The most bytes live at once since the last [`reset_peak`], or `None`
/// without [`CountingAlloc`].
pub fn peak() -> Option<usize> {
    installed().then(|| PEAK.load(Ordering::Relaxed))
}

/// Starts a new peak measurement from the current live bytes.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
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
