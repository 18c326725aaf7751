//! What a lab's factory is given to start a peer ([`Node`]) and what it
//! gives back ([`Incarnation`]), and the [`Dialer`] a peer or client uses to
//! reach servers outside its own group.

use labrpc::{ClientEnd, Persister, Service};
use labrt::sync::{Arc, Weak};

use super::fabric::FabricInner;
use super::wiring::{Owner, Wiring};

/// Everything one incarnation of a peer starts with, handed to the lab's
/// factory by [`crate::cluster::Cluster::restart`] (and by
/// [`crate::cluster::Cluster::start`] for the first incarnation).
///
/// The ends are new at every incarnation: whatever an earlier incarnation
/// still sends through its own ends is never delivered.
#[derive(Debug)]
pub struct Node {
    pub(crate) me: usize,
    pub(crate) name: String,
    pub(crate) group: String,
    pub(crate) peers: Vec<String>,
    pub(crate) ends: Vec<ClientEnd>,
    pub(crate) persister: Arc<Persister>,
    pub(crate) life: u64,
    pub(crate) dialer: Dialer,
}

impl Node {
    /// The peer's index in its cluster.
    pub fn me(&self) -> usize {
        self.me
    }

    /// The peer's server name ("server-2", or "g1-server-2" in group "g1").
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cluster's group name (`""` when it has none).
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The server names of every peer of the cluster, by index.
    pub fn peers(&self) -> &[String] {
        &self.peers
    }

    /// `ends()[j]` calls peer `j` of the cluster (the peer's own end
    /// included, at `me()`). Clone them into the replica: `ends().to_vec()`.
    pub fn ends(&self) -> &[ClientEnd] {
        &self.ends
    }

    /// The end that calls peer `j`.
    ///
    /// # Panics
    /// If `j` is not an index of the cluster.
    pub fn end(&self, j: usize) -> &ClientEnd {
        &self.ends[j]
    }

    /// The peer's stable storage: a copy of what its last incarnation had
    /// saved when it crashed (empty at the first start). What the replica
    /// saves here is all that survives its crash.
    pub fn persister(&self) -> Arc<Persister> {
        Arc::clone(&self.persister)
    }

    /// Which start of this peer this is: 1 for the first.
    pub fn incarnation(&self) -> u64 {
        self.life
    }

    /// The dialer for servers outside the cluster (other groups). Ends it
    /// makes die with this incarnation.
    pub fn dialer(&self) -> Dialer {
        self.dialer.clone()
    }
}

/// Makes ends to servers by name, for an owner (one incarnation of a peer,
/// or a client) that needs to reach servers it was not given ends to, as a
/// shardkv replica reaches other groups.
///
/// A dialed end follows the same rules as the cluster's own ends: it is
/// enabled while its owner and the target are connected (and, for a client,
/// while the client is not cut off from the target), and it is deleted when
/// its owner crashes. Dialing the same server again returns the same end.
/// Cheap to clone; it does not keep the fabric alive.
#[derive(Clone)]
pub struct Dialer {
    fabric: Weak<FabricInner>,
    owner: Owner,
    /// Returned once the owner is gone: never enabled, never connected.
    dead: ClientEnd,
}

impl Dialer {
    pub(crate) fn new(fabric: &Arc<FabricInner>, wiring: &mut Wiring, owner: Owner) -> Dialer {
        Dialer {
            fabric: Arc::downgrade(fabric),
            dead: wiring.dead_end(&owner),
            owner,
        }
    }

    /// The end to the server named `server` (any server on the fabric:
    /// "g2-server-0", or one the lab added itself). Once the owner has
    /// crashed (or the client was deleted, or the fabric shut down) it
    /// returns an end through which nothing is ever delivered.
    pub fn end_to(&self, server: &str) -> ClientEnd {
        let Some(fabric) = self.fabric.upgrade() else {
            return self.dead.clone();
        };
        let mut w = fabric.wiring();
        w.dial(&self.owner, server)
            .unwrap_or_else(|| self.dead.clone())
    }
}

impl std::fmt::Debug for Dialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialer")
            .field("owner", &self.owner)
            .finish()
    }
}

pub(crate) type KillHook = Box<dyn FnOnce() + Send>;

/// What the lab's factory returns for one incarnation of a peer: the
/// services to register on its server, the handle the lab keeps to drive
/// and inspect the replica, and what to do when it is killed.
///
/// ```
/// use testkit::cluster::Incarnation;
/// use labrpc::Service;
/// let inc = Incarnation::new(7u32)
///     .service(Service::new("Echo").method("Echo", |s: String| s))
///     .on_kill(|| println!("stopping"));
/// assert_eq!(*inc.handle(), 7);
/// ```
pub struct Incarnation<H> {
    pub(crate) handle: H,
    pub(crate) services: Vec<Service>,
    pub(crate) kill: Option<KillHook>,
}

impl<H> Incarnation<H> {
    /// An incarnation with `handle`, no services yet and nothing to do on
    /// kill.
    pub fn new(handle: H) -> Incarnation<H> {
        Incarnation {
            handle,
            services: Vec::new(),
            kill: None,
        }
    }

    /// Adds a service to the peer's server (all services of a peer share
    /// one labrpc server, as a key/value service and its Raft do).
    pub fn service(mut self, service: Service) -> Incarnation<H> {
        self.services.push(service);
        self
    }

    /// Adds several services.
    pub fn services(mut self, services: impl IntoIterator<Item = Service>) -> Incarnation<H> {
        self.services.extend(services);
        self
    }

    /// What to run when this incarnation is killed (at its crash, or when
    /// the cluster is dropped): typically the replica's own `kill`. It runs
    /// after the peer is cut off and its server deleted, once.
    pub fn on_kill(mut self, kill: impl FnOnce() + Send + 'static) -> Incarnation<H> {
        self.kill = Some(Box::new(kill));
        self
    }

    /// The handle.
    pub fn handle(&self) -> &H {
        &self.handle
    }
}

impl<H: std::fmt::Debug> std::fmt::Debug for Incarnation<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incarnation")
            .field("handle", &self.handle)
            .field(
                "services",
                &self.services.iter().map(Service::name).collect::<Vec<_>>(),
            )
            .field("on_kill", &self.kill.is_some())
            .finish()
    }
}
