//! A client of the cluster (a clerk): ends to the peers, and a dialer.

use labrpc::ClientEnd;

use super::names::client_name;
use super::node::Dialer;

/// A client's ends, made by [`crate::cluster::Cluster::make_client`] (one
/// end per peer of the cluster) or [`crate::cluster::Fabric::make_client`]
/// (none; dial what it needs).
///
/// A client reaches a server when it has not been cut off from it
/// ([`crate::cluster::Cluster::connect_client`]) and the server's peer is
/// connected; partitions between peers do not cut clients off. Its ends
/// keep working across a peer's restarts (they call the server by name).
/// Cheap to clone; clones share the ends.
#[derive(Clone, Debug)]
pub struct Client {
    id: u64,
    name: String,
    ends: Vec<ClientEnd>,
    dialer: Dialer,
}

impl Client {
    pub(crate) fn new(id: u64, ends: Vec<ClientEnd>, dialer: Dialer) -> Client {
        Client {
            id,
            name: client_name(id),
            ends,
            dialer,
        }
    }

    /// The client's number, unique on its fabric.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The client's name ("client-3"), for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ends()[j]` calls peer `j` of the cluster that made the client
    /// (empty for a client made by the fabric).
    pub fn ends(&self) -> &[ClientEnd] {
        &self.ends
    }

    /// The end that calls peer `j`.
    ///
    /// # Panics
    /// If the client has no end to peer `j`.
    pub fn end(&self, j: usize) -> &ClientEnd {
        &self.ends[j]
    }

    /// Makes ends to other servers by name.
    pub fn dialer(&self) -> Dialer {
        self.dialer.clone()
    }
}
