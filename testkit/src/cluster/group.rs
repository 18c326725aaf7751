//! One replica group under test: [`Cluster`], its peers and its verbs.

use labrpc::{Network, Persister, Server};
use labrt::sync::{Arc, Mutex, MutexGuard};
use labrt::thread;
use labrt::time::Duration;

use super::client::Client;
use super::fabric::Fabric;
use super::names::{check_group, server_name};
use super::node::{Dialer, Incarnation, KillHook, Node};
use super::wiring::{Owner, Wiring};
use crate::Run;

/// How many peers a cluster has and what its servers are called.
///
/// ```
/// use testkit::cluster::Peers;
/// let plain = Peers::new(3);          // server-0, server-1, server-2
/// let grouped = Peers::new(3).group("g1"); // g1-server-0, ...
/// assert_eq!(grouped.n(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct Peers {
    n: usize,
    group: String,
}

impl Peers {
    /// `n` peers named "server-0" ... "server-{n-1}".
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn new(n: usize) -> Peers {
        assert!(n > 0, "cluster: a cluster needs at least one peer");
        Peers {
            n,
            group: String::new(),
        }
    }

    /// Names the servers "{group}-server-{i}", so that several clusters can
    /// share one [`Fabric`] (each needs its own group name).
    ///
    /// # Panics
    /// If `group` is empty or holds anything but ASCII letters, digits,
    /// `-` and `_`.
    pub fn group(mut self, group: impl Into<String>) -> Peers {
        let group = group.into();
        check_group(&group);
        self.group = group;
        self
    }

    /// The number of peers.
    pub fn n(&self) -> usize {
        self.n
    }
}

/// The lab's factory: builds one incarnation of a peer from its [`Node`].
type Factory<H> = dyn Fn(Node) -> Incarnation<H> + Send + Sync;

struct Running<H> {
    handle: H,
    server: Server,
    kill: Option<KillHook>,
}

struct Slot<H> {
    running: Option<Running<H>>,
    /// The peer's stable storage; replaced by a copy at every crash.
    saved: Arc<Persister>,
    /// How many times the peer was started.
    lives: u64,
    /// RPCs executed by incarnations that have crashed.
    served_before: u64,
    /// Argument bytes those RPCs carried.
    received_before: u64,
}

/// A group of `n` peers on a [`Fabric`], each a labrpc server with the
/// services the lab's factory returned, joined by one client end per
/// ordered pair of peers; and the verbs that break and mend it.
///
/// Generic over the handle `H` the lab keeps for each running peer (its
/// Raft, its key/value server, ...). Shareable between threads (`&Cluster`
/// is `Sync` when `H` is `Send`), so client threads can use it while the
/// test thread breaks the network.
///
/// Verbs change the state of peers; the ends follow (see the module docs
/// for the rules). Every verb takes effect for calls that start after it; a
/// call already waiting on a handler through an end that is disabled fails.
pub struct Cluster<H> {
    fabric: Fabric,
    group: String,
    names: Vec<String>,
    factory: Box<Factory<H>>,
    slots: Mutex<Vec<Slot<H>>>,
    /// Serializes crashes and restarts (a restart calls the factory with
    /// the other locks released).
    lifecycle: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<H: Clone + Send + 'static> Cluster<H> {
    /// Starts `n` peers ("server-0", ...) on a fabric of their own made for
    /// `run` ([`Fabric::new`]: seeded by the run, reporting to it), all
    /// connected, on a reliable network. Turn the knobs afterwards, or make
    /// the fabric first and use [`Cluster::start`] to turn them before any
    /// peer runs.
    pub fn new<F>(run: &Run, n: usize, factory: F) -> Cluster<H>
    where
        F: Fn(Node) -> Incarnation<H> + Send + Sync + 'static,
    {
        Cluster::start(&Fabric::new(run), Peers::new(n), factory)
    }

