//! `grade.toml`: the one place a lab declares its parts, points, time limits
//! and budgets. The lab's tests read their limits from it and the grader
//! scores and enforces budgets from it, so a budget is changed in one place.
//!
//! # Format
//!
//! ```toml
//! [lab]
//! name = "lab1-kvsrv"            # the Cargo package
//! title = "Key/value server"
//! policy = "exponential"         # how N runs become a score: all-or-nothing | linear | exponential
//! timeout_secs = 120             # default wall-clock limit per test run
//! max_rss_mib = 1024             # default: a run using more memory is killed
//! max_threads = 1024             # default: most processes + threads a sandboxed run may have
//! student_files = ["src/server.rs", "src/client.rs"]   # what a student edits and submits
//! uses = ["lab0-base"]           # labs this one builds on (their packages)
//!
//! [parts.A]
//! title = "exactly once"
//!
//! [parts.B]
//! title = "versioned put and a lock"
//! requires = ["A"]               # gating: B scores zero if A scored zero
//!                                # ("lab0-base/A" names a part of a lab in `uses`)
//!
//! [tests.one_client]             # the test function's name
//! part = "A"
//! points = 5
//! timeout_secs = 30              # overrides the lab default
//! max_rpcs = 10_000              # budgets checked against the run's report
//! max_bytes = 1_000_000
//! max_heap_bytes = 50_000_000
//! max_rss_mib = 512
//! max_threads = 256
//! limits = { per_client_bytes = 200 }   # numbers only the test itself reads
//! ```
//!
//! Unknown keys are errors (a misspelt budget must not be silently ignored);
//! every error names the file, the line and the key.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// How the runs of one test become its score.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// Full points only if every run passed.
    AllOrNothing,
    /// Points times the pass rate.
    Linear,
    /// Points × 0.5^((1 − pass rate) / 0.1), and zero below a 70% pass rate.
    #[default]
    Exponential,
}

impl Policy {
    /// The score for `points` when `passed` of `runs` runs passed.
    pub fn score(self, points: f64, passed: u64, runs: u64) -> f64 {
        if runs == 0 {
            return 0.0;
        }
        let rate = passed as f64 / runs as f64;
        match self {
            Policy::AllOrNothing => {
                if passed == runs {
                    points
                } else {
                    0.0
                }
            }
            Policy::Linear => points * rate,
            Policy::Exponential => {
                if rate < 0.7 {
                    0.0
                } else {
                    points * 0.5f64.powf((1.0 - rate) / 0.1)
                }
            }
        }
    }

    /// The name used in `grade.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Policy::AllOrNothing => "all-or-nothing",
            Policy::Linear => "linear",
            Policy::Exponential => "exponential",
        }
    }
}

/// The `[lab]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lab {
    /// The Cargo package name, e.g. `lab1-kvsrv`.
    pub name: String,
    /// A human title.
    pub title: String,
    /// Scoring policy over repeated runs.
    #[serde(default)]
    pub policy: Policy,
    /// Default wall-clock limit per test run, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Default memory limit per run, in MiB (the grader kills past it).
    #[serde(default = "default_rss")]
    pub max_rss_mib: u64,
    /// Default limit on the processes and threads a run may have at once
    /// (the grader's sandbox enforces it; creating one more fails).
    #[serde(default = "default_threads")]
    pub max_threads: u64,
    /// Paths (relative to the lab crate) a student edits and submits.
    #[serde(default)]
    pub student_files: Vec<String>,
    /// Packages of the labs this one builds on (a Cargo dependency of the
    /// crate as well). Grading copies their student files too, and can
    /// build on their reference instead.
    #[serde(default)]
    pub uses: Vec<String>,
}

fn default_timeout() -> u64 {
    120
}

fn default_rss() -> u64 {
    2048
}

/// The lowest `max_threads` a `grade.toml` may set.
pub const MIN_THREADS: u64 = 16;

fn default_threads() -> u64 {
    1024
}

/// A `[parts.X]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// A human title.
    pub title: String,
    /// Parts that must score above zero for this one to count.
    #[serde(default)]
    pub requires: Vec<String>,
}

/// A number in a test's `limits` table.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Number {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

impl Number {
    /// The value as a float.
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// A `[tests.NAME]` table as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    part: String,
    points: f64,
    timeout_secs: Option<u64>,
    max_rpcs: Option<u64>,
    max_bytes: Option<u64>,
    max_heap_bytes: Option<u64>,
    max_rss_mib: Option<u64>,
    max_threads: Option<u64>,
    #[serde(default)]
    limits: BTreeMap<String, Number>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    lab: Lab,
    #[serde(default)]
    parts: BTreeMap<String, Part>,
    #[serde(default)]
    tests: BTreeMap<String, RawTest>,
}

