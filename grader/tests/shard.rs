//! One job over several machines: `--shard K/N --campaign S` runs a share
//! with seeds that depend only on the campaign, and `grader merge` gives
//! back what one machine gives, field by field (timings, memory figures and
//! log paths aside); a shard missing or given twice is an error naming it.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

const SHARDS: u64 = 4;

fn grader_json(args: &[&str], json: &Path) -> Value {
    let out = common::grader()
        .arg("--workspace")
        .arg(common::fixtures())
        .args(args)
        .arg("--json")
        .arg(json)
        .output()
        .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
    let (stdout, stderr) = common::texts(&out);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "grader {args:?} failed to run:\n{stdout}\n{stderr}"
    );
    common::read_json(json)
}

fn merge(files: &[PathBuf], json: Option<&Path>) -> (Option<i32>, String) {
    let mut cmd = common::grader();
    cmd.arg("--workspace")
        .arg(common::fixtures())
        .arg("merge")
        .args(files);
    if let Some(j) = json {
        cmd.arg("--json").arg(j);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot start the grader: {e}"));
    let (stdout, stderr) = common::texts(&out);
    (out.status.code(), format!("{stdout}{stderr}"))
}

/// A submission with what one machine's run must share with the merge:
/// no wall-clock or memory figure, no log path, runs in a fixed order.
fn comparable(sub: &Value) -> Value {
    let runs = common::runs_without_timings(sub);
    let tests: Vec<Value> = sub["tests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut t| {
            for k in ["mean_seconds", "std_seconds", "peak_rss_bytes"] {
                t.as_object_mut().map(|o| o.remove(k));
            }
            t
        })
        .collect();
    serde_json::json!({
        "name": sub["name"],
        "score": sub["score"],
        "max_score": sub["max_score"],
        "labs": sub["labs"],
        "problem": sub["problem"],
        "tests": tests,
        "runs": runs,
    })
}

fn job_without_shard(v: &Value) -> Value {
    let mut job = v["job"].clone();
    job.as_object_mut()
        .map(|o| o.insert("shard".into(), Value::Null));
    job
}

#[test]
fn four_shards_of_a_run_merge_into_the_single_run() {
    let dir = common::scratch("shard-run");
    let args = [
        "run",
        "lab8",
        "lab9/V",
        "--test",
        "passes",
        "--test",
        "answer_is_42",
        "--test",
        "double_doubles",
        "-n",
        "10",
        "--campaign",
        "2026",
    ];
    let single = grader_json(&args, &dir.join("single.json"));
    let mut files = Vec::new();
    for k in 1..=SHARDS {
        let file = dir.join(format!("shard{k}.json"));
        let shard = format!("{k}/{SHARDS}");
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["--shard", &shard]);
        let v = grader_json(&a, &file);
        let runs = v["submissions"][0]["runs"].as_array().map_or(0, Vec::len);
        assert!(
            runs > 0 && runs < 30,
            "shard {shard} runs its share only: {runs} runs"
        );
        files.push(file);
    }
    let merged_file = dir.join("merged.json");
    let (status, out) = merge(&files, Some(&merged_file));
    assert_eq!(status, Some(0), "{out}");
    let merged = common::read_json(&merged_file);
    let (a, b) = (&single["submissions"][0], &merged["submissions"][0]);
    assert_eq!(a["runs"].as_array().map(Vec::len), Some(30), "3 tests × 10");
    assert_eq!(comparable(a), comparable(b), "the merge is the single run");
    assert_eq!(
        job_without_shard(&single),
        merged["job"],
        "the merged job is the whole job"
    );

    // Every shard is needed, once.
    let (status, out) = merge(&files[..3], None);
    assert_eq!(status, Some(2), "{out}");
    assert!(out.contains("shard(s) 4/4 missing"), "{out}");
    let mut twice = files.clone();
    twice.push(files[1].clone());
    let (status, out) = merge(&twice, None);
    assert_eq!(status, Some(2), "{out}");
    assert!(out.contains("shard 2/4 is given twice"), "{out}");
    let (status, out) = merge(&[files[0].clone(), dir.join("single.json")], None);
    assert_eq!(status, Some(2), "{out}");
    assert!(out.contains("without --shard"), "{out}");
}

#[test]
fn four_shards_of_a_grading_batch_merge_into_the_single_batch() {
    let scratch = common::scratch("shard-grade");
    let reference =
        std::fs::read_to_string(common::fixtures().join("lab8-answer/src/reference/answer.rs"))
            .unwrap_or_else(|e| panic!("read the fixture's reference: {e}"));
    let texts = [
        ("right", reference.as_str()),
        (
            "wrong",
            "pub fn answer() -> u64 { 41 }\npub fn double(x: u64) -> u64 { 2 * x }\n",
        ),
        ("broken", "pub fn answer() -> u64 { 42 \n"),
        (
            "half",
            "pub fn answer() -> u64 { 42 }\npub fn double(x: u64) -> u64 { x }\n",
        ),
        ("right-too", reference.as_str()),
    ];
    let subs: Vec<PathBuf> = texts
        .iter()
        .map(|(name, text)| {
            let dir = scratch.join("subs").join(name);
            common::write(&dir.join("lab8-answer/src/answer.rs"), text);
            dir
        })
        .collect();
    let logs = scratch.join("logs");
    let grade = |extra: &[&str], json: &Path| {
        let mut a = vec!["grade", "--lab", "lab8", "-n", "2", "--campaign", "9"];
        a.extend_from_slice(extra);
        a.extend(subs.iter().map(|p| p.to_str().unwrap_or_default()));
        a.extend(["--out", logs.to_str().unwrap_or_default()]);
        grader_json(&a, json)
    };
    let single = grade(&[], &scratch.join("single.json"));
    let mut files = Vec::new();
    for k in 1..=SHARDS {
        let file = scratch.join(format!("shard{k}.json"));
        let shard = format!("{k}/{SHARDS}");
        grade(&["--shard", &shard], &file);
        files.push(file);
    }
    let merged_file = scratch.join("merged.json");
    let (status, out) = merge(&files, Some(&merged_file));
    assert_eq!(
        status,
        Some(1),
        "some submissions fail, as in the single batch: {out}"
    );
    let merged = common::read_json(&merged_file);
    let names = |v: &Value| -> Vec<Value> {
        v["submissions"]
            .as_array()
            .map(|a| a.iter().map(comparable).collect())
            .unwrap_or_default()
    };
    assert_eq!(names(&single).len(), texts.len());
    assert_eq!(
        names(&single),
        names(&merged),
        "the merge is the single batch, in its order"
    );
}
