//! Model states as small integer ids, and the model's steps between them.
//!
//! The search compares and hashes states constantly; it works on `u32` ids
//! instead, and each distinct state is stored once. Steps from the first few
//! states are cached in a table indexed by `(op, state)`: for models with
//! few states (a register) the model is then asked about each pair once.

use super::hash::hash_of;
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
    index: IdTable,
    /// Steps from the first [`DENSE`] states, at `op * DENSE + state`.
    dense: Vec<u32>,
}

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
            index: IdTable::new(),
            dense: vec![NOT_YET; ops.len() * DENSE],
        };
        space.intern(model.init());
        space
    }

    /// The id of the initial state.
    pub(crate) const INIT: u32 = 0;

    fn intern(&mut self, state: M::State) -> u32 {
        let hash = hash_of(&state);
        let new_id = self.states.len() as u32;
        let states = &self.states;
        match self
            .index
            .find_or_insert(hash, new_id, |id| states[id as usize] == state)
        {
            Some(id) => id,
            None => {
                self.states.push(state);
                new_id
            }
        }
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

    /// The model the states belong to.
    pub(crate) fn model(&self) -> &'a M {
        self.model
    }

    /// The state with this id.
    pub(crate) fn state(&self, id: u32) -> &M::State {
        &self.states[id as usize]
    }
}
