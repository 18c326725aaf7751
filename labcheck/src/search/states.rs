//! Model states as small integer ids, and the model's steps between them.
//!
//! The search compares and hashes states constantly; it works on `u32` ids
//! instead, with each state's hash kept beside it. The first
//! [`INTERN_LIMIT`] distinct states are interned (stored once, so equal
//! states have equal ids), and steps from the first few are cached in a
//! table indexed by `(op, state)`: for models with few states (a register)
//! the model is then asked about each pair once.
//!
//! Past that many states the model evidently makes a new state at almost
//! every step (each append makes a new string), and looking each one up in
//! a table that large costs a cache miss per step for nothing: later states
//! just get the next id, and equal states may then have different ids.
//! Everything that needs state identity (the table of failed nodes) asks
//! [`StateSpace::same`], which compares values.

use super::hash::hash_of;
use super::memory::vec_bytes;
use super::table::IdTable;
use crate::history::Operation;
use crate::model::Model;

/// The state id that means "this step is illegal".
pub(crate) const ILLEGAL: u32 = u32::MAX;

pub(crate) struct StateSpace<'a, M: Model> {
    model: &'a M,
    ops: &'a [&'a Operation<M::Input, M::Output>],
    /// For each op: the model says it never changes the state.
    read_only: Vec<bool>,
    states: Vec<M::State>,
    /// Each state's hash.
    hashes: Vec<u64>,
    /// The interned states, by hash.
    index: IdTable,
    /// How many distinct states to intern ([`INTERN_LIMIT`], less in tests).
    intern_limit: usize,
    /// Steps from the first [`DENSE`] states, at `op * DENSE + state`.
    dense: Vec<u32>,
    /// What the kept states hold on the heap, by
    /// [`Model::state_heap_bytes`].
    state_heap: u64,
}

/// How many distinct states are interned.
const INTERN_LIMIT: usize = 1 << 16;

/// How many states get a directly indexed step table.
const DENSE: usize = 16;

/// A `dense` entry not computed yet.
const NOT_YET: u32 = u32::MAX - 1;

impl<'a, M: Model> StateSpace<'a, M> {
    pub(crate) fn new(model: &'a M, ops: &'a [&'a Operation<M::Input, M::Output>]) -> Self {
        let mut space = Self {
            model,
            ops,
            read_only: ops
                .iter()
                .map(|o| model.is_read_only(&o.input, o.output.as_ref()))
                .collect(),
            states: Vec::new(),
            hashes: Vec::new(),
            index: IdTable::new(),
            intern_limit: INTERN_LIMIT,
            dense: vec![NOT_YET; ops.len() * DENSE],
            state_heap: 0,
        };
        space.intern(model.init());
        space
    }

    /// The id of the initial state.
    pub(crate) const INIT: u32 = 0;

    fn intern(&mut self, state: M::State) -> u32 {
        let hash = hash_of(&state);
        let new_id = self.states.len() as u32;
        if self.states.len() < self.intern_limit {
            let states = &self.states;
            if let Some(id) = self
                .index
                .find_or_insert(hash, new_id, |id| states[id as usize] == state)
            {
                return id;
            }
        }
        self.state_heap += self.model.state_heap_bytes(&state) as u64;
        self.states.push(state);
        self.hashes.push(hash);
        new_id
    }

    /// The bytes the states and their tables hold: per kept state its own
    /// size, its 8-byte hash and what [`Model::state_heap_bytes`] says it
    /// holds on the heap; the table of interned states (8 bytes a slot);
    /// and the step cache (4 bytes per operation and cached state). The
    /// vectors of states and hashes are counted as far as they are filled
    /// (their spare capacity is never written, so it takes no memory).
    pub(crate) fn heap_bytes(&self) -> u64 {
        vec_bytes::<M::State>(self.states.len())
            + vec_bytes::<u64>(self.hashes.len())
            + self.state_heap
            + self.index.heap_bytes()
            + vec_bytes::<u32>(self.dense.capacity())
            + vec_bytes::<bool>(self.read_only.capacity())
    }

    /// Interns only the first `limit` distinct states (at least one, the
    /// initial state), to test the search with states that are not.
    #[cfg(test)]
    pub(crate) fn set_intern_limit(&mut self, limit: usize) {
        self.intern_limit = limit;
    }

    /// The hash of state `id`.
    #[inline]
    pub(crate) fn hash(&self, id: u32) -> u64 {
        self.hashes[id as usize]
    }

    /// Whether states `a` and `b` are equal.
    #[inline]
    pub(crate) fn same(&self, a: u32, b: u32) -> bool {
        a == b
            || (self.hashes[a as usize] == self.hashes[b as usize]
                && self.states[a as usize] == self.states[b as usize])
    }

    /// The state reached by applying operation `op` in state `from`, or
    /// [`ILLEGAL`].
    #[inline]
    pub(crate) fn step(&mut self, from: u32, op: u32) -> u32 {
        if (from as usize) < DENSE {
            let slot = op as usize * DENSE + from as usize;
            let to = self.dense[slot];
            if to != NOT_YET {
                return to;
            }
            let to = self.compute(from, op);
            self.dense[slot] = to;
            return to;
        }
        // Beyond the first few states, states rarely recur along the
        // search (each append makes a new one), so a cache would mostly
        // miss: asking the model again is cheaper than looking it up.
        self.compute(from, op)
    }

    /// Asks the model.
    fn compute(&mut self, from: u32, op: u32) -> u32 {
        let operation = self.ops[op as usize];
        let next = self.model.step(
            &self.states[from as usize],
            &operation.input,
            operation.output.as_ref(),
        );
        match next {
            // A read-only op leaves the state as it was.
            Some(_) if self.read_only[op as usize] => from,
            Some(next) => self.intern(next),
            None => ILLEGAL,
        }
    }

    /// Whether the model says `op` never changes the state.
    #[inline]
    pub(crate) fn is_read_only(&self, op: u32) -> bool {
        self.read_only[op as usize]
    }

    /// The number of distinct states met.
    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }

    /// The model the states belong to.
    pub(crate) fn model(&self) -> &'a M {
        self.model
    }

    /// The state with this id.
    pub(crate) fn state(&self, id: u32) -> &M::State {
        &self.states[id as usize]
    }
}
