//! `grader merge`: the shards of one job (their `--json` exports, written
//! with `--shard K/N`) put back together into the table, scores and exports
//! one machine would have given for the same seeds. A shard missing or
//! given twice, or a file from another job, is an error naming it: a
//! missing shard is never scored as passes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use testkit::grade::{Policy, TestSpec};

use crate::cli::ExportOpts;
use crate::commands::{self, Finish};
use crate::engine::RunRecord;
use crate::error::{Context, GraderError, Result};
use crate::export::Graded;
use crate::score::LabScore;
use crate::shard::{Job, Shard};
use crate::summary::{self, TestSummary};
use crate::workspace::Workspace;

/// One submission as a shard's JSON holds it.
#[derive(Deserialize)]
struct Submission {
    name: String,
    #[serde(default)]
    on_reference: Vec<String>,
    #[serde(default = "yes")]
    sandboxed: bool,
    elapsed_seconds: f64,
    labs: Vec<LabScore>,
    tests: Vec<TestSummary>,
    runs: Vec<RunRecord>,
}

fn yes() -> bool {
    true
}

/// One shard's file, read.
struct ShardFile {
    path: PathBuf,
    job: Job,
    shard: Shard,
    submissions: Vec<Submission>,
}

fn read(path: &Path) -> Result<ShardFile> {
    let text = std::fs::read_to_string(path)
        .context(|| format!("cannot read the shard result {}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        GraderError::new(format!(
            "{} is not JSON ({e}); give the files the shards wrote with --json",
            path.display()
        ))
    })?;
    let not_a_shard = |why: &str| {
        GraderError::new(format!(
            "{} is not a shard's result ({why}); write each shard with `--shard K/N --campaign S --json FILE`",
            path.display()
        ))
    };
    let job: Job = serde_json::from_value(v.get("job").cloned().unwrap_or(Value::Null))
        .map_err(|e| not_a_shard(&format!("no job description it can read: {e}")))?;
    let shard = job
        .shard
        .ok_or_else(|| not_a_shard("it was run without --shard"))?;
    let submissions: Vec<Submission> =
        serde_json::from_value(v.get("submissions").cloned().unwrap_or(Value::Null))
            .map_err(|e| not_a_shard(&format!("its submissions cannot be read: {e}")))?;
    Ok(ShardFile {
        path: path.to_path_buf(),
        job,
        shard,
        submissions,
    })
}

