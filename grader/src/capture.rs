//! A run's output: stored in its log file up to a cap (a student printing
//! gigabytes must not fill the disk), always drained (a full pipe would stall
//! the student's process), and scanned line by line for the few lines that
//! decide the verdict — also past the cap.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

/// Longest line kept for scanning; the rest of a longer line is skipped.
const MAX_SCANNED_LINE: usize = 16 * 1024;

/// What the scanner saw in a run's output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// libtest announced the test (`test NAME ... `).
    pub saw_test_line: bool,
    /// libtest's closing line said exactly one test passed.
    pub saw_result_ok: bool,
    /// libtest's closing line said it failed.
    pub saw_result_failed: bool,
    /// The first panic: `at FILE:LINE: MESSAGE`.
    pub panic: Option<String>,
    /// testkit's failure line: the message after the seed.
    pub testkit_failure: Option<String>,
}

/// Captured output of one run.
#[derive(Clone, Debug, Default)]
pub struct Captured {
    /// Bytes written to the log.
    pub stored: u64,
    /// Bytes read but not stored because the cap was reached.
    pub discarded: u64,
    /// The verdict-relevant lines.
    pub scan: Scan,
}

struct Sink {
    file: Option<BufWriter<File>>,
    cap: u64,
    captured: Captured,
    pending_panic: Option<String>,
    write_error: Option<String>,
}

/// The shared writer both pipe readers feed.
#[derive(Clone)]
pub struct Capture {
    sink: Arc<Mutex<Sink>>,
    test: String,
}

fn lock(m: &Mutex<Sink>) -> MutexGuard<'_, Sink> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Capture {
    /// A capture writing at most `cap` bytes to `file`, scanning for the
    /// libtest lines of `test` (its full name).
    pub fn new(file: File, cap: u64, test: &str) -> Capture {
        Capture {
            sink: Arc::new(Mutex::new(Sink {
                file: Some(BufWriter::new(file)),
                cap,
                captured: Captured::default(),
                pending_panic: None,
                write_error: None,
            })),
            test: test.to_owned(),
        }
    }

    /// Reads `stream` to its end (call on its own thread, one per stream).
    pub fn drain(&self, mut stream: impl Read) {
        let mut buf = vec![0u8; 64 * 1024];
        let mut line: Vec<u8> = Vec::new();
        let mut overlong = false;
        loop {
            let n = match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let chunk = &buf[..n];
            let mut sink = lock(&self.sink);
            sink.store(chunk);
            for &b in chunk {
                if b == b'\n' {
                    if !overlong {
                        sink.scan_line(&String::from_utf8_lossy(&line), &self.test);
                    }
                    line.clear();
                    overlong = false;
                } else if line.len() < MAX_SCANNED_LINE {
                    line.push(b);
                } else {
                    overlong = true;
                }
            }
        }
        if !line.is_empty() && !overlong {
            lock(&self.sink).scan_line(&String::from_utf8_lossy(&line), &self.test);
        }
    }

    /// Appends a note from the grader to the log (not counted against the cap).
    pub fn note(&self, text: &str) {
        let mut sink = lock(&self.sink);
        if let Some(f) = sink.file.as_mut() {
            let _ = writeln!(f, "\n[grader] {text}");
        }
    }

    /// Flushes the log and returns what was captured.
    pub fn finish(&self) -> Captured {
        let mut sink = lock(&self.sink);
        if sink.captured.discarded > 0 {
            let note = format!(
                "\n[grader] output truncated: the log keeps the first {} bytes; {} more bytes were discarded\n",
                sink.cap, sink.captured.discarded
            );
            if let Some(f) = sink.file.as_mut() {
                let _ = f.write_all(note.as_bytes());
            }
        }
        if let Some(p) = sink.pending_panic.take() {
            sink.captured.scan.panic.get_or_insert(p);
        }
        if let Some(mut f) = sink.file.take() {
            let _ = f.flush();
        }
        sink.captured.clone()
    }

    /// The first error writing the log, if any.
    pub fn write_error(&self) -> Option<String> {
        lock(&self.sink).write_error.clone()
    }
}

