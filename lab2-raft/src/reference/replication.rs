//! Log replication (§5.3) and snapshot installation (§7): the leader's
//! side (what to send each follower, what its replies teach, when an entry
//! is committed) and the follower's side of AppendEntries and
//! InstallSnapshot.

use labrt::sync::Arc;
use labrt::time::Instant;

use super::rpc::{
    AppendEntriesArgs, AppendEntriesReply, Conflict, InstallSnapshotArgs, InstallSnapshotReply,
};
use super::senders::Call;
use super::types::{LogIndex, PeerId};
use super::{HEARTBEAT_INTERVAL, MAX_APPEND_BYTES, Peer, PendingSnapshot, Role, State};

impl Peer {
    /// Leader: what to send follower `to` now, if anything (the rules are
    /// in [`super::senders`]), counted on its lane. In order:
    ///
    /// 1. our snapshot, if `to` needs entries it replaced, none is in flight
    ///    to it, and the newest call to it (in this term) was answered;
    /// 2. a batch of entries from its `next_index`, if it has none in flight
    ///    and is not held back by a lost batch (see [`super::Leadership::hold`]);
    /// 3. an empty AppendEntries if a heartbeat is due, or if our commit index
    ///    is news to it and no call of this term is in flight (whose return
    ///    would be followed by a call carrying it; calls of earlier terms or
    ///    roles, perhaps stuck for seconds, do not count).
    pub(super) fn next_replication_call(
        &self,
        st: &mut State,
        to: PeerId,
        now: Instant,
    ) -> Option<(u64, Call)> {
        let Role::Leader(lead) = &mut st.role else {
            return None;
        };
        let lane = &mut st.lanes[to];
        let next = lead.next_index[to];
        let due = now >= lead.heartbeat_due[to];
        let needs_snapshot = next <= st.log.snapshot_index();
        let call = if needs_snapshot
            && !lane.snapshot_in_flight
            && lane.fresh()
            && lane.sent > lead.sent_before[to]
        {
            let args = InstallSnapshotArgs {
                term: st.current_term,
                leader: self.me,
                last_included_index: st.log.snapshot_index(),
                last_included_term: st.log.snapshot_term(),
                data: self.persister.read_snapshot(),
            };
            tracing::debug!(target: "snapshot", peer = self.me, to, index = %args.last_included_index, "sending snapshot");
            lane.snapshot_in_flight = true;
            Call::InstallSnapshot(args)
        } else if !needs_snapshot
            && next <= st.log.last_index()
            && lane.entries_in_flight.is_none()
            && (!lead.hold[to] || due)
        {
            lead.hold[to] = false;
            let prev = next.prev();
            let args = AppendEntriesArgs {
                term: st.current_term,
                leader: self.me,
                prev_log_index: prev,
                // `prev` is at or after the snapshot's last entry, whose term is kept.
                prev_log_term: st.log.term_at(prev).unwrap_or_default(),
                entries: st.log.entries_batch(next, MAX_APPEND_BYTES),
                leader_commit: st.commit_index,
            };
            tracing::trace!(target: "append", peer = self.me, to, prev = %prev, n = args.entries.len(), "sending");
            Call::AppendEntries(args)
        } else if due
            || (st.commit_index > lead.commit_sent[to]
                && !lane.in_flight_after(lead.sent_before[to]))
        {
            // A heartbeat, or a probe: it checks the log at the entry before
            // `next_index` (or at the snapshot's last entry, if `to` needs the
            // snapshot), and its reply says whether `to` can be reached.
            let prev = next.prev().max(st.log.snapshot_index());
            Call::AppendEntries(AppendEntriesArgs {
                term: st.current_term,
                leader: self.me,
                prev_log_index: prev,
                prev_log_term: st.log.term_at(prev).unwrap_or_default(),
                entries: Vec::new(),
                leader_commit: st.commit_index,
            })
        } else {
            return None;
        };
        let seq = lane.begin();
        if let Call::AppendEntries(args) = &call {
            lead.commit_sent[to] = lead.commit_sent[to].max(args.leader_commit);
            if !args.entries.is_empty() {
                lane.entries_in_flight = Some(seq);
            }
        }
        lead.heartbeat_due[to] = now + HEARTBEAT_INTERVAL;
        Some((seq, call))
    }

    /// Leader: the reply to an AppendEntries we sent (or its loss). Ignored
    /// unless we still lead the term we sent it in: a reply to an older
    /// leadership says nothing about this one's bookkeeping.
    pub(super) fn on_append_reply(
        &self,
        st: &mut State,
        from: PeerId,
        args: &AppendEntriesArgs,
        reply: Option<AppendEntriesReply>,
    ) {
        if let Some(r) = &reply
            && self.observe_term(st, r.term)
        {
            return;
        }
        if st.current_term != args.term || self.killed() {
            return;
        }
        let last = st.log.last_index();
        let Role::Leader(lead) = &mut st.role else {
            return;
        };
        let Some(reply) = reply else {
            // Lost: retrying at once would spin against a lossy network.
            if !args.entries.is_empty() {
                lead.hold[from] = true;
            }
            return;
        };
        lead.hold[from] = false;
        if reply.success {
            let matched = args.prev_log_index.plus(args.entries.len());
            lead.match_index[from] = lead.match_index[from].max(matched);
            lead.next_index[from] = lead.next_index[from].max(matched.next());
            self.advance_commit(st);
        } else if let Some(conflict) = reply.conflict {
            // Skip the follower's whole conflicting term in one step: resume
            // after our last entry of that term if we have one (the logs agree
            // up to there), else at the first index the follower holds of it.
            let next = match conflict.term {
                Some(term) => st
                    .log
                    .last_index_of_term(term)
                    .map_or(conflict.index, LogIndex::next),
                None => conflict.index,
            };
            lead.next_index[from] = next.clamp(lead.match_index[from].next(), last.next());
            tracing::debug!(target: "append", peer = self.me, to = from, next = %lead.next_index[from], "backing up");
        }
    }

