//! A lock built on the versioned clerk (Part B). **You edit this file.**

use crate::versioned_clerk::VersionedClerk;

/// A lock shared by many clients, stored in one key of the versioned server.
///
/// Build it only from [`VersionedClerk::get`] and [`VersionedClerk::put`]:
/// the key's value says who holds the lock (for instance `""` for nobody, or
/// the holder's id), and the version makes "take it if it is free" a single
/// atomic step. Every `Lock` needs an id of its own, unique among all locks
/// of the process; the harness gives it none.
///
/// The hard part is the unreliable network: a put that returns
/// [`PutError::Maybe`](crate::PutError::Maybe) may have taken or released
/// the lock. Read the key again to find out, and never release a hold that
/// is not yours.
pub struct Lock {}

impl Lock {
    /// A lock kept in key `name`, used through `clerk`. Creating it does not
    /// acquire it (and sends no request).
    pub fn new(clerk: VersionedClerk, name: &str) -> Lock {
        let _ = (clerk, name);
        todo!("Part B: Lock::new")
    }

    /// Waits until this client holds the lock. At most one client holds it
    /// at any time, whatever the network does.
    pub fn acquire(&mut self) {
        todo!("Part B: Lock::acquire")
    }

    /// Gives the lock up, if this client holds it; otherwise does nothing.
    /// When it returns, the lock is free or held by someone else.
    pub fn release(&mut self) {
        todo!("Part B: Lock::release")
    }
}
