//! Part B: the clerk, the client library applications call. **You edit
//! this file.**
//!
//! The clerk does not know which server leads. It tries one; a reply that
//! carries a [`SubmitError`](crate::SubmitError), or no reply at all
//! (`Err` from `ClientEnd::call`: the request or the reply was lost, or the
//! server is down or cut off), means "try the next one". Remember which
//! server answered last: it is most likely still the leader. After trying
//! every server without success, pause a little (an election takes a few
//! hundred milliseconds) with `labrt::thread::sleep`.
//!
//! A write may have been applied even though no reply came back, so each
//! put and append carries what the servers need to recognise a retry: the
//! clerk's own id (make one up: the harness gives a clerk nothing but its
//! ends) and a sequence number.

use labrpc::ClientEnd;

/// A client of the replicated key/value service. Each operation returns
/// only once some server has applied it, exactly once.
pub struct Clerk {
    /// One end per server, in no particular order.
    #[allow(dead_code)] // Delete this line once your code uses the field.
    servers: Vec<ClientEnd>,
}

impl Clerk {
    /// A clerk that reaches the servers through `servers` (one end per
    /// server, in no particular order).
    pub fn new(servers: Vec<ClientEnd>) -> Clerk {
        let _ = servers;
        todo!("Clerk::new (part B)")
    }

    /// The current value of `key` (`""` if it was never written). Keeps
    /// trying until a server answers.
    pub fn get(&mut self, key: &str) -> String {
        let _ = key;
        todo!("Clerk::get (part B)")
    }

    /// Sets `key` to `value`, exactly once. Keeps trying until a server
    /// applies it.
    pub fn put(&mut self, key: &str, value: &str) {
        let _ = (key, value);
        todo!("Clerk::put (part B)")
    }

    /// Appends `arg` to `key`, exactly once, and returns the value from
    /// just before the append. Keeps trying until a server applies it.
    pub fn append(&mut self, key: &str, arg: &str) -> String {
        let _ = (key, arg);
        todo!("Clerk::append (part B)")
    }
}