    /// Starts `peers` on `fabric`: registers their names, calls `factory`
    /// for each peer in index order (as [`Cluster::restart`] does), then
    /// connects them all.
    ///
    /// `factory` runs while the cluster's locks are released, but must not
    /// call back into the cluster (it has no reference to it anyway).
    ///
    /// # Panics
    /// If the fabric already has a server with one of the names (two
    /// clusters on one fabric need different [`Peers::group`] names).
    pub fn start<F>(fabric: &Fabric, peers: Peers, factory: F) -> Cluster<H>
    where
        F: Fn(Node) -> Incarnation<H> + Send + Sync + 'static,
    {
        let names: Vec<String> = (0..peers.n).map(|i| server_name(&peers.group, i)).collect();
        {
            let mut w = fabric.inner.wiring();
            if let Some(taken) = names.iter().find(|n| w.peers().contains_key(*n)) {
                drop(w);
                panic!(
                    "cluster: the fabric already has a server named {taken:?}; give each cluster \
                     sharing a fabric its own group name (Peers::group)"
                );
            }
            for (i, name) in names.iter().enumerate() {
                w.add_peer(name, &peers.group, i);
            }
        }
        fabric.inner.count_peers(peers.n);
        let slots = (0..peers.n)
            .map(|_| Slot {
                running: None,
                saved: Arc::new(Persister::new()),
                lives: 0,
                served_before: 0,
                received_before: 0,
            })
            .collect();
        let cluster = Cluster {
            fabric: fabric.clone(),
            group: peers.group,
            names,
            factory: Box::new(factory),
            slots: Mutex::new(slots),
            lifecycle: Mutex::new(()),
        };
        for i in 0..cluster.n() {
            cluster.restart(i);
        }
        for i in 0..cluster.n() {
            cluster.connect(i);
        }
        cluster
    }
}