/// One test's declaration, with the lab defaults filled in.
#[derive(Clone, Debug)]
pub struct TestSpec {
    /// The test function's name.
    pub name: String,
    /// The part it belongs to.
    pub part: String,
    /// Points it is worth.
    pub points: f64,
    /// Wall-clock limit per run, in seconds.
    pub timeout_secs: u64,
    /// Most RPCs a run may use.
    pub max_rpcs: Option<u64>,
    /// Most bytes a run may send.
    pub max_bytes: Option<u64>,
    /// Most heap bytes a run may hold at once.
    pub max_heap_bytes: Option<u64>,
    /// Memory limit in MiB; the grader kills a run past it.
    pub max_rss_mib: u64,
    /// Most processes and threads a run may have at once (sandboxed runs).
    pub max_threads: u64,
    /// Numbers the test itself reads (see [`TestSpec::limit`]).
    pub limits: BTreeMap<String, Number>,
    /// The file the spec came from, for messages.
    pub source: PathBuf,
}

impl TestSpec {
    /// The number `key` from this test's `limits` table.
    pub fn limit(&self, key: &str) -> Result<f64, GradeError> {
        self.limits.get(key).map(|n| n.as_f64()).ok_or_else(|| GradeError {
            path: self.source.clone(),
            line: None,
            key: Some(format!("tests.{}.limits.{key}", self.name)),
            message: format!(
                "the test reads this limit but the file does not declare it; add `limits = {{ {key} = ... }}` to [tests.{}]",
                self.name
            ),
        })
    }
}

/// A parsed, validated `grade.toml`.
#[derive(Clone, Debug)]
pub struct GradeFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The `[lab]` table.
    pub lab: Lab,
    /// The parts, by name.
    pub parts: BTreeMap<String, Part>,
    /// The tests, by function name.
    pub tests: BTreeMap<String, TestSpec>,
}

/// What is wrong with a `grade.toml`, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct GradeError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The dotted key, when known.
    pub key: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for GradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for GradeError {}

