//! The checker against a brute-force oracle on small random histories.
//!
//! The oracle tries every order of the operations that respects real time
//! (an operation that returned before another was called comes first) and
//! replays it step by step on a whole-map state. An operation with an unknown
//! outcome that never returned may also be left out entirely, which is what
//! "may or may not have happened" means; the checker instead places such
//! operations somewhere, so agreement also shows the two views coincide.
//!
//! Histories come from simulating a real sequential object with overlapping
//! operations (so they are linearizable), some with unknown outcomes; half
//! are then broken by mutating one output or one time. Both verdicts must
//! agree on every case. A failure prints the seed and the history.

use std::collections::BTreeMap;

use labcheck::models::{
    Kv, KvInput, KvNoPartition, KvOutput, KvVersioned, Register, RegisterInput, RegisterOutput,
    VersionedInput, VersionedOutput,
};
use labcheck::{CheckResult, History, Model, Operation, check};
use labrt::time::Duration;

const BASE_SEED: u64 = 0x6c61_6263_6865_636b; // "labcheck"
const CASES_PER_MODEL: u64 = 400;
const TIMEOUT: Duration = Duration::from_secs(60);

#[path = "support/splitmix.rs"]
mod splitmix;
use splitmix::Rng;

/// A sequential specification's step, as the oracle uses it.
type Step<S, I, O> = dyn Fn(&S, &I, Option<&O>) -> Option<S>;
/// Makes a random linearizable history.
type Generate<I, O> = dyn Fn(&mut Rng) -> Vec<Operation<I, O>>;
/// The oracle's verdict on a history.
type Oracle<I, O> = dyn Fn(&[Operation<I, O>]) -> bool;

/// Does `a` have to come before `b` in real time?
fn precedes<I, O>(a: &Operation<I, O>, b: &Operation<I, O>) -> bool {
    a.ret.is_some_and(|r| r < b.call)
}

/// Whether some real-time-respecting order of `ops` (leaving out any
/// never-returned, unknown-outcome operations it likes) is accepted by
/// `step` from `init`.
fn brute_force<I, O, S: Clone>(ops: &[Operation<I, O>], init: S, step: &Step<S, I, O>) -> bool {
    fn go<I, O, S: Clone>(
        ops: &[Operation<I, O>],
        done: &mut Vec<bool>,
        state: &S,
        step: &Step<S, I, O>,
    ) -> bool {
        let pending: Vec<usize> = (0..ops.len()).filter(|&i| !done[i]).collect();
        // Done when only omittable operations are left.
        if pending
            .iter()
            .all(|&i| ops[i].output.is_none() && ops[i].ret.is_none())
        {
            return true;
        }
        for &i in &pending {
            let blocked = pending
                .iter()
                .any(|&j| j != i && precedes(&ops[j], &ops[i]));
            if blocked {
                continue;
            }
            if let Some(next) = step(state, &ops[i].input, ops[i].output.as_ref()) {
                done[i] = true;
                let ok = go(ops, done, &next, step);
                done[i] = false;
                if ok {
                    return true;
                }
            }
        }
        false
    }
    let mut done = vec![false; ops.len()];
    go(ops, &mut done, &init, step)
}

/// Checks that the evidence's prefix is a real linearization of its ops.
fn assert_evidence_is_consistent<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    result: &CheckResult,
    seed: u64,
) {
    let Some(evidence) = result.evidence() else {
        return;
    };
    assert!(
        !evidence.failures.is_empty(),
        "seed {seed}: no failing part"
    );
    let ops = history.ops();
    for failure in &evidence.failures {
        let mut state = model.init();
        let mut placed: Vec<usize> = Vec::new();
        for step in &failure.linearized {
            assert_eq!(
                step.state_before,
                model.describe_state(&state),
                "seed {seed}"
            );
            let op = &ops[step.op];
            state = model
                .step(&state, &op.input, op.output.as_ref())
                .unwrap_or_else(|| panic!("seed {seed}: prefix step #{} is illegal", step.op));
            assert_eq!(
                step.state_after,
                model.describe_state(&state),
                "seed {seed}"
            );
            for &earlier in &placed {
                assert!(
                    !precedes(op, &ops[earlier]),
                    "seed {seed}: prefix puts #{earlier} before #{} against real time",
                    step.op
                );
            }
            placed.push(step.op);
        }
        if let Some(stuck) = failure.stuck {
            assert!(
                failure.unplaced.contains(&stuck),
                "seed {seed}: stuck op was placed"
            );
        }
    }
}