impl<H> Cluster<H> {
    fn wiring(&self) -> MutexGuard<'_, Wiring> {
        self.fabric.inner.wiring()
    }

    fn slots(&self) -> MutexGuard<'_, Vec<Slot<H>>> {
        lock(&self.slots)
    }

    #[track_caller]
    fn check(&self, i: usize) -> &str {
        match self.names.get(i) {
            Some(name) => name,
            None => panic!(
                "cluster: there is no peer {i}; the cluster has {} (0..{})",
                self.n(),
                self.n()
            ),
        }
    }

    /// Changes peers' states with `change`, then updates the ends.
    fn rewire(&self, change: impl FnOnce(&mut Wiring)) {
        let mut w = self.wiring();
        change(&mut w);
        w.sync();
    }

    /// Number of peers.
    pub fn n(&self) -> usize {
        self.names.len()
    }

    /// The group name (`""` when the cluster has none).
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Peer `i`'s server name.
    ///
    /// # Panics
    /// If `i` is not an index of the cluster (as every verb taking a peer).
    #[track_caller]
    pub fn name(&self, i: usize) -> &str {
        self.check(i)
    }

    /// Every peer's server name, by index.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The fabric the cluster runs on.
    pub fn fabric(&self) -> &Fabric {
        &self.fabric
    }

    /// The labrpc network (shared with every cluster on the fabric).
    pub fn network(&self) -> &Network {
        self.fabric.network()
    }

    /// The seed of the network and of [`Cluster::random`].
    pub fn seed(&self) -> u64 {
        self.fabric.seed()
    }

    /// Fails the test: `msg` plus the seed that reproduces the run.
    #[track_caller]
    pub fn fail(&self, msg: impl std::fmt::Display) -> ! {
        panic!("{msg} (seed {})", self.seed())
    }

    /// A number below `n` from the harness's seeded generator (shared by
    /// the clusters of one fabric).
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn random(&self, n: u64) -> u64 {
        self.fabric.random(n)
    }

    /// Sleeps a random time below `max_ms` milliseconds (none if 0).
    pub fn sleep_random(&self, max_ms: u64) {
        if max_ms > 0 {
            thread::sleep(Duration::from_millis(self.random(max_ms)));
        }
    }

    /// Whether peer `i` is running (started and not crashed since).
    #[track_caller]
    pub fn is_running(&self, i: usize) -> bool {
        self.check(i);
        self.slots()[i].running.is_some()
    }

    /// How many times peer `i` has been started: its current (or last)
    /// incarnation's number, as [`Node::incarnation`] gave it.
    #[track_caller]
    pub fn incarnation(&self, i: usize) -> u64 {
        self.check(i);
        self.slots()[i].lives
    }

    /// Whether peer `i` is connected (not cut off by [`Cluster::disconnect`],
    /// a crash, or being left out of a [`Cluster::partition`]).
    #[track_caller]
    pub fn is_connected(&self, i: usize) -> bool {
        let name = self.check(i);
        self.wiring().peer(name).connected
    }

    /// The connected peers, in index order.
    pub fn connected(&self) -> Vec<usize> {
        let w = self.wiring();
        (0..self.n())
            .filter(|&i| w.peer(&self.names[i]).connected)
            .collect()
    }

    /// Joins peer `i` back to the connected peers on its side (everyone
    /// connected, when there is no partition), both directions. Its side is
    /// the group the last [`Cluster::partition`] put it in (the first group
    /// if it left the peer out), and the only side after
    /// [`Cluster::repair`]. A disconnect does not change a peer's side.
    #[track_caller]
    pub fn connect(&self, i: usize) {
        let name = self.check(i);
        self.rewire(|w| w.peer_mut(name).connected = true);
        tracing::info!(target: "test", peer = i, group = self.group, "connected");
    }

    /// Cuts peer `i` off from everyone, both directions: the other peers,
    /// other groups and clients.
    #[track_caller]
    pub fn disconnect(&self, i: usize) {
        let name = self.check(i);
        self.rewire(|w| w.peer_mut(name).connected = false);
        tracing::info!(target: "test", peer = i, group = self.group, "disconnected");
    }

    /// Splits the cluster: peers in the same one of `groups` can talk,
    /// peers in different ones cannot; a peer in none of them is cut off
    /// (as by [`Cluster::disconnect`]), and a later [`Cluster::connect`]
    /// joins it to the first group. Every listed peer is connected.
    /// One-way cuts and deafness stay as they were. Clients are not cut off
    /// by a partition: give them sides with [`Cluster::connect_client`].
    ///
    /// ```
    /// # use testkit::cluster::{Cluster, Fabric, Incarnation, Peers};
    /// # let cluster = Cluster::start(&Fabric::with_seed(1), Peers::new(5), |_| Incarnation::new(()));
    /// cluster.partition(&[&[0, 1], &[2, 3, 4]]);
    /// assert!(cluster.is_connected(0) && cluster.is_connected(4));
    /// cluster.partition(&[&[0, 1, 2]]); // 3 and 4 are cut off
    /// assert_eq!(cluster.connected(), vec![0, 1, 2]);
    /// cluster.repair();
    /// ```
    ///
    /// # Panics
    /// If a peer is listed twice or is not an index of the cluster.
    #[track_caller]
    pub fn partition(&self, groups: &[&[usize]]) {
        let mut side = vec![None; self.n()];
        for (k, group) in groups.iter().enumerate() {
            for &i in *group {
                self.check(i);
                assert!(
                    side[i].is_none(),
                    "cluster: peer {i} is in two groups of the partition {groups:?}"
                );
                side[i] = Some(k);
            }
        }
        self.rewire(|w| {
            for (name, side) in self.names.iter().zip(&side) {
                let p = w.peer_mut(name);
                match side {
                    Some(k) => {
                        p.connected = true;
                        p.side = *k;
                    }
                    None => {
                        p.connected = false;
                        p.side = 0;
                    }
                }
            }
        });
        tracing::info!(target: "test", group = self.group, "partitioned into {groups:?}");
    }

    /// Mends the network between peers: every peer connected, on one side,
    /// with no one-way cuts, and nobody deaf. (A crashed peer counts as
    /// connected but has no server; its restart starts it cut off.)
    /// Clients keep their own cuts.
    pub fn repair(&self) {
        self.rewire(|w| {
            for name in &self.names {
                let p = w.peer_mut(name);
                p.connected = true;
                p.side = 0;
                p.blocked.clear();
                p.deaf = false;
            }
        });
        tracing::info!(target: "test", group = self.group, "network repaired");
    }

    /// Loses every message from peer `from` to peer `to`: `from`'s requests
    /// to `to` are not delivered, and when `to` calls `from` the handler
    /// runs but its reply is lost. Messages from `to` to `from` still
    /// arrive. Lasts until [`Cluster::repair_oneway`] or [`Cluster::repair`],
    /// across restarts of either peer.
    ///
    /// # Panics
    /// If `from == to`, or either is not an index of the cluster.
    #[track_caller]
    pub fn partition_oneway(&self, from: usize, to: usize) {
        let name = self.check(from);
        self.check(to);
        assert!(from != to, "cluster: a peer cannot be cut off from itself");
        self.rewire(|w| {
            w.peer_mut(name).blocked.insert(to);
        });
        tracing::info!(target: "test", group = self.group, "messages from peer {from} to peer {to} are lost");
    }

    /// Undoes [`Cluster::partition_oneway`]`(from, to)`.
    #[track_caller]
    pub fn repair_oneway(&self, from: usize, to: usize) {
        let name = self.check(from);
        self.check(to);
        self.rewire(|w| {
            w.peer_mut(name).blocked.remove(&to);
        });
        tracing::info!(target: "test", group = self.group, "messages from peer {from} to peer {to} arrive again");
    }

    /// Makes peer `i` deaf: its requests still reach the others (and other
    /// groups), but every reply to it is lost. Lasts until
    /// [`Cluster::undeafen`], [`Cluster::repair`] or the peer's next restart.
    #[track_caller]
    pub fn deafen(&self, i: usize) {
        let name = self.check(i);
        self.rewire(|w| w.peer_mut(name).deaf = true);
        tracing::info!(target: "test", peer = i, group = self.group, "deafened: replies to it are lost");
    }

    /// Undoes [`Cluster::deafen`].
    #[track_caller]
    pub fn undeafen(&self, i: usize) {
        let name = self.check(i);
        self.rewire(|w| w.peer_mut(name).deaf = false);
        tracing::info!(target: "test", peer = i, group = self.group, "undeafened");
    }

    /// Makes the (shared) network unreliable or reliable again: see
    /// [`Fabric::unreliable`].
    pub fn unreliable(&self, on: bool) {
        self.fabric.unreliable(on);
    }

    /// Long delays for undeliverable calls, on the shared network: see
    /// [`Fabric::long_delays`].
    pub fn long_delays(&self, on: bool) {
        self.fabric.long_delays(on);
    }

    /// Long reordering of replies, on the shared network: see
    /// [`Fabric::long_reordering`].
    pub fn long_reordering(&self, on: bool) {
        self.fabric.long_reordering(on);
    }

    /// Crashes peer `i`: cuts it off, deletes its server (so a reply it is
    /// computing is never delivered), keeps a copy of its persister (what it
    /// had saved is all that survives; whatever the dying incarnation saves
    /// from now on goes to the old one, which nobody reads), deletes its
    /// ends (and those it dialed), and runs its kill hook. Cutting off,
    /// deleting and copying happen even if the peer is not running.
    #[track_caller]
    pub fn crash(&self, i: usize) {
        self.check(i);
        let _serial = lock(&self.lifecycle);
        self.crash_now(i);
    }

    fn crash_now(&self, i: usize) {
        let name = self.names[i].as_str();
        self.rewire(|w| w.peer_mut(name).connected = false);
        self.network().delete_server(name);
        let running = {
            let mut slots = self.slots();
            let slot = &mut slots[i];
            // Copy before killing: whatever the dying peer saves from now
            // on never happened, as far as its next incarnation can tell.
            slot.saved = Arc::new(slot.saved.copy());
            let running = slot.running.take();
            if let Some(r) = &running {
                slot.served_before += r.server.executed();
                slot.received_before += r.server.received_bytes();
            }
            running
        };
        self.rewire(|w| {
            w.peer_mut(name).life = None;
            w.drop_ends(|o| matches!(o, Owner::Peer { server, .. } if server == name));
        });
        if let Some(kill) = running.and_then(|r| r.kill) {
            kill();
        }
        tracing::info!(target: "test", peer = i, group = self.group, "crashed");
    }

    /// (Re)starts peer `i` from its saved state, crashing it first (see
    /// [`Cluster::crash`]). The new incarnation gets fresh ends to every
    /// peer (so nothing its dead predecessor sends arrives), a copy of the
    /// saved persister, and is not deaf; the factory builds it, and its
    /// services are registered on a new server under the same name. It
    /// starts cut off: call [`Cluster::connect`].
    #[track_caller]
    pub fn restart(&self, i: usize) {
        self.check(i);
        let _serial = lock(&self.lifecycle);
        self.crash_now(i);
        let name = self.names[i].clone();
        let (life, persister) = {
            let mut slots = self.slots();
            let slot = &mut slots[i];
            slot.lives += 1;
            let persister = Arc::new(slot.saved.copy());
            slot.saved = Arc::clone(&persister);
            (slot.lives, persister)
        };
        let owner = Owner::Peer {
            server: name.clone(),
            life,
        };
        let (ends, dialer) = {
            let mut w = self.wiring();
            let p = w.peer_mut(&name);
            p.deaf = false;
            p.life = Some(life);
            let ends = self
                .names
                .iter()
                .map(|target| w.add_end(owner.clone(), target))
                .collect();
            let dialer = Dialer::new(&self.fabric.inner, &mut w, owner);
            w.sync();
            (ends, dialer)
        };
        let node = Node {
            me: i,
            name: name.clone(),
            group: self.group.clone(),
            peers: self.names.clone(),
            ends,
            persister,
            life,
            dialer,
        };
        let Incarnation {
            handle,
            services,
            kill,
        } = (self.factory)(node);
        let server = Server::new(services);
        self.network().add_server(name, server.clone());
        self.slots()[i].running = Some(Running {
            handle,
            server,
            kill,
        });
        tracing::info!(target: "test", peer = i, group = self.group, incarnation = life, "restarted");
    }

    /// Crashes every peer, in index order.
    pub fn crash_all(&self) {
        for i in 0..self.n() {
            self.crash(i);
        }
    }

    /// Restarts every peer, in index order, then connects them all.
    pub fn restart_all(&self) {
        for i in 0..self.n() {
            self.restart(i);
        }
        for i in 0..self.n() {
            self.connect(i);
        }
    }

    /// A client with one end per peer (`ends()[j]` calls peer `j`), able to
    /// reach every connected peer.
    pub fn make_client(&self) -> Client {
        let mut w = self.wiring();
        let id = w.add_client();
        let owner = Owner::Client(id);
        let ends = self
            .names
            .iter()
            .map(|target| w.add_end(owner.clone(), target))
            .collect();
        let dialer = Dialer::new(&self.fabric.inner, &mut w, owner);
        w.sync();
        Client::new(id, ends, dialer)
    }

    /// Lets `client` reach exactly the peers `to` of this cluster (while
    /// they are connected); its links to other groups are unchanged.
    ///
    /// # Panics
    /// If a peer in `to` is not an index of the cluster.
    #[track_caller]
    pub fn connect_client(&self, client: &Client, to: &[usize]) {
        for &j in to {
            self.check(j);
        }
        self.rewire(|w| {
            for (j, name) in self.names.iter().enumerate() {
                w.set_client_link(client.id(), name, to.contains(&j));
            }
        });
    }

    /// Whether `client` may reach peer `j` (not cut off from it, and `j`
    /// connected).
    #[track_caller]
    pub fn client_reaches(&self, client: &Client, j: usize) -> bool {
        let name = self.check(j);
        let w = self.wiring();
        w.client_link(client.id(), name) && w.peer(name).connected
    }

    /// Deletes `client`'s ends: calls through them fail from now on.
    pub fn delete_client(&self, client: &Client) {
        self.fabric.delete_client(client);
    }

    /// Peer `i`'s handle, if it is running.
    #[track_caller]
    pub fn handle(&self, i: usize) -> Option<H>
    where
        H: Clone,
    {
        self.check(i);
        self.slots()[i].running.as_ref().map(|r| r.handle.clone())
    }

    /// Runs `f` on every running peer's handle, in index order, with the
    /// cluster's locks released.
    pub fn each_running(&self, mut f: impl FnMut(usize, &H))
    where
        H: Clone,
    {
        for i in 0..self.n() {
            if let Some(h) = self.handle(i) {
                f(i, &h);
            }
        }
    }

    /// RPCs that entered the network so far (every group's and client's).
    pub fn rpc_total(&self) -> u64 {
        self.fabric.rpc_total()
    }

    /// Bytes the network carried so far (every group's and client's).
    pub fn bytes_total(&self) -> u64 {
        self.fabric.bytes_total()
    }

    /// RPCs executed by peer `i`'s current incarnation (0 when crashed).
    #[track_caller]
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.check(i);
        self.slots()[i]
            .running
            .as_ref()
            .map_or(0, |r| r.server.executed())
    }

    /// RPCs executed by all of peer `i`'s incarnations (each crashed one's
    /// counted when it crashed).
    #[track_caller]
    pub fn served_rpcs(&self, i: usize) -> u64 {
        self.check(i);
        let slots = self.slots();
        let slot = &slots[i];
        slot.served_before + slot.running.as_ref().map_or(0, |r| r.server.executed())
    }

    /// Argument bytes of the RPCs all of peer `i`'s incarnations executed:
    /// everything the network told it. A peer that knows something it was
    /// not told by the test itself must have received at least its bytes.
    #[track_caller]
    pub fn served_bytes(&self, i: usize) -> u64 {
        self.check(i);
        let slots = self.slots();
        let slot = &slots[i];
        slot.received_before
            + slot
                .running
                .as_ref()
                .map_or(0, |r| r.server.received_bytes())
    }

    /// Peer `i`'s stable storage as it stands: what its next incarnation
    /// would start from.
    #[track_caller]
    pub fn persister(&self, i: usize) -> Arc<Persister> {
        self.check(i);
        Arc::clone(&self.slots()[i].saved)
    }

    /// Size of peer `i`'s saved Raft state, in bytes.
    #[track_caller]
    pub fn raft_state_size(&self, i: usize) -> usize {
        self.persister(i).raft_state_size()
    }

    /// Size of peer `i`'s saved snapshot, in bytes.
    #[track_caller]
    pub fn snapshot_size(&self, i: usize) -> usize {
        self.persister(i).snapshot_size()
    }

    /// One line per peer: running or not, connected or not, side, deafness
    /// and one-way cuts. For failure messages and logs.
    pub fn topology(&self) -> String {
        let lives: Vec<(bool, u64)> = self
            .slots()
            .iter()
            .map(|s| (s.running.is_some(), s.lives))
            .collect();
        let w = self.wiring();
        let mut out = String::new();
        for (i, name) in self.names.iter().enumerate() {
            let p = w.peer(name);
            let (running, life) = lives[i];
            let state = if running {
                format!("running (incarnation {life})")
            } else {
                "crashed".to_owned()
            };
            let link = if p.connected {
                format!("connected on side {}", p.side)
            } else {
                "cut off".to_owned()
            };
            let deaf = if p.deaf { ", deaf" } else { "" };
            let blocked = if p.blocked.is_empty() {
                String::new()
            } else {
                format!(", messages to {:?} lost", p.blocked)
            };
            out.push_str(&format!(
                "peer {i} ({name}): {state}, {link}{deaf}{blocked}\n"
            ));
        }
        out
    }
}

impl<H> std::fmt::Debug for Cluster<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("group", &self.group)
            .field("names", &self.names)
            .field("fabric", &self.fabric)
            .finish()
    }
}

impl<H> Drop for Cluster<H> {
    /// Kills every running peer (its kill hook), then removes the peers'
    /// servers and ends from the network. The network itself shuts down
    /// when the last cluster and [`Fabric`] handle are gone.
    fn drop(&mut self) {
        let running: Vec<Running<H>> = self
            .slots()
            .iter_mut()
            .filter_map(|s| s.running.take())
            .collect();
        for kill in running.into_iter().filter_map(|r| r.kill) {
            kill();
        }
        let mut w = self.wiring();
        for name in &self.names {
            self.fabric.network().delete_server(name);
            w.remove_peer(name);
        }
        w.sync();
    }
}
