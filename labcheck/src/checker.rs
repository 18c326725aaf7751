//! `check`: the verdict on a whole history, and the evidence behind it;
//! `check_with_options`: the same within limits of time and memory, with
//! the reason when there is no verdict.

use std::fmt;

use labrt::time::Duration;

use crate::history::{History, Operation};
use crate::model::Model;
use crate::scheduler;
use crate::search::{BOTH_ORDERS, MemoryBudget, Outcome, PathStep};

/// The verdict on a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckResult {
    /// Some order of the operations respects real time and the model.
    Linearizable,
    /// No such order exists; the evidence says where the search got stuck.
    NotLinearizable(Evidence),
    /// The check gave up: it ran out of time, or its search reached the
    /// memory cap ([`CheckReport::unknown_reason`] says which). This is not
    /// a pass: the history may or may not be linearizable.
    Unknown,
}

impl CheckResult {
    /// Whether the verdict is [`CheckResult::Linearizable`].
    pub fn is_linearizable(&self) -> bool {
        matches!(self, CheckResult::Linearizable)
    }

    /// The evidence of a [`CheckResult::NotLinearizable`] verdict.
    pub fn evidence(&self) -> Option<&Evidence> {
        match self {
            CheckResult::NotLinearizable(evidence) => Some(evidence),
            _ => None,
        }
    }
}

impl fmt::Display for CheckResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckResult::Linearizable => write!(f, "linearizable"),
            CheckResult::NotLinearizable(evidence) => write!(f, "not linearizable: {evidence}"),
            CheckResult::Unknown => write!(
                f,
                "unknown (the check timed out or its search reached the memory cap)"
            ),
        }
    }
}

/// Why a history is not linearizable: one entry per part (see
/// [`Model::partition`]) found to fail. The check stops at the first failing
/// part it finds, so usually there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The failing parts, in partition order.
    pub failures: Vec<PartitionFailure>,
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, failure) in self.failures.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{failure}")?;
        }
        Ok(())
    }
}

/// A part of the history with no linearization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionFailure {
    /// The part's position in [`Model::partition`]'s list.
    pub partition: usize,
    /// The part's name from [`Model::describe_partition`] (may be empty).
    pub name: String,
    /// The part's operations, as indices into the history.
    pub ops: Vec<usize>,
    /// The model's initial state, described.
    pub initial_state: String,
    /// The longest linearizable prefix the search found, in linearization
    /// order.
    pub linearized: Vec<LinearizedOp>,
    /// The operation that had to return next but could not be placed after
    /// that prefix, if the search identified one.
    pub stuck: Option<usize>,
    /// The part's operations missing from the prefix, in history order.
    pub unplaced: Vec<usize>,
}

impl fmt::Display for PartitionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.name.is_empty() {
            format!("part {}", self.partition)
        } else {
            self.name.clone()
        };
        write!(
            f,
            "{name}: longest linearizable prefix has {} of {} operations",
            self.linearized.len(),
            self.ops.len()
        )?;
        if let Some(op) = self.stuck {
            write!(f, "; operation #{op} cannot be placed after it")?;
        }
        Ok(())
    }
}

/// One step of a linearization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinearizedOp {
    /// The operation, as an index into the history.
    pub op: usize,
    /// The model state before it, described.
    pub state_before: String,
    /// The model state after it, described.
    pub state_after: String,
}

