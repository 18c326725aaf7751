//! Generates a fresh set of hard key/value histories in the shapes of
//! `testdata/porcupine-hard` (its `kv/hotkey_*`, `kv/bigkey_*` and
//! `kv/manykeys_*` groups), in the same format and folder layout:
//!
//! ```text
//! cargo run --release -p labcheck --example gen_hard -- OUT_DIR SEED
//! ```
//!
//! writes 36 candidates, `OUT_DIR/kv/{hotkey,bigkey,manykeys}_NN.txt`
//! (Porcupine's key/value EDN lines, one event a line, the line number
//! being the time), `OUT_DIR/expected.tsv` (`file verdict model
//! porcupine_median_ms ops`) and `OUT_DIR/generated.tsv` (each file's
//! parameters, its anomalies and the verdict the generator intended).
//! `testdata/generated-hard` is its output for seed 20261203, less the
//! candidates Porcupine could not decide in 30 s (that folder's README).
//!
//! The generator only produces executions: a simulated correct store
//! (every operation takes effect atomically at an instant inside its
//! interval, and gets return the value at that instant), with an injected
//! anomaly for the files meant to fail, placed so that the history shows
//! it beyond any explanation (see [`KeyState::provably_stale`] and
//! [`witnessed`]). Its `verdict` column is the intended verdict, nothing
//! more, and `porcupine_median_ms` is `-`: both are to be replaced by what
//! Porcupine says when a set is vendored.
//!
//! Everything is drawn from splitmix64 streams seeded from `SEED`, so the
//! same command writes the same bytes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// An append that would make a value longer than this becomes a put.
const MAX_VALUE: usize = 2400;

#[path = "../tests/support/splitmix.rs"]
mod splitmix;
use splitmix::Rng;

/// The draws the generator needs beyond the shared generator's.
trait Draw {
    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64;
    /// Uniform integer in lo..=hi.
    fn int(&mut self, lo: u64, hi: u64) -> u64;
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64;
    /// Log-normal with median `median` and shape `sigma`.
    fn log_normal(&mut self, median: f64, sigma: f64) -> f64;
    /// Exponential with mean `mean`.
    fn exp(&mut self, mean: f64) -> f64;
    /// Fisher-Yates.
    fn shuffle<T>(&mut self, items: &mut [T]);
}

impl Draw for Rng {
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn int(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.unit();
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// A violation injected into an otherwise correct execution.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Anomaly {
    /// A get returns one of its key's last few earlier values.
    StaleRead,
    /// An acknowledged append is never applied.
    LostAppend,
    /// An append is applied twice.
    DupAppend,
    /// An append's token lands before the previous append's.
    ReorderAppends,
    /// A get returns a token nobody appended.
    PhantomRead,
}

impl Anomaly {
    fn name(self) -> &'static str {
        match self {
            Anomaly::StaleRead => "stale_read",
            Anomaly::LostAppend => "lost_append",
            Anomaly::DupAppend => "dup_append",
            Anomaly::ReorderAppends => "reorder_appends",
            Anomaly::PhantomRead => "phantom_read",
        }
    }
}

/// One simulated workload on one or more keys.
#[derive(Clone, Debug)]
struct Spec {
    clients: u64,
    ops: usize,
    /// The keys' names; with `hot_share`, the first is the hot key.
    keys: Vec<String>,
    /// The fraction of operations on the first key (the rest spread evenly
    /// over the others); `None`: keys are uniform.
    hot_share: Option<f64>,
    p_get: f64,
    p_put: f64,
    /// Mean think time between a client's operations (latency has median 1).
    think: f64,
    /// Each operation takes effect at an instant uniform in this fraction
    /// of its interval.
    lin: (f64, f64),
    anomalies: Vec<Anomaly>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Get,
    Put,
    Append,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Get => "get",
            Kind::Put => "put",
            Kind::Append => "append",
        }
    }
}

#[derive(Clone, Debug)]
struct Op {
    client: u64,
    key: String,
    kind: Kind,
    /// The written value (put, append).
    value: String,
    /// What a get returned.
    output: String,
    call: f64,
    ret: f64,
    effect: f64,
}

