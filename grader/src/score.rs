//! Turning runs into points: each test's declared policy over its pass
//! rate, summed per part, with part gating (a part whose prerequisite part
//! scored zero scores zero, so later parts cannot be farmed without the
//! earlier ones working).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use testkit::grade::{GradeFile, Policy};

/// One test's score.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TestScore {
    /// The test.
    pub test: String,
    /// Its part.
    pub part: String,
    /// Points it is worth.
    pub max: f64,
    /// Runs that passed.
    pub passed: u64,
    /// Runs with a verdict.
    pub runs: u64,
    /// Points earned under the policy (before gating).
    pub score: f64,
}

/// One part's score.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PartScore {
    /// The part's key in `grade.toml`.
    pub part: String,
    /// Its title.
    pub title: String,
    /// Points earned, after gating.
    pub score: f64,
    /// Points available among the tests that ran.
    pub max: f64,
    /// The prerequisite that scored zero, when gating zeroed this part.
    pub gated_by: Option<String>,
}

/// One lab's score.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LabScore {
    /// The lab's package.
    pub lab: String,
    /// Its title.
    pub title: String,
    /// The policy used.
    pub policy: String,
    /// Per test, in `grade.toml` order.
    pub tests: Vec<TestScore>,
    /// Per part that had tests run.
    pub parts: Vec<PartScore>,
    /// Points earned.
    pub score: f64,
    /// Points available among the tests that ran.
    pub max: f64,
    /// Why the lab could not be run (missing files, a compile error): then
    /// every selected test counts as one failed run.
    pub problem: Option<String>,
}

/// Scores a lab from `(passed, runs)` per test name; tests that did not run
/// count for neither score nor max.
pub fn score_lab(
    grade: &GradeFile,
    policy: Policy,
    counts: &BTreeMap<String, (u64, u64)>,
) -> LabScore {
    let mut tests = Vec::new();
    for spec in grade.tests.values() {
        let Some(&(passed, runs)) = counts.get(&spec.name) else {
            continue;
        };
        if runs == 0 {
            continue;
        }
        tests.push(TestScore {
            test: spec.name.clone(),
            part: spec.part.clone(),
            max: spec.points,
            passed,
            runs,
            score: policy.score(spec.points, passed, runs),
        });
    }
    let mut raw: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for t in &tests {
        let e = raw.entry(t.part.as_str()).or_default();
        e.0 += t.score;
        e.1 += t.max;
    }
    let mut parts = Vec::new();
    for (name, &(score, max)) in &raw {
        let gated_by = gate(grade, &raw, name, 0);
        parts.push(PartScore {
            part: (*name).to_owned(),
            title: grade
                .parts
                .get(*name)
                .map(|p| p.title.clone())
                .unwrap_or_default(),
            score: if gated_by.is_some() { 0.0 } else { score },
            max,
            gated_by,
        });
    }
    LabScore {
        lab: grade.lab.name.clone(),
        title: grade.lab.title.clone(),
        policy: policy.name().to_owned(),
        score: parts.iter().map(|p| p.score).sum(),
        max: parts.iter().map(|p| p.max).sum(),
        tests,
        parts,
        problem: None,
    }
}

/// Applies gating across labs: a part whose `requires` names another lab's
/// part (`lab2-raft/A`) scores zero when that part ran, was worth points
/// and scored zero (after its own gating). Labs not graded this time do not
/// gate. `grades` gives each scored lab's `grade.toml` by package.
pub fn gate_across_labs(scores: &mut [LabScore], grades: &dyn Fn(&str) -> Option<GradeFile>) {
    // Resolve in rounds so that chains across several labs settle.
    for _ in 0..=scores.len() {
        let mut changed = false;
        for i in 0..scores.len() {
            let Some(grade) = grades(&scores[i].lab) else {
                continue;
            };
            for p in 0..scores[i].parts.len() {
                if scores[i].parts[p].gated_by.is_some() {
                    continue;
                }
                let name = scores[i].parts[p].part.clone();
                let Some(decl) = grade.parts.get(&name) else {
                    continue;
                };
                let zeroed = decl.requires.iter().find(|r| {
                    r.split_once('/').is_some_and(|(lab, part)| {
                        scores.iter().any(|l| {
                            l.lab == lab
                                && l.parts
                                    .iter()
                                    .any(|q| q.part == part && q.max > 0.0 && q.score <= 0.0)
                        })
                    })
                });
                if let Some(req) = zeroed.cloned() {
                    let part = &mut scores[i].parts[p];
                    part.score = 0.0;
                    part.gated_by = Some(req);
                    changed = true;
                }
            }
            let total = scores[i].parts.iter().map(|q| q.score).sum();
            scores[i].score = total;
        }
        if !changed {
            break;
        }
    }
}