    /// Leader: commit the highest index a majority holds, provided it is
    /// from our own term (§5.4.2, Figure 8: an older entry is committed only
    /// indirectly, by committing one of ours after it).
    fn advance_commit(&self, st: &mut State) {
        let Role::Leader(lead) = &st.role else { return };
        let mut held: Vec<LogIndex> = lead.match_index.clone();
        held[self.me] = st.log.last_index();
        held.sort_unstable_by(|a, b| b.cmp(a));
        let candidate = held[self.majority() - 1];
        if candidate > st.commit_index && st.log.term_at(candidate) == Some(st.current_term) {
            st.commit_index = candidate;
            st.wake_applier = true;
            tracing::debug!(target: "commit", peer = self.me, commit = %candidate, "leader committed");
            // Tell the followers now rather than at the next heartbeat.
            st.wake_senders = true;
        }
    }

    /// Follower side of AppendEntries (Figure 2).
    pub(super) fn handle_append_entries(
        self: &Arc<Self>,
        args: AppendEntriesArgs,
    ) -> AppendEntriesReply {
        self.with_state(|st| {
            let refuse = |st: &State, conflict| AppendEntriesReply {
                term: st.current_term,
                success: false,
                conflict,
            };
            // 1. Reply false if term < currentTerm; such a message is from a
            // deposed leader and must not delay our own election.
            if self.killed() || args.term < st.current_term {
                return refuse(st, None);
            }
            self.observe_term(st, args.term);
            // A candidate hearing from this term's leader has lost.
            st.role = Role::Follower;
            st.reset_election_timer();

            // 2. Reply false if the log has no entry at prevLogIndex whose
            // term matches prevLogTerm; say where to retry from.
            let prev = args.prev_log_index;
            if prev < st.log.snapshot_index() {
                let index = st.log.snapshot_index().next();
                return refuse(st, Some(Conflict { term: None, index }));
            }
            match st.log.term_at(prev) {
                None => {
                    let index = st.log.last_index().next();
                    return refuse(st, Some(Conflict { term: None, index }));
                }
                Some(term) if term != args.prev_log_term => {
                    let index = st.log.first_index_of_term_run(prev, term);
                    return refuse(
                        st,
                        Some(Conflict {
                            term: Some(term),
                            index,
                        }),
                    );
                }
                Some(_) => {}
            }

            // 3-4. Delete a conflicting suffix and append what is new. An
            // entry we already hold is kept: a delayed, shorter message must
            // not cut off entries a newer one added.
            for (k, entry) in args.entries.iter().enumerate() {
                let index = prev.plus(k + 1);
                match st.log.term_at(index) {
                    Some(term) if term == entry.term => continue,
                    Some(_) => st.log.truncate_from(index),
                    None => {}
                }
                for e in &args.entries[k..] {
                    st.log.append(e.clone());
                }
                st.must_persist = true;
                break;
            }

            // 5. Advance commitIndex, but only over entries this message
            // proved we share with the leader.
            let last_new = prev.plus(args.entries.len());
            let commit = args.leader_commit.min(last_new);
            if commit > st.commit_index {
                st.commit_index = commit;
                st.wake_applier = true;
            }
            AppendEntriesReply {
                term: st.current_term,
                success: true,
                conflict: None,
            }
        })
    }

    /// Follower side of InstallSnapshot (Figure 13, sent whole).
    pub(super) fn handle_install_snapshot(
        self: &Arc<Self>,
        args: InstallSnapshotArgs,
    ) -> InstallSnapshotReply {
        self.with_state(|st| {
            if self.killed() || args.term < st.current_term {
                return InstallSnapshotReply { term: st.current_term };
            }
            self.observe_term(st, args.term);
            st.role = Role::Follower;
            st.reset_election_timer();
            let index = args.last_included_index;
            // Already committed here: the service has (or will have) it all.
            if index <= st.commit_index {
                return InstallSnapshotReply { term: st.current_term };
            }
            // Keep entries after the snapshot if our log agrees with it.
            if st.log.term_at(index) == Some(args.last_included_term) {
                st.log.compact_through(index);
            } else {
                st.log.reset_to_snapshot(index, args.last_included_term);
            }
            st.commit_index = index;
            st.snapshot_to_apply = Some(PendingSnapshot {
                index,
                term: args.last_included_term,
                data: args.data.clone(),
            });
            st.new_snapshot = Some(args.data);
            st.must_persist = true;
            st.wake_applier = true;
            tracing::debug!(target: "snapshot", peer = self.me, %index, "installed leader's snapshot");
            InstallSnapshotReply { term: st.current_term }
        })
    }

    /// Leader: the reply to an InstallSnapshot we sent (or its loss).
    pub(super) fn on_snapshot_reply(
        &self,
        st: &mut State,
        from: PeerId,
        args: &InstallSnapshotArgs,
        reply: Option<InstallSnapshotReply>,
    ) {
        if let Some(r) = &reply
            && self.observe_term(st, r.term)
        {
            return;
        }
        if st.current_term != args.term || self.killed() {
            return;
        }
        let Role::Leader(lead) = &mut st.role else {
            return;
        };
        // Lost: a probe must be answered before the snapshot goes again.
        if reply.is_some() {
            let index = args.last_included_index;
            lead.match_index[from] = lead.match_index[from].max(index);
            lead.next_index[from] = lead.next_index[from].max(index.next());
        }
    }
}
