//! The run report: one JSON line per test run, appended to the file named by
//! `DISTLAB_REPORT`, and a one-line human summary.

use std::fs::OpenOptions;
use std::io::Write;

use serde::{Deserialize, Serialize};

/// The environment variable naming the report file.
pub const REPORT_VAR: &str = "DISTLAB_REPORT";

/// What one test run measured. The grader reads these lines back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The test function's name.
    pub test: String,
    /// The Cargo package.
    pub package: String,
    /// The seed the run used.
    pub seed: u64,
    /// Whether the test passed.
    pub passed: bool,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Peers (servers) the test ran.
    pub peers: u32,
    /// RPCs that entered the network.
    pub rpcs: u64,
    /// Bytes the network carried.
    pub bytes: u64,
    /// Client operations (or commands) the test performed.
    pub ops: u64,
    /// The run's own heap peak, when the binary counts allocations: the most
    /// heap bytes live at once during the run, above what the process
    /// already held when the run began; for a failed run, up to its failure
    /// (see [`crate::Run::heap_peak`]). With one run per process, as the
    /// grader runs tests, the bytes held before the run began are only the
    /// test harness's own few KiB.
    pub heap_peak: Option<u64>,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl RunReport {
    /// Appends this report as one line to the file named by `DISTLAB_REPORT`,
    /// if set, tagged with `key` when the grader gave the run one (see
    /// [`crate::seal`]). Errors are printed, not raised: a report must never
    /// turn a passing test into a failing one.
    pub(crate) fn append_to_env_file(&self, key: Option<&crate::seal::Key>) {
        let Ok(path) = std::env::var(REPORT_VAR) else {
            return;
        };
        let line = match serde_json::to_string(self) {
            Ok(json) => match key {
                Some(k) => format!("{json}{}{}\n", crate::seal::TAG_SEPARATOR, k.tag(&json)),
                None => format!("{json}\n"),
            },
            Err(e) => {
                eprintln!("distlab: cannot encode the run report: {e}");
                return;
            }
        };
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            eprintln!("distlab: cannot append the run report to {path} ({REPORT_VAR}): {e}");
        }
    }

    /// The MIT-style one-line summary.
    pub fn summary(&self) -> String {
        let verdict = if self.passed { "Passed" } else { "FAILED" };
        let heap = self
            .heap_peak
            .map(|h| format!("  heap peak {}", human_bytes(h)))
            .unwrap_or_default();
        format!(
            "  ... {verdict} -- {:5.1}s {:2} peers {:6} rpcs {:9} bytes {:6} ops{heap}",
            self.seconds, self.peers, self.rpcs, self.bytes, self.ops
        )
    }
}

/// `1234567` → `"1.2 MiB"`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RunReport {
        RunReport {
            test: "basic".into(),
            package: "lab0".into(),
            seed: 42,
            passed: true,
            seconds: 3.61,
            peers: 3,
            rpcs: 106,
            bytes: 2048,
            ops: 7,
            heap_peak: Some(3 * 1024 * 1024),
            failure: None,
        }
    }

    #[test]
    fn summary_reads_like_mits() {
        let s = sample().summary();
        assert!(
            s.starts_with("  ... Passed --   3.6s  3 peers    106 rpcs"),
            "{s}"
        );
        assert!(s.ends_with("heap peak 3.0 MiB"), "{s}");
    }

    #[test]
    fn json_line_round_trips() {
        let r = sample();
        let line = serde_json::to_string(&r).expect("encode");
        assert!(
            !line.contains("failure"),
            "absent failure is omitted: {line}"
        );
        let back: RunReport = serde_json::from_str(&line).expect("decode");
        assert_eq!(back, r);
    }

    #[test]
    fn human_bytes_picks_units() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(2048), "2.0 KiB");
        assert_eq!(human_bytes(10 * 1024 * 1024), "10.0 MiB");
    }
}
