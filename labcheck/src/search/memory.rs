//! The memory cap: an estimate of the bytes the searches of one check hold,
//! summed over its parts, and the budget they draw on.
//!
//! A hard history can make the search keep millions of model states and
//! failed nodes; without a bound it grows until the kernel kills the
//! process. So each search estimates what it holds (see
//! [`Search::memory_bytes`](super::Search::memory_bytes)), every
//! [`CHECK_EVERY`](super::CHECK_EVERY) steps adds what it grew by to the
//! check's [`MemoryBudget`], and stops with
//! [`Outcome::MemoryCap`](super::Outcome::MemoryCap) once the total is past
//! the cap. A search that ends (or is dropped) gives its bytes back.
//!
//! The estimate counts what the search's vectors and tables hold (the
//! vectors that grow by pushing, as far as they are filled: spare capacity
//! is never written, so it takes address space but no memory) and, through
//! [`Model::state_heap_bytes`](crate::Model::state_heap_bytes), what each
//! kept model state holds on the heap. It leaves out the history itself,
//! allocator overhead the model's estimate does not include, the moment a
//! table doubles (old and new both held), and memory a search gave back
//! that the allocator keeps (glibc keeps a pool per thread, so what one
//! worker's search freed does not serve another's), so the process can
//! hold more. Measured on 2026-12-03 with the release build (peak resident
//! size of the whole `labcheck check` process against the `--stats`
//! estimate): `porcupine-hard/kv/hotkey_03.txt` 1,137 against 1,134 MiB,
//! `hotkey_08.txt` 901 against 899, `manykeys_03.txt` 1,146 against 1,124,
//! `porcupine-data/kv/c50-ok.txt` (`kv-nopartition`, stopped after 8 s)
//! 3,600 against 3,465; and on the generated candidate `manykeys_07`,
//! whose parts were put off and restarted at the 2 GiB cap, 2,976 MiB
//! resident.

use labrt::sync::atomic::{AtomicU64, Ordering};

/// The bytes that the searches of one check may hold together, and what
/// they hold now.
pub(crate) struct MemoryBudget {
    cap: u64,
    used: AtomicU64,
    peak: AtomicU64,
}

impl MemoryBudget {
    /// A budget of `cap` bytes (`u64::MAX`: no cap).
    pub(crate) fn new(cap: u64) -> Self {
        Self {
            cap,
            used: AtomicU64::new(0),
            peak: AtomicU64::new(0),
        }
    }

    /// The cap, in bytes.
    pub(crate) fn cap(&self) -> u64 {
        self.cap
    }

    /// Brings a search's share from `*charged` to `now` bytes. Returns the
    /// total of all shares when it is past the cap, `None` while it is not.
    #[inline]
    pub(crate) fn charge(&self, charged: &mut u64, now: u64) -> Option<u64> {
        let total = if now >= *charged {
            let grew = now - *charged;
            self.used.fetch_add(grew, Ordering::Relaxed) + grew
        } else {
            let shrank = *charged - now;
            self.used.fetch_sub(shrank, Ordering::Relaxed) - shrank
        };
        *charged = now;
        self.peak.fetch_max(total, Ordering::Relaxed);
        (total > self.cap).then_some(total)
    }

    /// Gives back a search's whole share.
    pub(crate) fn release(&self, charged: &mut u64) {
        self.used.fetch_sub(*charged, Ordering::Relaxed);
        *charged = 0;
    }

    /// The largest total charged at any one time.
    pub(crate) fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

/// What a vector of `capacity` elements of type `T` has allocated.
#[inline]
pub(crate) fn vec_bytes<T>(capacity: usize) -> u64 {
    (capacity * std::mem::size_of::<T>()) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_and_a_total_past_the_cap_is_reported() {
        let budget = MemoryBudget::new(100);
        let (mut a, mut b) = (0, 0);
        assert_eq!(budget.charge(&mut a, 60), None);
        assert_eq!(budget.charge(&mut b, 40), None, "exactly the cap is fine");
        assert_eq!(budget.charge(&mut a, 61), Some(101));
        assert_eq!((a, b), (61, 40));
        budget.release(&mut a);
        assert_eq!(a, 0);
        assert_eq!(budget.charge(&mut b, 90), None, "a's share was given back");
        assert_eq!(budget.charge(&mut b, 30), None, "a share can shrink");
        assert_eq!(budget.peak(), 101);
        assert_eq!(budget.cap(), 100);
    }
}