/// The limits of a check: how long it may take, and how much memory its
/// search may hold. Reaching either gives [`CheckResult::Unknown`], with
/// the [`UnknownReason`] in the [`CheckReport`]; never a pass.
///
/// ```
/// use labrt::time::Duration;
/// use labcheck::CheckOptions;
///
/// let options = CheckOptions::new(Duration::from_secs(10)).with_max_memory_mib(512);
/// assert_eq!(options.timeout, Duration::from_secs(10));
/// assert_eq!(options.max_memory_bytes, 512 << 20);
/// assert_eq!(
///     CheckOptions::default().max_memory_bytes,
///     CheckOptions::DEFAULT_MAX_MEMORY_BYTES
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckOptions {
    /// Give up after this long (`Duration::MAX`: never). Default
    /// [`CheckOptions::DEFAULT_TIMEOUT`].
    pub timeout: Duration,
    /// Give up once the search holds more than about this many bytes, all
    /// parts together (`u64::MAX`: no cap). Default
    /// [`CheckOptions::DEFAULT_MAX_MEMORY_BYTES`].
    ///
    /// The figure is an estimate, looked at every 4,096 search steps (and
    /// at a search's first): per model state the search kept, its size,
    /// an 8-byte hash and what [`Model::state_heap_bytes`] says it holds on
    /// the heap; per node found to fail, 8 bytes per 64 operations of the
    /// part plus 8, and 16 to 32 bytes of hash table; and the search's
    /// per-operation arrays (about 100 bytes per operation). The history
    /// itself, allocator overhead the model's figure leaves out and the
    /// moment a table doubles are not counted, and memory a search gave
    /// back may stay with the allocator (glibc's keeps a pool per thread),
    /// so the process may hold more: on the hard test data its peak
    /// resident size was within 3% of the estimate, and 1.45 times the cap
    /// on a history whose parts were checked one after another at the cap.
    ///
    /// When several parts (keys) together reach the cap, the search that
    /// sees it stops and its part is checked again later, alone; a part
    /// that reaches the cap alone is given up. A check with a part given up
    /// is [`CheckResult::Unknown`] ([`UnknownReason::MemoryCap`]) unless
    /// another part is found not linearizable, which decides the history.
    pub max_memory_bytes: u64,
}

impl CheckOptions {
    /// The default timeout: 60 seconds (the command's default too).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

    /// The default memory cap: 2 GiB (estimated, see
    /// [`CheckOptions::max_memory_bytes`]). Every history in the crate's
    /// test data is decided under it (the largest part any of them needs
    /// holds about 1.1 GiB); without a cap, a harder one grows until the
    /// kernel kills the process.
    pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 2 << 30;

    /// Options with this timeout and the default memory cap.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            max_memory_bytes: Self::DEFAULT_MAX_MEMORY_BYTES,
        }
    }

    /// These options with another timeout.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self { timeout, ..self }
    }

    /// These options with a memory cap of `bytes` (`u64::MAX`: none).
    pub fn with_max_memory_bytes(self, bytes: u64) -> Self {
        Self {
            max_memory_bytes: bytes,
            ..self
        }
    }

    /// These options with a memory cap of `mib` MiB (2^20 bytes; past
    /// `u64::MAX` bytes, no cap).
    pub fn with_max_memory_mib(self, mib: u64) -> Self {
        self.with_max_memory_bytes(mib.saturating_mul(1 << 20))
    }
}

impl Default for CheckOptions {
    /// [`CheckOptions::DEFAULT_TIMEOUT`] and
    /// [`CheckOptions::DEFAULT_MAX_MEMORY_BYTES`].
    fn default() -> Self {
        Self::new(Self::DEFAULT_TIMEOUT)
    }
}

/// Why a check gave [`CheckResult::Unknown`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownReason {
    /// The check ran out of time.
    TimedOut {
        /// The limit it had ([`CheckOptions::timeout`]).
        timeout: Duration,
    },
    /// The search reached the memory cap.
    MemoryCap {
        /// The cap ([`CheckOptions::max_memory_bytes`]).
        max_memory_bytes: u64,
        /// What the search held, all parts together, when it stopped
        /// (estimated the same way).
        estimated_bytes: u64,
    },
}

impl fmt::Display for UnknownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            UnknownReason::TimedOut { timeout } => write!(
                f,
                "the check timed out after {timeout:?} (give more time with --timeout SECS, \
                 or CheckOptions::timeout)"
            ),
            UnknownReason::MemoryCap {
                max_memory_bytes,
                estimated_bytes,
            } => write!(
                f,
                "the search reached its memory cap of {} (it held about {} in model states and \
                 failed nodes); raise the cap with --max-memory-mib MIB, or \
                 CheckOptions::max_memory_bytes, if the machine has the memory",
                mib(max_memory_bytes),
                mib(estimated_bytes)
            ),
        }
    }
}

/// `bytes` in MiB, for messages.
fn mib(bytes: u64) -> String {
    let mib = bytes as f64 / f64::from(1 << 20);
    if mib >= 10.0 {
        format!("{mib:.0} MiB")
    } else {
        format!("{mib:.2} MiB")
    }
}

