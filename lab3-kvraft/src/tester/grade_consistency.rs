//! Keeps `grade.toml` and the test files in step: every lab test is declared
//! with the part its name says, nothing undeclared runs, nothing declared is
//! missing, the points add up to 100, and the parts gate as the handout says.
//!
//! These are checks on the kit, not lab tests: they do not depend on the
//! student's code and are not graded. They live among the library's unit
//! tests (not in `tests/`) because the grader treats every integration test
//! as a lab test that `grade.toml` must declare.

use std::collections::BTreeSet;
use std::path::Path;

use testkit::grade::GradeFile;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn grade_file() -> GradeFile {
    GradeFile::for_crate(crate_dir()).unwrap_or_else(|e| panic!("grade.toml should parse: {e}"))
}

/// The `#[test]` functions of a test file, by a plain reading of its source.
fn test_functions(file: &str) -> BTreeSet<String> {
    let path = crate_dir().join("tests").join(file);
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut names = BTreeSet::new();
    let mut after_test_attribute = false;
    for line in source.lines().map(str::trim) {
        if line == "#[test]" {
            after_test_attribute = true;
        } else if after_test_attribute {
            if let Some(rest) = line.strip_prefix("fn ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.insert(name);
            }
            after_test_attribute = false;
        }
    }
    names
}

#[test]
fn every_lab_test_is_declared_in_its_part_and_nothing_else_is() {
    let grade = grade_file();
    let mut in_files = BTreeSet::new();
    for (file, part) in [("part_a.rs", "A"), ("part_b.rs", "B"), ("part_c.rs", "C")] {
        let tests = test_functions(file);
        assert!(!tests.is_empty(), "found no tests in tests/{file}");
        for name in tests {
            let spec = grade.test(&name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                spec.part, part,
                "{name} is in tests/{file} but grade.toml puts it in part {}",
                spec.part
            );
            let suffix = format!("_3{}", part.to_lowercase());
            assert!(
                name.ends_with(&suffix),
                "{name} should end with {suffix:?} so `cargo test -p lab3-kvraft {}` selects \
                 part {part}",
                &suffix[1..]
            );
            in_files.insert(name);
        }
    }
    let declared: BTreeSet<String> = grade.tests.keys().cloned().collect();
    let stale: Vec<&String> = declared.difference(&in_files).collect();
    assert!(
        stale.is_empty(),
        "grade.toml declares tests that no test file defines: {stale:?}"
    );
}

#[test]
fn points_total_100_and_each_part_builds_on_the_one_before() {
    let grade = grade_file();
    let total: f64 = grade.tests.values().map(|t| t.points).sum();
    assert!(
        (total - 100.0).abs() < 1e-9,
        "the tests' points add up to {total}, not 100"
    );
    assert_eq!(grade.lab.uses, ["lab2-raft"]);
    let requires = |part: &str| grade.parts[part].requires.clone();
    assert!(
        requires("A").iter().all(|r| r.starts_with("lab2-raft/")) && !requires("A").is_empty(),
        "part A must require lab 2's parts it runs on, got {:?}",
        requires("A")
    );
    assert_eq!(requires("B"), ["A"]);
    assert!(
        requires("C").contains(&"B".to_owned()),
        "part C must require part B, got {:?}",
        requires("C")
    );
}

#[test]
fn student_files_exist() {
    let grade = grade_file();
    assert!(!grade.lab.student_files.is_empty());
    for file in &grade.lab.student_files {
        assert!(
            crate_dir().join(file).is_file(),
            "student file {file} does not exist"
        );
    }
}

// distlab:reference-begin
#[cfg(feature = "reference")]
#[test]
fn every_student_file_has_a_reference_counterpart() {
    for file in &grade_file().lab.student_files {
        let name = Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let reference = crate_dir()
            .join("src/reference")
            .join(name.unwrap_or_default());
        assert!(
            reference.is_file(),
            "student file {file} has no reference counterpart at {}",
            reference.display()
        );
    }
}
// distlab:reference-end