/// One key of the simulated store.
#[derive(Default)]
struct KeyState {
    value: String,
    /// The return time of the put that wrote the start of `value`; `None`:
    /// `value` was built by appends from the initial `""`.
    anchor: Option<f64>,
    /// The earlier values, oldest first, each with its anchor.
    past: Vec<(String, Option<f64>)>,
    /// The writes applied so far: call, return, value written.
    writes: Vec<(f64, f64, String)>,
    /// The last append and its return time, while its token ends `value`.
    last_append: Option<(String, f64)>,
}

impl KeyState {
    /// Which of the last five earlier values a get called at `call` cannot
    /// return in any order that respects real time: a value V whose
    /// anchor put P returned before some write W was called, W returned
    /// before `call`, and V lacks W's token. (Every order puts P, then W,
    /// before the get; P is the last put before it, since V starts with
    /// P's token; so W's token would be in what the get sees. With no
    /// anchor, no put at all can precede the get, and every write before
    /// it is an append in V.)
    fn provably_stale(&self, call: f64) -> Vec<usize> {
        let n = self.past.len();
        (n.saturating_sub(5)..n)
            .filter(|&k| {
                let (v, anchor) = &self.past[k];
                *v != self.value
                    && self.writes.iter().any(|(c, r, w)| {
                        *r < call && anchor.is_none_or(|a| a < *c) && !v.contains(w.as_str())
                    })
            })
            .collect()
    }
}

/// Whether the history shows the anomaly `a` that hit operation `i` so that
/// no order explains it (a phantom or provably stale read always does):
///
/// - a lost append A (its key's anchor put returned before A was called):
///   some later get, called after A returned, saw a value from that same
///   anchor without A's token;
/// - a duplicated append: some get saw its token twice;
/// - a reordered append A (the previous append P returned before A was
///   called): some get saw A's token before P's.
fn witnessed(
    ops: &[Op],
    out_anchor: &[Option<f64>],
    a: Anomaly,
    i: usize,
    prev: &str,
    anchor: Option<f64>,
) -> bool {
    let hit = &ops[i];
    let gets = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| o.kind == Kind::Get && o.key == hit.key);
    let token = hit.value.as_str();
    match a {
        Anomaly::StaleRead | Anomaly::PhantomRead => true,
        Anomaly::LostAppend => gets
            .into_iter()
            .any(|(g, o)| o.call > hit.ret && out_anchor[g] == anchor && !o.output.contains(token)),
        Anomaly::DupAppend => gets
            .into_iter()
            .any(|(_, o)| o.output.matches(token).count() >= 2),
        Anomaly::ReorderAppends => {
            gets.into_iter()
                .any(|(_, o)| match (o.output.find(token), o.output.find(prev)) {
                    (Some(x), Some(y)) => x < y,
                    _ => false,
                })
        }
    }
}

