//! Which test runs where: each selected `grade.toml` test matched to the
//! binary (and full libtest name) that holds it.

use testkit::grade::TestSpec;

use crate::binaries::TestBinary;
use crate::error::{GraderError, Result};
use crate::workspace::{Selection, Workspace};

/// One test the grader will run, with everything a run needs.
#[derive(Clone, Debug)]
pub struct PlannedTest {
    /// The lab's package.
    pub lab: String,
    /// The declaration from `grade.toml`.
    pub spec: TestSpec,
    /// The binary holding it.
    pub binary: TestBinary,
    /// The full libtest name to pass to `--exact`.
    pub full_name: String,
}

/// The tests selected by `selections` and `--test` names, matched to
/// `binaries`. Declared tests no binary has are errors; tests a binary has
/// that `grade.toml` lacks are returned as warnings.
pub fn plan(
    ws: &Workspace,
    selections: &[Selection],
    only: &[String],
    binaries: &[TestBinary],
) -> Result<(Vec<PlannedTest>, Vec<String>)> {
    let mut planned = Vec::new();
    let mut warnings = Vec::new();
    let mut matched_only = vec![false; only.len()];
    for sel in selections {
        let lab = &ws.labs[sel.lab];
        let bins: Vec<&TestBinary> = binaries
            .iter()
            .filter(|b| b.package == lab.package)
            .collect();
        for b in bins.iter().filter(|b| !b.is_lib) {
            for full in &b.tests {
                if !lab.grade.tests.contains_key(last_segment(full)) {
                    warnings.push(format!(
                        "{}: test {full} (target {}) is not declared in {}; the grader does not run it",
                        lab.package,
                        b.target,
                        lab.grade.path.display()
                    ));
                }
            }
        }
        for spec in lab.grade.tests.values() {
            if sel.part.as_ref().is_some_and(|p| *p != spec.part) {
                continue;
            }
            if planned
                .iter()
                .any(|p: &PlannedTest| p.lab == lab.package && p.spec.name == spec.name)
            {
                continue; // the same lab named twice
            }
            if !only.is_empty() {
                let Some(i) = only.iter().position(|o| *o == spec.name) else {
                    continue;
                };
                matched_only[i] = true;
            }
            let all_homes: Vec<(&TestBinary, &String)> = bins
                .iter()
                .flat_map(|b| b.tests.iter().map(move |t| (*b, t)))
                .filter(|(_, t)| last_segment(t) == spec.name)
                .collect();
            // The lab's tests are integration tests (tests/*.rs), which
            // grading keeps pristine; a unit test of the same name in the
            // library (where student files live) must not capture it.
            let integration: Vec<(&TestBinary, &String)> = all_homes
                .iter()
                .copied()
                .filter(|(b, _)| !b.is_lib)
                .collect();
            let homes = if integration.is_empty() {
                all_homes
            } else {
                integration
            };
            let (binary, full) = match homes.as_slice() {
                [one] => *one,
                [] => {
                    return Err(GraderError::new(format!(
                        "{} declares test {:?} but no test binary of {} has it; \
                         add the #[test] fn or remove [tests.{}]",
                        lab.grade.path.display(),
                        spec.name,
                        lab.package,
                        spec.name
                    )));
                }
                many => {
                    let places: Vec<String> = many
                        .iter()
                        .map(|(b, t)| format!("{t} in target {}", b.target))
                        .collect();
                    return Err(GraderError::new(format!(
                        "test {:?} of {} is ambiguous: {}; rename one",
                        spec.name,
                        lab.package,
                        places.join(", ")
                    )));
                }
            };
            planned.push(PlannedTest {
                lab: lab.package.clone(),
                spec: spec.clone(),
                binary: binary.clone(),
                full_name: full.clone(),
            });
        }
    }
    if let Some(i) = matched_only.iter().position(|m| !m) {
        let names: Vec<String> = selections
            .iter()
            .flat_map(|s| ws.labs[s.lab].grade.tests.keys().cloned())
            .collect();
        return Err(GraderError::new(format!(
            "--test {:?} matches no declared test of the selected labs/parts; tests: {}",
            only[i],
            names.join(", ")
        )));
    }
    if planned.is_empty() {
        return Err(GraderError::new(
            "nothing to run: the selection has no declared tests",
        ));
    }
    Ok((planned, warnings))
}