/// The prerequisite of `part` (directly or through its own prerequisites)
/// that ran, was worth points, and scored zero.
fn gate(
    grade: &GradeFile,
    raw: &BTreeMap<&str, (f64, f64)>,
    part: &str,
    depth: usize,
) -> Option<String> {
    // A requires-cycle would recurse forever; parts are few, so cap depth.
    if depth > grade.parts.len() {
        return None;
    }
    let requires = grade.parts.get(part).map(|p| p.requires.as_slice())?;
    for req in requires {
        let Some(&(score, max)) = raw.get(req.as_str()) else {
            continue; // not run this time: nothing to gate on
        };
        if max > 0.0 && (score <= 0.0 || gate(grade, raw, req, depth + 1).is_some()) {
            return Some(req.clone());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRADE: &str = r#"
[lab]
name = "lab0"
title = "t"
[parts.A]
title = "a"
[parts.B]
title = "b"
requires = ["A"]
[parts.C]
title = "c"
requires = ["B"]
[tests.a1]
part = "A"
points = 10
[tests.b1]
part = "B"
points = 5
[tests.c1]
part = "C"
points = 2
"#;

    fn grade() -> GradeFile {
        GradeFile::parse("grade.toml", GRADE).expect("valid grade.toml")
    }

    fn counts(list: &[(&str, u64, u64)]) -> BTreeMap<String, (u64, u64)> {
        list.iter()
            .map(|(n, p, r)| ((*n).to_owned(), (*p, *r)))
            .collect()
    }

    #[test]
    fn all_parts_passing_score_full_points() {
        let s = score_lab(
            &grade(),
            Policy::AllOrNothing,
            &counts(&[("a1", 3, 3), ("b1", 3, 3), ("c1", 3, 3)]),
        );
        assert_eq!((s.score, s.max), (17.0, 17.0), "{s:?}");
    }

    #[test]
    fn zero_prerequisite_zeroes_dependents_transitively() {
        let s = score_lab(
            &grade(),
            Policy::Linear,
            &counts(&[("a1", 0, 4), ("b1", 4, 4), ("c1", 4, 4)]),
        );
        let b = &s.parts[1];
        let c = &s.parts[2];
        assert_eq!((b.score, b.gated_by.as_deref()), (0.0, Some("A")), "{s:?}");
        assert_eq!((c.score, c.gated_by.as_deref()), (0.0, Some("B")), "{s:?}");
        assert_eq!(s.score, 0.0);
        assert_eq!(s.max, 17.0);
    }

    #[test]
    fn partial_prerequisite_does_not_gate() {
        let s = score_lab(
            &grade(),
            Policy::Linear,
            &counts(&[("a1", 1, 4), ("b1", 4, 4)]),
        );
        assert_eq!(s.parts[1].gated_by, None, "{s:?}");
        assert!((s.score - (2.5 + 5.0)).abs() < 1e-9, "{s:?}");
    }

    #[test]
    fn prerequisite_not_run_does_not_gate() {
        let s = score_lab(&grade(), Policy::Linear, &counts(&[("b1", 4, 4)]));
        assert_eq!((s.score, s.max), (5.0, 5.0), "{s:?}");
    }

    #[test]
    fn policies_differ_on_the_same_runs() {
        let c = counts(&[("a1", 9, 10)]);
        let all = score_lab(&grade(), Policy::AllOrNothing, &c).score;
        let lin = score_lab(&grade(), Policy::Linear, &c).score;
        let exp = score_lab(&grade(), Policy::Exponential, &c).score;
        assert_eq!(all, 0.0);
        assert!((lin - 9.0).abs() < 1e-9, "linear gave {lin}");
        assert!((exp - 5.0).abs() < 1e-9, "exponential gave {exp}");
        let low = score_lab(&grade(), Policy::Exponential, &counts(&[("a1", 6, 10)]));
        assert_eq!(low.score, 0.0, "below 70% scores zero");
    }
}
