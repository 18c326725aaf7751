//! The linearizability search for one (sub-)history.
//!
//! This is Wing and Gong's depth-first search with Lowe's memoization: walk
//! the list of call and return events; at a call, try to linearize that
//! operation now (the model must accept it in the current state); at a
//! return, the operation that returns has not been linearized yet, so the
//! current prefix cannot be extended and the search backtracks. Every
//! `(linearized set, state)` pair is explored at most once.
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
//! - **Two orders.** Which candidate to try first does not change the
//!   verdict but can change the work a lot on linearizable histories. A
//!   search runs in one [`Order`]; the checker gives a part a short try in
//!   one and then starts over in the other (see `checker::check_part`).

mod events;
mod hash;
mod memo;
mod states;
mod table;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::history::Operation;
use crate::model::Model;
use events::{EventList, HEAD};
use memo::VisitedSet;
use states::{ILLEGAL, StateSpace};

/// How often (in search steps) to look at the clock and the stop flag.
const CHECK_EVERY: u32 = 1 << 12;

/// When to give up.
pub(crate) struct Limits<'a> {
    /// Past this instant the search reports [`Outcome::TimedOut`].
    pub(crate) deadline: Option<Instant>,
    /// When set (another part failed), the search reports
    /// [`Outcome::Stopped`].
    pub(crate) stop: &'a AtomicBool,
}

/// Which of a node's candidate operations to try first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// The earliest-called candidate first (Wing and Gong's order).
    EarliestCallFirst,
    /// The latest-called candidate first.
    LatestCallFirst,
}

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
    Stopped,
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

/// What the search does next.
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
    /// Legal, but the resulting node was explored before.
    Visited,
}

/// The search's working state for one sub-history. It can be run in slices
/// (see [`Search::run`]).
pub(crate) struct Search<'a, M: Model> {
    order: Order,
    next: Next,
    until_check: u32,
    space: StateSpace<'a, M>,
    list: EventList,
    /// For an operation that never returned: an earlier-called one that
    /// never returned either and is identical (same input and output), or
    /// [`NONE`]. Linearizing either leads to the same subproblem, so the
    /// later twin is only tried once the earlier one is placed.
    twin: Vec<u32>,
    zobrist: Vec<u64>,
    bits: Vec<u64>,
    set_hash: u64,
    visited: VisitedSet,
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

impl<'a, M: Model> Search<'a, M> {
    pub(crate) fn new(
        model: &'a M,
        ops: &'a [&'a Operation<M::Input, M::Output>],
        order: Order,
    ) -> Self {
        let n = ops.len();
        let times: Vec<(u64, u64)> = ops.iter().map(|o| (o.call, o.effective_ret())).collect();
        let words = n.div_ceil(64);
        Self {
            order,
            next: Next::Fresh,
            until_check: CHECK_EVERY,
            space: StateSpace::new(model, ops),
            list: EventList::new(&times),
            twin: twins(ops),
            zobrist: hash::zobrist_keys(n),
            bits: vec![0; words],
            set_hash: 0,
            visited: VisitedSet::new(words),
            state: StateSpace::<M>::INIT,
            stack: Vec::with_capacity(n),
            best: Vec::new(),
            best_state: StateSpace::<M>::INIT,
            at_best: false,
            stuck: None,
        }
    }

    #[inline]
    fn is_placed(&self, op: u32) -> bool {
        self.bits[(op / 64) as usize] & (1 << (op % 64)) != 0
    }

    #[inline]
    fn flip(&mut self, op: u32) {
        self.bits[(op / 64) as usize] ^= 1 << (op % 64);
        self.set_hash ^= self.zobrist[op as usize];
    }

    /// Linearizes `op` now if the model allows it and the node it leads to
    /// is new.
    #[inline]
    fn place(&mut self, op: u32) -> Placement {
        let to = self.space.step(self.state, op);
        if to == ILLEGAL {
            return Placement::Illegal;
        }
        self.flip(op);
        if !self.visited.insert(&self.bits, self.set_hash, to) {
            self.flip(op);
            return Placement::Visited;
        }
        self.stack.push(Frame {
            op,
            from: self.state,
            forced: self.space.is_read_only(op),
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

    /// Undoes the last placement.
    #[inline]
    fn unplace(&mut self) -> Option<Frame> {
        let frame = self.stack.pop()?;
        self.list.unlift(frame.op);
        self.flip(frame.op);
        self.state = frame.from;
        self.at_best = false;
        Some(frame)
    }

    /// Places legal read-only candidates first: a legal one is placed (and
    /// never revisited); if one leads to an explored node, this node fails.
    /// Otherwise the other candidates are tried in the search's order.
    fn fresh(&mut self) -> Next {
        let mut node = self.list.first();
        while !self.list.is_return(node) {
            let op = self.list.op(node);
            if self.space.is_read_only(op) {
                match self.place(op) {
                    Placement::Placed => return Next::Fresh,
                    Placement::Visited => return Next::Backtrack,
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
    fn scan(&mut self, node: u32) -> Next {
        if node == HEAD || self.list.is_return(node) {
            if self.at_best && self.stuck.is_none() {
                self.stuck = Some(self.first_return_op());
            }
            return Next::Backtrack;
        }
        let op = self.list.op(node);
        // Read-only candidates were tried by `fresh` and are illegal here.
        let twin = self.twin[op as usize];
        let worth_trying = !self.space.is_read_only(op) && (twin == NONE || self.is_placed(twin));
        if worth_trying && matches!(self.place(op), Placement::Placed) {
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
    fn backtrack(&mut self) -> Option<Next> {
        loop {
            let frame = self.unplace()?;
            if !frame.forced {
                return Some(Next::Scan(self.after(self.list.call_node(frame.op))));
            }
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
            }
            self.next = match self.next {
                Next::Fresh => {
                    if self.list.first() == HEAD {
                        let witness = want_witness
                            .then(|| describe_path(&self.space, &self.stack, self.state));
                        return Some(Outcome::Linearizable(witness));
                    }
                    self.fresh()
                }
                Next::Scan(node) => self.scan(node),
                Next::Backtrack => match self.backtrack() {
                    Some(next) => next,
                    None => {
                        let prefix = describe_path(&self.space, &self.best, self.best_state);
                        return Some(Outcome::Illegal {
                            prefix,
                            stuck: self.stuck.map(|op| op as usize),
                        });
                    }
                },
            };
        }
    }
}

/// Finds each never-returning operation's earlier identical twin (see
/// [`Search::twin`]). Looks back a bounded number of such operations, so
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
