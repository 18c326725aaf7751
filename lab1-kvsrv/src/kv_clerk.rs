//! The Part A clerk: the client library applications call. **You edit this
//! file.**

use labrpc::ClientEnd;
// For the pause between tries: `thread::sleep(Duration::from_millis(10))`.
// Student code sleeps only through `labrt` (see the handout). Drop the
// `allow` once you use them.
#[allow(unused_imports)]
use labrt::{thread, time::Duration};

/// A client of the [`KvServer`](crate::KvServer). Each operation returns only
/// once the server has executed it, exactly once.
///
/// The network may lose a request (the server never saw it) or a reply (the
/// server executed the request but the clerk never hears so), and the clerk
/// cannot tell which: `ClientEnd::call` just returns an error. So the clerk
/// retries until a reply arrives (pause a few milliseconds between tries,
/// with [`thread::sleep`]), and tags each `put` and `append` so the server
/// can recognise a retry.
///
/// One clerk is used by one thread at a time; many clerks run at once. A
/// clerk must make up its own identity: the harness gives it nothing but its
/// end, and 100,000 clerks may exist at once.
pub struct Clerk {}

impl Clerk {
    /// A clerk that talks to the server through `end` (already connected
    /// and enabled by the harness).
    pub fn new(end: ClientEnd) -> Clerk {
        let _ = end;
        todo!("Part A: Clerk::new")
    }

    /// Returns the current value of `key`, `""` if it was never written.
    /// Keeps trying until the server answers.
    pub fn get(&mut self, key: &str) -> String {
        let _ = key;
        todo!("Part A: Clerk::get")
    }

    /// Sets `key` to `value`. Keeps trying until the server answers; the put
    /// takes effect exactly once however many tries that takes.
    pub fn put(&mut self, key: &str, value: &str) {
        let _ = (key, value);
        todo!("Part A: Clerk::put")
    }

    /// Appends `arg` to the value of `key` and returns the value from just
    /// before this append. Keeps trying until the server answers; the append
    /// takes effect exactly once however many tries that takes.
    pub fn append(&mut self, key: &str, arg: &str) -> String {
        let _ = (key, arg);
        todo!("Part A: Clerk::append")
    }
}
