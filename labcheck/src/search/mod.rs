//! The linearizability search for one (sub-)history.
//!
//! This is Wing and Gong's depth-first search with Lowe's memoization: walk
//! the list of call and return events; at a call, try to linearize that
//! operation now (the model must accept it in the current state); at a
//! return, the operation that returns has not been linearized yet, so the
//! current prefix cannot be extended and the search backtracks. A node of
//! the search is a `(linearized set, state)` pair; a node whose every
//! continuation failed is remembered, and is never explored again.
//!
//! Refinements on top, each keeping the search complete:
//!
//! - **Reads first.** An operation the model marks read-only that is legal
//!   now is linearized now, and that choice is never revisited: a read-only
//!   operation can be removed from any linearization without changing the
//!   states the others see, so if nothing works after placing it, nothing
//!   works without placing it either.
//! - **Twins.** Two identical operations (same input and output) that both
//!   never returned are interchangeable once both are called, so only the
//!   earlier one is tried at a node.
//! - **Two orders at once.** Which candidate to try first does not change
//!   the verdict but can change the work by a factor of a hundred on a
//!   linearizable history, and which order wins depends on where in their
//!   intervals the operations took effect (early: earliest-call-first wins;
//!   late, as in histories of replicated services: latest-call-first). So a
//!   [`Search`] runs one depth-first search per [`Order`], taking turns in
//!   short slices, and stops when either finishes. They share the model
//!   states and the table of failed nodes: a node is recorded only once its
//!   whole subtree failed (never while it is on a search path), so what one
//!   search proved, the other skips. On a failing history the two together
//!   explore about what one would. On a linearizable one an order that has
//!   found a strictly longer prefix gets [`LEADER_TURNS`] times longer
//!   turns, so the pair needs between about 1.1 and 9 times the work of the
//!   better order (at most about twice on the reference and hard data).

mod events;
mod hash;
mod memo;
mod memory;
mod states;
mod table;

use std::collections::HashMap;

use labrt::sync::atomic::{AtomicBool, Ordering};
use labrt::time::Instant;

use crate::history::Operation;
use crate::model::Model;
use events::{EventList, HEAD};
use memo::VisitedSet;
pub(crate) use memory::MemoryBudget;
use memory::vec_bytes;
use states::{ILLEGAL, StateSpace};

/// How often (in search steps) to look at the clock, the stop flag and the
/// memory the search holds.
const CHECK_EVERY: u32 = 1 << 12;

/// Steps one order runs before the other takes its turn.
const TURN_STEPS: u32 = 1 << 11;

/// How many times longer the turns of an order are while it has found a
/// strictly longer linearizable prefix than every other order.
const LEADER_TURNS: u32 = 8;

/// When to give up.
pub(crate) struct Limits<'a> {
    /// Past this instant the search reports [`Outcome::TimedOut`].
    pub(crate) deadline: Option<Instant>,
    /// When set (another part failed, or reached the memory cap), the
    /// search reports [`Outcome::Stopped`].
    pub(crate) stop: &'a AtomicBool,
    /// What the searches of this check may hold together; past it, the
    /// search reports [`Outcome::MemoryCap`].
    pub(crate) memory: &'a MemoryBudget,
}

/// Which of a node's candidate operations to try first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// The earliest-called candidate first (Wing and Gong's order).
    EarliestCallFirst,
    /// The latest-called candidate first.
    LatestCallFirst,
}

/// Both orders, in the order they take turns.
pub(crate) const BOTH_ORDERS: [Order; 2] = [Order::EarliestCallFirst, Order::LatestCallFirst];

/// One linearized operation, with the model states around it.
pub(crate) struct PathStep {
    /// Index into the searched operations.
    pub(crate) op: usize,
    pub(crate) before: String,
    pub(crate) after: String,
}

/// What the search of one sub-history found.
pub(crate) enum Outcome {
    /// Linearizable; the linearization when a witness was asked for.
    Linearizable(Option<Vec<PathStep>>),
    /// Not linearizable: the longest linearizable prefix found, and the
    /// operation that had to return next but could not be placed after it.
    Illegal {
        prefix: Vec<PathStep>,
        stuck: Option<usize>,
    },
    TimedOut,
    /// The searches of the check together held more than the memory cap
    /// (`total` bytes, estimated, when this one noticed).
    MemoryCap {
        total: u64,
    },
    Stopped,
}

