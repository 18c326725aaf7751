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
    /// Why it could not be run at all (missing files, build errors).
    pub problem: Option<String>,
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
        self.problem.is_none() && self.records.iter().all(RunRecord::passed)
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
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).context(|| format!("cannot write {}", path.display()))
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