impl GradeFile {
    /// Reads and validates `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<GradeFile, GradeError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| GradeError {
            path: path.to_owned(),
            line: None,
            key: None,
            message: format!("cannot read it: {e}"),
        })?;
        GradeFile::parse(path, &text)
    }

    /// The `grade.toml` of the crate whose manifest directory is `dir`.
    pub fn for_crate(dir: impl AsRef<Path>) -> Result<GradeFile, GradeError> {
        GradeFile::load(dir.as_ref().join("grade.toml"))
    }

    /// Parses and validates `text`, naming `path` in errors.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<GradeFile, GradeError> {
        let path = path.as_ref().to_owned();
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            let key = e
                .span()
                .map(|s| key_near(text, s.start))
                .filter(|k| !k.is_empty());
            GradeError {
                path: path.clone(),
                line,
                key,
                message: e.message().trim().to_owned(),
            }
        })?;
        let err = |line: Option<usize>, key: String, message: String| GradeError {
            path: path.clone(),
            line,
            key: Some(key),
            message,
        };
        if raw.lab.timeout_secs == 0 {
            return Err(err(
                find_line(text, "timeout_secs"),
                "lab.timeout_secs".into(),
                "must be at least 1 second".into(),
            ));
        }
        if raw.lab.max_threads < MIN_THREADS {
            return Err(err(
                find_line(text, "max_threads"),
                "lab.max_threads".into(),
                format!(
                    "must be at least {MIN_THREADS} (a test process needs a few threads of its own)"
                ),
            ));
        }
        for (name, part) in &raw.parts {
            for req in &part.requires {
                if let Some((lab, _)) = req.split_once('/') {
                    // Another lab's part: the grader checks it exists.
                    if !raw.lab.uses.iter().any(|u| u == lab) {
                        return Err(err(
                            find_line(text, &format!("[parts.{name}]")),
                            format!("parts.{name}.requires"),
                            format!(
                                "names {req:?}, a part of lab {lab:?}, which is not in lab.uses; add it to uses or drop the requirement"
                            ),
                        ));
                    }
                    continue;
                }
                if !raw.parts.contains_key(req) {
                    return Err(err(
                        find_line(text, &format!("[parts.{name}]")),
                        format!("parts.{name}.requires"),
                        format!(
                            "names part {req:?}, which is not declared; declared parts: {}",
                            names(&raw.parts)
                        ),
                    ));
                }
                if req == name {
                    return Err(err(
                        find_line(text, &format!("[parts.{name}]")),
                        format!("parts.{name}.requires"),
                        "a part cannot require itself".into(),
                    ));
                }
            }
        }
        let mut tests = BTreeMap::new();
        for (name, t) in raw.tests {
            let line = find_line(text, &format!("[tests.{name}]"));
            if !raw.parts.contains_key(&t.part) {
                return Err(err(
                    line,
                    format!("tests.{name}.part"),
                    format!(
                        "names part {:?}, which is not declared; declared parts: {}",
                        t.part,
                        names(&raw.parts)
                    ),
                ));
            }
            if !(t.points.is_finite() && t.points >= 0.0) {
                return Err(err(
                    line,
                    format!("tests.{name}.points"),
                    "must be a number ≥ 0".into(),
                ));
            }
            if t.timeout_secs == Some(0) {
                return Err(err(
                    line,
                    format!("tests.{name}.timeout_secs"),
                    "must be at least 1 second".into(),
                ));
            }
            if t.max_threads.is_some_and(|n| n < MIN_THREADS) {
                return Err(err(
                    line,
                    format!("tests.{name}.max_threads"),
                    format!(
                        "must be at least {MIN_THREADS} (a test process needs a few threads of its own)"
                    ),
                ));
            }
            tests.insert(
                name.clone(),
                TestSpec {
                    name,
                    part: t.part,
                    points: t.points,
                    timeout_secs: t.timeout_secs.unwrap_or(raw.lab.timeout_secs),
                    max_rpcs: t.max_rpcs,
                    max_bytes: t.max_bytes,
                    max_heap_bytes: t.max_heap_bytes,
                    max_rss_mib: t.max_rss_mib.unwrap_or(raw.lab.max_rss_mib),
                    max_threads: t.max_threads.unwrap_or(raw.lab.max_threads),
                    limits: t.limits,
                    source: path.clone(),
                },
            );
        }
        Ok(GradeFile {
            path,
            lab: raw.lab,
            parts: raw.parts,
            tests,
        })
    }

    /// The declaration of test `name`, or an error saying how to add it.
    pub fn test(&self, name: &str) -> Result<&TestSpec, GradeError> {
        self.tests.get(name).ok_or_else(|| GradeError {
            path: self.path.clone(),
            line: None,
            key: Some(format!("tests.{name}")),
            message: format!(
                "test {name:?} is not declared; every test must have a [tests.{name}] table with its part and points"
            ),
        })
    }

    /// Total points of the lab.
    pub fn total_points(&self) -> f64 {
        self.tests.values().map(|t| t.points).sum()
    }
}