/// Runs `spec` once from `seed`; returns the operations, the anomalies that
/// found an operation to hit (in the order armed), and whether the history
/// shows each of them beyond explanation (see [`witnessed`]).
fn simulate(spec: &Spec, seed: u64) -> (Vec<Op>, Vec<Anomaly>, bool) {
    let mut rng = Rng(seed);
    // Clients run one operation at a time; take the earliest next call.
    let mut next_call: Vec<f64> = (0..spec.clients).map(|_| rng.exp(spec.think)).collect();
    let mut seq = vec![0u64; spec.clients as usize];
    let mut ops: Vec<Op> = Vec::with_capacity(spec.ops);
    while ops.len() < spec.ops {
        let (c, &call) = next_call
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .expect("at least one client");
        let latency = rng.log_normal(1.0, 0.6);
        let ret = call + latency;
        let effect = call + latency * rng.range(spec.lin.0, spec.lin.1);
        next_call[c] = ret + rng.exp(spec.think);
        let key = match spec.hot_share {
            Some(h) if spec.keys.len() == 1 || rng.unit() < h => spec.keys[0].clone(),
            Some(_) => spec.keys[rng.int(1, spec.keys.len() as u64 - 1) as usize].clone(),
            None => spec.keys[rng.int(0, spec.keys.len() as u64 - 1) as usize].clone(),
        };
        let roll = rng.unit();
        let kind = if roll < spec.p_get {
            Kind::Get
        } else if roll < spec.p_get + spec.p_put {
            Kind::Put
        } else {
            Kind::Append
        };
        let value = if kind == Kind::Get {
            String::new()
        } else {
            seq[c] += 1;
            format!("x {c} {} y", seq[c] - 1)
        };
        ops.push(Op {
            client: c as u64,
            key,
            kind,
            value,
            output: String::new(),
            call,
            ret,
            effect,
        });
    }

    // Arm each anomaly at an instant between 5% and 80% of the run.
    let start = ops.iter().map(|o| o.call).fold(f64::INFINITY, f64::min);
    let end = ops.iter().map(|o| o.ret).fold(0.0, f64::max);
    let mut pending: Vec<(f64, Anomaly)> = spec
        .anomalies
        .iter()
        .map(|&a| (start + (end - start) * rng.range(0.05, 0.8), a))
        .collect();
    pending.sort_by(|a, b| a.0.total_cmp(&b.0));
    // What each anomaly hit: (anomaly, operation, the previous append's
    // token for a reordering, the anchor's return time for a lost append).
    let mut hits: Vec<(Anomaly, usize, String, Option<f64>)> = Vec::new();
    // Per get: the return time of the put its value starts with.
    let mut out_anchor: Vec<Option<f64>> = vec![None; ops.len()];

    // Apply the operations in the order they take effect.
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by(|&a, &b| ops[a].effect.total_cmp(&ops[b].effect));
    let mut keys: HashMap<String, KeyState> = HashMap::new();
    for i in order {
        let at = ops[i].effect;
        let state = keys.entry(ops[i].key.clone()).or_default();
        let op = &mut ops[i];
        // Stale values this get could return that no order explains.
        let stale: Vec<usize> = if op.kind == Kind::Get {
            state.provably_stale(op.call)
        } else {
            Vec::new()
        };
        let fits = |a: Anomaly| match a {
            Anomaly::StaleRead => !stale.is_empty(),
            Anomaly::PhantomRead => op.kind == Kind::Get,
            Anomaly::LostAppend => {
                op.kind == Kind::Append
                    && state.value.len() + op.value.len() <= MAX_VALUE
                    && state.anchor.is_none_or(|r| r < op.call)
            }
            Anomaly::DupAppend => {
                op.kind == Kind::Append && state.value.len() + 2 * op.value.len() <= MAX_VALUE
            }
            Anomaly::ReorderAppends => {
                op.kind == Kind::Append
                    && state.value.len() + op.value.len() <= MAX_VALUE
                    && state
                        .last_append
                        .as_ref()
                        .is_some_and(|(_, r)| *r < op.call)
            }
        };
        // The first armed anomaly (armed before now) this operation fits.
        let anomaly = pending
            .iter()
            .position(|&(t, a)| t <= at && fits(a))
            .map(|p| pending.remove(p).1);
        if let Some(a) = anomaly {
            let prev = state
                .last_append
                .as_ref()
                .map_or(String::new(), |(t, _)| t.clone());
            hits.push((a, i, prev, state.anchor));
        }
        if op.kind == Kind::Get {
            let (output, anchor) = match anomaly {
                Some(Anomaly::StaleRead) => {
                    let pick = stale[rng.int(0, stale.len() as u64 - 1) as usize];
                    state.past[pick].clone()
                }
                Some(Anomaly::PhantomRead) => (
                    format!("{}x {} 9{} y", state.value, op.client, rng.int(100, 999)),
                    state.anchor,
                ),
                _ => (state.value.clone(), state.anchor),
            };
            op.output = output;
            out_anchor[i] = anchor;
            continue;
        }
        if op.kind == Kind::Append && state.value.len() + op.value.len() > MAX_VALUE {
            op.kind = Kind::Put;
        }
        let next = match (op.kind, anomaly) {
            (Kind::Put, _) => op.value.clone(),
            (_, Some(Anomaly::LostAppend)) => state.value.clone(),
            (_, Some(Anomaly::DupAppend)) => format!("{}{}{}", state.value, op.value, op.value),
            (_, Some(Anomaly::ReorderAppends)) => {
                let (prev, _) = state.last_append.as_ref().expect("checked by fits");
                let head = &state.value[..state.value.len() - prev.len()];
                format!("{head}{}{prev}", op.value)
            }
            _ => format!("{}{}", state.value, op.value),
        };
        let old_anchor = state.anchor;
        state.last_append = match (op.kind, anomaly) {
            (Kind::Append, None) => Some((op.value.clone(), op.ret)),
            _ => None,
        };
        if op.kind == Kind::Put {
            state.anchor = Some(op.ret);
        }
        state.writes.push((op.call, op.ret, op.value.clone()));
        if next != state.value {
            let old = std::mem::replace(&mut state.value, next);
            state.past.push((old, old_anchor));
        }
    }
    let applied = hits.iter().map(|h| h.0).collect();
    let witnessed = hits
        .iter()
        .all(|(a, i, prev, anchor)| witnessed(&ops, &out_anchor, *a, *i, prev, *anchor));
    (ops, applied, witnessed)
}
/// One line of Porcupine's key/value format.
fn invoke_line(op: &Op) -> String {
    let value = if op.kind == Kind::Get {
        "nil".to_string()
    } else {
        format!("\"{}\"", op.value)
    };
    format!(
        "{{:process {}, :type :invoke, :f :{}, :key \"{}\", :value {value}}}",
        op.client,
        op.kind.name(),
        op.key
    )
}

