//! The grader's own JSON: every run with its seed, verdict, figures and log.

use serde_json::{Value, json};

use super::Graded;
use crate::shard::Job;

/// The `--json` document for `graded`, the result of `job`.
pub fn to_json(graded: &[Graded], job: &Job) -> Value {
    let subs: Vec<Value> = graded
        .iter()
        .map(|g| {
            json!({
                "name": g.name,
                "problem": Some(g.problem_text(true)).filter(|p| !p.is_empty()),
                "on_reference": g.on_reference,
                "sandboxed": g.sandboxed,
                "score": g.score(),
                "max_score": g.max_score(),
                "elapsed_seconds": g.elapsed.as_secs_f64(),
                "labs": g.scores,
                "tests": g.summaries,
                "runs": g.records,
            })
        })
        .collect();
    json!({
        "tool": "distlab grader",
        "version": env!("CARGO_PKG_VERSION"),
        "generated": crate::clock::iso_now(),
        "job": job,
        "submissions": subs,
    })
}
