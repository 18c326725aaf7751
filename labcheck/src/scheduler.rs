//! Checking all the parts of a history at once, so that a failing part is
//! found without first finishing the others.
//!
//! Each worker thread (the calling thread alone for small histories) owns
//! the searches it started and runs them in turns of [`PART_TURN_STEPS`]
//! steps each, round-robin. A part not started yet is started before any
//! started part gets a second turn, so within the first round every part
//! has had a turn, and small parts are done. The first part found to fail
//! stops everything.
//!
//! **The memory cap** bounds what the searches of all parts hold together.
//! A search that finds the total past it stops and gives its memory back.
//! If other parts are still running, its part is put off: parts that do
//! not fit in memory together may fit one after another, so once nothing
//! else runs, the put-off parts are started over one at a time, alone. A
//! part whose search reaches the cap while it runs alone is given up
//! ([`Outcome::MemoryCap`]); the other parts go on, since one of them may
//! still be found to fail.
//!
//! A search cannot move between threads (model states need not be `Send`),
//! so a worker with nothing left to do takes over a part from a worker that
//! is still running two or more, by starting that part over; its old owner
//! drops its search at its next turn. Without that, two slow parts that
//! happened to land on one worker would run one after the other while the
//! other core idles.

use labrt::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use labrt::sync::{Mutex, MutexGuard};
use labrt::thread;
use labrt::time::{Duration, Instant};

use crate::history::Operation;
use crate::model::Model;
use crate::search::{Limits, MemoryBudget, Order, Outcome, Search, SearchStats};

/// Steps a part's search runs before the worker turns to its next part.
pub(crate) const PART_TURN_STEPS: u64 = 1 << 14;

/// Below this many operations in all, the parts are checked on the calling
/// thread: the whole check then usually takes microseconds, less than
/// starting a thread.
pub(crate) const PARALLEL_MIN_OPS: usize = 1000;

/// "No worker".
const NOBODY: usize = usize::MAX;

/// How one part's search ended.
pub(crate) struct PartResult {
    /// The part's position in the partition.
    pub(crate) part: usize,
    pub(crate) outcome: Outcome,
    pub(crate) stats: SearchStats,
    /// Time (labrt's clock) from the start of the part's (last) search to
    /// its end, including the turns given to other parts meanwhile.
    pub(crate) elapsed: Duration,
    /// The bytes its search held at the end, estimated.
    pub(crate) memory_bytes: u64,
}

/// What the workers share.
struct Board {
    /// Parts not started yet; the next one is at the end.
    queue: Vec<usize>,
    /// For each worker: how many parts it is running.
    running: Vec<usize>,
    /// For each part: when it was (last) started, as a sequence number.
    started: Vec<u64>,
    sequence: u64,
    /// For each part: whether it is done.
    done: Vec<bool>,
    /// Parts whose search reached the memory cap while others ran, to be
    /// started over alone; the next one is at the end.
    deferred: Vec<usize>,
    /// How many times a part was put off so.
    deferrals: usize,
}

/// What [`check_parts`] found.
pub(crate) struct Checked {
    /// How each part's search ended, in no particular order. Parts never
    /// started or never finished (because another part failed first, or
    /// time ran out) are missing.
    pub(crate) results: Vec<PartResult>,
    /// How many times a part was put off at the memory cap (see the
    /// module's documentation).
    pub(crate) deferrals: usize,
}