fn ok_line(op: &Op) -> String {
    let value = if op.kind == Kind::Get {
        &op.output
    } else {
        &op.value
    };
    format!(
        "{{:process {}, :type :ok, :f :{}, :key \"{}\", :value \"{value}\"}}",
        op.client,
        op.kind.name(),
        op.key
    )
}

/// The history's lines in real-time order.
fn lines(ops: &[Op]) -> Vec<String> {
    let mut events: Vec<(f64, bool, usize)> = Vec::with_capacity(2 * ops.len());
    for (i, op) in ops.iter().enumerate() {
        events.push((op.call, false, i));
        events.push((op.ret, true, i));
    }
    // A return at the same instant as a call counts as after it (concurrent).
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    events
        .into_iter()
        .map(|(_, ret, i)| {
            if ret {
                ok_line(&ops[i])
            } else {
                invoke_line(&ops[i])
            }
        })
        .collect()
}

/// Simulates `spec` from `seed`, stepping the seed until every anomaly
/// found an operation to hit and the history shows it beyond explanation;
/// returns the operations and the seed used.
fn simulate_all_applied(spec: &Spec, seed: u64) -> (Vec<Op>, u64) {
    for s in seed.. {
        let (ops, applied, witnessed) = simulate(spec, s);
        if applied.len() == spec.anomalies.len() && witnessed {
            return (ops, s);
        }
    }
    unreachable!("the seeds ran out")
}

/// A generated file: its lines and a row for `generated.tsv`.
struct File {
    name: String,
    lines: Vec<String>,
    ops: usize,
    clients: u64,
    keys: usize,
    anomalies: Vec<Anomaly>,
    params: String,
}