/// Counts of what a search did, for `--stats` and for tuning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SearchStats {
    /// Search steps (the unit of the budgets and slices).
    pub(crate) steps: u64,
    /// Times an operation was offered to the model at a node.
    pub(crate) tries: u64,
    /// Of those, times the model refused it.
    pub(crate) illegal: u64,
    /// Times a legal placement led to a node already known to fail.
    pub(crate) memo_hits: u64,
    /// Nodes entered (legal placements to a node not known to fail).
    pub(crate) placed: u64,
    /// Distinct model states met.
    pub(crate) states: u64,
    /// Nodes recorded as failed.
    pub(crate) failed_nodes: u64,
}

#[derive(Clone, Copy)]
struct Frame {
    op: u32,
    /// The state before `op`.
    from: u32,
    /// `op` is read-only: if what follows it fails, the node it was placed
    /// from fails too.
    forced: bool,
}

/// "No such operation".
const NONE: u32 = u32::MAX;

/// What a search does next.
#[derive(Clone, Copy)]
enum Next {
    /// A node was just reached: place any legal read-only candidate first.
    Fresh,
    /// Try the candidate at this event, then the next ones in the order
    /// (a return event or the head means there are none left).
    Scan(u32),
    /// The current node failed: undo the last choice.
    Backtrack,
}

enum Placement {
    Placed,
    Illegal,
    /// Legal, but the resulting node is known to fail.
    Failed,
}

/// What one step of one order's search led to.
enum Progress {
    Running,
    /// Every operation is linearized.
    Linearizable,
    /// The search tried everything from the root.
    Exhausted,
}

/// What the orders' searches share: the operations' facts, the model's
/// states and the nodes known to fail.
struct Shared<'a, M: Model> {
    space: StateSpace<'a, M>,
    /// For an operation that never returned: an earlier-called one that
    /// never returned either and is identical (same input and output), or
    /// [`NONE`]. Linearizing either leads to the same subproblem, so the
    /// later twin is only tried once the earlier one is placed.
    twin: Vec<u32>,
    zobrist: Vec<u64>,
    failed: VisitedSet,
    stats: SearchStats,
}

/// One order's depth-first search.
struct Cursor {
    order: Order,
    next: Next,
    list: EventList,
    bits: Vec<u64>,
    set_hash: u64,
    state: u32,
    stack: Vec<Frame>,
    /// The longest prefix seen and the state after it.
    best: Vec<Frame>,
    best_state: u32,
    /// Whether the stack still equals `best`.
    at_best: bool,
    /// The op whose return ended the search right after `best`.
    stuck: Option<u32>,
}

/// The search of one sub-history, in one or more orders that take turns.
/// It can be run in slices (see [`Search::run`]).
pub(crate) struct Search<'a, M: Model> {
    shared: Shared<'a, M>,
    cursors: Vec<Cursor>,
    turn: usize,
    /// Steps an order runs before the next one takes its turn.
    turn_steps: u32,
    turn_left: u32,
    until_check: u32,
    /// The bytes this search has charged to the check's [`MemoryBudget`].
    charged: u64,
}