fn names<V>(map: &BTreeMap<String, V>) -> String {
    if map.is_empty() {
        "(none)".into()
    } else {
        map.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The key written on the line holding `offset`, if the line has `key =`.
fn key_near(text: &str, offset: usize) -> String {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or("");
    line.split('=')
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches(['[', ']'])
        .to_owned()
}

fn find_line(text: &str, needle: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.trim_start().starts_with(needle))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[lab]
name = "lab0"
title = "t"
policy = "linear"

[parts.A]
title = "a"

[parts.B]
title = "b"
requires = ["A"]

[tests.one]
part = "A"
points = 5
max_rpcs = 100
limits = { per_client = 200, ratio = 0.5 }

[tests.two]
part = "B"
points = 2.5
timeout_secs = 7
"#;

    #[test]
    fn parses_tests_parts_and_defaults() {
        let g = GradeFile::parse("grade.toml", GOOD).expect("valid file");
        assert_eq!(g.lab.policy, Policy::Linear);
        assert_eq!(g.tests["one"].timeout_secs, 120, "lab default applies");
        assert_eq!(g.tests["two"].timeout_secs, 7);
        assert_eq!(g.tests["one"].max_rpcs, Some(100));
        assert_eq!(g.tests["one"].limit("per_client"), Ok(200.0));
        assert_eq!(g.tests["one"].limit("ratio"), Ok(0.5));
        assert_eq!(g.parts["B"].requires, vec!["A".to_string()]);
        assert_eq!(g.total_points(), 7.5);
        assert_eq!(g.tests["one"].max_threads, 1024, "lab default applies");
    }

    #[test]
    fn a_thread_limit_too_low_to_run_a_test_is_an_error() {
        let low = GOOD.replace("timeout_secs = 7", "timeout_secs = 7\nmax_threads = 4");
        let e = GradeFile::parse("grade.toml", &low).expect_err("4 threads");
        assert_eq!(e.key.as_deref(), Some("tests.two.max_threads"), "{e}");
        let ok = GOOD.replace("timeout_secs = 7", "timeout_secs = 7\nmax_threads = 64");
        let g = GradeFile::parse("grade.toml", &ok).expect("64 threads is fine");
        assert_eq!(g.tests["two"].max_threads, 64);
        let lab = GOOD.replace(
            "policy = \"linear\"",
            "policy = \"linear\"\nmax_threads = 0",
        );
        let e = GradeFile::parse("grade.toml", &lab).expect_err("0 threads");
        assert_eq!(e.key.as_deref(), Some("lab.max_threads"), "{e}");
    }

    #[test]
    fn missing_limit_names_the_key() {
        let g = GradeFile::parse("grade.toml", GOOD).expect("valid file");
        let e = g.tests["two"].limit("nope").expect_err("undeclared limit");
        assert_eq!(e.key.as_deref(), Some("tests.two.limits.nope"));
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let bad = GOOD.replace("max_rpcs = 100", "max_rpc = 100");
        let e = GradeFile::parse("lab/grade.toml", &bad).expect_err("misspelt key");
        let text = e.to_string();
        assert!(text.starts_with("lab/grade.toml:"), "{text}");
        assert_eq!(e.line, Some(17), "{text}");
        assert!(text.contains("max_rpc"), "{text}");
    }

    #[test]
    fn wrong_type_names_the_line() {
        let bad = GOOD.replace("points = 2.5", "points = \"many\"");
        let e = GradeFile::parse("grade.toml", &bad).expect_err("string points");
        assert_eq!(e.line, Some(22), "{e}");
        assert_eq!(e.key.as_deref(), Some("points"), "{e}");
    }

    #[test]
    fn undeclared_part_is_an_error_naming_the_test() {
        let bad = GOOD.replace("part = \"B\"", "part = \"C\"");
        let e = GradeFile::parse("grade.toml", &bad).expect_err("unknown part");
        assert_eq!(e.key.as_deref(), Some("tests.two.part"));
        assert_eq!(e.line, Some(20));
        assert!(e.message.contains("A, B"), "{e}");
    }

    #[test]
    fn cross_lab_gating_needs_the_lab_in_uses() {
        let cross = GOOD.replace("requires = [\"A\"]", "requires = [\"lab0-base/A\"]");
        let e = GradeFile::parse("grade.toml", &cross).expect_err("lab not in uses");
        assert!(e.message.contains("not in lab.uses"), "{e}");
        let used = cross.replacen("[lab]\n", "[lab]\nuses = [\"lab0-base\"]\n", 1);
        let g = GradeFile::parse("grade.toml", &used).expect("declared in uses");
        assert_eq!(g.lab.uses, ["lab0-base"]);
        assert_eq!(g.parts["B"].requires, ["lab0-base/A"]);
    }

    #[test]
    fn gating_on_an_unknown_part_is_an_error() {
        let bad = GOOD.replace("requires = [\"A\"]", "requires = [\"Z\"]");
        let e = GradeFile::parse("grade.toml", &bad).expect_err("unknown required part");
        assert_eq!(e.key.as_deref(), Some("parts.B.requires"));
    }

    #[test]
    fn undeclared_test_says_how_to_declare_it() {
        let g = GradeFile::parse("grade.toml", GOOD).expect("valid file");
        let e = g.test("three").expect_err("not declared");
        assert!(e.message.contains("[tests.three]"), "{e}");
    }

    #[test]
    fn policies_score_as_declared() {
        assert_eq!(Policy::AllOrNothing.score(10.0, 9, 10), 0.0);
        assert_eq!(Policy::AllOrNothing.score(10.0, 10, 10), 10.0);
        assert!((Policy::Linear.score(10.0, 9, 10) - 9.0).abs() < 1e-9);
        assert!((Policy::Exponential.score(10.0, 9, 10) - 5.0).abs() < 1e-9);
        assert!((Policy::Exponential.score(10.0, 95, 100) - 7.0710678).abs() < 1e-6);
        assert_eq!(Policy::Exponential.score(10.0, 69, 100), 0.0);
        assert_eq!(Policy::Exponential.score(10.0, 0, 0), 0.0);
    }
}