fn anomaly_names(anomalies: &[Anomaly]) -> String {
    if anomalies.is_empty() {
        "-".to_string()
    } else {
        anomalies
            .iter()
            .map(|a| a.name())
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn key_names(n: usize) -> Vec<String> {
    (0..n).map(|k| k.to_string()).collect()
}

/// Rounds to a multiple of 0.5.
fn half(x: f64) -> f64 {
    (x * 2.0).round() / 2.0
}

/// One hot key, 30-60 clients, 400-600 operations of get/put/append.
fn hotkey(rng: &mut Rng, seed: u64, anomalies: Vec<Anomaly>) -> File {
    let clients = rng.int(30, 60);
    let ops = 50 * rng.int(8, 12) as usize;
    let keys = if rng.unit() < 0.5 {
        1
    } else {
        rng.int(8, 10) as usize
    };
    // About 3.5-5.5 operations in flight: think + latency (mean 1.2) per client.
    let in_flight = rng.range(3.5, 5.5);
    let think = half(clients as f64 * 1.2 / in_flight - 1.2).max(1.0);
    let lin = (0.001, 0.2);
    let spec = Spec {
        clients,
        ops,
        keys: key_names(keys),
        hot_share: Some(if keys == 1 { 1.0 } else { 0.95 }),
        p_get: 0.4,
        p_put: 0.05,
        think,
        lin,
        anomalies: anomalies.clone(),
    };
    let (history, used) = simulate_all_applied(&spec, seed);
    let hot_ops = history.iter().filter(|o| o.key == "0").count();
    File {
        name: String::new(),
        lines: lines(&history),
        ops,
        clients,
        keys,
        anomalies,
        params: format!(
            "seed {used}; hot ops {hot_ops}; hot share {}; p_get 0.4; p_put 0.05; think {think}; lin {}-{}",
            spec.hot_share.unwrap_or(1.0),
            lin.0,
            lin.1
        ),
    }
}

/// 8-10 keys, 15-30 clients that are almost never idle, mostly appends.
fn manykeys(rng: &mut Rng, seed: u64, anomalies: Vec<Anomaly>) -> File {
    let clients = rng.int(15, 30);
    // As in porcupine-hard: 8 keys for fewer than 20 clients, else 10.
    let keys = if clients < 20 { 8 } else { 10 };
    let ops = if rng.unit() < 0.5 { 1500 } else { 2000 };
    let spec = Spec {
        clients,
        ops,
        keys: key_names(keys),
        hot_share: None,
        p_get: 0.25,
        p_put: 0.02,
        think: 0.05,
        lin: (0.001, 0.2),
        anomalies: anomalies.clone(),
    };
    let (history, used) = simulate_all_applied(&spec, seed);
    File {
        name: String::new(),
        lines: lines(&history),
        ops,
        clients,
        keys,
        anomalies,
        params: format!("seed {used}; p_get 0.25; p_put 0.02; think 0.05; lin 0.001-0.2"),
    }
}

/// One big linearizable key and 3-6 small keys, exactly one of them with
/// `bad` injected; each component on its own client ids, spread over a
/// window of a common timeline.
fn bigkey(rng: &mut Rng, seed: u64, bad: Anomaly) -> File {
    let mut names = key_names(10);
    rng.shuffle(&mut names);
    let big_clients = rng.int(30, 60);
    let big_ops = 50 * rng.int(5, 8) as usize;
    let in_flight = rng.range(4.0, 6.0);
    let big_think = half(big_clients as f64 * 1.2 / in_flight - 1.2).max(1.0);
    let mut components: Vec<Spec> = vec![Spec {
        clients: big_clients,
        ops: big_ops,
        keys: vec![names[0].clone()],
        hot_share: Some(1.0),
        p_get: 0.4,
        p_put: 0.05,
        think: big_think,
        lin: (0.001, 0.2),
        anomalies: Vec::new(),
    }];
    let small = rng.int(3, 6) as usize;
    let bad_index = 1 + rng.int(0, small as u64 - 1) as usize;
    for (k, name) in names.iter().enumerate().take(small + 1).skip(1) {
        components.push(Spec {
            clients: rng.int(3, 8),
            ops: rng.int(20, 80) as usize,
            keys: vec![name.clone()],
            hot_share: Some(1.0),
            p_get: 0.4,
            p_put: 0.05,
            think: half(rng.range(0.5, 2.0)),
            lin: (0.001, 0.999),
            anomalies: if k == bad_index {
                vec![bad]
            } else {
                Vec::new()
            },
        });
    }
    // Each component's lines, shifted clients, spread over its window.
    let mut placed: Vec<(f64, usize, String)> = Vec::new();
    let mut offset = 0;
    let mut described = Vec::new();
    let mut total_ops = 0;
    for (c, spec) in components.iter().enumerate() {
        let (mut history, used) = simulate_all_applied(spec, seed * 1000 + 100 * c as u64);
        for op in &mut history {
            op.client += offset;
        }
        offset += spec.clients;
        total_ops += spec.ops;
        let lines = lines(&history);
        let (from, width) = if c == 0 {
            (0.0, 1.0)
        } else {
            let width = rng.range(0.25, 0.7);
            (rng.range(0.0, 1.0 - width), width)
        };
        let n = lines.len() as f64;
        for (j, line) in lines.into_iter().enumerate() {
            placed.push((from + width * (j as f64 + 0.5) / n, c, line));
        }
        described.push(format!(
            "{}\"{}\" {} ops {} clients think {} seed {used}{}",
            if c == 0 { "big " } else { "" },
            spec.keys[0],
            spec.ops,
            spec.clients,
            spec.think,
            if spec.anomalies.is_empty() {
                String::new()
            } else {
                format!(" {}", anomaly_names(&spec.anomalies))
            }
        ));
    }
    // Merge by instant, stably, so each key keeps its own sub-history.
    placed.sort_by(|a, b| a.0.total_cmp(&b.0));
    File {
        name: String::new(),
        lines: placed.into_iter().map(|p| p.2).collect(),
        ops: total_ops,
        clients: offset,
        keys: small + 1,
        anomalies: vec![bad],
        params: described.join("; "),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(seed)) = (
        args.first(),
        args.get(1).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: gen_hard OUT_DIR SEED");
        std::process::exit(2);
    };
    let out = PathBuf::from(out);
    if let Err(e) = std::fs::create_dir_all(out.join("kv")) {
        eprintln!("gen_hard: cannot create {}: {e}", out.join("kv").display());
        std::process::exit(2);
    }
    let mut rng = Rng(seed);
    let mut file_seed = seed.wrapping_mul(100);
    let mut next_seed = || {
        file_seed = file_seed.wrapping_add(1);
        file_seed
    };

    use Anomaly::*;
    // Candidates: 16 hot-key files (8 with an anomaly), 8 bigkey files (each
    // with one bad small key), 12 manykeys files (6 with an anomaly).
    let none = || Vec::new();
    let mut hot_anomalies: Vec<Vec<Anomaly>> = (0..8).map(|_| none()).collect();
    hot_anomalies.extend([
        vec![StaleRead],
        vec![StaleRead],
        vec![StaleRead],
        vec![LostAppend],
        vec![LostAppend],
        vec![LostAppend],
        vec![DupAppend],
        vec![ReorderAppends],
    ]);
    let big_anomalies = [
        StaleRead,
        StaleRead,
        LostAppend,
        LostAppend,
        PhantomRead,
        DupAppend,
        ReorderAppends,
        StaleRead,
    ];
    let mut many_anomalies: Vec<Vec<Anomaly>> = (0..6).map(|_| none()).collect();
    many_anomalies.extend([
        vec![StaleRead],
        vec![StaleRead],
        vec![LostAppend],
        vec![LostAppend],
        vec![StaleRead, LostAppend],
        vec![DupAppend],
    ]);

    let mut groups: Vec<(&str, Vec<File>)> = Vec::new();
    let files = hot_anomalies
        .into_iter()
        .map(|a| hotkey(&mut rng, next_seed(), a))
        .collect();
    groups.push(("hotkey", files));
    let files = big_anomalies
        .into_iter()
        .map(|a| bigkey(&mut rng, next_seed(), a))
        .collect();
    groups.push(("bigkey", files));
    let files = many_anomalies
        .into_iter()
        .map(|a| manykeys(&mut rng, next_seed(), a))
        .collect();
    groups.push(("manykeys", files));

    let mut expected = String::from("file\tverdict\tmodel\tporcupine_median_ms\tops\n");
    let mut generated = String::from("file\tintended\tops\tclients\tkeys\tanomalies\tparams\n");
    for (group, mut files) in groups {
        // Shuffle before numbering, so a name says nothing about the verdict.
        rng.shuffle(&mut files);
        for (n, file) in files.iter_mut().enumerate() {
            file.name = format!("kv/{group}_{n:02}.txt");
            write_lines(&out.join(&file.name), &file.lines);
            let intended = if file.anomalies.is_empty() {
                "linearizable"
            } else {
                "not_linearizable"
            };
            writeln!(expected, "{}\t{intended}\tkv\t-\t{}", file.name, file.ops)
                .expect("write to a string");
            writeln!(
                generated,
                "{}\t{intended}\t{}\t{}\t{}\t{}\t{}",
                file.name,
                file.ops,
                file.clients,
                file.keys,
                anomaly_names(&file.anomalies),
                file.params
            )
            .expect("write to a string");
        }
    }
    write_file(&out.join("expected.tsv"), &expected);
    write_file(&out.join("generated.tsv"), &generated);
    let written = expected.lines().count() - 1;
    println!("wrote {written} histories to {}", out.display());
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = String::new();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    write_file(path, &text);
}

/// Writes `text` to `path`, or says which file could not be written and stops.
fn write_file(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        eprintln!("gen_hard: cannot write {}: {e}", path.display());
        std::process::exit(2);
    }
}