impl<'a, M: Model> Search<'a, M> {
    /// A search of `ops` in each of `orders` (at least one), which take
    /// turns.
    pub(crate) fn new(
        model: &'a M,
        ops: &'a [&'a Operation<M::Input, M::Output>],
        orders: &[Order],
    ) -> Self {
        let n = ops.len();
        let times: Vec<(u64, u64)> = ops.iter().map(|o| (o.call, o.effective_ret())).collect();
        let words = n.div_ceil(64);
        let list = EventList::new(&times);
        let orders = if orders.is_empty() {
            &[Order::EarliestCallFirst][..]
        } else {
            orders
        };
        let cursors = orders
            .iter()
            .map(|&order| Cursor {
                order,
                next: Next::Fresh,
                list: list.clone(),
                bits: vec![0; words],
                set_hash: 0,
                state: StateSpace::<M>::INIT,
                stack: Vec::with_capacity(n),
                best: Vec::new(),
                best_state: StateSpace::<M>::INIT,
                at_best: false,
                stuck: None,
            })
            .collect();
        Self {
            shared: Shared {
                space: StateSpace::new(model, ops),
                twin: twins(ops),
                zobrist: hash::zobrist_keys(n),
                failed: VisitedSet::new(words),
                stats: SearchStats::default(),
            },
            cursors,
            turn: 0,
            turn_steps: TURN_STEPS,
            turn_left: TURN_STEPS,
            // Look at the limits at the first step too, so that what the
            // search allocates up front counts toward the memory cap.
            until_check: 1,
            charged: 0,
        }
    }

    /// The same search with turns of `steps` steps (at least one), to test
    /// that how the orders interleave never changes the verdict.
    #[cfg(test)]
    pub(crate) fn with_turn_steps(mut self, steps: u32) -> Self {
        self.turn_steps = steps.max(1);
        self.turn_left = self.turn_steps;
        self
    }

    /// The same search interning only the first `limit` distinct states,
    /// to test that states with several ids are still told apart and
    /// matched by value.
    #[cfg(test)]
    pub(crate) fn with_intern_limit(mut self, limit: usize) -> Self {
        self.shared.space.set_intern_limit(limit);
        self
    }

    /// About how many bytes the search holds: its model states, its table
    /// of failed nodes, and per order its event list and paths (see
    /// `memory.rs` for what the estimate leaves out).
    pub(crate) fn memory_bytes(&self) -> u64 {
        let shared = &self.shared;
        let cursors: u64 = self
            .cursors
            .iter()
            .map(|c| {
                c.list.heap_bytes()
                    + vec_bytes::<u64>(c.bits.capacity())
                    + vec_bytes::<Frame>(c.stack.capacity() + c.best.capacity())
            })
            .sum();
        shared.space.heap_bytes()
            + shared.failed.heap_bytes()
            + vec_bytes::<u32>(shared.twin.capacity())
            + vec_bytes::<u64>(shared.zobrist.capacity())
            + cursors
    }

    /// Gives back to `budget` what this search charged to it.
    pub(crate) fn release(&mut self, budget: &MemoryBudget) {
        budget.release(&mut self.charged);
    }

    /// What the search did so far.
    pub(crate) fn stats(&self) -> SearchStats {
        SearchStats {
            states: self.shared.space.len() as u64,
            failed_nodes: self.shared.failed.len() as u64,
            ..self.shared.stats
        }
    }

    /// Searches on for at most `budget` steps (`None`: until done). Returns
    /// `None` when the budget ran out first; calling again resumes.
    pub(crate) fn run(
        &mut self,
        limits: &Limits<'_>,
        budget: Option<u64>,
        want_witness: bool,
    ) -> Option<Outcome> {
        let mut left = budget.unwrap_or(u64::MAX);
        loop {
            if left == 0 {
                return None;
            }
            left -= 1;
            self.until_check -= 1;
            if self.until_check == 0 {
                self.until_check = CHECK_EVERY;
                if limits.stop.load(Ordering::Relaxed) {
                    return Some(Outcome::Stopped);
                }
                if limits.deadline.is_some_and(|d| Instant::now() >= d) {
                    return Some(Outcome::TimedOut);
                }
                let held = self.memory_bytes();
                if let Some(total) = limits.memory.charge(&mut self.charged, held) {
                    return Some(Outcome::MemoryCap { total });
                }
            }
            self.turn_left -= 1;
            if self.turn_left == 0 {
                self.next_turn();
            }
            let cursor = &mut self.cursors[self.turn];
            match cursor.advance(&mut self.shared) {
                Progress::Running => {}
                Progress::Linearizable => {
                    let witness = want_witness
                        .then(|| describe_path(&self.shared.space, &cursor.stack, cursor.state));
                    return Some(Outcome::Linearizable(witness));
                }
                Progress::Exhausted => return Some(self.illegal()),
            }
        }
    }

    /// Hands the next turn to the next order. An order that has found a
    /// strictly longer prefix than every other gets a longer turn: on a
    /// linearizable history, the order that fits how the operations took
    /// effect tends to get deep quickly, while the other is stuck
    /// backtracking over an early wrong choice. The others still get their
    /// turns, so a misleading lead costs at most a constant factor.
    fn next_turn(&mut self) {
        self.turn = (self.turn + 1) % self.cursors.len();
        let mine = self.cursors[self.turn].best.len();
        let leads = self
            .cursors
            .iter()
            .enumerate()
            .all(|(i, c)| i == self.turn || c.best.len() < mine);
        self.turn_left = if leads && self.cursors.len() > 1 {
            self.turn_steps.saturating_mul(LEADER_TURNS)
        } else {
            self.turn_steps
        };
    }

    /// The evidence of a failed search: the longest prefix any order found.
    /// Together the orders explored every node (what one skipped, the other
    /// had explored), so this is the longest linearizable prefix there is,
    /// as far as the search can tell.
    fn illegal(&self) -> Outcome {
        let best = self
            .cursors
            .iter()
            .enumerate()
            .max_by_key(|(i, c)| (c.best.len(), std::cmp::Reverse(*i)))
            .map(|(_, c)| c);
        match best {
            Some(c) => Outcome::Illegal {
                prefix: describe_path(&self.shared.space, &c.best, c.best_state),
                stuck: c.stuck.map(|op| op as usize),
            },
            None => Outcome::Illegal {
                prefix: Vec::new(),
                stuck: None,
            },
        }
    }
}

