//! A lock built on the versioned clerk (reference).

use labrt::sync::atomic::{AtomicU64, Ordering};
use labrt::thread;
use labrt::time::Duration;

use crate::versioned_clerk::VersionedClerk;
use crate::versioned_rpc::{PutError, Version};

/// How long to wait before looking again at a lock someone else holds.
const BUSY_PAUSE: Duration = Duration::from_millis(5);

/// The key's value while nobody holds the lock.
const FREE: &str = "";

/// A fresh holder id, unique within the process (every lock of a test lives
/// in this one process; locks spread over machines would draw random bits).
fn fresh_holder_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("holder-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A lock shared by many clients, stored in one key of the versioned server:
/// the key holds `""` while the lock is free and the holder's id while held.
pub struct Lock {
    clerk: VersionedClerk,
    key: String,
    me: String,
}

impl Lock {
    /// A lock kept in key `name`, used through `clerk`.
    pub fn new(clerk: VersionedClerk, name: &str) -> Lock {
        Lock {
            clerk,
            key: name.to_owned(),
            me: fresh_holder_id(),
        }
    }

    /// The key's holder (`""` when free) and version.
    fn look(&mut self) -> (String, Version) {
        self.clerk
            .get(&self.key)
            .unwrap_or_else(|| (FREE.to_owned(), Version::ABSENT))
    }

    /// Waits until this client holds the lock.
    pub fn acquire(&mut self) {
        loop {
            let (holder, version) = self.look();
            if holder == self.me {
                // A put of ours that returned Maybe did take the lock.
                return;
            }
            if holder == FREE {
                match self.clerk.put(&self.key, &self.me, version) {
                    Ok(()) => return,
                    // Look again: the key now says whether it was ours.
                    Err(PutError::Maybe) => continue,
                    // Someone else took it first.
                    Err(PutError::Version | PutError::NoKey) => {}
                }
            }
            thread::sleep(BUSY_PAUSE);
        }
    }

    /// Gives the lock up, if this client holds it.
    pub fn release(&mut self) {
        loop {
            let (holder, version) = self.look();
            if holder != self.me {
                // Free or someone else's: an earlier release of ours that
                // returned Maybe did apply (or we never held it).
                return;
            }
            match self.clerk.put(&self.key, FREE, version) {
                Ok(()) => return,
                // Maybe: look again. Version or NoKey cannot happen while we
                // hold the lock; looking again is the safe answer anyway.
                Err(_) => continue,
            }
        }
    }
}
