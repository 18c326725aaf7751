//! # labrpc: an in-process simulated network for distributed-systems labs
//!
//! Every peer and client of a lab talks through one [`Network`]. A client
//! holds a [`ClientEnd`] and calls `"Service.Method"` on the [`Server`] the end
//! is connected to; arguments and replies are encoded to bytes (serde +
//! postcard) on every call, so nothing shared crosses the network and the byte
//! counters are real.
//!
//! ```
//! use labrpc::{Network, Server, Service};
//!
//! let net = Network::with_seed(7);
//! let svc = Service::new("Calc").method("Add", |(a, b): (i64, i64)| a + b);
//! net.add_server("calc-0", Server::new([svc]));
//! let end = net.make_end("client-0");
//! net.connect("client-0", "calc-0");
//! net.enable("client-0", true);
//! let sum: i64 = end.call("Calc.Add", &(2i64, 40i64)).unwrap();
//! assert_eq!(sum, 42);
//! assert_eq!(net.total_rpcs(), 1);
//! ```
//!
//! ## Faults, with MIT 6.5840's numbers
//!
//! | situation | behaviour |
//! |---|---|
//! | end disabled, unconnected or deleted; server missing | fails after 0–99 ms, or 0–6999 ms with [`Network::set_long_delays`] |
//! | unreliable ([`Network::set_reliable`]`(false)`) | 0–26 ms delay; 10% of requests lost (handler not run); 10% of replies lost after the handler ran |
//! | [`Network::set_long_reordering`] | 2/3 of replies held 200–2200 ms, skewed short |
//! | server deleted or replaced while handling | no reply, ever (checked before the reply is handed back) |
//! | [`Fault`] rules | per end and/or method: lose the request, lose the reply, or delay |
//!
//! Every random choice is drawn from generators seeded by the network's seed
//! ([`Network::with_seed`]), one independent stream per end, so a seed
//! reproduces the fault decisions (not the thread interleaving).
//!
//! Handlers run on a pool of threads that grows whenever none is idle: a
//! handler that blocks stalls only its own call. Delays are waited out on the
//! caller's own thread, never on a shared one.
//!
//! [`Persister`] is the stable storage the crash model uses.

#![warn(missing_docs)]

mod codec;
mod error;
mod faults;
mod network;
mod persister;
mod pool;
pub mod rng;
mod server;
mod spin;

pub use error::RpcError;
pub use faults::{Fault, FaultAction, FaultId};
pub use network::{ClientEnd, Network};
pub use persister::Persister;
pub use server::{Server, Service};

/// Encodes a value with the network's codec (what a call would send), for
/// harnesses that need to measure or persist bytes the same way.
pub fn encode<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    codec::encode(value)
}

/// Decodes bytes made by [`encode`].
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    codec::decode(bytes)
}