/// One simulated operation before times are assigned.
struct Planned<I, O> {
    client: u64,
    input: I,
    output: Option<O>,
    /// The outcome is reported unknown.
    unknown: bool,
    /// The simulation applied it (false only for some unknown ones).
    applied: bool,
}

/// Gives each planned operation (in linearization order) an interval that
/// contains its linearization point `10 * (i + 1)`, so the history is
/// linearizable by construction. Unknown ones may never return, and those
/// the simulation did not apply never do (an operation that returned must
/// have taken effect before it returned).
fn assign_times<I, O>(rng: &mut Rng, planned: Vec<Planned<I, O>>) -> Vec<Operation<I, O>> {
    planned
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let point = 10 * (i as u64 + 1);
            let call = point - rng.below(25).min(point);
            let ret = point + rng.below(25);
            let never_returns = p.unknown && (!p.applied || rng.chance(50));
            let ret = if never_returns { None } else { Some(ret) };
            Operation {
                client: p.client,
                input: p.input,
                output: if p.unknown { None } else { p.output },
                call,
                ret,
            }
        })
        .collect()
}

/// Breaks a history a little: a different output, or a shifted time.
fn mutate<I, O: Clone>(
    rng: &mut Rng,
    ops: &mut [Operation<I, O>],
    other_output: &dyn Fn(&mut Rng, &I) -> O,
) {
    if ops.is_empty() {
        return;
    }
    let i = rng.below(ops.len() as u64) as usize;
    if rng.chance(70) {
        ops[i].output = Some(other_output(rng, &ops[i].input));
    } else {
        let shift = rng.below(30);
        ops[i].call += shift;
        ops[i].ret = ops[i].ret.map(|r| r.max(ops[i].call) + shift);
    }
}

/// Runs `cases` seeds of one model, comparing checker and oracle.
fn compare<M: Model>(
    name: &str,
    model: &M,
    generate: &Generate<M::Input, M::Output>,
    other_output: &dyn Fn(&mut Rng, &M::Input) -> M::Output,
    oracle: &Oracle<M::Input, M::Output>,
) -> (usize, usize)
where
    M::Input: Clone,
    M::Output: Clone,
{
    let mut linearizable = 0;
    let mut not = 0;
    for case in 0..CASES_PER_MODEL {
        let seed = BASE_SEED ^ case.wrapping_mul(0x1000_0000_01b3) ^ name.len() as u64;
        let mut rng = Rng(seed);
        let mut ops = generate(&mut rng);
        let broken = case % 2 == 1;
        let mut expected = oracle(&ops);
        // Mutate until the oracle rejects it (a mutation often keeps the
        // history linearizable), at most a few times.
        for _ in 0..(if broken { 4 } else { 0 }) {
            mutate(&mut rng, &mut ops, other_output);
            expected = oracle(&ops);
            if !expected {
                break;
            }
        }
        let history = History::from(ops);
        let result = check(model, &history, TIMEOUT);
        let got = match &result {
            CheckResult::Linearizable => true,
            CheckResult::NotLinearizable(_) => false,
            CheckResult::Unknown => panic!(
                "{name} seed {seed}: check timed out on {} ops",
                history.len()
            ),
        };
        assert_eq!(
            got,
            expected,
            "{name} seed {seed:#x} (case {case}, broken: {broken}): checker says {result}, brute force says {}\n{history}",
            if expected {
                "linearizable"
            } else {
                "not linearizable"
            }
        );
        if !broken {
            assert!(
                got,
                "{name} seed {seed:#x}: a simulated history must be linearizable\n{history}"
            );
        }
        assert_evidence_is_consistent(model, &history, &result, seed);
        if got {
            linearizable += 1;
        } else {
            not += 1;
        }
    }
    (linearizable, not)
}

fn assert_both_verdicts_seen(name: &str, (yes, no): (usize, usize)) {
    println!("{name}: {yes} linearizable and {no} not linearizable cases agreed");
    assert!(
        yes > 20 && no > 20,
        "{name}: too one-sided to test much ({yes} linearizable, {no} not)"
    );
}

// ---------------------------------------------------------------- key/value

const KEYS: [&str; 2] = ["a", "b"];
const WORDS: [&str; 3] = ["x", "y", ""];

