//! Gradescope's autograder `results.json`: a top-level score and one entry
//! per test with its score, max_score, status, output and visibility.

use serde_json::{Value, json};

use super::{Graded, cap};

/// Who sees a test's result on Gradescope.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Visibility {
    /// Students see it now.
    #[default]
    Visible,
    /// Never shown to students.
    Hidden,
    /// Shown after the due date.
    AfterDueDate,
    /// Shown once grades are published.
    AfterPublished,
}

impl Visibility {
    fn name(self) -> &'static str {
        match self {
            Visibility::Visible => "visible",
            Visibility::Hidden => "hidden",
            Visibility::AfterDueDate => "after_due_date",
            Visibility::AfterPublished => "after_published",
        }
    }
}

/// Longest per-test output sent to Gradescope.
const MAX_OUTPUT: usize = 8 * 1024;

/// The `results.json` document for one submission.
pub fn to_gradescope(g: &Graded, visibility: Visibility) -> Value {
    let mut tests = Vec::new();
    for lab in &g.scores {
        for t in &lab.tests {
            let (score, _, gated) = g
                .gated_test_score(&lab.lab, &t.test)
                .unwrap_or((0.0, t.max, false));
            let mut output = match g.lab_problem(&lab.lab) {
                Some(p) => format!("not run: {p}"),
                None => format!("{}/{} runs passed", t.passed, t.runs),
            };
            if gated {
                output.push_str(&format!(
                    "\nscored 0: part {} requires a part that scored 0",
                    t.part
                ));
            }
            let mut failures = g
                .records
                .iter()
                .filter(|r| r.lab == lab.lab && r.test == t.test && !r.passed())
                .peekable();
            if failures.peek().is_some() {
                output.push_str("\nfailed runs:");
            }
            for r in failures.take(5) {
                output.push_str(&format!(
                    "\n- {} (seed {}): {}\n  rerun: {}",
                    r.verdict.label(),
                    r.seed,
                    r.message.as_deref().unwrap_or(""),
                    r.rerun
                ));
            }
            tests.push(json!({
                "name": format!("{} part {}: {}", lab.lab, t.part, t.test),
                "score": round2(score),
                "max_score": t.max,
                "status": if t.passed == t.runs && lab.problem.is_none() { "passed" } else { "failed" },
                "output": cap(&output, MAX_OUTPUT),
                "visibility": visibility.name(),
            }));
        }
    }
    let mut summary = format!("distlab grader: {:.1}/{} points", g.score(), g.max_score());
    let problems = g.problem_text(true);
    if !problems.is_empty() {
        summary.push_str(&format!("\n{}", cap(&problems, MAX_OUTPUT)));
    }
    if !g.on_reference.is_empty() {
        summary.push_str(&format!(
            "\ngraded on the course's reference of: {}",
            g.on_reference.join(", ")
        ));
    }
    if !g.sandboxed {
        summary.push_str("\ngraded WITHOUT the sandbox (--unsandboxed)");
    }
    for lab in &g.scores {
        summary.push_str(&format!(
            "\n{}: {:.1}/{} (policy {})",
            lab.lab, lab.score, lab.max, lab.policy
        ));
    }
    json!({
        "score": round2(g.score()),
        "execution_time": g.elapsed.as_secs(),
        "output": summary,
        "visibility": visibility.name(),
        "stdout_visibility": "hidden",
        "extra_data": { "max_score": g.max_score() },
        "tests": tests,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
