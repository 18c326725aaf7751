//! The models the labs check against.
//!
//! | model | state | partition | used by |
//! |---|---|---|---|
//! | [`Kv`] | one key's string value | per key | labs 1 (2024 kvsrv), 3, 4 |
//! | [`KvNoPartition`] | the whole map | none | cross-checks, Porcupine parity |
//! | [`KvVersioned`] | one key's `(value, version)` | per key | lab 1 (versioned puts) |
//! | [`Register`] | one integer or nil | none | Jepsen etcd histories |

mod kv;
mod kv_state;
mod kv_versioned;
mod register;

pub use kv::{Kv, KvInput, KvNoPartition, KvOutput};
pub use kv_state::{KvMap, KvValue};
pub use kv_versioned::{KvVersioned, VersionedInput, VersionedOutput, VersionedState};
pub use register::{Register, RegisterInput, RegisterOutput};