impl Sink {
    fn store(&mut self, chunk: &[u8]) {
        let room = self.cap.saturating_sub(self.captured.stored);
        let keep = (chunk.len() as u64).min(room) as usize;
        if keep > 0 {
            if let Some(f) = self.file.as_mut()
                && let Err(e) = f.write_all(&chunk[..keep])
            {
                self.write_error.get_or_insert(e.to_string());
            }
            self.captured.stored += keep as u64;
        }
        self.captured.discarded += (chunk.len() - keep) as u64;
    }

    fn scan_line(&mut self, line: &str, test: &str) {
        let scan = &mut self.captured.scan;
        // A panic's message is on the line after `thread 'x' panicked at F:L:`.
        if let Some(location) = self.pending_panic.take() {
            let msg = line.trim();
            scan.panic
                .get_or_insert_with(|| format!("panicked at {location} {msg}"));
        }
        if line.starts_with(&format!("test {test} ... ")) {
            scan.saw_test_line = true;
        }
        if let Some(rest) = line.strip_prefix("test result: ") {
            if rest.starts_with("ok. 1 passed;") {
                scan.saw_result_ok = true;
            } else if rest.starts_with("FAILED.") {
                scan.saw_result_failed = true;
            }
        }
        if line.starts_with("thread '")
            && scan.panic.is_none()
            && let Some((_, location)) = line.split_once(" panicked at ")
        {
            let location = location.trim_end();
            match location.strip_suffix(':') {
                Some(loc) => self.pending_panic = Some(format!("{loc}:")),
                // Older format: the message follows on the same line.
                None => scan.panic = Some(format!("panicked at {location}")),
            }
        }
        if let Some(rest) = line.strip_prefix("distlab: test ")
            && let Some((_, after)) = rest.split_once(" FAILED with seed ")
            && let Some((_, msg)) = after.split_once(": ")
        {
            scan.testkit_failure
                .get_or_insert_with(|| msg.trim().to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture_of(text: &[u8], cap: u64) -> (Captured, String) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("log");
        let file = File::create(&path).expect("log file");
        let c = Capture::new(file, cap, "basic");
        c.drain(text);
        let got = c.finish();
        let log = std::fs::read_to_string(&path).expect("read log");
        (got, log)
    }

    #[test]
    fn libtest_success_lines_are_recognised() {
        let out = b"running 1 test\ntest basic ... hello\nok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored\n";
        let (c, _) = capture_of(out, 1 << 20);
        assert!(c.scan.saw_test_line && c.scan.saw_result_ok, "{:?}", c.scan);
    }

    #[test]
    fn a_different_tests_line_does_not_count() {
        let (c, _) = capture_of(b"test other ... ok\n", 1 << 20);
        assert!(!c.scan.saw_test_line, "{:?}", c.scan);
    }

    #[test]
    fn panic_message_on_the_next_line_is_joined() {
        let out = b"thread 'basic' (123) panicked at tests/a.rs:4:26:\nassertion failed: x\nnote: run with RUST_BACKTRACE\n";
        let (c, _) = capture_of(out, 1 << 20);
        assert_eq!(
            c.scan.panic.as_deref(),
            Some("panicked at tests/a.rs:4:26: assertion failed: x")
        );
    }

    #[test]
    fn testkit_failure_line_gives_the_message() {
        let out = b"distlab: test basic FAILED with seed 42: too slow: 3 s\n";
        let (c, _) = capture_of(out, 1 << 20);
        assert_eq!(c.scan.testkit_failure.as_deref(), Some("too slow: 3 s"));
    }

    #[test]
    fn output_past_the_cap_is_discarded_but_still_scanned() {
        let mut out = vec![b'x'; 5000];
        out.extend_from_slice(b"\ntest result: ok. 1 passed; 0 failed\n");
        let (c, log) = capture_of(&out, 1000);
        assert_eq!(c.stored, 1000);
        assert_eq!(c.discarded, out.len() as u64 - 1000);
        assert!(
            c.scan.saw_result_ok,
            "the closing line past the cap was missed"
        );
        assert!(
            log.contains("output truncated"),
            "no truncation note in the log"
        );
        assert!(log.len() < 1200, "log holds {} bytes, cap 1000", log.len());
    }
}
