//! The replicated log, with the prefix a snapshot replaced.
//!
//! After compaction the log no longer starts at index 1: entries through
//! `snapshot_index` live only in the service's snapshot, and only their last
//! index and term are kept (Figure 13's `lastIncludedIndex` and
//! `lastIncludedTerm`), which is all the consistency check needs. Every
//! index translation happens here, so no other module does offset arithmetic.

use serde::{Deserialize, Serialize};

use super::types::{LogIndex, Term};

/// One log entry: a command and the term in which a leader received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The leader's term when it appended the entry.
    pub term: Term,
    /// The service's command, opaque to Raft.
    pub command: Vec<u8>,
}

/// The log: a snapshotted prefix followed by the entries still held.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Log {
    /// The last index the snapshot covers (0 when there is none).
    snapshot_index: LogIndex,
    /// The term of the entry at `snapshot_index`.
    snapshot_term: Term,
    /// The entries at `snapshot_index + 1`, `snapshot_index + 2`, ...
    entries: Vec<Entry>,
}

impl Log {
    /// The last index covered by the snapshot.
    pub fn snapshot_index(&self) -> LogIndex {
        self.snapshot_index
    }

    /// The term of the last entry covered by the snapshot.
    pub fn snapshot_term(&self) -> Term {
        self.snapshot_term
    }

    /// The index of the last entry (the snapshot's if no entry follows it).
    pub fn last_index(&self) -> LogIndex {
        self.snapshot_index.plus(self.entries.len())
    }

    /// The term of the last entry.
    pub fn last_term(&self) -> Term {
        self.entries.last().map_or(self.snapshot_term, |e| e.term)
    }

    /// The position of `index` in `entries`, if it is held there.
    fn slot(&self, index: LogIndex) -> Option<usize> {
        if index <= self.snapshot_index || index > self.last_index() {
            return None;
        }
        usize::try_from(index.0 - self.snapshot_index.0 - 1).ok()
    }

    /// The term of the entry at `index`: known for the snapshot's last entry
    /// and every entry held, unknown (`None`) before the snapshot or past
    /// the end.
    pub fn term_at(&self, index: LogIndex) -> Option<Term> {
        if index == self.snapshot_index {
            return Some(self.snapshot_term);
        }
        self.slot(index).map(|s| self.entries[s].term)
    }

    /// The entry at `index`, if held.
    pub fn get(&self, index: LogIndex) -> Option<&Entry> {
        self.slot(index).map(|s| &self.entries[s])
    }

    /// Copies of the entries from `from` on, as many as fit in `max_bytes`
    /// of commands but at least one (none if `from` is not held: past the
    /// end, or inside the snapshot).
    pub fn entries_batch(&self, from: LogIndex, max_bytes: usize) -> Vec<Entry> {
        let Some(first) = self.slot(from) else {
            return Vec::new();
        };
        let mut bytes = 0;
        let count = self.entries[first..]
            .iter()
            .take_while(|e| {
                bytes += e.command.len();
                bytes <= max_bytes
            })
            .count()
            .max(1);
        self.entries[first..first + count].to_vec()
    }

    /// Appends `entry` at `last_index() + 1` and returns its index.
    pub fn append(&mut self, entry: Entry) -> LogIndex {
        self.entries.push(entry);
        self.last_index()
    }

    /// Deletes the entry at `from` and every entry after it (a follower's
    /// conflicting suffix, Figure 2's AppendEntries step 3).
    pub fn truncate_from(&mut self, from: LogIndex) {
        if let Some(s) = self.slot(from) {
            self.entries.truncate(s);
        }
    }

    /// The first index holding an entry of `term`, searching back from
    /// `from` while the terms match (for the follower's conflict hint).
    pub fn first_index_of_term_run(&self, from: LogIndex, term: Term) -> LogIndex {
        let mut i = from;
        while i.prev() > self.snapshot_index && self.term_at(i.prev()) == Some(term) {
            i = i.prev();
        }
        i
    }

    /// The last index holding an entry of `term`, if the log holds any
    /// (for the leader's fast backup).
    pub fn last_index_of_term(&self, term: Term) -> Option<LogIndex> {
        let held = self
            .entries
            .iter()
            .rposition(|e| e.term == term)
            .map(|s| self.snapshot_index.plus(s + 1));
        held.or((self.snapshot_term == term && self.snapshot_index.0 > 0)
            .then_some(self.snapshot_index))
    }

    /// Drops every entry through `index`, which becomes the snapshot's last
    /// entry. Entries after it are kept.
    pub fn compact_through(&mut self, index: LogIndex) {
        let Some(term) = self.term_at(index) else {
            return;
        };
        if let Some(s) = self.slot(index) {
            self.entries.drain(..=s);
        }
        self.snapshot_index = index;
        self.snapshot_term = term;
    }

    /// Replaces the whole log by a snapshot ending at `index` with `term`
    /// (a follower that received a snapshot its log does not extend).
    pub fn reset_to_snapshot(&mut self, index: LogIndex, term: Term) {
        self.entries.clear();
        self.snapshot_index = index;
        self.snapshot_term = term;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(term: u64) -> Entry {
        Entry {
            term: Term(term),
            command: vec![term as u8],
        }
    }

    fn log_of(terms: &[u64]) -> Log {
        let mut log = Log::default();
        for &t in terms {
            log.append(entry(t));
        }
        log
    }

    #[test]
    fn indexes_survive_compaction() {
        let mut log = log_of(&[1, 1, 2, 3, 3]);
        log.compact_through(LogIndex(3));
        assert_eq!(log.snapshot_index(), LogIndex(3));
        assert_eq!(log.term_at(LogIndex(3)), Some(Term(2)));
        assert_eq!(log.term_at(LogIndex(2)), None, "compacted entries are gone");
        assert_eq!(log.term_at(LogIndex(5)), Some(Term(3)));
        assert_eq!(log.last_index(), LogIndex(5));
        assert_eq!(log.entries_batch(LogIndex(4), usize::MAX).len(), 2);
        assert!(log.entries_batch(LogIndex(3), usize::MAX).is_empty());
    }

    #[test]
    fn batches_are_bounded_but_never_empty() {
        let mut log = Log::default();
        for t in 1..=4 {
            log.append(Entry {
                term: Term(t),
                command: vec![0; 10],
            });
        }
        assert_eq!(log.entries_batch(LogIndex(1), 25).len(), 2);
        assert_eq!(
            log.entries_batch(LogIndex(1), 5).len(),
            1,
            "one entry even if too big"
        );
        assert_eq!(log.entries_batch(LogIndex(3), 1000).len(), 2);
        assert!(log.entries_batch(LogIndex(5), 1000).is_empty());
    }

    #[test]
    fn conflict_hints_find_term_boundaries() {
        let log = log_of(&[1, 1, 4, 4, 4, 5]);
        assert_eq!(
            log.first_index_of_term_run(LogIndex(5), Term(4)),
            LogIndex(3)
        );
        assert_eq!(log.last_index_of_term(Term(4)), Some(LogIndex(5)));
        assert_eq!(log.last_index_of_term(Term(2)), None);
    }

    #[test]
    fn truncation_keeps_the_prefix() {
        let mut log = log_of(&[1, 2, 3]);
        log.truncate_from(LogIndex(2));
        assert_eq!(log.last_index(), LogIndex(1));
        assert_eq!(log.last_term(), Term(1));
    }
}
