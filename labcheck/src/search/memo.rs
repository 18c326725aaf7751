//! The set of `(linearized operations, state)` pairs already explored
//! (Lowe's memoization). Reaching a pair twice means the same remaining work
//! from the same state, so the second visit can be skipped.

use super::hash::mix;
use super::table::IdTable;

/// Visited `(bitset, state id)` pairs. Each entry is stored once in a flat
/// arena as the bitset's words followed by the state id.
pub(crate) struct VisitedSet {
    stride: usize,
    arena: Vec<u64>,
    table: IdTable,
}

impl VisitedSet {
    pub(crate) fn new(words: usize) -> Self {
        Self {
            stride: words + 1,
            arena: Vec::new(),
            table: IdTable::new(),
        }
    }

    /// Records the pair and returns `true` if it is new, `false` if it was
    /// visited before. `set_hash` is the bitset's Zobrist hash.
    #[inline]
    pub(crate) fn insert(&mut self, bits: &[u64], set_hash: u64, state: u32) -> bool {
        let hash = mix(set_hash ^ u64::from(state).wrapping_mul(0xd6e8_feb8_6659_fd93));
        let stride = self.stride;
        let new_id = (self.arena.len() / stride) as u32;
        let arena = &self.arena;
        let found = self.table.find_or_insert(hash, new_id, |id| {
            let start = id as usize * stride;
            let entry = &arena[start..start + stride];
            entry[stride - 1] == u64::from(state) && entry[..stride - 1] == *bits
        });
        if found.is_some() {
            return false;
        }
        self.arena.extend_from_slice(bits);
        self.arena.push(u64::from(state));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_new_once_and_state_and_bits_both_count() {
        let mut visited = VisitedSet::new(2);
        assert!(visited.insert(&[1, 0], 7, 3));
        assert!(!visited.insert(&[1, 0], 7, 3));
        assert!(visited.insert(&[1, 0], 7, 4), "a different state is new");
        assert!(visited.insert(&[1, 1], 7, 3), "a different set is new");
    }
}
