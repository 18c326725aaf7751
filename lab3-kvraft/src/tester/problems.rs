//! The first problem a client thread found.
//!
//! Checks that run on client threads report here and stop, rather than
//! panicking (a panic off the test's thread ends the whole test process at
//! once): the test's own thread fails with the message once the clients are
//! done, so the message always reaches the test's output.

use labrt::sync::atomic::{AtomicBool, Ordering};
use labrt::sync::{Mutex, PoisonError};

/// The first problem reported by any client thread.
#[derive(Debug, Default)]
pub struct Problems {
    first: Mutex<Option<String>>,
    found: AtomicBool,
}

impl Problems {
    /// None found yet.
    pub fn new() -> Problems {
        Problems::default()
    }

    /// Records `problem` unless an earlier one was recorded.
    pub fn report(&self, problem: String) {
        let mut first = self.first.lock().unwrap_or_else(PoisonError::into_inner);
        first.get_or_insert(problem);
        self.found.store(true, Ordering::SeqCst);
    }

    /// Whether any problem was reported (clients stop early then).
    pub fn found(&self) -> bool {
        self.found.load(Ordering::SeqCst)
    }

    /// Panics with the first problem reported, if any. The panic names the
    /// caller's line.
    #[track_caller]
    pub fn assert_none(&self) {
        let first = self.first.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(problem) = first.as_ref() {
            panic!("{problem}");
        }
    }
}
