//! `check`: the verdict on a whole history, and the evidence behind it.

use std::fmt;

use labrt::time::Duration;

use crate::history::{History, Operation};
use crate::model::Model;
use crate::scheduler;
use crate::search::{BOTH_ORDERS, Outcome, PathStep};

/// The verdict on a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckResult {
    /// Some order of the operations respects real time and the model.
    Linearizable,
    /// No such order exists; the evidence says where the search got stuck.
    NotLinearizable(Evidence),
    /// The check ran out of time. This is not a pass: the history may or may
    /// not be linearizable.
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
            CheckResult::Unknown => write!(f, "unknown (the check timed out)"),
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

/// Checks whether `history` is linearizable with respect to `model`, giving
/// up after `timeout` (`Duration::MAX` for never).
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
    run(model, history.ops(), timeout, false).result
}

/// A verdict plus, for a linearizable history when asked for, a
/// linearization of every part.
pub(crate) struct Detailed {
    pub(crate) result: CheckResult,
    /// Per part (in partition order): its linearization, when found.
    pub(crate) witness: Vec<(usize, Vec<LinearizedOp>)>,
    /// Per part, in partition order: what its check took.
    pub(crate) stats: Vec<PartStats>,
}

pub(crate) fn run<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Duration,
    want_witness: bool,
) -> Detailed {
    let parts = model.partition(history);
    validate_partition(&parts, history.len());
    let mut results =
        scheduler::check_parts(model, history, &parts, timeout, &BOTH_ORDERS, want_witness);
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
        })
        .collect();
    for r in &results {
        let part = &mut stats[r.part];
        part.status = match r.outcome {
            Outcome::Linearizable(_) => PartStatus::Linearizable,
            Outcome::Illegal { .. } => PartStatus::NotLinearizable,
            Outcome::TimedOut => PartStatus::TimedOut,
            Outcome::Stopped => PartStatus::Unfinished,
        };
        part.elapsed = r.elapsed;
        part.nodes = r.stats.placed;
        part.memo_hits = r.stats.memo_hits;
        part.states = r.stats.states;
    }
    let outcomes = results.into_iter().map(|r| (r.part, r.outcome)).collect();
    let mut detailed = summarize(model, history, &parts, outcomes);
    detailed.stats = stats;
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
    let detailed = run(model, history.ops(), timeout, false);
    (detailed.result, detailed.stats)
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
            Outcome::TimedOut | Outcome::Stopped => unfinished = true,
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
    use crate::models::{Register, RegisterInput, RegisterOutput};
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
        let limits = Limits {
            deadline: None,
            stop: &stop,
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
        let result = check(&Register, &History::from(ops), Duration::from_micros(1));
        assert_eq!(result, CheckResult::Unknown);
    }

    #[test]
    #[should_panic(expected = "in two parts")]
    fn a_model_whose_partition_repeats_an_operation_is_reported() {
        validate_partition(&[vec![0, 1], vec![1]], 2);
    }
}