impl Cursor {
    #[inline]
    fn is_placed(&self, op: u32) -> bool {
        self.bits[(op / 64) as usize] & (1 << (op % 64)) != 0
    }

    #[inline]
    fn flip<M: Model>(&mut self, shared: &Shared<'_, M>, op: u32) {
        self.bits[(op / 64) as usize] ^= 1 << (op % 64);
        self.set_hash ^= shared.zobrist[op as usize];
    }

    /// One step of this order's search.
    #[inline]
    fn advance<M: Model>(&mut self, shared: &mut Shared<'_, M>) -> Progress {
        shared.stats.steps += 1;
        self.next = match self.next {
            Next::Fresh => {
                if self.list.first() == HEAD {
                    return Progress::Linearizable;
                }
                self.fresh(shared)
            }
            Next::Scan(node) => self.scan(shared, node),
            Next::Backtrack => match self.backtrack(shared) {
                Some(next) => next,
                None => return Progress::Exhausted,
            },
        };
        Progress::Running
    }

    /// Linearizes `op` now if the model allows it and the node it leads to
    /// is not known to fail.
    #[inline]
    fn place<M: Model>(&mut self, shared: &mut Shared<'_, M>, op: u32) -> Placement {
        shared.stats.tries += 1;
        let to = shared.space.step(self.state, op);
        if to == ILLEGAL {
            shared.stats.illegal += 1;
            return Placement::Illegal;
        }
        self.flip(shared, op);
        if shared
            .failed
            .contains(&shared.space, &self.bits, self.set_hash, to)
        {
            self.flip(shared, op);
            shared.stats.memo_hits += 1;
            return Placement::Failed;
        }
        shared.stats.placed += 1;
        self.stack.push(Frame {
            op,
            from: self.state,
            forced: shared.space.is_read_only(op),
        });
        self.state = to;
        self.list.lift(op);
        if self.stack.len() > self.best.len() {
            self.best.clone_from(&self.stack);
            self.best_state = to;
            self.at_best = true;
            self.stuck = None;
        }
        Placement::Placed
    }

    /// Leaves the current node, which failed: records it as failed and
    /// undoes the placement that led to it.
    #[inline]
    fn unplace<M: Model>(&mut self, shared: &mut Shared<'_, M>) -> Option<Frame> {
        let frame = self.stack.pop()?;
        shared
            .failed
            .insert(&shared.space, &self.bits, self.set_hash, self.state);
        self.list.unlift(frame.op);
        self.flip(shared, frame.op);
        self.state = frame.from;
        self.at_best = false;
        Some(frame)
    }

