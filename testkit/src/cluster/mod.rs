//! # The cluster harness labs 2–5 share
//!
//! A [`Cluster`] is a group of `n` peers on a simulated labrpc network: each
//! peer is one labrpc server holding the services the lab's factory built
//! for it, and each ordered pair of peers has its own client end, so any
//! partition can be made by enabling and disabling ends. The harness knows
//! nothing of Raft or key/value stores: it is generic over the handle `H`
//! the lab keeps for each running peer.
//!
//! ```
//! use labrpc::Service;
//! use testkit::cluster::{Cluster, Fabric, Incarnation, Peers};
//!
//! // Each peer answers "Peer.Who" with its index.
//! let cluster = Cluster::start(&Fabric::with_seed(7), Peers::new(3), |node| {
//!     let me = node.me();
//!     Incarnation::new(node.ends().to_vec())
//!         .service(Service::new("Peer").method("Who", move |(): ()| me))
//! });
//! let ends = cluster.handle(0).expect("peer 0 runs"); // peer 0's ends
//! assert_eq!(ends[2].call::<(), usize>("Peer.Who", &()), Ok(2));
//!
//! cluster.partition(&[&[0, 1], &[2]]);
//! assert!(ends[2].call::<(), usize>("Peer.Who", &()).is_err());
//! cluster.repair();
//! assert_eq!(ends[2].call::<(), usize>("Peer.Who", &()), Ok(2));
//! ```
//!
//! ## Peers and names
//!
//! Servers are named "server-0", "server-1", ... or, with
//! [`Peers::group`], "g1-server-0", ... so that several clusters (a shard
//! controller and replica groups) can share one [`Fabric`] (one network,
//! one seed, one report). A peer reaches servers outside its cluster with
//! its [`Node::dialer`]; clients get [`Client`]s.
//!
//! ## The factory and the crash model
//!
//! The lab supplies `Fn(Node) -> Incarnation<H>`. A [`Node`] is what one
//! incarnation of a peer starts with: its index, fresh ends to every peer,
//! its persister, a dialer. The [`Incarnation`] it returns holds the
//! services to register, the handle the lab keeps ([`Cluster::handle`]) and
//! a kill hook.
//!
//! [`Cluster::crash`] cuts the peer off, deletes its server (so a reply it
//! is computing is never delivered), keeps a *copy* of its persister (what
//! it saved is all that survives; the dying incarnation goes on writing to
//! the old one, which nobody reads), deletes its ends and runs the kill
//! hook. [`Cluster::restart`] crashes the peer if it runs, then calls the
//! factory with a copy of the saved persister and *fresh* end names, so
//! nothing a dead incarnation sends ever arrives. A restarted peer starts
//! cut off; [`Cluster::connect`] joins it.
//!
//! ## Faults
//!
//! | verb | effect |
//! |---|---|
//! | [`Cluster::disconnect`] / [`Cluster::connect`] | cut a peer off from everyone (peers, other groups, clients) / join it back |
//! | [`Cluster::partition`]`(&[&[0, 1], &[2, 3, 4]])` | only peers in the same group can talk; unlisted peers are cut off |
//! | [`Cluster::repair`] | everyone connected, one side, no one-way cuts, nobody deaf |
//! | [`Cluster::partition_oneway`]`(from, to)` / [`Cluster::repair_oneway`] | every message from `from` to `to` is lost (requests, and replies to `to`'s calls); the other direction works |
//! | [`Cluster::deafen`] / [`Cluster::undeafen`] | replies to the peer are lost, its requests still arrive |
//! | [`Cluster::crash`] / [`Cluster::restart`] | the crash model above |
//! | [`Cluster::unreliable`], [`Cluster::long_delays`], [`Cluster::long_reordering`] | labrpc's network-wide knobs (shared by every cluster on the fabric) |
//!
//! Verbs set states (connected, side, deaf, one-way cuts) and the ends
//! follow them: an end between two peers of a group is enabled when both
//! are connected, on the same side, and the caller's messages to the target
//! are not cut; across groups, when both are connected; a client's end,
//! when the client is not cut off from the server
//! ([`Cluster::connect_client`]) and the server's peer is connected. Lost
//! replies are labrpc [`labrpc::Fault::drop_reply`] rules on the ends
//! concerned. Ends made later (restart, dialing) follow the same states.
//!
//! ## Counters and the run report
//!
//! [`Cluster::rpc_total`] and [`Cluster::bytes_total`] are the network's
//! totals; [`Cluster::rpc_count`] is what peer `i`'s current incarnation
//! executed and [`Cluster::served_rpcs`] what all its incarnations did;
//! [`Cluster::raft_state_size`] and [`Cluster::snapshot_size`] measure its
//! persister. [`Fabric::new`] (and so [`Cluster::new`]) makes the run's
//! report give the servers started on the fabric, the RPCs and the bytes.
//!
//! ## Proof that operations used the network
//!
//! [`reach`] holds the checks every lab with clerks applies: at least one
//! RPC per completed operation ([`reach::assert_network_used`]), and an
//! operation that must not complete while its clerk can reach no server
//! and must once it can ([`reach::blocks_while_cut_off`]).
//!
//! ## Randomness
//!
//! [`Cluster::random`] draws from one generator seeded from the fabric's
//! seed (the run's), so a rerun with `DISTLAB_SEED` makes the same
//! choices. The harness keeps its books in ordered maps: nothing it does
//! depends on hash order.

mod client;
mod fabric;
mod group;
mod names;
mod node;
pub mod reach;
mod wiring;

pub use client::Client;
pub use fabric::Fabric;
pub use group::{Cluster, Peers};
pub use node::{Dialer, Incarnation, Node};
