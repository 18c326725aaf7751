//! What a run reported, believed only when it is authentic: the grader
//! gives each run a fresh key (see `testkit::seal`), and a report counts only
//! when it is the one line of the run's report file, tagged under that key,
//! for this test and this seed. libtest's output is for people; it never
//! decides a verdict.

use std::io::Read as _;
use std::path::Path;

use testkit::report::RunReport;
use testkit::seal::{KEY_LEN, Key, split_line};

use crate::error::{Context, Result};

/// A run's report as the grader judged it.
#[derive(Clone, Debug, PartialEq)]
pub enum Reported {
    /// Written by testkit for this run: its figures and verdict count.
    Authentic(RunReport),
    /// No report at all (the process ended before testkit could write one,
    /// or the test never started a testkit run).
    Missing,
    /// Something is wrong with it; the text says what.
    Rejected(String),
}

impl Reported {
    /// The report, when it is authentic.
    pub fn authentic(&self) -> Option<&RunReport> {
        match self {
            Reported::Authentic(r) => Some(r),
            _ => None,
        }
    }
}

/// A fresh secret for one run, from the kernel's random source.
pub fn fresh_key() -> Result<[u8; KEY_LEN]> {
    let mut key = [0u8; KEY_LEN];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .context(|| "cannot read /dev/urandom for a run's key".to_string())?;
    Ok(key)
}

/// Judges the report file at `path` of the run of `test` with `seed`,
/// authenticated with `key`.
pub fn read(path: &Path, key: &[u8; KEY_LEN], test: &str, seed: u64) -> Reported {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Reported::Missing;
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let line = match lines.as_slice() {
        [] => return Reported::Missing,
        [one] => *one,
        many => {
            return Reported::Rejected(format!(
                "the run's report file holds {} lines; testkit writes exactly one per run, so something else wrote the others",
                many.len()
            ));
        }
    };
    let (json, tag) = split_line(line);
    let Some(tag) = tag else {
        return Reported::Rejected(
            "the report line carries no authentication tag: testkit did not write it for this run"
                .into(),
        );
    };
    if !Key::from_bytes(*key).verify(json, tag) {
        return Reported::Rejected(
            "the report line's authentication tag is wrong: it was not written by testkit with this run's key (forged, or replayed from another run)"
                .into(),
        );
    }
    let report: RunReport = match serde_json::from_str(json) {
        Ok(r) => r,
        Err(e) => return Reported::Rejected(format!("cannot read the report line: {e}")),
    };
    if report.test != test || report.seed != seed {
        return Reported::Rejected(format!(
            "the report is for test {} with seed {}, not this run's test {test} with seed {seed}",
            report.test, report.seed
        ));
    }
    Reported::Authentic(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(test: &str, seed: u64, passed: bool) -> String {
        serde_json::to_string(&RunReport {
            test: test.into(),
            package: "lab0".into(),
            seed,
            passed,
            seconds: 0.5,
            peers: 1,
            rpcs: 3,
            bytes: 10,
            ops: 2,
            heap_peak: None,
            failure: None,
        })
        .expect("encode")
    }

    fn judged(lines: &[String], key: [u8; KEY_LEN]) -> Reported {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("r.jsonl");
        std::fs::write(&path, lines.join("\n")).expect("write");
        read(&path, &key, "t", 7)
    }

    fn tagged(json: &str, key: [u8; KEY_LEN]) -> String {
        format!("{json}\t{}", Key::from_bytes(key).tag(json))
    }

    #[test]
    fn only_the_one_tagged_line_for_this_run_is_authentic() {
        let key = [1; KEY_LEN];
        let good = tagged(&report("t", 7, true), key);
        assert!(
            matches!(judged(std::slice::from_ref(&good), key), Reported::Authentic(r) if r.passed)
        );
        let cases = [
            (vec![report("t", 7, true)], "no authentication tag"),
            (
                vec![tagged(&report("t", 7, true), [2; KEY_LEN])],
                "tag is wrong",
            ),
            (vec![tagged(&report("t", 8, true), key)], "with seed 8"),
            (vec![tagged(&report("u", 7, true), key)], "for test u"),
            (vec![good.clone(), good], "holds 2 lines"),
        ];
        for (lines, why) in cases {
            match judged(&lines, key) {
                Reported::Rejected(m) => assert!(m.contains(why), "{why}: {m}"),
                other => panic!("{why}: {other:?}"),
            }
        }
        assert_eq!(judged(&[], key), Reported::Missing);
    }

    #[test]
    fn a_tampered_verdict_breaks_the_tag() {
        let key = [3; KEY_LEN];
        let line =
            tagged(&report("t", 7, false), key).replace("\"passed\":false", "\"passed\":true");
        assert!(matches!(judged(&[line], key), Reported::Rejected(_)));
    }

    #[test]
    fn fresh_keys_differ() {
        assert_ne!(fresh_key().expect("key"), fresh_key().expect("key"));
    }
}