    /// Places legal read-only candidates first: a legal one is placed (and
    /// never revisited); if one leads to a node known to fail, this node
    /// fails. Otherwise the other candidates are tried in the search's
    /// order.
    fn fresh<M: Model>(&mut self, shared: &mut Shared<'_, M>) -> Next {
        let mut node = self.list.first();
        while !self.list.is_return(node) {
            let op = self.list.op(node);
            if shared.space.is_read_only(op) {
                match self.place(shared, op) {
                    Placement::Placed => return Next::Fresh,
                    Placement::Failed => return Next::Backtrack,
                    Placement::Illegal => {}
                }
            }
            node = self.list.next(node);
        }
        // `node` is the first return: the candidates are the calls before it.
        match self.order {
            Order::EarliestCallFirst => Next::Scan(self.list.first()),
            Order::LatestCallFirst => Next::Scan(self.list.prev(node)),
        }
    }

    /// The candidate to try after the one at `node`: `HEAD` or a return
    /// event when there is none.
    #[inline]
    fn after(&self, node: u32) -> u32 {
        match self.order {
            Order::EarliestCallFirst => self.list.next(node),
            Order::LatestCallFirst => self.list.prev(node),
        }
    }

    /// Tries the candidate at `node`, then the ones after it in the order.
    #[inline]
    fn scan<M: Model>(&mut self, shared: &mut Shared<'_, M>, node: u32) -> Next {
        if node == HEAD || self.list.is_return(node) {
            if self.at_best && self.stuck.is_none() {
                self.stuck = Some(self.first_return_op());
            }
            return Next::Backtrack;
        }
        let op = self.list.op(node);
        // Read-only candidates were tried by `fresh` and are illegal here.
        let twin = shared.twin[op as usize];
        let worth_trying = !shared.space.is_read_only(op) && (twin == NONE || self.is_placed(twin));
        if worth_trying && matches!(self.place(shared, op), Placement::Placed) {
            return Next::Fresh;
        }
        Next::Scan(self.after(node))
    }

    /// The operation whose return event comes first: the one that must be
    /// linearized soonest.
    fn first_return_op(&self) -> u32 {
        let mut node = self.list.first();
        while !self.list.is_return(node) {
            node = self.list.next(node);
        }
        self.list.op(node)
    }

    /// Pops choices until one can be followed by the next candidate;
    /// `None` when there is none left.
    fn backtrack<M: Model>(&mut self, shared: &mut Shared<'_, M>) -> Option<Next> {
        loop {
            let frame = self.unplace(shared)?;
            if !frame.forced {
                return Some(Next::Scan(self.after(self.list.call_node(frame.op))));
            }
        }
    }
}

/// Finds each never-returning operation's earlier identical twin (see
/// [`Shared::twin`]). Looks back a bounded number of such operations, so
/// that histories with very many of them stay linear.
fn twins<I: PartialEq, O: PartialEq>(ops: &[&Operation<I, O>]) -> Vec<u32> {
    const LOOK_BACK: usize = 64;
    let mut twin = vec![NONE; ops.len()];
    let mut open: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].ret.is_none()).collect();
    // The order of call events in the list: by time, then index.
    open.sort_by_key(|&i| (ops[i].call, i));
    for (k, &j) in open.iter().enumerate() {
        let earlier = &open[k.saturating_sub(LOOK_BACK)..k];
        if let Some(&i) = earlier
            .iter()
            .rev()
            .find(|&&i| ops[i].input == ops[j].input && ops[i].output == ops[j].output)
        {
            twin[j] = i as u32;
        }
    }
    twin
}

/// The steps of a path of frames ending in `last_state`, with state
/// descriptions (each distinct state described once).
fn describe_path<M: Model>(
    space: &StateSpace<'_, M>,
    frames: &[Frame],
    last_state: u32,
) -> Vec<PathStep> {
    let model = space.model();
    let mut described: HashMap<u32, String> = HashMap::new();
    let mut describe = |id: u32| {
        described
            .entry(id)
            .or_insert_with(|| model.describe_state(space.state(id)))
            .clone()
    };
    frames
        .iter()
        .enumerate()
        .map(|(i, frame)| {
            let after = frames.get(i + 1).map_or(last_state, |next| next.from);
            PathStep {
                op: frame.op as usize,
                before: describe(frame.from),
                after: describe(after),
            }
        })
        .collect()
}
