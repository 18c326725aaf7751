//! Leader election (§5.2, §5.4.1): the election timer, RequestVote on both
//! sides, and the transitions between roles.

use labrt::sync::Arc;
use labrt::time::Instant;

use super::rpc::{RequestVoteArgs, RequestVoteReply};
use super::types::{LogIndex, PeerId, Term};
use super::{Leadership, Peer, Role, State};

impl Peer {
    /// The election timer ran out: become a candidate in the next term,
    /// vote for ourselves and ask everyone else (the senders do, each sending
    /// its peer one RequestVote for this term).
    pub(super) fn start_election(&self, st: &mut State) {
        st.current_term = st.current_term.next();
        st.voted_for = Some(self.me);
        st.role = Role::Candidate { votes: 1 };
        st.must_persist = true;
        st.reset_election_timer();
        tracing::debug!(target: "vote", peer = self.me, term = %st.current_term, "election timeout: campaigning");
        if self.peers.len() == 1 {
            self.become_leader(st);
            return;
        }
        st.wake_senders = true;
    }

    /// A candidate's RequestVote for its current term.
    pub(super) fn vote_request(&self, st: &State) -> RequestVoteArgs {
        RequestVoteArgs {
            term: st.current_term,
            candidate: self.me,
            last_log_index: st.log.last_index(),
            last_log_term: st.log.last_term(),
        }
    }

    /// Every peer but this one.
    pub(super) fn others(&self) -> impl Iterator<Item = PeerId> + use<> {
        let me = self.me;
        (0..self.peers.len()).filter(move |&p| p != me)
    }

    /// A majority of the cluster.
    pub(super) fn majority(&self) -> usize {
        self.peers.len() / 2 + 1
    }

    /// Any message carrying a newer term makes us a follower in that term
    /// (Figure 2, "Rules for Servers"). Returns whether that happened.
    pub(super) fn observe_term(&self, st: &mut State, term: Term) -> bool {
        if term <= st.current_term {
            return false;
        }
        tracing::debug!(target: "vote", peer = self.me, from = %st.current_term, to = %term, "newer term seen: following");
        st.current_term = term;
        st.voted_for = None;
        if matches!(st.role, Role::Leader(_)) {
            // The ticker sleeps while we lead: it must time elections again.
            st.wake_ticker = true;
        }
        st.role = Role::Follower;
        st.must_persist = true;
        true
    }

    /// RequestVote receiver (Figure 2).
    pub(super) fn handle_request_vote(self: &Arc<Self>, args: RequestVoteArgs) -> RequestVoteReply {
        self.with_state(|st| {
            if self.killed() {
                return RequestVoteReply {
                    term: st.current_term,
                    vote_granted: false,
                };
            }
            self.observe_term(st, args.term);
            let free = st.voted_for.is_none() || st.voted_for == Some(args.candidate);
            // §5.4.1: only vote for a candidate whose log holds every
            // committed entry, i.e. is at least as up to date as ours.
            let up_to_date = (args.last_log_term, args.last_log_index)
                >= (st.log.last_term(), st.log.last_index());
            let grant = args.term == st.current_term && free && up_to_date;
            if grant {
                if st.voted_for.is_none() {
                    st.voted_for = Some(args.candidate);
                    st.must_persist = true;
                }
                // Granting a vote defers our own candidacy: the candidate is
                // likely to win, and a rival election would only disrupt it.
                st.reset_election_timer();
            }
            tracing::debug!(target: "vote", peer = self.me, term = %st.current_term,
                candidate = args.candidate, grant, up_to_date, "vote request");
            RequestVoteReply {
                term: st.current_term,
                vote_granted: grant,
            }
        })
    }

    /// A RequestVote reply (or its loss) reached the candidate.
    pub(super) fn on_vote_reply(
        &self,
        st: &mut State,
        from: PeerId,
        args: &RequestVoteArgs,
        reply: Option<RequestVoteReply>,
    ) {
        let Some(reply) = reply else { return };
        if self.killed() || self.observe_term(st, reply.term) {
            return;
        }
        // A reply to an earlier campaign counts for nothing now.
        if st.current_term != args.term || !reply.vote_granted {
            return;
        }
        let Role::Candidate { votes } = &mut st.role else {
            return;
        };
        *votes += 1;
        tracing::debug!(target: "vote", peer = self.me, term = %st.current_term, from, votes = *votes, "vote received");
        if *votes >= self.majority() {
            self.become_leader(st);
        }
    }

    /// Won the election: take office and assert it at once (every follower is
    /// due a heartbeat now), so the other candidates stand down before their
    /// timers fire.
    fn become_leader(&self, st: &mut State) {
        let n = self.peers.len();
        let next = st.log.last_index().next();
        st.role = Role::Leader(Leadership {
            next_index: vec![next; n],
            match_index: vec![LogIndex(0); n],
            commit_sent: vec![LogIndex(0); n],
            hold: vec![false; n],
            heartbeat_due: vec![Instant::now(); n],
            sent_before: st.lanes.iter().map(|lane| lane.sent).collect(),
        });
        st.wake_senders = true;
        tracing::info!(target: "vote", peer = self.me, term = %st.current_term, "became leader");
    }
}
