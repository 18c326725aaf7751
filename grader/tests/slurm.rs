//! A stress campaign over a real Slurm job array: `grader/slurm/submit`
//! spreads 200 runs over 4 array tasks, a dependent job merges them, and
//! the merge equals a local run over the same seeds, field by field
//! (timings, memory figures and log paths aside).
//!
//! Needs a Slurm cluster this machine submits to: `.ci/run` starts a
//! single-node one with `.ci/slurm-up` (Debian's slurm-wlm and munge) and
//! runs this test; elsewhere it is ignored, never silently passed.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

const TASKS: u64 = 4;
const RUNS: &str = "200";
const CAMPAIGN: &str = "20261203";

fn comparable(sub: &Value) -> Value {
    serde_json::json!({ "name": sub["name"], "runs": common::runs_without_timings(sub) })
}

fn job_running(id: &str) -> bool {
    Command::new("squeue")
        .args(["-h", "-j", id, "-o", "%i"])
        .output()
        .map(|o| !String::from_utf8_lossy(&o.stdout).trim().is_empty())
        .unwrap_or(false)
}

#[test]
#[ignore = "needs a real Slurm: run `.ci/slurm-up` (root; installs and starts a single-node cluster), then `cargo test -p grader --test slurm -- --ignored`"]
fn a_stress_campaign_over_a_slurm_array_merges_into_the_local_run() {
    let dir = common::scratch("slurm");
    let out = dir.join("campaign");
    let submit = Path::new(env!("CARGO_MANIFEST_DIR")).join("slurm/submit");
    let job = ["stress", "lab9/V", "--test", "passes", "--count", RUNS];
    let submitted = Command::new("bash")
        .arg(&submit)
        .args([
            "--tasks",
            &TASKS.to_string(),
            "--campaign",
            CAMPAIGN,
            "--out",
        ])
        .arg(&out)
        .arg("--kit")
        .arg(common::fixtures())
        .arg("--grader")
        .arg(env!("CARGO_BIN_EXE_grader"))
        .arg("--")
        .args(job)
        .env("CARGO_TARGET_DIR", common::fixture_target())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", submit.display()));
    let (stdout, stderr) = common::texts(&submitted);
    assert!(
        submitted.status.success(),
        "submit failed:\n{stdout}\n{stderr}"
    );
    let ids = stdout
        .lines()
        .find_map(|l| l.strip_prefix("array="))
        .unwrap_or_else(|| panic!("submit printed no job ids:\n{stdout}"));
    let (array, merge) = ids
        .split_once(" merge=")
        .unwrap_or_else(|| panic!("submit printed no merge job:\n{stdout}"));
    let start = Instant::now();
    while job_running(array) || job_running(merge) {
        assert!(
            start.elapsed() < Duration::from_secs(900),
            "the Slurm jobs {array} and {merge} did not finish within 15 minutes"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let merged_text = std::fs::read_to_string(out.join("merged.txt")).unwrap_or_default();
    let merged = common::read_json(&out.join("merged.json"));
    for k in 1..=TASKS {
        let shard = common::read_json(&out.join(format!("shard-{k}.json")));
        let runs = shard["submissions"][0]["runs"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(runs, 50, "array task {k} ran its quarter:\n{merged_text}");
    }

    let local_file = dir.join("local.json");
    let local = common::grader()
        .arg("--workspace")
        .arg(common::fixtures())
        .args(job)
        .args(["--campaign", CAMPAIGN, "--json"])
        .arg(&local_file)
        .output()
        .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
    assert!(local.status.success(), "{:?}", common::texts(&local));
    let local = common::read_json(&local_file);
    let (a, b) = (&local["submissions"][0], &merged["submissions"][0]);
    assert_eq!(a["runs"].as_array().map(Vec::len), Some(200));
    assert_eq!(
        comparable(a),
        comparable(b),
        "the Slurm campaign is the local one:\n{merged_text}"
    );
}
