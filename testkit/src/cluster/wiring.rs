//! Who may talk to whom: the harness's record of every end it made, the
//! state of every peer and client, and the rules that turn those states
//! into labrpc's enabled ends and reply-dropping faults.
//!
//! Nothing here is set on the network directly by a verb. A verb changes a
//! state (a peer is disconnected, deaf, on side 1 of a partition, ...) and
//! then [`Wiring::sync`] works out, for every end, whether it should be
//! enabled and whether replies through it should be lost, and changes on the
//! network only what differs. Ends made later (at a restart, by a
//! [`crate::cluster::Dialer`]) follow the same states without any verb being
//! called again. Every map is ordered, so the work is done in the same order
//! on every run.

use std::collections::{BTreeMap, BTreeSet};

use labrpc::{ClientEnd, Fault, FaultId, Network};

use super::names::{client_name, end_name};

/// Who holds an end: one incarnation of a peer, or a client.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Owner {
    /// Incarnation `life` of the peer whose server is `server`.
    Peer {
        /// The peer's server name.
        server: String,
        /// Which start of the peer (1 for the first).
        life: u64,
    },
    /// A client, by number.
    Client(u64),
}

impl Owner {
    /// The name that end names start with.
    fn label(&self) -> String {
        match self {
            Owner::Peer { server, .. } => server.clone(),
            Owner::Client(id) => client_name(*id),
        }
    }
}

/// One peer's network state.
#[derive(Clone, Debug)]
pub(crate) struct PeerState {
    /// Its cluster's group name (`""` for none).
    pub(crate) group: String,
    /// Its index in the group.
    pub(crate) index: usize,
    /// Not cut off: it can reach, and be reached by, anyone allowed below.
    pub(crate) connected: bool,
    /// Its side of the group's partition; peers on different sides of one
    /// group cannot talk. 0 for everyone when there is no partition.
    pub(crate) side: usize,
    /// Replies to its calls are lost (its requests still arrive).
    pub(crate) deaf: bool,
    /// Peers of its group (by index) that its messages cannot reach.
    pub(crate) blocked: BTreeSet<usize>,
    /// The running incarnation, if the peer is running.
    pub(crate) life: Option<u64>,
}

struct EndState {
    owner: Owner,
    /// The server the end is connected to.
    target: String,
    /// What was last set on the network.
    enabled: bool,
}

#[derive(Default)]
struct ClientState {
    /// Servers this client cannot reach.
    cut: BTreeSet<String>,
}

/// The fabric's bookkeeping, kept under one lock.
pub(crate) struct Wiring {
    net: Network,
    next_end: u64,
    next_client: u64,
    peers: BTreeMap<String, PeerState>,
    ends: BTreeMap<String, EndState>,
    clients: BTreeMap<u64, ClientState>,
    /// Ends a [`crate::cluster::Dialer`] made, by owner and target, so
    /// dialing the same server twice returns the same end.
    dialed: BTreeMap<(Owner, String), ClientEnd>,
    /// The reply-dropping fault installed on each end that has one.
    drops: BTreeMap<String, FaultId>,
}

impl Wiring {
    pub(crate) fn new(net: Network) -> Wiring {
        Wiring {
            net,
            next_end: 0,
            next_client: 0,
            peers: BTreeMap::new(),
            ends: BTreeMap::new(),
            clients: BTreeMap::new(),
            dialed: BTreeMap::new(),
            drops: BTreeMap::new(),
        }
    }

    /// Registers a peer, disconnected and not running.
    ///
    /// # Panics
    /// If a peer of that name exists: two clusters on one fabric need
    /// different group names.
    pub(crate) fn add_peer(&mut self, server: &str, group: &str, index: usize) {
        assert!(
            !self.peers.contains_key(server),
            "cluster: the fabric already has a server named {server:?}; give each cluster \
             sharing a fabric its own group name (Peers::group)"
        );
        self.peers.insert(
            server.to_owned(),
            PeerState {
                group: group.to_owned(),
                index,
                connected: false,
                side: 0,
                deaf: false,
                blocked: BTreeSet::new(),
                life: None,
            },
        );
    }