/// What [`check_with_options`] found: the verdict, why there is none when
/// there is none, and what each part's check took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// The verdict.
    pub result: CheckResult,
    /// Why the check gave up: `Some` exactly when `result` is
    /// [`CheckResult::Unknown`].
    pub unknown_reason: Option<UnknownReason>,
    /// Per part, in partition order: what its check took.
    pub parts: Vec<PartStats>,
    /// The most memory the search held at once, all parts together, as
    /// far as the estimate saw (see [`CheckOptions::max_memory_bytes`]; 0
    /// when the check ended before its first look, at its first step).
    pub peak_memory_bytes: u64,
}

impl fmt::Display for CheckReport {
    /// The verdict, and for [`CheckResult::Unknown`] its reason.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.result, &self.unknown_reason) {
            (CheckResult::Unknown, Some(reason)) => write!(f, "unknown: {reason}"),
            (result, _) => write!(f, "{result}"),
        }
    }
}

/// Checks `history` against `model` within the limits of `options`.
/// [`check`] is this with a timeout and the default memory cap.
///
/// ```
/// use labrt::time::Duration;
/// use labcheck::models::{Register, RegisterInput, RegisterOutput};
/// use labcheck::{CheckOptions, CheckResult, History, Operation, UnknownReason};
/// use labcheck::check_with_options;
///
/// // 30 concurrent writes and a read of a value none wrote: a search over
/// // every subset of the writes, far more than a 1 MiB cap holds.
/// let mut ops: Vec<_> = (0..30)
///     .map(|v| Operation::completed(v, RegisterInput::Write { value: v as i64 },
///                                   RegisterOutput::Ok, 0, 100))
///     .collect();
/// ops.push(Operation::completed(99, RegisterInput::Read,
///                               RegisterOutput::Value(Some(1000)), 50, 60));
/// let options = CheckOptions::new(Duration::from_secs(60)).with_max_memory_mib(1);
/// let report = check_with_options(&Register, &History::from(ops), &options);
/// assert_eq!(report.result, CheckResult::Unknown);
/// assert!(matches!(report.unknown_reason, Some(UnknownReason::MemoryCap { .. })));
/// assert!(report.to_string().contains("memory cap of 1.00 MiB"));
/// ```
pub fn check_with_options<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    options: &CheckOptions,
) -> CheckReport {
    let detailed = run(model, history.ops(), options, false);
    CheckReport {
        result: detailed.result,
        unknown_reason: detailed.unknown_reason,
        parts: detailed.stats,
        peak_memory_bytes: detailed.peak_memory_bytes,
    }
}

/// Checks whether `history` is linearizable with respect to `model`, giving
/// up after `timeout` (`Duration::MAX` for never) or when the search
/// reaches the default memory cap
/// ([`CheckOptions::DEFAULT_MAX_MEMORY_BYTES`]); [`check_with_options`]
/// sets both and says which was reached.
///
/// Each part of [`Model::partition`] is checked on its own, all parts at
/// once (taking turns; on all available cores for large histories), and the
/// check stops as soon as one part fails.
///
/// ```
/// use labrt::time::Duration;
/// use labcheck::models::{Kv, KvInput, KvOutput};
/// use labcheck::{History, Operation, check};
///
/// let history: History<KvInput, KvOutput> = vec![
///     Operation::completed(0, KvInput::put("x", "1"), KvOutput::Ok, 0, 10),
///     Operation::completed(1, KvInput::get("x"), KvOutput::value(""), 20, 30),
/// ]
/// .into();
/// // The get started after the put returned, so it must see "1".
/// let result = check(&Kv, &history, Duration::from_secs(5));
/// assert!(!result.is_linearizable());
/// ```
pub fn check<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    timeout: Duration,
) -> CheckResult {
    run(model, history.ops(), &CheckOptions::new(timeout), false).result
}

/// A verdict plus, for a linearizable history when asked for, a
/// linearization of every part.
pub(crate) struct Detailed {
    pub(crate) result: CheckResult,
    /// Per part (in partition order): its linearization, when found.
    pub(crate) witness: Vec<(usize, Vec<LinearizedOp>)>,
    /// Per part, in partition order: what its check took.
    pub(crate) stats: Vec<PartStats>,
    /// Why there is no verdict, when there is none.
    pub(crate) unknown_reason: Option<UnknownReason>,
    /// The most the searches held at once, estimated.
    pub(crate) peak_memory_bytes: u64,
}

