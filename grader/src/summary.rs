//! The final table: per test, passed/total, time mean ± std, the largest
//! figures any run reported, the score, and what a clean record proves.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use testkit::report::human_bytes;

use crate::engine::RunRecord;
use crate::plan::PlannedTest;
use crate::score::LabScore;
use crate::verdict::VerdictKind;

/// Aggregates over one test's runs.
#[derive(Clone, Debug, Serialize)]
pub struct TestSummary {
    /// The lab's package.
    pub lab: String,
    /// The test.
    pub test: String,
    /// Runs with a verdict.
    pub runs: u64,
    /// Runs that passed.
    pub passed: u64,
    /// Non-passing runs by verdict.
    pub failures: BTreeMap<VerdictKind, u64>,
    /// Mean wall-clock seconds.
    pub mean_seconds: f64,
    /// Standard deviation of wall-clock seconds.
    pub std_seconds: f64,
    /// Largest RPC count reported.
    pub max_rpcs: Option<u64>,
    /// Largest byte count reported.
    pub max_bytes: Option<u64>,
    /// Largest peak RSS measured.
    pub peak_rss_bytes: u64,
    /// Largest heap peak reported.
    pub peak_heap_bytes: Option<u64>,
}

/// One summary per planned test, in plan order.
pub fn summarize(tests: &[PlannedTest], records: &[RunRecord]) -> Vec<TestSummary> {
    tests
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let runs: Vec<&RunRecord> = records.iter().filter(|r| r.test_index == i).collect();
            let n = runs.len() as f64;
            // Welford's update keeps the variance exact for long stress runs.
            let (mut mean, mut m2) = (0.0f64, 0.0f64);
            for (k, r) in runs.iter().enumerate() {
                let d = r.seconds - mean;
                mean += d / (k + 1) as f64;
                m2 += d * (r.seconds - mean);
            }
            let std = if runs.len() > 1 {
                (m2 / (n - 1.0)).sqrt()
            } else {
                0.0
            };
            let mut failures = BTreeMap::new();
            for r in runs.iter().filter(|r| !r.passed()) {
                *failures.entry(r.verdict).or_insert(0) += 1;
            }
            TestSummary {
                lab: t.lab.clone(),
                test: t.spec.name.clone(),
                runs: runs.len() as u64,
                passed: runs.iter().filter(|r| r.passed()).count() as u64,
                failures,
                mean_seconds: mean,
                std_seconds: std,
                max_rpcs: runs.iter().filter_map(|r| r.rpcs).max(),
                max_bytes: runs.iter().filter_map(|r| r.bytes).max(),
                peak_rss_bytes: runs.iter().map(|r| r.peak_rss_bytes).max().unwrap_or(0),
                peak_heap_bytes: runs.iter().filter_map(|r| r.heap_peak_bytes).max(),
            }
        })
        .collect()
}

/// What `n` runs without a failure prove (the rule of three: with no
/// failure in n independent runs, the failure rate is below 3/n at 95%
/// confidence).
pub fn confidence_note(n: u64) -> String {
    if n < 3 {
        return format!(
            "0/{n} failed (too few runs to bound the failure rate; 300 runs show < 1%)"
        );
    }
    let bound = 300.0 / n as f64;
    let shown = if bound >= 10.0 {
        format!("{bound:.0}")
    } else if bound >= 1.0 {
        format!("{bound:.1}").trim_end_matches(".0").to_owned()
    } else {
        format!("{bound:.2}")
    };
    format!("0/{n} failed: failure rate < {shown}% at 95% confidence")
}

/// The table and the score lines.
pub fn render(summaries: &[TestSummary], scores: &[LabScore]) -> String {
    let headers = [
        "test",
        "passed",
        "seconds",
        "max rpcs",
        "max bytes",
        "peak RSS",
        "peak heap",
        "points",
    ];
    let mut rows: Vec<[String; 8]> = Vec::new();
    for s in summaries.iter().filter(|s| s.runs > 0) {
        let points = scores
            .iter()
            .filter(|l| l.lab == s.lab)
            .flat_map(|l| l.tests.iter())
            .find(|t| t.test == s.test)
            .map_or_else(|| "-".into(), |t| format!("{:.1}/{}", t.score, t.max));
        rows.push([
            s.test.clone(),
            format!("{}/{}", s.passed, s.runs),
            format!("{:.1} ± {:.1}", s.mean_seconds, s.std_seconds),
            s.max_rpcs.map_or("-".into(), |v| v.to_string()),
            s.max_bytes.map_or("-".into(), |v| v.to_string()),
            human_bytes(s.peak_rss_bytes),
            s.peak_heap_bytes.map_or("-".into(), human_bytes),
            points,
        ]);
    }
    let mut width = headers.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[String]| -> String {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(width).enumerate() {
            let pad = w.saturating_sub(c.chars().count());
            if i == 0 {
                l.push_str(c);
                l.push_str(&" ".repeat(pad));
            } else {
                l.push_str("  ");
                l.push_str(&" ".repeat(pad));
                l.push_str(c);
            }
        }
        l.trim_end().to_owned() + "\n"
    };
    let mut current_lab = "";
    let header_cells: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for (s, r) in summaries.iter().filter(|s| s.runs > 0).zip(&rows) {
        if s.lab != current_lab {
            current_lab = &s.lab;
            let _ = writeln!(out, "\n{}", s.lab);
            out.push_str(&line(&header_cells));
        }
        out.push_str(&line(r));
    }
    out.push('\n');
    let mut too_few = 0;
    for s in summaries.iter().filter(|s| s.runs > 0) {
        if s.passed == s.runs && s.runs < 3 {
            too_few += 1;
        } else if s.passed == s.runs {
            let _ = writeln!(out, "{}: {}", s.test, confidence_note(s.runs));
        } else {
            let kinds: Vec<String> = s
                .failures
                .iter()
                .map(|(k, n)| format!("{n} {}", k.label()))
                .collect();
            let _ = writeln!(
                out,
                "{}: {}/{} failed ({})",
                s.test,
                s.runs - s.passed,
                s.runs,
                kinds.join(", ")
            );
        }
    }
    if too_few > 0 {
        let _ = writeln!(
            out,
            "{too_few} test(s) without failures ran too few times to bound their failure rate \
             (-n 300 shows < 1% at 95% confidence)"
        );
    }
    for l in scores {
        let _ = writeln!(out, "\n{} ({}), policy {}:", l.lab, l.title, l.policy);
        for p in &l.parts {
            let gate = p
                .gated_by
                .as_ref()
                .map(|g| format!("  (gated: requires part {g}, which scored 0)"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  part {} ({}): {:.1}/{}{gate}",
                p.part, p.title, p.score, p.max
            );
        }
        let _ = writeln!(out, "  total: {:.1}/{}", l.score, l.max);
    }
    if scores.len() > 1 {
        let score: f64 = scores.iter().map(|l| l.score).sum();
        let max: f64 = scores.iter().map(|l| l.max).sum();
        let _ = writeln!(out, "\nTOTAL {score:.1}/{max}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_of_three_bound_for_common_counts() {
        assert_eq!(
            confidence_note(300),
            "0/300 failed: failure rate < 1% at 95% confidence"
        );
        assert_eq!(
            confidence_note(20),
            "0/20 failed: failure rate < 15% at 95% confidence"
        );
        assert!(
            confidence_note(1).contains("too few runs"),
            "{}",
            confidence_note(1)
        );
        assert_eq!(
            confidence_note(1000),
            "0/1000 failed: failure rate < 0.30% at 95% confidence"
        );
    }
}