fn kv_history(rng: &mut Rng) -> Vec<Operation<KvInput, KvOutput>> {
    let n = 2 + rng.below(8);
    let mut store: BTreeMap<&str, String> = BTreeMap::new();
    let mut planned = Vec::new();
    for _ in 0..n {
        let key = *rng.pick(&KEYS);
        let word = *rng.pick(&WORDS);
        let old = store.get(key).cloned().unwrap_or_default();
        let unknown = rng.chance(15);
        // An unknown update may not have happened at all.
        let applied = !unknown || rng.chance(50);
        let (input, output) = match rng.below(4) {
            0 => (KvInput::get(key), KvOutput::Value(old.clone())),
            1 => (KvInput::put(key, word), KvOutput::Ok),
            2 => (KvInput::append(key, word), KvOutput::Ok),
            _ => (
                KvInput::append_return_old(key, word),
                KvOutput::Value(old.clone()),
            ),
        };
        if applied {
            match &input {
                KvInput::Put { value, .. } => {
                    store.insert(key, value.clone());
                }
                KvInput::Append { value, .. } | KvInput::AppendReturnOld { value, .. } => {
                    store.insert(key, format!("{old}{value}"));
                }
                KvInput::Get { .. } => {}
            }
        }
        planned.push(Planned {
            client: rng.below(3),
            input,
            output: Some(output),
            unknown,
            applied,
        });
    }
    assign_times(rng, planned)
}

fn kv_other_output(rng: &mut Rng, input: &KvInput) -> KvOutput {
    match input {
        KvInput::Put { .. } | KvInput::Append { .. } => KvOutput::Ok,
        _ => KvOutput::Value(rng.pick(&["", "x", "y", "xy", "yx", "xx"]).to_string()),
    }
}

fn kv_oracle(ops: &[Operation<KvInput, KvOutput>]) -> bool {
    let step = |map: &BTreeMap<String, labcheck::models::KvValue>,
                input: &KvInput,
                output: Option<&KvOutput>| {
        let key = input.key().to_string();
        let value = map.get(&key).cloned().unwrap_or_default();
        let next = Kv.step(&value, input, output)?;
        let mut map = map.clone();
        map.insert(key, next);
        Some(map)
    };
    brute_force(ops, BTreeMap::new(), &step)
}

#[test]
fn kv_checker_agrees_with_brute_force() {
    let counts = compare("kv", &Kv, &kv_history, &kv_other_output, &kv_oracle);
    assert_both_verdicts_seen("kv", counts);
}

#[test]
fn kv_without_partitioning_agrees_with_brute_force() {
    let counts = compare(
        "kv-nopartition",
        &KvNoPartition,
        &kv_history,
        &kv_other_output,
        &kv_oracle,
    );
    assert_both_verdicts_seen("kv-nopartition", counts);
}

// ------------------------------------------------------ versioned key/value

fn versioned_history(rng: &mut Rng) -> Vec<Operation<VersionedInput, VersionedOutput>> {
    let n = 2 + rng.below(8);
    let mut store: BTreeMap<&str, (String, u64)> = BTreeMap::new();
    let mut planned = Vec::new();
    for _ in 0..n {
        let key = *rng.pick(&KEYS);
        let current = store.get(key).cloned();
        let current_version = current.as_ref().map_or(0, |(_, v)| *v);
        let unknown = rng.chance(15);
        if rng.chance(35) {
            let output = match &current {
                Some((value, version)) => VersionedOutput::value(value.clone(), *version),
                None => VersionedOutput::NoKey,
            };
            planned.push(Planned {
                client: rng.below(3),
                input: VersionedInput::get(key),
                output: Some(output),
                unknown,
                applied: true,
            });
            continue;
        }
        // Mostly the right version, sometimes a stale or future one.
        let version = match rng.below(4) {
            0 => current_version.saturating_sub(1),
            1 => current_version + 1,
            _ => current_version,
        };
        let value = rng.pick(&WORDS).to_string();
        let matches = version == current_version;
        let output = if matches {
            if rng.chance(20) {
                VersionedOutput::Maybe
            } else {
                VersionedOutput::Ok
            }
        } else if rng.chance(20) {
            VersionedOutput::Maybe
        } else if current.is_none() {
            VersionedOutput::NoKey
        } else {
            VersionedOutput::WrongVersion
        };
        let applied = !unknown || rng.chance(50);
        if matches && applied {
            store.insert(key, (value.clone(), version + 1));
        }
        planned.push(Planned {
            client: rng.below(3),
            input: VersionedInput::put(key, value, version),
            output: Some(output),
            unknown,
            applied,
        });
    }
    assign_times(rng, planned)
}