/// Checks every part of `parts` (lists of indices into `history`) with the
/// searches in `orders`, their memory drawn from `memory`.
pub(crate) fn check_parts<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    parts: &[Vec<usize>],
    timeout: Duration,
    memory: &MemoryBudget,
    orders: &[Order],
    want_witness: bool,
) -> Checked {
    let part_ops: Vec<Vec<&Operation<M::Input, M::Output>>> = parts
        .iter()
        .map(|part| part.iter().map(|&i| &history[i]).collect())
        .collect();
    // The smallest parts have their first turn first (the queue is taken
    // from its end): most of them are done within it, so a small failing
    // part is found before the big ones have had a turn.
    let mut queue: Vec<usize> = (0..parts.len()).collect();
    queue.sort_by_key(|&p| std::cmp::Reverse((parts[p].len(), p)));

    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let workers = if history.len() < PARALLEL_MIN_OPS {
        1
    } else {
        cores.min(parts.len()).max(1)
    };

    let stop = AtomicBool::new(false);
    let limits = Limits {
        deadline: Instant::now().checked_add(timeout),
        stop: &stop,
        memory,
    };
    let shared = Shared {
        model,
        part_ops: &part_ops,
        orders,
        want_witness,
        limits: &limits,
        stop: &stop,
        owner: (0..parts.len()).map(|_| AtomicUsize::new(NOBODY)).collect(),
        board: Mutex::new(Board {
            queue,
            running: vec![0; workers],
            started: vec![0; parts.len()],
            sequence: 0,
            done: vec![false; parts.len()],
            deferred: Vec::new(),
            deferrals: 0,
        }),
        results: Mutex::new(Vec::new()),
    };
    if workers < 2 {
        shared.work(0);
    } else {
        thread::scope(|scope| {
            for w in 1..workers {
                let shared = &shared;
                scope.spawn(move || shared.work(w));
            }
            shared.work(0);
        });
    }
    let deferrals = shared.board().deferrals;
    Checked {
        results: shared
            .results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner()),
        deferrals,
    }
}

struct Shared<'s, 'h, M: Model> {
    model: &'h M,
    part_ops: &'s [Vec<&'h Operation<M::Input, M::Output>>],
    orders: &'s [Order],
    want_witness: bool,
    limits: &'s Limits<'s>,
    /// Set when a part failed: every search stops.
    stop: &'s AtomicBool,
    /// For each part: the worker that runs it, or [`NOBODY`].
    owner: Vec<AtomicUsize>,
    board: Mutex<Board>,
    results: Mutex<Vec<PartResult>>,
}

/// A part a worker is running.
struct Running<'s, M: Model> {
    part: usize,
    search: Search<'s, M>,
    since: Instant,
    /// Where the search's memory is charged.
    memory: &'s MemoryBudget,
}

impl<M: Model> Drop for Running<'_, M> {
    /// However the part's search ends (done, stopped, or dropped because
    /// another worker took the part over), its memory is given back.
    fn drop(&mut self) {
        self.search.release(self.memory);
    }
}

