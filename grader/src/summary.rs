//! The final table: per test, passed/total, time mean ± std, the largest
//! figures any run reported, the score, and what a clean record proves.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use testkit::grade::TestSpec;
use testkit::report::human_bytes;

use crate::engine::RunRecord;
use crate::plan::PlannedTest;
use crate::score::LabScore;
use crate::verdict::VerdictKind;

/// Aggregates over one test's runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    /// Budgets from `grade.toml` that some run came close to (at least
    /// [`NEAR_BUDGET`] of the limit), e.g. `max rpcs 95 of 100`.
    pub near_budgets: Vec<String>,
}

/// The share of a budget past which the table says a test came close.
pub const NEAR_BUDGET: f64 = 0.8;

fn near(what: &str, used: Option<u64>, budget: Option<u64>) -> Option<String> {
    let (used, budget) = (used?, budget?);
    (budget > 0 && used as f64 >= NEAR_BUDGET * budget as f64)
        .then(|| format!("{what} {used} of {budget}"))
}

/// One summary per planned test, in plan order.
pub fn summarize(tests: &[PlannedTest], records: &[RunRecord]) -> Vec<TestSummary> {
    let specs: Vec<(&str, &TestSpec)> = tests.iter().map(|t| (t.lab.as_str(), &t.spec)).collect();
    summarize_specs(&specs, records)
}

/// One summary per `(lab, spec)`, in that order; a record belongs to the
/// entry its `test_index` names.
pub fn summarize_specs(tests: &[(&str, &TestSpec)], records: &[RunRecord]) -> Vec<TestSummary> {
    tests
        .iter()
        .enumerate()
        .map(|(i, (lab, spec))| {
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
            let max_rpcs = runs.iter().filter_map(|r| r.rpcs).max();
            let max_bytes = runs.iter().filter_map(|r| r.bytes).max();
            let peak_heap_bytes = runs.iter().filter_map(|r| r.heap_peak_bytes).max();
            // Near a budget is news only for runs that passed: a run over
            // its budget failed, and its message says so.
            let passing = || runs.iter().filter(|r| r.passed());
            let near_budgets = [
                near(
                    "max rpcs",
                    passing().filter_map(|r| r.rpcs).max(),
                    spec.max_rpcs,
                ),
                near(
                    "max bytes",
                    passing().filter_map(|r| r.bytes).max(),
                    spec.max_bytes,
                ),
                near(
                    "heap peak",
                    passing().filter_map(|r| r.heap_peak_bytes).max(),
                    spec.max_heap_bytes,
                ),
            ]
            .into_iter()
            .flatten()
            .collect();
            TestSummary {
                lab: (*lab).to_owned(),
                test: spec.name.clone(),
                runs: runs.len() as u64,
                passed: runs.iter().filter(|r| r.passed()).count() as u64,
                failures,
                mean_seconds: mean,
                std_seconds: std,
                max_rpcs,
                max_bytes,
                peak_rss_bytes: runs.iter().map(|r| r.peak_rss_bytes).max().unwrap_or(0),
                peak_heap_bytes,
                near_budgets,
            }
        })
        .collect()
}

/// What a clean record proves for `tests` tests that passed every run, the
/// fewest of them `n` times (the rule of three: with no failure in n
/// independent runs, the failure rate is below 3/n at 95% confidence).
pub fn clean_note(tests: usize, n: u64) -> String {
    let runs = if n == 1 {
        "their one run".to_owned()
    } else {
        format!("all of at least {n} runs")
    };
    if n < 3 {
        return format!(
            "{tests} test(s) passed {runs}: too few runs to bound a failure rate (-n 300 shows < 1% at 95% confidence)"
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
    format!("{tests} test(s) passed {runs}: each one's failure rate < {shown}% at 95% confidence")
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
            if s.runs > 1 {
                format!("{:.1} ± {:.1}", s.mean_seconds, s.std_seconds)
            } else {
                format!("{:.1}", s.mean_seconds)
            },
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
    // A line per test only where it tells something the table does not: a
    // failure, or a budget nearly used up. Clean tests share one line.
    let mut clean_runs: Vec<u64> = Vec::new();
    for s in summaries.iter().filter(|s| s.runs > 0) {
        if s.passed < s.runs {
            let kinds: Vec<String> = s
                .failures
                .iter()
                .map(|(k, n)| format!("{n} {}", k.label()))
                .collect();
            let _ = writeln!(
                out,
                "{}: {}/{} failed ({}); failure rate {:.1}%",
                s.test,
                s.runs - s.passed,
                s.runs,
                kinds.join(", "),
                100.0 * (s.runs - s.passed) as f64 / s.runs as f64
            );
        } else {
            clean_runs.push(s.runs);
        }
        if !s.near_budgets.is_empty() {
            let _ = writeln!(
                out,
                "{}: close to its budget ({})",
                s.test,
                s.near_budgets.join(", ")
            );
        }
    }
    if let Some(&fewest) = clean_runs.iter().min() {
        let _ = writeln!(out, "{}", clean_note(clean_runs.len(), fewest));
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
            clean_note(5, 300),
            "5 test(s) passed all of at least 300 runs: each one's failure rate < 1% at 95% confidence"
        );
        assert!(clean_note(2, 20).contains("< 15%"), "{}", clean_note(2, 20));
        assert!(clean_note(1, 1000).contains("< 0.30%"));
        assert!(
            clean_note(3, 1).contains("too few runs"),
            "{}",
            clean_note(3, 1)
        );
        assert!(clean_note(3, 2).contains("too few runs"));
    }

    fn summary(runs: u64, passed: u64, near: &[&str]) -> TestSummary {
        let mut failures = BTreeMap::new();
        if passed < runs {
            failures.insert(VerdictKind::Fail, runs - passed);
        }
        TestSummary {
            lab: "lab1-kvsrv".into(),
            test: format!("t{runs}{passed}"),
            runs,
            passed,
            failures,
            mean_seconds: 1.25,
            std_seconds: 0.5,
            max_rpcs: Some(10),
            max_bytes: None,
            peak_rss_bytes: 1 << 20,
            peak_heap_bytes: None,
            near_budgets: near.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn one_run_shows_no_spread_and_clean_tests_share_one_line() {
        let out = render(&[summary(1, 1, &[]), summary(1, 1, &[])], &[]);
        assert!(!out.contains('±'), "{out}");
        assert_eq!(out.matches("passed their one run").count(), 1, "{out}");
        let out = render(&[summary(3, 3, &[])], &[]);
        assert!(out.contains("1.2 ± 0.5"), "{out}");
        assert!(
            !out.contains("t33:"),
            "a clean test gets no line of its own: {out}"
        );
    }

    #[test]
    fn failures_and_near_budgets_get_their_own_lines() {
        let out = render(
            &[summary(4, 3, &[]), summary(3, 3, &["max rpcs 95 of 100"])],
            &[],
        );
        assert!(
            out.contains("t43: 1/4 failed (1 FAIL); failure rate 25.0%"),
            "{out}"
        );
        assert!(
            out.contains("t33: close to its budget (max rpcs 95 of 100)"),
            "{out}"
        );
    }

    #[test]
    fn a_budget_is_near_from_eighty_percent() {
        assert_eq!(
            near("max rpcs", Some(80), Some(100)).as_deref(),
            Some("max rpcs 80 of 100")
        );
        assert_eq!(near("max rpcs", Some(79), Some(100)), None);
        assert_eq!(near("max rpcs", None, Some(100)), None);
        assert_eq!(near("max rpcs", Some(5), None), None);
    }
}
