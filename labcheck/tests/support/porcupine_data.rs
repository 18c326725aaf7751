//! Finding and loading the Porcupine reference histories
//! (`testdata/porcupine-data` in this crate) and the hard histories with
//! Porcupine's verdicts (`testdata/porcupine-hard`, and the freshly
//! generated `testdata/generated-hard`), used by the parity test, the
//! command's tests and the benchmark.

#![allow(dead_code)] // Each user needs a different subset.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use labcheck::models::{
    Kv, KvInput, KvNoPartition, KvOutput, Register, RegisterInput, RegisterOutput,
};
use labcheck::{CheckOptions, CheckReport, CheckResult, History, check_with_options, formats};
use labrt::time::Duration;

/// The environment variable that overrides where the reference data lives.
pub const DATA_ENV: &str = "DISTLAB_PORCUPINE_DATA";

/// The environment variable that overrides where the hard data lives.
pub const HARD_DATA_ENV: &str = "DISTLAB_PORCUPINE_HARD_DATA";

/// The environment variable that overrides where the generated hard data
/// lives.
pub const GENERATED_HARD_DATA_ENV: &str = "DISTLAB_GENERATED_HARD_DATA";

/// Where the reference data lives in this crate.
pub fn default_data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/porcupine-data")
}

/// Where the hard data lives in this crate.
pub fn default_hard_data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/porcupine-hard")
}

/// Where the generated hard data lives in this crate.
pub fn default_generated_hard_data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/generated-hard")
}

/// The reference data directory: `$DISTLAB_PORCUPINE_DATA` if set and not
/// empty, else [`default_data_dir`]. Panics with what to do when it is
/// missing.
pub fn data_dir() -> PathBuf {
    find_dir(DATA_ENV, default_data_dir(), "Porcupine reference data")
}

/// The hard data directory: `$DISTLAB_PORCUPINE_HARD_DATA` if set and not
/// empty, else [`default_hard_data_dir`]. Panics with what to do when it is
/// missing.
pub fn hard_data_dir() -> PathBuf {
    find_dir(HARD_DATA_ENV, default_hard_data_dir(), "hard history data")
}

/// The generated hard data directory: `$DISTLAB_GENERATED_HARD_DATA` if
/// set and not empty, else [`default_generated_hard_data_dir`]. Panics with
/// what to do when it is missing.
pub fn generated_hard_data_dir() -> PathBuf {
    find_dir(
        GENERATED_HARD_DATA_ENV,
        default_generated_hard_data_dir(),
        "generated hard history data",
    )
}

fn find_dir(env: &str, default: PathBuf, what: &str) -> PathBuf {
    let dir = std::env::var_os(env)
        .filter(|v| !v.is_empty())
        .map_or_else(|| default.clone(), PathBuf::from);
    assert!(
        dir.join("expected.tsv").is_file(),
        "the {what} is missing: no expected.tsv in {}. \
         It ships with the crate in {}; restore it from version control, \
         or point {env} at a directory holding expected.tsv.",
        dir.display(),
        default.display()
    );
    dir
}

/// One row of `expected.tsv`.
#[derive(Clone, Debug)]
pub struct Row {
    /// The history, relative to the data directory.
    pub file: String,
    /// Porcupine's verdict.
    pub linearizable: bool,
    /// `etcd`, `kv` or `kv-nopartition`.
    pub model: String,
    /// Porcupine's median time in milliseconds, when the file records it
    /// (the hard data's fourth column).
    pub porcupine_ms: Option<f64>,
}

fn tsv(dir: &Path, name: &str) -> Vec<Vec<String>> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// The rows of `expected.tsv`: `file`, `verdict`, `model`, and in the hard
/// and generated hard data also `porcupine_median_ms` and `ops`.
pub fn expected_rows(dir: &Path) -> Vec<Row> {
    tsv(dir, "expected.tsv")
        .into_iter()
        .enumerate()
        .map(|(i, cols)| {
            assert!(
                cols.len() >= 3,
                "expected.tsv line {} has {} columns, not at least 3",
                i + 2,
                cols.len()
            );
            let linearizable = match cols[1].as_str() {
                "linearizable" => true,
                "not_linearizable" => false,
                other => panic!("expected.tsv line {}: unknown verdict {other:?}", i + 2),
            };
            Row {
                file: cols[0].clone(),
                linearizable,
                model: cols[2].clone(),
                porcupine_ms: cols.get(3).and_then(|ms| ms.parse().ok()),
            }
        })
        .collect()
}

/// Porcupine's median milliseconds per `(file, model)`: from
/// `porcupine-ms.tsv` when there is one (the reference data), else from the
/// rows of `expected.tsv` (the hard data).
pub fn porcupine_ms(dir: &Path) -> HashMap<(String, String), f64> {
    if !dir.join("porcupine-ms.tsv").is_file() {
        return expected_rows(dir)
            .into_iter()
            .filter_map(|r| Some(((r.file, r.model), r.porcupine_ms?)))
            .collect();
    }
    tsv(dir, "porcupine-ms.tsv")
        .into_iter()
        .filter_map(|cols| {
            let ms = cols.get(2)?.parse().ok()?;
            Some(((cols[0].clone(), cols[1].clone()), ms))
        })
        .collect()
}

/// A parsed history of either kind.
pub enum Loaded {
    /// A Jepsen etcd log.
    Register(History<RegisterInput, RegisterOutput>),
    /// A key/value history.
    Kv(History<KvInput, KvOutput>),
}

impl Loaded {
    /// The number of operations.
    pub fn len(&self) -> usize {
        match self {
            Loaded::Register(h) => h.len(),
            Loaded::Kv(h) => h.len(),
        }
    }
}

/// Parses a row's file with the parser its model needs.
pub fn load(dir: &Path, row: &Row) -> Loaded {
    let path = dir.join(&row.file);
    match row.model.as_str() {
        "etcd" => Loaded::Register(formats::jepsen::load(&path).unwrap_or_else(|e| panic!("{e}"))),
        "kv" | "kv-nopartition" => {
            Loaded::Kv(formats::porcupine_kv::load(&path).unwrap_or_else(|e| panic!("{e}")))
        }
        other => panic!("{}: unknown model {other:?} in expected.tsv", row.file),
    }
}

/// Checks a loaded history with the row's model, with `timeout` and the
/// default memory cap.
pub fn check_row(row: &Row, history: &Loaded, timeout: Duration) -> CheckResult {
    check_row_with(row, history, &CheckOptions::new(timeout)).result
}

/// Checks a loaded history with the row's model within `options`.
pub fn check_row_with(row: &Row, history: &Loaded, options: &CheckOptions) -> CheckReport {
    match (row.model.as_str(), history) {
        ("etcd", Loaded::Register(h)) => check_with_options(&Register, h, options),
        ("kv", Loaded::Kv(h)) => check_with_options(&Kv, h, options),
        ("kv-nopartition", Loaded::Kv(h)) => check_with_options(&KvNoPartition, h, options),
        (model, _) => panic!("{}: history does not fit model {model}", row.file),
    }
}