    /// Forgets a peer and every end any of its incarnations held.
    pub(crate) fn remove_peer(&mut self, server: &str) {
        self.peers.remove(server);
        self.drop_ends(|o| matches!(o, Owner::Peer { server: s, .. } if s == server));
    }

    /// Peer `server`'s state.
    ///
    /// # Panics
    /// If there is no such peer (a harness bug).
    pub(crate) fn peer(&self, server: &str) -> &PeerState {
        self.peers
            .get(server)
            .unwrap_or_else(|| panic!("cluster: no peer named {server:?}"))
    }

    /// Peer `server`'s state, to change (call [`Wiring::sync`] after).
    pub(crate) fn peer_mut(&mut self, server: &str) -> &mut PeerState {
        self.peers
            .get_mut(server)
            .unwrap_or_else(|| panic!("cluster: no peer named {server:?}"))
    }

    /// Every peer's state, by server name.
    pub(crate) fn peers(&self) -> &BTreeMap<String, PeerState> {
        &self.peers
    }

    /// A new end from `owner` to server `target`, connected and (until the
    /// next [`Wiring::sync`]) disabled.
    pub(crate) fn add_end(&mut self, owner: Owner, target: &str) -> ClientEnd {
        self.next_end += 1;
        let name = end_name(&owner.label(), target, self.next_end);
        let end = self.net.make_end(name.clone());
        self.net.connect(&name, target);
        self.ends.insert(
            name,
            EndState {
                owner,
                target: target.to_owned(),
                enabled: false,
            },
        );
        end
    }

    /// An end that is never enabled or connected, for owners that are gone.
    pub(crate) fn dead_end(&mut self, owner: &Owner) -> ClientEnd {
        self.next_end += 1;
        self.net
            .make_end(end_name(&owner.label(), "nowhere", self.next_end))
    }

    /// Deletes, from the network and from the books, every end whose owner
    /// matches, with its faults.
    pub(crate) fn drop_ends(&mut self, mut matching: impl FnMut(&Owner) -> bool) {
        let doomed: Vec<String> = self
            .ends
            .iter()
            .filter(|(_, e)| matching(&e.owner))
            .map(|(name, _)| name.clone())
            .collect();
        for name in doomed {
            self.ends.remove(&name);
            self.net.delete_end(&name);
            if let Some(id) = self.drops.remove(&name) {
                self.net.remove_fault(id);
            }
        }
        self.dialed.retain(|(owner, _), _| !matching(owner));
    }

    /// Whether `owner` is still alive: the peer's running incarnation, or a
    /// client not deleted.
    pub(crate) fn is_alive(&self, owner: &Owner) -> bool {
        match owner {
            Owner::Peer { server, life } => self
                .peers
                .get(server)
                .is_some_and(|p| p.life == Some(*life)),
            Owner::Client(id) => self.clients.contains_key(id),
        }
    }

    /// The end `owner` uses to call `target`, made on first use; `None` if
    /// the owner is gone.
    pub(crate) fn dial(&mut self, owner: &Owner, target: &str) -> Option<ClientEnd> {
        if !self.is_alive(owner) {
            return None;
        }
        let key = (owner.clone(), target.to_owned());
        if let Some(end) = self.dialed.get(&key) {
            return Some(end.clone());
        }
        let end = self.add_end(owner.clone(), target);
        self.dialed.insert(key, end.clone());
        self.sync();
        Some(end)
    }

    /// A new client, able to reach every server.
    pub(crate) fn add_client(&mut self) -> u64 {
        self.next_client += 1;
        let id = self.next_client;
        self.clients.insert(id, ClientState::default());
        id
    }

    /// Deletes client `id` and its ends.
    pub(crate) fn remove_client(&mut self, id: u64) {
        self.clients.remove(&id);
        self.drop_ends(|o| *o == Owner::Client(id));
    }