impl<'s, 'h: 's, M: Model> Shared<'s, 'h, M> {
    fn board(&self) -> MutexGuard<'_, Board> {
        // A poisoned lock only means another worker panicked; the panic is
        // propagated by the thread scope.
        self.board.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes part `p` for worker `w`, from the queue or from its owner.
    fn claim(&self, board: &mut Board, p: usize, w: usize) {
        let old = self.owner[p].swap(w, Ordering::AcqRel);
        if old != NOBODY {
            board.running[old] -= 1;
        }
        board.running[w] += 1;
        board.sequence += 1;
        board.started[p] = board.sequence;
    }

    /// The next part worker `w` should start: one never started, or else
    /// one to take over from a worker running two or more (the one started
    /// last, which has had the fewest turns), or else, when no part is
    /// running anywhere, one put off at the memory cap.
    fn next_part(&self, w: usize) -> Option<usize> {
        let mut board = self.board();
        let board = &mut *board;
        let taken_over = || {
            (0..self.part_ops.len())
                .filter(|&p| !board.done[p])
                .filter(|&p| {
                    let owner = self.owner[p].load(Ordering::Acquire);
                    owner != w && owner != NOBODY && board.running[owner] >= 2
                })
                .max_by_key(|&p| board.started[p])
        };
        let p = match board.queue.pop().or_else(taken_over) {
            Some(p) => p,
            // The last worker to finish a part sees nothing running, so a
            // part put off is always started again (unless a failure
            // stopped the check).
            None if board.running.iter().all(|&n| n == 0) => board.deferred.pop()?,
            None => return None,
        };
        self.claim(board, p, w);
        Some(p)
    }

    /// Puts off part `running.part`, whose search found the memory cap
    /// reached while other parts were running, and returns `true`: the
    /// caller drops the search, which gives its memory back. Also `true`
    /// when another worker has taken the part over meanwhile (its copy
    /// goes on). `false`, doing nothing, when no other part is running: the
    /// part is then given up.
    fn defer(&self, w: usize, running: &Running<'s, M>) -> bool {
        let mut board = self.board();
        // Under the lock, so that a takeover cannot slip in between.
        if self.owner[running.part].load(Ordering::Acquire) != w {
            return true;
        }
        if board.running.iter().sum::<usize>() <= 1 {
            return false;
        }
        self.owner[running.part].store(NOBODY, Ordering::Release);
        board.running[w] -= 1;
        board.deferred.push(running.part);
        board.deferrals += 1;
        true
    }

    /// Gives one turn to `running`; returns it back unless its search
    /// ended.
    fn turn(&self, w: usize, mut running: Running<'s, M>) -> Option<Running<'s, M>> {
        if self.owner[running.part].load(Ordering::Acquire) != w {
            return None; // Another worker took it over.
        }
        let Some(outcome) =
            running
                .search
                .run(self.limits, Some(PART_TURN_STEPS), self.want_witness)
        else {
            return Some(running); // Not done yet.
        };
        if matches!(outcome, Outcome::MemoryCap { .. }) && self.defer(w, &running) {
            return None;
        }
        if matches!(outcome, Outcome::Illegal { .. }) {
            self.stop.store(true, Ordering::Relaxed);
        }
        {
            let mut board = self.board();
            if board.done[running.part] {
                // Taken over, and the other copy ended first.
                return None;
            }
            // Someone may have taken it over during this turn; the result
            // stands all the same, and the taker drops its copy.
            board.done[running.part] = true;
            let owner = self.owner[running.part].swap(NOBODY, Ordering::AcqRel);
            if owner != NOBODY {
                board.running[owner] -= 1;
            }
        }
        self.record(running, outcome);
        None
    }

    fn record(&self, running: Running<'s, M>, outcome: Outcome) {
        let result = PartResult {
            part: running.part,
            stats: running.search.stats(),
            elapsed: running.since.elapsed(),
            memory_bytes: running.search.memory_bytes(),
            outcome,
        };
        if let Ok(mut results) = self.results.lock() {
            results.push(result);
        }
    }

    /// Another part failed: what this worker was running stops here.
    fn stop(&self, w: usize, mine: Vec<Running<'s, M>>) {
        for running in mine {
            if self.owner[running.part].load(Ordering::Acquire) == w {
                self.record(running, Outcome::Stopped);
            }
        }
    }

    /// One worker's loop.
    fn work(&self, w: usize) {
        let mut mine: Vec<Running<'s, M>> = Vec::new();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return self.stop(w, mine);
            }
            // A part that has had no turn yet goes before a second turn of
            // any other; so does taking over a part when idle.
            let start = if mine.is_empty() || !self.board().queue.is_empty() {
                self.next_part(w)
            } else {
                None
            };
            if let Some(part) = start {
                let running = Running {
                    part,
                    search: Search::new(self.model, &self.part_ops[part], self.orders),
                    since: Instant::now(),
                    memory: self.limits.memory,
                };
                mine.extend(self.turn(w, running));
                continue;
            }
            if mine.is_empty() {
                return;
            }
            let round = std::mem::take(&mut mine);
            for running in round {
                if self.stop.load(Ordering::Relaxed) {
                    mine.push(running);
                } else {
                    mine.extend(self.turn(w, running));
                }
            }
        }
    }
}