pub(crate) fn run<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: &CheckOptions,
    want_witness: bool,
) -> Detailed {
    let parts = model.partition(history);
    validate_partition(&parts, history.len());
    let memory = MemoryBudget::new(options.max_memory_bytes);
    let checked = scheduler::check_parts(
        model,
        history,
        &parts,
        options.timeout,
        &memory,
        &BOTH_ORDERS,
        want_witness,
    );
    let mut results = checked.results;
    results.sort_by_key(|r| r.part);
    // A part taken over by another worker may, rarely, end on both.
    results.dedup_by_key(|r| r.part);
    let mut stats: Vec<PartStats> = parts
        .iter()
        .enumerate()
        .map(|(p, part)| PartStats {
            partition: p,
            name: model.describe_partition(history, part),
            ops: part.len(),
            status: PartStatus::Unfinished,
            elapsed: Duration::ZERO,
            nodes: 0,
            memo_hits: 0,
            states: 0,
            memory_bytes: 0,
        })
        .collect();
    let mut capped = None;
    let mut timed_out = false;
    for r in &results {
        let part = &mut stats[r.part];
        part.status = match r.outcome {
            Outcome::Linearizable(_) => PartStatus::Linearizable,
            Outcome::Illegal { .. } => PartStatus::NotLinearizable,
            Outcome::TimedOut => {
                timed_out = true;
                PartStatus::TimedOut
            }
            Outcome::MemoryCap { total } => {
                capped = capped.max(Some(total));
                PartStatus::MemoryCap
            }
            Outcome::Stopped => PartStatus::Unfinished,
        };
        part.elapsed = r.elapsed;
        part.nodes = r.stats.placed;
        part.memo_hits = r.stats.memo_hits;
        part.states = r.stats.states;
        part.memory_bytes = r.memory_bytes;
    }
    let outcomes = results.into_iter().map(|r| (r.part, r.outcome)).collect();
    let mut detailed = summarize(model, history, &parts, outcomes);
    detailed.stats = stats;
    detailed.peak_memory_bytes = memory.peak();
    if detailed.result == CheckResult::Unknown {
        // A part given up at the cap is the reason even if others timed
        // out meanwhile; else a timeout is; else a part put off at the cap
        // was never started again.
        let memory_cap = |estimated_bytes| UnknownReason::MemoryCap {
            max_memory_bytes: memory.cap(),
            estimated_bytes,
        };
        detailed.unknown_reason = Some(match capped {
            Some(total) => memory_cap(total),
            None if timed_out => UnknownReason::TimedOut {
                timeout: options.timeout,
            },
            None => {
                debug_assert!(
                    checked.deferrals > 0,
                    "an unfinished check that neither timed out nor reached the cap"
                );
                memory_cap(memory.peak())
            }
        });
    }
    detailed
}

/// How the check of one part ended (see [`PartStats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartStatus {
    /// The part is linearizable.
    Linearizable,
    /// The part is not linearizable.
    NotLinearizable,
    /// The check ran out of time on this part.
    TimedOut,
    /// This part's search found the check's searches, all parts together,
    /// past the memory cap, and the check stopped there.
    MemoryCap,
    /// The part was never finished (or never started) because another part
    /// failed first.
    Unfinished,
}

/// What checking one part of a history took, from
/// [`check_with_stats`]: where the time of a slow check went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartStats {
    /// The part's position in [`Model::partition`]'s list.
    pub partition: usize,
    /// The part's name from [`Model::describe_partition`] (may be empty).
    pub name: String,
    /// The number of operations in the part.
    pub ops: usize,
    /// How its check ended.
    pub status: PartStatus,
    /// Wall-clock time (labrt's clock: virtual time in its simulation) from
    /// the start of the part's search to its end. Parts are searched at the
    /// same time, taking turns, so this includes turns given to other parts.
    pub elapsed: Duration,
    /// Search nodes entered: partial linearizations extended by one
    /// operation to a `(set, state)` pair not known to fail.
    pub nodes: u64,
    /// Times a partial linearization reached a `(set, state)` pair already
    /// known to fail, and was cut there.
    pub memo_hits: u64,
    /// Distinct model states met.
    pub states: u64,
    /// About how many bytes the part's search held when it ended (see
    /// [`CheckOptions::max_memory_bytes`] for the estimate).
    pub memory_bytes: u64,
}