fn versioned_other_output(rng: &mut Rng, input: &VersionedInput) -> VersionedOutput {
    match input {
        VersionedInput::Get { .. } => match rng.below(3) {
            0 => VersionedOutput::NoKey,
            _ => VersionedOutput::value(rng.pick(&WORDS).to_string(), rng.below(3)),
        },
        VersionedInput::Put { .. } => rng
            .pick(&[
                VersionedOutput::Ok,
                VersionedOutput::WrongVersion,
                VersionedOutput::NoKey,
            ])
            .clone(),
    }
}

fn versioned_oracle(ops: &[Operation<VersionedInput, VersionedOutput>]) -> bool {
    let step = |map: &BTreeMap<String, Option<(String, u64)>>,
                input: &VersionedInput,
                output: Option<&VersionedOutput>| {
        let key = input.key().to_string();
        let value = map.get(&key).cloned().flatten();
        let next = KvVersioned.step(&value, input, output)?;
        let mut map = map.clone();
        map.insert(key, next);
        Some(map)
    };
    brute_force(ops, BTreeMap::new(), &step)
}

#[test]
fn versioned_kv_checker_agrees_with_brute_force() {
    let counts = compare(
        "kv-versioned",
        &KvVersioned,
        &versioned_history,
        &versioned_other_output,
        &versioned_oracle,
    );
    assert_both_verdicts_seen("kv-versioned", counts);
}

// ----------------------------------------------------------------- register

fn register_history(rng: &mut Rng) -> Vec<Operation<RegisterInput, RegisterOutput>> {
    let n = 2 + rng.below(8);
    let mut register: Option<i64> = None;
    let mut planned = Vec::new();
    for _ in 0..n {
        let unknown = rng.chance(20);
        let applied = !unknown || rng.chance(50);
        let (input, output) = match rng.below(3) {
            0 => (RegisterInput::Read, RegisterOutput::Value(register)),
            1 => {
                let value = rng.below(3) as i64;
                if applied {
                    register = Some(value);
                }
                (RegisterInput::Write { value }, RegisterOutput::Ok)
            }
            _ => {
                let (from, to) = (rng.below(3) as i64, rng.below(3) as i64);
                if register == Some(from) {
                    if applied {
                        register = Some(to);
                    }
                    (RegisterInput::Cas { from, to }, RegisterOutput::Ok)
                } else {
                    (RegisterInput::Cas { from, to }, RegisterOutput::CasFailed)
                }
            }
        };
        planned.push(Planned {
            client: rng.below(3),
            input,
            output: Some(output),
            unknown,
            applied,
        });
    }
    assign_times(rng, planned)
}

fn register_other_output(rng: &mut Rng, input: &RegisterInput) -> RegisterOutput {
    match input {
        RegisterInput::Read => {
            RegisterOutput::Value(rng.pick(&[None, Some(0), Some(1), Some(2)]).to_owned())
        }
        RegisterInput::Write { .. } => RegisterOutput::Ok,
        RegisterInput::Cas { .. } => *rng.pick(&[RegisterOutput::Ok, RegisterOutput::CasFailed]),
    }
}

fn register_oracle(ops: &[Operation<RegisterInput, RegisterOutput>]) -> bool {
    let step =
        |s: &Option<i64>, i: &RegisterInput, o: Option<&RegisterOutput>| Register.step(s, i, o);
    brute_force(ops, None, &step)
}

#[test]
fn register_checker_agrees_with_brute_force() {
    let counts = compare(
        "register",
        &Register,
        &register_history,
        &register_other_output,
        &register_oracle,
    );
    assert_both_verdicts_seen("register", counts);
}

// ------------------------------------------------------------ the oracle

#[test]
fn brute_force_oracle_rejects_a_stale_read_and_accepts_a_concurrent_one() {
    let write = Operation::completed(
        0,
        RegisterInput::Write { value: 1 },
        RegisterOutput::Ok,
        0,
        10,
    );
    let stale = Operation::completed(1, RegisterInput::Read, RegisterOutput::Value(None), 20, 30);
    let concurrent =
        Operation::completed(1, RegisterInput::Read, RegisterOutput::Value(None), 5, 30);
    assert!(!register_oracle(&[write.clone(), stale]));
    assert!(register_oracle(&[write, concurrent]));
}

#[test]
fn brute_force_oracle_may_leave_out_an_unknown_write() {
    let lost = Operation::unknown(0, RegisterInput::Write { value: 1 }, 0);
    let read = Operation::completed(1, RegisterInput::Read, RegisterOutput::Value(None), 20, 30);
    assert!(register_oracle(&[lost, read]));
}
