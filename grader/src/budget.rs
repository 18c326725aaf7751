//! Budgets from `grade.toml` checked against what a passing run reported:
//! a run that passed its assertions but used more than it may fails, with
//! the figure and the limit in the message.

use testkit::grade::TestSpec;
use testkit::report::RunReport;

/// Every budget `report` (or its absence) breaks, as messages like
/// `rpcs 57 > max_rpcs 42 (grade.toml)`. `seconds` is the grader's own
/// measurement, used when there is no report.
pub fn violations(spec: &TestSpec, report: Option<&RunReport>, seconds: f64) -> Vec<String> {
    let mut out = Vec::new();
    let secs = report.map_or(seconds, |r| r.seconds);
    if secs > spec.timeout_secs as f64 {
        out.push(format!(
            "time {secs:.1} s > timeout_secs {} (grade.toml)",
            spec.timeout_secs
        ));
    }
    let checks: [(&str, Option<u64>, Option<u64>); 3] = [
        ("rpcs", spec.max_rpcs, report.map(|r| r.rpcs)),
        ("bytes", spec.max_bytes, report.map(|r| r.bytes)),
        (
            "heap",
            spec.max_heap_bytes,
            report.and_then(|r| r.heap_peak),
        ),
    ];
    for (what, limit, used) in checks {
        let Some(limit) = limit else { continue };
        let key = match what {
            "heap" => "max_heap_bytes",
            "rpcs" => "max_rpcs",
            _ => "max_bytes",
        };
        match used {
            Some(used) if used > limit => {
                out.push(format!("{what} {used} > {key} {limit} (grade.toml)"));
            }
            Some(_) => {}
            None if report.is_none() => out.push(format!(
                "the run wrote no report to check {key} against (the test must start with testkit::begin!())"
            )),
            None => out.push(format!(
                "the run did not measure its heap, so {key} cannot be checked \
                 (add testkit::install_counting_allocator!() to the test file)"
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn spec() -> TestSpec {
        TestSpec {
            name: "t".into(),
            part: "A".into(),
            points: 1.0,
            timeout_secs: 10,
            max_rpcs: Some(42),
            max_bytes: Some(1000),
            max_heap_bytes: None,
            max_rss_mib: 64,
            max_threads: 1024,
            limits: BTreeMap::new(),
            source: PathBuf::from("grade.toml"),
        }
    }

    fn report(rpcs: u64, bytes: u64, seconds: f64) -> RunReport {
        RunReport {
            test: "t".into(),
            package: "p".into(),
            seed: 1,
            passed: true,
            seconds,
            peers: 3,
            rpcs,
            bytes,
            ops: 0,
            heap_peak: None,
            failure: None,
        }
    }

    #[test]
    fn within_every_budget_is_clean() {
        let v = violations(&spec(), Some(&report(42, 1000, 9.9)), 10.0);
        assert!(
            v.is_empty(),
            "expected no violations at the limits, got {v:?}"
        );
    }

    #[test]
    fn over_rpcs_names_figure_and_limit() {
        let v = violations(&spec(), Some(&report(57, 10, 1.0)), 1.0);
        assert_eq!(v, vec!["rpcs 57 > max_rpcs 42 (grade.toml)".to_string()]);
    }

    #[test]
    fn over_bytes_and_time_are_both_reported() {
        let v = violations(&spec(), Some(&report(1, 5000, 12.0)), 12.0);
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].starts_with("time 12.0 s > timeout_secs 10"), "{v:?}");
        assert_eq!(v[1], "bytes 5000 > max_bytes 1000 (grade.toml)");
    }

    #[test]
    fn a_declared_budget_without_a_report_fails() {
        let v = violations(&spec(), None, 1.0);
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].contains("no report"), "{v:?}");
    }

    #[test]
    fn heap_budget_needs_the_counting_allocator() {
        let mut s = spec();
        s.max_rpcs = None;
        s.max_bytes = None;
        s.max_heap_bytes = Some(100);
        let v = violations(&s, Some(&report(0, 0, 1.0)), 1.0);
        assert!(v[0].contains("install_counting_allocator"), "{v:?}");
        let mut r = report(0, 0, 1.0);
        r.heap_peak = Some(101);
        let v = violations(&s, Some(&r), 1.0);
        assert_eq!(
            v,
            vec!["heap 101 > max_heap_bytes 100 (grade.toml)".to_string()]
        );
    }
}
