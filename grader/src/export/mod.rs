//! Writing results for other tools: the grader's own JSON (every run),
//! Gradescope's `results.json`, JUnit XML for CI, and a CSV roll-up with
//! one row per submission.

mod csv;
mod gradescope;
mod json;
mod junit;

use std::path::Path;
use std::time::Duration;

pub use csv::to_csv;
pub use gradescope::{Visibility, to_gradescope};
pub use json::to_json;
pub use junit::to_junit;

use crate::engine::RunRecord;
use crate::error::{Context, Result};
use crate::score::LabScore;
use crate::summary::TestSummary;

/// Everything known about one graded tree (a submission, or the kit).
#[derive(Clone, Debug)]
pub struct Graded {
    /// The submission's name (its folder name), or `kit`.
    pub name: String,
    /// Labs used by the graded labs that were built from the kit's
    /// reference instead of the submission's files (`grade --reference`).
    pub on_reference: Vec<String>,
    /// Whether its runs (and, when graded, its build) were sandboxed.
    pub sandboxed: bool,
    /// Every run.
    pub records: Vec<RunRecord>,
    /// Per-test aggregates.
    pub summaries: Vec<TestSummary>,
    /// Per-lab scores.
    pub scores: Vec<LabScore>,
    /// Wall-clock time spent.
    pub elapsed: Duration,
}

impl Graded {
    /// Points earned over every lab.
    pub fn score(&self) -> f64 {
        self.scores.iter().map(|l| l.score).sum()
    }

    /// Points available over every lab.
    pub fn max_score(&self) -> f64 {
        self.scores.iter().map(|l| l.max).sum()
    }

    /// Whether every run passed and nothing stopped the grading.
    pub fn all_passed(&self) -> bool {
        self.problems().next().is_none() && self.records.iter().all(RunRecord::passed)
    }

    /// `(lab, why)` for every lab that could not be run.
    pub fn problems(&self) -> impl Iterator<Item = (&str, &str)> {
        self.scores
            .iter()
            .filter_map(|l| l.problem.as_deref().map(|p| (l.lab.as_str(), p)))
    }

    /// The labs' problems as one text (empty when there are none): each
    /// lab's first line, or everything with `full`.
    pub fn problem_text(&self, full: bool) -> String {
        self.problems()
            .map(|(lab, p)| {
                let p = if full {
                    p
                } else {
                    p.lines().next().unwrap_or("")
                };
                format!("{lab}: {p}")
            })
            .collect::<Vec<_>>()
            .join(if full { "\n" } else { "; " })
    }

    /// The problem of one lab, if it could not be run.
    pub fn lab_problem(&self, lab: &str) -> Option<&str> {
        self.scores
            .iter()
            .find(|l| l.lab == lab)
            .and_then(|l| l.problem.as_deref())
    }

    /// A test's score after part gating.
    pub fn gated_test_score(&self, lab: &str, test: &str) -> Option<(f64, f64, bool)> {
        let l = self.scores.iter().find(|l| l.lab == lab)?;
        let t = l.tests.iter().find(|t| t.test == test)?;
        let gated = l
            .parts
            .iter()
            .any(|p| p.part == t.part && p.gated_by.is_some());
        Some((if gated { 0.0 } else { t.score }, t.max, gated))
    }
}

/// Writes `text` to `path`, naming the file on failure.
pub fn write(path: &Path, text: &str) -> Result<()> {
    write_bytes(path, text.as_bytes())
}

/// Writes `bytes` to `path`, creating its folder.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, bytes).context(|| format!("cannot write {}", path.display()))
}

/// At most `max` bytes of `text`, cut at a character boundary, with a note.
pub fn cap(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[... {} more bytes cut]",
        &text[..end],
        text.len() - end
    )
}
