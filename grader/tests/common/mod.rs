//! Running the grader binary against the fixture workspace.

#![allow(dead_code)] // each test file uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fixture workspace (`grader/fixtures`).
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Where fixture builds go: one target dir shared by every grader test, so
/// the fixtures' dependencies build once.
pub fn fixture_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixture-target")
}

/// A grader command with the fixture target dir set, started in the
/// scratch area so default output folders (`grader-out/`) land there and
/// not in the source tree.
pub fn grader() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_grader"));
    c.env("CARGO_TARGET_DIR", fixture_target())
        .current_dir(env!("CARGO_TARGET_TMPDIR"));
    c
}

/// Runs the grader on the fixture workspace with `args`.
pub fn run_on_fixtures(args: &[&str]) -> Output {
    grader()
        .arg("--workspace")
        .arg(fixtures())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start the grader binary: {e}"))
}

/// stdout and stderr as text, for assertions and failure messages.
pub fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh, empty folder `name` under the cargo-provided scratch area.
/// Shared results live for the whole test binary, so a fixed folder
/// (cleared on first use) is used instead of a temp dir that would leak.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot clear {}: {e}", dir.display()));
    }
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// Reads a JSON file the grader wrote.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the grader did not write {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{text}", path.display()))
}

/// Writes `text` to `path`, creating its folder.
pub fn write(path: &Path, text: &str) {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// What one `grader grade` call left: its exit status, output and exports.
pub struct GradeRun {
    /// Exit status.
    pub status: Option<i32>,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
    /// The `--json` export.
    pub json: serde_json::Value,
    /// The `--csv` export.
    pub csv: String,
}

/// Runs `grader --workspace WS grade ARGS... SUBS...` with its logs, JSON
/// and CSV under `scratch`, and reads the exports back.
pub fn grade(ws: &Path, args: &[&str], subs: &[PathBuf], scratch: &Path) -> GradeRun {
    std::fs::create_dir_all(scratch)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", scratch.display()));
    let json = scratch.join("grades.json");
    let csv = scratch.join("grades.csv");
    let out = grader()
        .arg("--workspace")
        .arg(ws)
        .arg("grade")
        .args(args)
        .arg("--out")
        .arg(scratch.join("logs"))
        .arg("--json")
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .args(subs)
        .output()
        .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
    let (stdout, stderr) = texts(&out);
    let csv = std::fs::read_to_string(&csv)
        .unwrap_or_else(|e| panic!("no CSV written ({e})\nstdout:\n{stdout}\nstderr:\n{stderr}"));
    GradeRun {
        status: out.status.code(),
        json: read_json(&json),
        csv,
        stdout,
        stderr,
    }
}

/// A submission's runs from a JSON export with what differs from machine to
/// machine left out (wall time, memory figures, log paths), in a fixed
/// order: what one machine's runs and a merge of shards must share.
pub fn runs_without_timings(sub: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut runs: Vec<serde_json::Value> = sub["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut r| {
            for k in ["seconds", "peak_rss_bytes", "log", "log_truncated"] {
                r.as_object_mut().map(|o| o.remove(k));
            }
            r
        })
        .collect();
    runs.sort_by_key(|r| (r["test"].to_string(), r["iteration"].as_u64()));
    runs
}