    /// Lets client `id` reach `server`, or not (call [`Wiring::sync`] after).
    pub(crate) fn set_client_link(&mut self, id: u64, server: &str, reachable: bool) {
        if let Some(c) = self.clients.get_mut(&id) {
            if reachable {
                c.cut.remove(server);
            } else {
                c.cut.insert(server.to_owned());
            }
        }
    }

    /// Whether client `id` may reach `server` (as far as the client goes).
    pub(crate) fn client_link(&self, id: u64, server: &str) -> bool {
        self.clients
            .get(&id)
            .is_some_and(|c| !c.cut.contains(server))
    }

    /// Whether calls through `end` may be delivered.
    ///
    /// - A peer's end: it belongs to the peer's running incarnation, the
    ///   peer is connected, and so is the target; within
    ///   one group both are on the same side and the target is not one the
    ///   peer's messages are blocked from. Across groups only being
    ///   connected counts. A server the harness does not know is reachable
    ///   whenever the caller is connected.
    /// - A client's end: the client has not been cut from the target, and
    ///   the target is connected.
    fn allows(&self, end: &EndState) -> bool {
        let target = self.peers.get(&end.target);
        match &end.owner {
            Owner::Peer { server, life } => {
                let Some(me) = self.peers.get(server) else {
                    return false;
                };
                if !me.connected || me.life != Some(*life) {
                    return false;
                }
                match target {
                    None => true,
                    Some(t) if t.group == me.group => {
                        t.connected && t.side == me.side && !me.blocked.contains(&t.index)
                    }
                    Some(t) => t.connected,
                }
            }
            Owner::Client(id) => {
                self.client_link(*id, &end.target) && target.is_none_or(|t| t.connected)
            }
        }
    }

    /// Whether replies through `end` must be lost: its owner is deaf, or the
    /// target's messages are blocked from reaching the owner (a reply is a
    /// message from the target). A peer's end to itself is never affected.
    fn drops_reply(&self, end: &EndState) -> bool {
        let Owner::Peer { server, .. } = &end.owner else {
            return false;
        };
        if *server == end.target {
            return false;
        }
        let Some(me) = self.peers.get(server) else {
            return false;
        };
        me.deaf
            || self
                .peers
                .get(&end.target)
                .is_some_and(|t| t.group == me.group && t.blocked.contains(&me.index))
    }

    /// Brings the network in line with the states: installs the faults that
    /// are missing, enables and disables ends, then removes faults no longer
    /// wanted (in that order, so an end is never enabled before the fault
    /// that must come with it).
    pub(crate) fn sync(&mut self) {
        let wanted: BTreeSet<String> = self
            .ends
            .iter()
            .filter(|(_, e)| self.drops_reply(e))
            .map(|(name, _)| name.clone())
            .collect();
        for name in &wanted {
            if !self.drops.contains_key(name) {
                let id = self.net.add_fault(Fault::drop_reply().on_end(name.clone()));
                self.drops.insert(name.clone(), id);
            }
        }
        let changes: Vec<(String, bool)> = self
            .ends
            .iter()
            .filter_map(|(name, e)| {
                let want = self.allows(e);
                (want != e.enabled).then(|| (name.clone(), want))
            })
            .collect();
        for (name, want) in changes {
            self.net.enable(&name, want);
            if let Some(e) = self.ends.get_mut(&name) {
                e.enabled = want;
            }
        }
        let stale: Vec<String> = self
            .drops
            .keys()
            .filter(|name| !wanted.contains(*name))
            .cloned()
            .collect();
        for name in stale {
            if let Some(id) = self.drops.remove(&name) {
                self.net.remove_fault(id);
            }
        }
    }

    /// How many ends the fabric tracks and how many of them drop replies
    /// (for tests of the bookkeeping itself).
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.ends.len(), self.drops.len())
    }
}