/// `module::name` → `name`, the form `grade.toml` uses.
pub fn last_segment(full: &str) -> &str {
    full.rsplit("::").next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::{Lab, Member};
    use std::path::PathBuf;
    use testkit::grade::GradeFile;

    const GRADE: &str = r#"
[lab]
name = "lab0-x"
title = "t"
[parts.A]
title = "a"
[parts.B]
title = "b"
[tests.one]
part = "A"
points = 1
[tests.two]
part = "B"
points = 1
"#;

    fn ws() -> Workspace {
        let grade = GradeFile::parse("lab0-x/grade.toml", GRADE).expect("valid grade.toml");
        Workspace {
            root: PathBuf::from("/kit"),
            members: vec![Member {
                package: "lab0-x".into(),
                dir: PathBuf::from("/kit/lab0-x"),
            }],
            labs: vec![Lab {
                package: "lab0-x".into(),
                dir: PathBuf::from("/kit/lab0-x"),
                grade,
            }],
        }
    }

    fn binary(target: &str, tests: &[&str]) -> TestBinary {
        TestBinary {
            package: "lab0-x".into(),
            target: target.into(),
            is_lib: false,
            package_dir: PathBuf::from("/kit/lab0-x"),
            path: PathBuf::from(format!("/bin/{target}")),
            tests: tests.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    fn all(part: Option<&str>) -> Vec<Selection> {
        vec![Selection {
            lab: 0,
            part: part.map(str::to_owned),
        }]
    }

    #[test]
    fn declared_tests_map_to_their_binaries_and_full_names() {
        let bins = [binary("part_a", &["one"]), binary("part_b", &["m::two"])];
        let (p, warnings) = plan(&ws(), &all(None), &[], &bins).expect("both found");
        let names: Vec<(&str, &str)> = p
            .iter()
            .map(|t| (t.binary.target.as_str(), t.full_name.as_str()))
            .collect();
        assert_eq!(names, vec![("part_a", "one"), ("part_b", "m::two")]);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_declared_test_no_binary_has_is_an_error_naming_it() {
        let bins = [binary("part_a", &["one"])];
        let e = plan(&ws(), &all(None), &[], &bins).expect_err("two is missing");
        assert!(
            e.0.contains("\"two\"") && e.0.contains("[tests.two]"),
            "{e}"
        );
    }

    #[test]
    fn an_undeclared_test_is_a_warning_and_not_run() {
        let bins = [
            binary("part_a", &["one", "extra"]),
            binary("part_b", &["two"]),
        ];
        let (p, warnings) = plan(&ws(), &all(None), &[], &bins).expect("declared ones found");
        assert_eq!(p.len(), 2);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("extra"), "{warnings:?}");
    }

    #[test]
    fn a_part_and_test_filters_narrow_the_plan() {
        let bins = [binary("part_a", &["one"]), binary("part_b", &["two"])];
        let (p, _) = plan(&ws(), &all(Some("B")), &[], &bins).expect("part B");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].spec.name, "two");
        let e = plan(&ws(), &all(Some("A")), &["two".into()], &bins).expect_err("two is in B");
        assert!(e.0.contains("--test \"two\""), "{e}");
    }

    #[test]
    fn naming_a_lab_twice_runs_its_tests_once() {
        let bins = [binary("part_a", &["one"]), binary("part_b", &["two"])];
        let mut sel = all(None);
        sel.extend(all(None));
        let (p, _) = plan(&ws(), &sel, &[], &bins).expect("found");
        assert_eq!(p.len(), 2, "each test once");
    }
}
