//! The set of `(linearized operations, state)` nodes known to fail (Lowe's
//! memoization). A node is recorded once every continuation from it failed;
//! reaching it again, by another path or in another order's search, means
//! the same remaining work from the same state, so it is skipped.

use super::hash::mix;
use super::memory::vec_bytes;
use super::states::StateSpace;
use super::table::IdTable;
use crate::model::Model;

/// Failed `(bitset, state id)` pairs. Each entry is stored once in a flat
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

    #[inline]
    fn hash(set_hash: u64, state_hash: u64) -> u64 {
        mix(set_hash ^ state_hash.wrapping_mul(0xd6e8_feb8_6659_fd93))
    }

    /// Whether the pair is recorded. `set_hash` is the bitset's Zobrist hash.
    #[inline]
    pub(crate) fn contains<M: Model>(
        &self,
        space: &StateSpace<'_, M>,
        bits: &[u64],
        set_hash: u64,
        state: u32,
    ) -> bool {
        self.table
            .find(Self::hash(set_hash, space.hash(state)), |id| {
                is_entry(&self.arena, self.stride, id, space, bits, state)
            })
            .is_some()
    }

    /// Records the pair and returns `true` if it is new, `false` if it was
    /// recorded before.
    #[inline]
    pub(crate) fn insert<M: Model>(
        &mut self,
        space: &StateSpace<'_, M>,
        bits: &[u64],
        set_hash: u64,
        state: u32,
    ) -> bool {
        let new_id = (self.arena.len() / self.stride) as u32;
        let hash = Self::hash(set_hash, space.hash(state));
        let (arena, stride) = (&self.arena, self.stride);
        let found = self.table.find_or_insert(hash, new_id, |id| {
            is_entry(arena, stride, id, space, bits, state)
        });
        if found.is_some() {
            return false;
        }
        self.arena.extend_from_slice(bits);
        self.arena.push(u64::from(state));
        true
    }

    /// The number of recorded pairs.
    pub(crate) fn len(&self) -> usize {
        self.arena.len() / self.stride
    }

    /// The bytes the set holds: per recorded pair, its bitset and state
    /// id (8 bytes a word) in the arena, and the table's slots (8 bytes
    /// each, between 2 and 4 per pair). The arena is counted as far as it
    /// is filled: its spare capacity is never written, so it takes address
    /// space but no memory.
    pub(crate) fn heap_bytes(&self) -> u64 {
        vec_bytes::<u64>(self.arena.len()) + self.table.heap_bytes()
    }
}

/// Whether entry `id` of the arena is `(bits, state)`: equal sets and
/// equal state values (ids of equal states may differ, see
/// [`StateSpace::same`]).
#[inline]
fn is_entry<M: Model>(
    arena: &[u64],
    stride: usize,
    id: u32,
    space: &StateSpace<'_, M>,
    bits: &[u64],
    state: u32,
) -> bool {
    let start = id as usize * stride;
    let entry = &arena[start..start + stride];
    entry[..stride - 1] == *bits && space.same(entry[stride - 1] as u32, state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Operation;
    use crate::models::{Register, RegisterInput, RegisterOutput};

    #[test]
    fn a_pair_is_new_once_and_state_and_bits_both_count() {
        let ops: Vec<Operation<RegisterInput, RegisterOutput>> = (0..2)
            .map(|v| {
                Operation::completed(
                    0,
                    RegisterInput::Write { value: v },
                    RegisterOutput::Ok,
                    0,
                    1,
                )
            })
            .collect();
        let refs: Vec<&Operation<RegisterInput, RegisterOutput>> = ops.iter().collect();
        let mut space = StateSpace::new(&Register, &refs);
        let (a, b) = (space.step(0, 0), space.step(0, 1));
        assert_ne!(a, b);
        let mut visited = VisitedSet::new(2);
        assert!(!visited.contains(&space, &[1, 0], 7, a));
        assert!(visited.insert(&space, &[1, 0], 7, a));
        assert!(visited.contains(&space, &[1, 0], 7, a));
        assert!(!visited.insert(&space, &[1, 0], 7, a));
        assert!(
            visited.insert(&space, &[1, 0], 7, b),
            "a different state is new"
        );
        assert!(
            visited.insert(&space, &[1, 1], 7, a),
            "a different set is new"
        );
        assert!(!visited.contains(&space, &[0, 1], 7, a));
        assert_eq!(visited.len(), 3);
    }
}
