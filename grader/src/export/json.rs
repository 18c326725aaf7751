//! The grader's own JSON: every run with its seed, verdict, figures and log.

use serde_json::{Value, json};

use super::Graded;

/// The `--json` document for `graded`.
pub fn to_json(graded: &[Graded]) -> Value {
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
        "submissions": subs,
    })
}
