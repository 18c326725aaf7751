//! Times labcheck on every row of the Porcupine reference data and compares
//! with Porcupine's own timings (`porcupine-ms.tsv`).
//!
//! `cargo bench -p labcheck` runs all 112 rows; `cargo bench -p labcheck --
//! etcd_00` runs the rows whose file contains `etcd_00`. Parsing is not
//! timed (as for Porcupine's figures); each figure is the median of several
//! runs.

#[path = "../tests/support/porcupine_data.rs"]
mod porcupine_data;

use std::time::{Duration, Instant};

use labcheck::CheckResult;
use porcupine_data::{check_row, data_dir, expected_rows, load, porcupine_ms};

const TIMEOUT: Duration = Duration::from_secs(600);
const MIN_RUNS: usize = 5;
const MAX_RUNS: usize = 101;
/// Keep repeating fast rows until this much time was spent on them.
const MIN_TOTAL: Duration = Duration::from_millis(30);

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let dir = data_dir();
    let porcupine = porcupine_ms(&dir);
    let rows: Vec<_> = expected_rows(&dir)
        .into_iter()
        .filter(|r| filter.as_ref().is_none_or(|f| r.file.contains(f.as_str())))
        .collect();

    println!(
        "{:<22} {:<15} {:>5} {:>11} {:>13} {:>7}",
        "file", "model", "ops", "labcheck ms", "porcupine ms", "ratio"
    );
    let mut results = Vec::new();
    let mut wrong = 0;
    for row in &rows {
        let history = load(&dir, row);
        let mut times = Vec::new();
        let mut spent = Duration::ZERO;
        while times.len() < MIN_RUNS || (spent < MIN_TOTAL && times.len() < MAX_RUNS) {
            let start = Instant::now();
            let result = check_row(row, &history, TIMEOUT);
            let took = start.elapsed();
            let ok = match result {
                CheckResult::Linearizable => row.linearizable,
                CheckResult::NotLinearizable(_) => !row.linearizable,
                CheckResult::Unknown => false,
            };
            if !ok && times.is_empty() {
                wrong += 1;
                println!("WRONG VERDICT: {} ({}): {result}", row.file, row.model);
            }
            times.push(took);
            spent += took;
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
        results.push((row.clone(), ours, theirs));
    }

    println!();
    println!(
        "{:<15} {:>6} {:>12} {:>13} {:>7}",
        "model", "rows", "labcheck ms", "porcupine ms", "ratio"
    );
    for model in ["etcd", "kv", "kv-nopartition", "all"] {
        let mine: Vec<_> = results
            .iter()
            .filter(|(r, _, _)| model == "all" || r.model == model)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let ours: f64 = mine.iter().map(|(_, o, _)| o).sum();
        let theirs: f64 = mine.iter().filter_map(|(_, _, t)| *t).sum();
        println!(
            "{model:<15} {:>6} {ours:>12.1} {theirs:>13.1} {:>7.3}",
            mine.len(),
            ours / theirs
        );
    }
    let slower: Vec<_> = results
        .iter()
        .filter(|(_, o, t)| t.is_some_and(|t| *o > t))
        .map(|(r, _, _)| format!("{} ({})", r.file, r.model))
        .collect();
    println!(
        "rows slower than Porcupine: {}",
        if slower.is_empty() {
            "none".to_string()
        } else {
            slower.join(", ")
        }
    );
    if wrong > 0 {
        println!("{wrong} rows got the wrong verdict");
        std::process::exit(1);
    }
}
