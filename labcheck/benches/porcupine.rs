//! Times labcheck on every row of the Porcupine reference data, of the
//! hard histories and of the generated hard histories, beside Porcupine's
//! own timings (`porcupine-ms.tsv` for the reference data, the
//! `porcupine_median_ms` column of the other sets' `expected.tsv`).
//!
//! `cargo bench -p labcheck --bench porcupine` runs all 181 rows;
//! `cargo bench -p labcheck --bench porcupine -- etcd_00` runs the rows
//! whose file contains `etcd_00`. Parsing is not timed (as for Porcupine's
//! figures); each figure is the median of several runs (fewer for rows that
//! take seconds).

#[path = "../tests/support/porcupine_data.rs"]
mod porcupine_data;

use std::path::Path;
// Stays on std: the benchmark times itself on the real clock, whatever labrt's mode.
use std::time::Instant;

use labcheck::CheckResult;
use labrt::time::Duration;
use porcupine_data::{
    Row, check_row, data_dir, expected_rows, generated_hard_data_dir, hard_data_dir, load,
    porcupine_ms,
};

const TIMEOUT: Duration = Duration::from_secs(600);
/// Runs of each row: at least `MIN_RUNS`, and more (up to `MAX_RUNS`) while
/// less than `MIN_TOTAL` was spent on it; rows that take long stop after
/// `SLOW_RUNS` once `SLOW_TOTAL` was spent.
const MIN_RUNS: usize = 5;
const MAX_RUNS: usize = 101;
const MIN_TOTAL: Duration = Duration::from_millis(30);
const SLOW_RUNS: usize = 1;
const SLOW_TOTAL: Duration = Duration::from_secs(2);

/// One timed row.
struct Timed {
    row: Row,
    ours_ms: f64,
    theirs_ms: Option<f64>,
    right: bool,
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut wrong = 0;

    println!("== Porcupine's reference histories (testdata/porcupine-data)");
    let reference = bench_set(&data_dir(), filter.as_deref());
    summarize(
        &reference,
        |r| r.model.clone(),
        &["etcd", "kv", "kv-nopartition"],
    );
    wrong += reference.iter().filter(|t| !t.right).count();

    println!();
    println!("== hard histories (testdata/porcupine-hard)");
    let hard = bench_set(&hard_data_dir(), filter.as_deref());
    let group = |r: &Row| {
        ["hotkey", "bigkey", "register", "manykeys"]
            .into_iter()
            .find(|g| r.file.contains(g))
            .unwrap_or("other")
            .to_string()
    };
    summarize(&hard, group, &["hotkey", "bigkey", "register", "manykeys"]);
    wrong += hard.iter().filter(|t| !t.right).count();

    println!();
    println!("== generated hard histories, never tuned on (testdata/generated-hard)");
    let generated = bench_set(&generated_hard_data_dir(), filter.as_deref());
    summarize(&generated, group, &["hotkey", "bigkey", "manykeys"]);
    wrong += generated.iter().filter(|t| !t.right).count();

    println!();
    println!(
        "Porcupine's figures are the ones recorded with the data (2 cores, GOMAXPROCS=2), \
         not measured in this run; compare side by side for a fair ratio."
    );
    if wrong > 0 {
        println!("{wrong} rows got the wrong verdict");
        std::process::exit(1);
    }
}

/// Times every row of the data in `dir` (whose file contains `filter`).
fn bench_set(dir: &Path, filter: Option<&str>) -> Vec<Timed> {
    let porcupine = porcupine_ms(dir);
    let rows: Vec<Row> = expected_rows(dir)
        .into_iter()
        .filter(|r| filter.is_none_or(|f| r.file.contains(f)))
        .collect();
    println!(
        "{:<22} {:<15} {:>5} {:>11} {:>13} {:>7}",
        "file", "model", "ops", "labcheck ms", "porcupine ms", "ratio"
    );
    let mut timed = Vec::new();
    for row in rows {
        let history = load(dir, &row);
        let mut times = Vec::new();
        let mut spent = Duration::ZERO;
        let mut right = true;
        loop {
            let start = Instant::now();
            let result = check_row(&row, &history, TIMEOUT);
            let took = start.elapsed();
            let ok = match result {
                CheckResult::Linearizable => row.linearizable,
                CheckResult::NotLinearizable(_) => !row.linearizable,
                CheckResult::Unknown => false,
            };
            if !ok && right {
                right = false;
                println!("WRONG VERDICT: {} ({}): {result}", row.file, row.model);
            }
            times.push(took);
            spent += took;
            let enough = if spent >= SLOW_TOTAL {
                times.len() >= SLOW_RUNS
            } else {
                times.len() >= MIN_RUNS && (spent >= MIN_TOTAL || times.len() >= MAX_RUNS)
            };
            if enough {
                break;
            }
        }
        times.sort();
        let ours = times[times.len() / 2].as_secs_f64() * 1000.0;
        let theirs = porcupine
            .get(&(row.file.clone(), row.model.clone()))
            .copied();
        let ratio = theirs.map_or(String::from("-"), |t| format!("{:.2}", ours / t));
        let slower = theirs.is_some_and(|t| ours > t);
        println!(
            "{:<22} {:<15} {:>5} {:>11.3} {:>13} {:>7}{}",
            row.file,
            row.model,
            history.len(),
            ours,
            theirs.map_or(String::from("-"), |t| format!("{t:.3}")),
            ratio,
            if slower { "  SLOWER" } else { "" }
        );
        timed.push(Timed {
            row,
            ours_ms: ours,
            theirs_ms: theirs,
            right,
        });
    }
    timed
}

/// Sums per group (as named by `group`), then over all rows.
fn summarize(timed: &[Timed], group: impl Fn(&Row) -> String, groups: &[&str]) {
    println!();
    println!(
        "{:<15} {:>6} {:>12} {:>13} {:>7}",
        "group", "rows", "labcheck ms", "porcupine ms", "ratio"
    );
    for name in groups.iter().copied().chain(["all"]) {
        let mine: Vec<&Timed> = timed
            .iter()
            .filter(|t| name == "all" || group(&t.row) == name)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let ours: f64 = mine.iter().map(|t| t.ours_ms).sum();
        let theirs: f64 = mine.iter().filter_map(|t| t.theirs_ms).sum();
        println!(
            "{name:<15} {:>6} {ours:>12.1} {theirs:>13.1} {:>7.3}",
            mine.len(),
            ours / theirs
        );
    }
    let slower: Vec<String> = timed
        .iter()
        .filter(|t| t.theirs_ms.is_some_and(|p| t.ours_ms > p))
        .map(|t| format!("{} ({})", t.row.file, t.row.model))
        .collect();
    println!(
        "rows slower than Porcupine: {}",
        if slower.is_empty() {
            "none".to_string()
        } else {
            slower.join(", ")
        }
    );
}