/// [`check`], plus what each part's check took, in partition order. Use it
/// to find the part (key) a slow check spends its time on; the `labcheck`
/// command prints it with `--stats`.
///
/// ```
/// use labrt::time::Duration;
/// use labcheck::models::{Kv, KvInput, KvOutput};
/// use labcheck::{History, Operation, PartStatus, check_with_stats};
///
/// let history: History<KvInput, KvOutput> = vec![
///     Operation::completed(0, KvInput::put("x", "1"), KvOutput::Ok, 0, 10),
///     Operation::completed(1, KvInput::get("y"), KvOutput::value(""), 5, 30),
/// ]
/// .into();
/// let (result, parts) = check_with_stats(&Kv, &history, Duration::from_secs(5));
/// assert!(result.is_linearizable());
/// assert_eq!(parts.len(), 2);
/// assert!(parts.iter().all(|p| p.status == PartStatus::Linearizable));
/// ```
pub fn check_with_stats<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    timeout: Duration,
) -> (CheckResult, Vec<PartStats>) {
    let report = check_with_options(model, history, &CheckOptions::new(timeout));
    (report.result, report.parts)
}

fn summarize<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    parts: &[Vec<usize>],
    outcomes: Vec<(usize, Outcome)>,
) -> Detailed {
    let to_history = |p: usize, steps: Vec<PathStep>| -> Vec<LinearizedOp> {
        steps
            .into_iter()
            .map(|s| LinearizedOp {
                op: parts[p][s.op],
                state_before: s.before,
                state_after: s.after,
            })
            .collect()
    };
    let complete = outcomes.len() == parts.len();
    let mut failures = Vec::new();
    let mut witness = Vec::new();
    let mut unfinished = !complete;
    for (p, outcome) in outcomes {
        match outcome {
            Outcome::Linearizable(steps) => {
                if let Some(steps) = steps {
                    witness.push((p, to_history(p, steps)));
                }
            }
            Outcome::Illegal { prefix, stuck } => {
                let linearized = to_history(p, prefix);
                let mut placed = vec![false; history.len()];
                for step in &linearized {
                    placed[step.op] = true;
                }
                failures.push(PartitionFailure {
                    partition: p,
                    name: model.describe_partition(history, &parts[p]),
                    ops: parts[p].clone(),
                    initial_state: model.describe_state(&model.init()),
                    linearized,
                    stuck: stuck.map(|s| parts[p][s]),
                    unplaced: parts[p].iter().copied().filter(|&i| !placed[i]).collect(),
                });
            }
            Outcome::TimedOut | Outcome::MemoryCap { .. } | Outcome::Stopped => unfinished = true,
        }
    }
    let result = if !failures.is_empty() {
        CheckResult::NotLinearizable(Evidence { failures })
    } else if unfinished {
        CheckResult::Unknown
    } else {
        CheckResult::Linearizable
    };
    Detailed {
        result,
        witness,
        stats: Vec::new(),
        unknown_reason: None,
        peak_memory_bytes: 0,
    }
}