/// Checks that `files` are every shard of one job, once each; returns them
/// in shard order and the job (without a shard).
fn check_complete(mut files: Vec<ShardFile>) -> Result<(Vec<ShardFile>, Job)> {
    let Some(first) = files.first() else {
        return Err(GraderError::new(
            "no shard results given; give every shard's --json file",
        ));
    };
    let mut job = first.job.clone();
    job.shard = None;
    let count = first.shard.count;
    for f in &files {
        let mut other = f.job.clone();
        other.shard = None;
        if f.shard.count != count || other != job {
            return Err(GraderError::new(format!(
                "{} and {} are not shards of the same job (shard {} vs {}; {:?} vs {:?}); merge only the shards of one call",
                first.path.display(),
                f.path.display(),
                first.shard,
                f.shard,
                job,
                other
            )));
        }
    }
    files.sort_by_key(|f| f.shard.index);
    for pair in files.windows(2) {
        if pair[0].shard.index == pair[1].shard.index {
            return Err(GraderError::new(format!(
                "shard {} is given twice: {} and {}; give each shard once",
                pair[0].shard,
                pair[0].path.display(),
                pair[1].path.display()
            )));
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|k| !files.iter().any(|f| f.shard.index == *k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(GraderError::new(format!(
            "shard(s) {} missing: rerun them (the same command with --shard {}) and merge again; a missing shard is never scored",
            missing.join(", "),
            missing[0]
        )));
    }
    Ok((files, job))
}

/// `grader merge FILES...`.
pub fn merge(ws: &Workspace, paths: &[PathBuf], exports: &ExportOpts) -> Result<Finish> {
    let files = paths.iter().map(|p| read(p)).collect::<Result<Vec<_>>>()?;
    let (files, job) = check_complete(files)?;
    println!(
        "merging {} shards of `{}` (campaign {})",
        files.len(),
        job.command,
        job.campaign
            .map_or_else(|| "none".to_owned(), |c| c.to_string())
    );
    let graded = if job.command == "grade" {
        merge_submissions(files, &job)?
    } else {
        vec![merge_runs(ws, files, &job)?]
    };
    if job.command == "grade" {
        println!("\nsubmission                      score");
        for g in &graded {
            println!("{:30} {:>6.1}/{}", g.name, g.score(), g.max_score());
        }
    }
    commands::write_exports(&graded, exports, &job)?;
    let all_passed = graded.iter().all(|g| {
        g.records.iter().all(RunRecord::passed) && g.scores.iter().all(|l| l.problem.is_none())
    });
    Ok(if all_passed {
        Finish::AllPassed
    } else {
        Finish::SomeFailed
    })
}

fn graded_of(s: Submission) -> Graded {
    Graded {
        name: s.name,
        on_reference: s.on_reference,
        sandboxed: s.sandboxed,
        records: s.runs,
        summaries: s.tests,
        scores: s.labs,
        elapsed: Duration::from_secs_f64(s.elapsed_seconds.max(0.0)),
    }
}

/// A graded batch: each submission was graded whole by one shard.
fn merge_submissions(files: Vec<ShardFile>, job: &Job) -> Result<Vec<Graded>> {
    let mut by_name: BTreeMap<String, (Graded, PathBuf)> = BTreeMap::new();
    for f in files {
        for s in f.submissions {
            if let Some((_, earlier)) = by_name.get(&s.name) {
                return Err(GraderError::new(format!(
                    "submission {} is in two shards ({} and {}); the shards were not split by --shard",
                    s.name,
                    earlier.display(),
                    f.path.display()
                )));
            }
            by_name.insert(s.name.clone(), (graded_of(s), f.path.clone()));
        }
    }
    let mut out = Vec::new();
    for name in &job.submissions {
        let (g, _) = by_name.remove(name).ok_or_else(|| {
            GraderError::new(format!(
                "submission {name} is in no shard's result: its shard did not finish grading; rerun it"
            ))
        })?;
        out.push(g);
    }
    if let Some(extra) = by_name.keys().next() {
        return Err(GraderError::new(format!(
            "submission {extra} is in a shard's result but not in the job's batch"
        )));
    }
    Ok(out)
}

/// One tree's runs split over the shards: the runs put together, the
/// table and scores computed again from them and the labs' `grade.toml`.
fn merge_runs(ws: &Workspace, files: Vec<ShardFile>, job: &Job) -> Result<Graded> {
    let plan: Vec<(String, String)> = files[0]
        .submissions
        .first()
        .map(|s| {
            s.tests
                .iter()
                .map(|t| (t.lab.clone(), t.test.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut name = None;
    let mut records = Vec::new();
    let mut elapsed = Duration::ZERO;
    let mut on_reference = Vec::new();
    let mut sandboxed = true;
    for f in files {
        for s in f.submissions {
            name.get_or_insert_with(|| s.name.clone());
            on_reference = s.on_reference.clone();
            sandboxed &= s.sandboxed;
            elapsed = elapsed.max(Duration::from_secs_f64(s.elapsed_seconds.max(0.0)));
            records.extend(s.runs);
        }
    }
    let Some(name) = name else {
        return Err(GraderError::new("the shards hold no runs to merge"));
    };
    let specs: Vec<(&str, &TestSpec)> = plan
        .iter()
        .map(|(lab, test)| {
            let i = ws.find_lab(lab)?;
            let spec = ws.labs[i]
                .grade
                .test(test)
                .map_err(|e| GraderError::new(e.to_string()))?;
            Ok((lab.as_str(), spec))
        })
        .collect::<Result<_>>()?;
    for r in &mut records {
        r.test_index = plan
            .iter()
            .position(|(lab, test)| *lab == r.lab && *test == r.test)
            .ok_or_else(|| {
                GraderError::new(format!(
                    "a run of {}/{} is not among the shards' planned tests",
                    r.lab, r.test
                ))
            })?;
    }
    records.sort_by_key(|r| (r.test_index, r.iteration));
    let summaries = summary::summarize_specs(&specs, &records);
    let scores = if job.command == "run" {
        let selections = ws.select(&job.labs)?;
        let policy = match &job.policy {
            Some(p) => Some(
                serde_json::from_value::<Policy>(Value::String(p.clone()))
                    .map_err(|e| GraderError::new(format!("the job's policy {p:?}: {e}")))?,
            ),
            None => None,
        };
        let mut scores = commands::score_runs(ws, &selections, policy, &records, None);
        commands::gate_all(ws, &mut scores);
        scores
    } else {
        Vec::new()
    };
    print!("{}", summary::render(&summaries, &scores));
    Ok(Graded {
        name,
        on_reference,
        sandboxed,
        records,
        summaries,
        scores,
        elapsed,
    })
}
