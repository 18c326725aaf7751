//! Keeps `grade.toml` and the test files in step: every lab test is declared
//! with the part its name says, nothing undeclared runs, nothing declared is
//! missing, and a damaged file is reported with its file, line and key.
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
    for (file, part) in [("part_a.rs", "A"), ("part_b.rs", "B")] {
        let tests = test_functions(file);
        assert!(!tests.is_empty(), "found no tests in tests/{file}");
        for name in tests {
            let spec = grade.test(&name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                spec.part, part,
                "{name} is in tests/{file} but grade.toml puts it in part {}",
                spec.part
            );
            let prefix = format!("{}_", part.to_lowercase());
            assert!(
                name.starts_with(&prefix),
                "{name} should start with {prefix:?} so `cargo test {prefix}` selects part {part}"
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

#[test]
fn a_misspelt_budget_is_reported_with_file_line_and_key() {
    let path = crate_dir().join("grade.toml");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read grade.toml: {e}"));
    let line = text
        .lines()
        .position(|l| l.starts_with("max_rpcs = 5"))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("grade.toml should have a `max_rpcs = 5` line to damage"));
    let damaged = text.replacen("max_rpcs = 5", "max_rcps = 5", 1);
    let e = GradeFile::parse(&path, &damaged).expect_err("a misspelt key must be rejected");
    let message = e.to_string();
    assert!(
        message.starts_with(&path.display().to_string()),
        "{message}"
    );
    assert_eq!(e.line, Some(line), "{message}");
    assert!(message.contains("max_rcps"), "{message}");
}