/// Panics with a clear message when a model's partition is not a partition:
/// that is a bug in the model, and checking would give a wrong verdict.
fn validate_partition(parts: &[Vec<usize>], len: usize) {
    let mut seen = vec![false; len];
    for (p, part) in parts.iter().enumerate() {
        for &i in part {
            assert!(
                i < len,
                "Model::partition returned index {i} in part {p}, but the history has {len} operations"
            );
            assert!(
                !seen[i],
                "Model::partition put operation {i} in two parts (the second is part {p})"
            );
            seen[i] = true;
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        panic!("Model::partition left operation {missing} out of every part");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Kv, KvInput, KvOutput, Register, RegisterInput, RegisterOutput};
    use crate::search::{Limits, Order, Search};
    use labrt::sync::atomic::AtomicBool;

    /// splitmix64, for reproducible random histories.
    fn next(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A register history from a simulation (so linearizable), with some
    /// unknown outcomes, and with one output changed when `break_it`.
    fn register_history(
        seed: &mut u64,
        n: usize,
        break_it: bool,
    ) -> Vec<Operation<RegisterInput, RegisterOutput>> {
        let mut register = None;
        let mut ops = Vec::new();
        for i in 0..n as u64 {
            let point = 10 * (i + 1);
            let call = point - next(seed) % 40.min(point);
            let ret = point + next(seed) % 40;
            let value = (next(seed) % 3) as i64;
            let (input, output) = match next(seed) % 3 {
                0 => (RegisterInput::Read, RegisterOutput::Value(register)),
                1 => {
                    register = Some(value);
                    (RegisterInput::Write { value }, RegisterOutput::Ok)
                }
                _ => {
                    let to = (next(seed) % 3) as i64;
                    if register == Some(value) {
                        register = Some(to);
                        (RegisterInput::Cas { from: value, to }, RegisterOutput::Ok)
                    } else {
                        (
                            RegisterInput::Cas { from: value, to },
                            RegisterOutput::CasFailed,
                        )
                    }
                }
            };
            let unknown = next(seed).is_multiple_of(5) && !matches!(input, RegisterInput::Read);
            ops.push(Operation {
                client: next(seed) % 4,
                input,
                output: (!unknown).then_some(output),
                call,
                ret: (!unknown).then_some(ret),
            });
        }
        let reads: Vec<usize> = (0..ops.len())
            .filter(|&i| ops[i].input == RegisterInput::Read)
            .collect();
        if break_it && !reads.is_empty() {
            let i = reads[(next(seed) % reads.len() as u64) as usize];
            let seen = ops[i].output;
            let others: Vec<RegisterOutput> = [None, Some(0), Some(1), Some(2)]
                .into_iter()
                .map(RegisterOutput::Value)
                .filter(|o| Some(*o) != seen)
                .collect();
            ops[i].output = Some(others[(next(seed) % others.len() as u64) as usize]);
        }
        ops
    }

    /// The verdict of a search in `orders` taking turns of `turn` steps,
    /// and the length of the prefix it reports when it fails.
    fn verdict(
        ops: &[Operation<RegisterInput, RegisterOutput>],
        orders: &[Order],
        turn: u32,
    ) -> (bool, usize) {
        verdict_interning(ops, orders, turn, usize::MAX)
    }

    /// [`verdict`] interning only the first `intern` distinct states.
    fn verdict_interning(
        ops: &[Operation<RegisterInput, RegisterOutput>],
        orders: &[Order],
        turn: u32,
        intern: usize,
    ) -> (bool, usize) {
        let refs: Vec<&Operation<RegisterInput, RegisterOutput>> = ops.iter().collect();
        let stop = AtomicBool::new(false);
        let memory = MemoryBudget::new(u64::MAX);
        let limits = Limits {
            deadline: None,
            stop: &stop,
            memory: &memory,
        };
        let mut search = Search::new(&Register, &refs, orders)
            .with_turn_steps(turn)
            .with_intern_limit(intern);
        loop {
            match search.run(&limits, Some(1000), false) {
                Some(Outcome::Linearizable(_)) => return (true, ops.len()),
                Some(Outcome::Illegal { prefix, .. }) => return (false, prefix.len()),
                Some(_) => panic!("an unlimited search cannot time out or stop"),
                None => {}
            }
        }
    }

    #[test]
    fn both_candidate_orders_give_the_same_verdict() {
        let mut seed = 0x0bde_c0de_u64;
        let (mut yes, mut no) = (0, 0);
        for case in 0..400 {
            let start = seed;
            let ops = register_history(&mut seed, 5 + case % 30, case % 2 == 1);
            let earliest = verdict(&ops, &[Order::EarliestCallFirst], 1);
            let latest = verdict(&ops, &[Order::LatestCallFirst], 1);
            assert_eq!(
                earliest, latest,
                "orders disagree on case {case} (seed {start:#x}): {ops:?}"
            );
            if earliest.0 { yes += 1 } else { no += 1 }
        }
        assert!(
            yes > 50 && no > 50,
            "too one-sided: {yes} linearizable, {no} not"
        );
    }

    #[test]
    fn orders_taking_turns_keep_the_verdict_and_the_longest_prefix() {
        // The orders share the table of failed nodes; however finely they
        // interleave, what one skips the other has proved, so the verdict
        // and the length of the longest prefix stay those of one order.
        let mut seed = 0x5eed_u64;
        let mut failing = 0;
        for case in 0..300 {
            let start = seed;
            let ops = register_history(&mut seed, 5 + case % 35, case % 2 == 1);
            let alone = verdict(&ops, &[Order::EarliestCallFirst], 1);
            for turn in [1, 2, 3, 7, 64] {
                assert_eq!(
                    verdict(&ops, &BOTH_ORDERS, turn),
                    alone,
                    "case {case} (seed {start:#x}), turns of {turn}: {ops:?}"
                );
            }
            failing += usize::from(!alone.0);
        }
        assert!(failing > 50, "only {failing} failing cases");
    }

    #[test]
    fn states_past_the_interning_limit_keep_the_verdict_and_the_longest_prefix() {
        // Past the limit, equal states get different ids; the table of
        // failed nodes must still match them by value.
        let mut seed = 0x1d_u64;
        for case in 0..300 {
            let start = seed;
            let ops = register_history(&mut seed, 5 + case % 35, case % 2 == 1);
            let interned = verdict(&ops, &BOTH_ORDERS, 5);
            for limit in [1, 2, 3] {
                assert_eq!(
                    verdict_interning(&ops, &BOTH_ORDERS, 5, limit),
                    interned,
                    "case {case} (seed {start:#x}), {limit} interned: {ops:?}"
                );
            }
        }
    }

    #[test]
    fn a_timeout_is_unknown_not_a_pass() {
        // Distinct concurrent writes whose last read is impossible: the
        // search must try every subset before failing, far beyond a
        // microsecond.
        let mut ops: Vec<Operation<RegisterInput, RegisterOutput>> = (0..40)
            .map(|v| {
                Operation::completed(
                    v as u64,
                    RegisterInput::Write { value: v },
                    RegisterOutput::Ok,
                    0,
                    100,
                )
            })
            .collect();
        ops.push(Operation::completed(
            99,
            RegisterInput::Read,
            RegisterOutput::Value(Some(1000)),
            50,
            60,
        ));
        let history = History::from(ops);
        let result = check(&Register, &history, Duration::from_micros(1));
        assert_eq!(result, CheckResult::Unknown);
        let options = CheckOptions::new(Duration::from_micros(1));
        let report = check_with_options(&Register, &history, &options);
        assert_eq!(report.result, CheckResult::Unknown);
        assert_eq!(
            report.unknown_reason,
            Some(UnknownReason::TimedOut {
                timeout: Duration::from_micros(1)
            })
        );
        assert!(
            report
                .to_string()
                .starts_with("unknown: the check timed out after 1µs"),
            "{report}"
        );
    }

    /// A key/value history on `key` whose check must try every subset of
    /// `puts` concurrent puts of distinct values: a get overlapping them
    /// all returns a value none wrote. Its search needs memory growing as
    /// `puts · 2^puts`.
    fn exhaustive_puts(key: &str, puts: u64, client: u64) -> Vec<Operation<KvInput, KvOutput>> {
        let mut ops: Vec<Operation<KvInput, KvOutput>> = (0..puts)
            .map(|v| {
                Operation::completed(
                    client + v,
                    KvInput::put(key, format!("{key}{v}")),
                    KvOutput::Ok,
                    0,
                    100,
                )
            })
            .collect();
        ops.push(Operation::completed(
            client + puts,
            KvInput::get(key),
            KvOutput::value("never written"),
            50,
            60,
        ));
        ops
    }

    #[test]
    fn a_search_past_the_memory_cap_is_unknown_and_says_so() {
        // 2^40 subsets: no cap, and it runs until the timeout (and the
        // assertions fail); with a 1 MiB cap it stops within milliseconds.
        let history = History::from(exhaustive_puts("k", 40, 0));
        let options = CheckOptions::new(Duration::from_secs(120)).with_max_memory_mib(1);
        let started = labrt::time::Instant::now();
        let report = check_with_options(&Kv, &history, &options);
        assert_eq!(report.result, CheckResult::Unknown, "{report}");
        let Some(UnknownReason::MemoryCap {
            max_memory_bytes,
            estimated_bytes,
        }) = report.unknown_reason
        else {
            panic!("not the memory cap: {report}");
        };
        assert_eq!(max_memory_bytes, 1 << 20);
        assert!(estimated_bytes > 1 << 20, "{estimated_bytes}");
        // Found at a look every 4,096 steps: past the cap by little.
        assert!(estimated_bytes < 2 << 20, "{estimated_bytes}");
        assert_eq!(report.peak_memory_bytes, estimated_bytes);
        assert_eq!(report.parts[0].status, PartStatus::MemoryCap);
        let text = report.to_string();
        for needle in [
            "memory cap of 1.00 MiB",
            "--max-memory-mib",
            "max_memory_bytes",
        ] {
            assert!(text.contains(needle), "{text:?} lacks {needle:?}");
        }
        assert_eq!(
            text,
            format!(
                "unknown: the search reached its memory cap of 1.00 MiB (it held about {:.2} MiB \
                 in model states and failed nodes); raise the cap with --max-memory-mib MIB, or \
                 CheckOptions::max_memory_bytes, if the machine has the memory",
                estimated_bytes as f64 / f64::from(1 << 20)
            )
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the cap did not stop it"
        );
        // `check`, with the default cap of 2 GiB, would search far longer;
        // what a check needs below the cap it still gets: the same shape
        // with 10 puts is decided under the 1 MiB cap.
        let small = History::from(exhaustive_puts("k", 10, 0));
        let report = check_with_options(&Kv, &small, &options);
        assert!(report.result.evidence().is_some(), "{report}");
        assert_eq!(report.unknown_reason, None);
        assert!(report.peak_memory_bytes > 0 && report.peak_memory_bytes <= 1 << 20);
    }

    #[test]
    fn parts_that_do_not_fit_in_memory_together_are_checked_one_after_another() {
        // Key "a" can never be decided (2^40 subsets); key "b" fails after
        // a search of about 14 · 2^13 nodes. Under a cap that "b" fits in
        // alone but not beside "a", the check must still find "b" failing:
        // whichever search reaches the cap first is put off, and "a", alone,
        // is given up at the cap.
        let b = exhaustive_puts("b", 14, 100);
        let alone = check_with_options(&Kv, &History::from(b.clone()), &CheckOptions::default());
        assert!(alone.result.evidence().is_some(), "{alone}");
        let need = alone.peak_memory_bytes;
        assert!(
            need > 1 << 20,
            "key b needs only {need} bytes: too small to test"
        );
        let cap = need + need / 2;

        let mut ops = exhaustive_puts("a", 40, 0);
        ops.extend(b);
        let history = History::from(ops);
        let options = CheckOptions::new(Duration::from_secs(120)).with_max_memory_bytes(cap);
        let report = check_with_options(&Kv, &history, &options);
        let evidence = report
            .result
            .evidence()
            .unwrap_or_else(|| panic!("key b's failure was not found under the cap: {report}"));
        assert_eq!(evidence.failures.len(), 1);
        assert_eq!(evidence.failures[0].name, "key \"b\"");
        assert_ne!(report.parts[0].status, PartStatus::Linearizable);
        // Past the cap only by what a search allocates between two looks.
        assert!(
            report.peak_memory_bytes < cap + (cap >> 2),
            "{} bytes held under a cap of {cap}",
            report.peak_memory_bytes
        );

        // And the check of "a" alone under that cap is given up there.
        let a = History::from(exhaustive_puts("a", 40, 0));
        let report = check_with_options(&Kv, &a, &options);
        assert!(
            matches!(report.unknown_reason, Some(UnknownReason::MemoryCap { .. })),
            "{report}"
        );
    }

    #[test]
    fn options_default_to_the_documented_limits() {
        let options = CheckOptions::default();
        assert_eq!(options.timeout, Duration::from_secs(60));
        assert_eq!(options.max_memory_bytes, 2 << 30);
        assert_eq!(
            CheckOptions::new(Duration::from_secs(1)).max_memory_bytes,
            CheckOptions::DEFAULT_MAX_MEMORY_BYTES
        );
        assert_eq!(
            options.with_max_memory_mib(u64::MAX).max_memory_bytes,
            u64::MAX
        );
        assert_eq!(
            options.with_timeout(Duration::from_secs(5)).timeout,
            Duration::from_secs(5)
        );
    }

    #[test]
    #[should_panic(expected = "in two parts")]
    fn a_model_whose_partition_repeats_an_operation_is_reported() {
        validate_partition(&[vec![0, 1], vec![1]], 2);
    }
}
