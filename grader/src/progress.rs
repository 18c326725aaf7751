//! What the user sees while runs go: on a terminal, an overall bar with an
//! ETA and one line per test with passed/total; otherwise (CI, pipes, the
//! grader's own tests) plain lines for failures and finished tests.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::RunRecord;
use crate::plan::PlannedTest;

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    tests: Vec<ProgressBar>,
}

struct Counts {
    passed: Vec<u64>,
    done: Vec<u64>,
}

/// The live display.
pub struct Progress {
    bars: Option<Bars>,
    counts: Mutex<Counts>,
    per_test: Option<u64>,
    names: Vec<String>,
}

impl Progress {
    /// A display for `tests`, each run `per_test` times when known.
    pub fn new(tests: &[PlannedTest], per_test: Option<u64>) -> Progress {
        let names: Vec<String> = tests.iter().map(|t| t.spec.name.clone()).collect();
        let live = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        let bars = live.then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let total = per_test.map(|n| n * tests.len() as u64);
            let overall = match total {
                Some(t) => ProgressBar::new(t),
                None => ProgressBar::no_length(),
            };
            let template = if total.is_some() {
                "{elapsed_precise} [{wide_bar}] {pos}/{len} runs, ETA {eta}"
            } else {
                "{elapsed_precise} {spinner} {pos} runs"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                overall.set_style(style);
            }
            let overall = multi.add(overall);
            let width = names.iter().map(String::len).max().unwrap_or(10);
            let tests = names
                .iter()
                .map(|n| {
                    let bar = match per_test {
                        Some(k) => ProgressBar::new(k),
                        None => ProgressBar::no_length(),
                    };
                    let template = format!("  {{prefix:{width}}} {{msg}}");
                    if let Ok(style) = ProgressStyle::with_template(&template) {
                        bar.set_style(style);
                    }
                    let bar = multi.add(bar);
                    bar.set_prefix(n.clone());
                    bar.set_message("waiting");
                    bar.tick();
                    bar
                })
                .collect();
            Bars {
                multi,
                overall,
                tests,
            }
        });
        Progress {
            bars,
            counts: Mutex::new(Counts {
                passed: vec![0; names.len()],
                done: vec![0; names.len()],
            }),
            per_test,
            names,
        }
    }

    /// Records a finished run.
    pub fn finished(&self, rec: &RunRecord) {
        let i = rec.test_index;
        let (passed, done) = {
            let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            c.done[i] += 1;
            if rec.passed() {
                c.passed[i] += 1;
            }
            (c.passed[i], c.done[i])
        };
        if !rec.passed() {
            self.println(&failure_lines(rec));
        }
        let total = self
            .per_test
            .map_or_else(|| done.to_string(), |n| n.to_string());
        match &self.bars {
            Some(b) => {
                b.overall.inc(1);
                let failed = done - passed;
                let msg = if failed > 0 {
                    format!("{passed}/{total} passed ({failed} failed) after {done} runs")
                } else {
                    format!("{passed}/{total} passed")
                };
                b.tests[i].set_message(msg);
            }
            None => {
                if self.per_test == Some(done) {
                    println!("done  {}: {passed}/{done} passed", self.names[i]);
                }
            }
        }
    }

    /// Prints `text` above the bars (or plainly).
    pub fn println(&self, text: &str) {
        match &self.bars {
            Some(b) => {
                let _ = b.multi.println(text);
            }
            None => println!("{text}"),
        }
    }

    /// Removes the bars before the final table.
    pub fn finish(&self) {
        if let Some(b) = &self.bars {
            for t in &b.tests {
                t.finish_and_clear();
            }
            b.overall.finish_and_clear();
            let _ = b.multi.clear();
        }
    }
}

/// The lines printed when a run does not pass.
pub fn failure_lines(rec: &RunRecord) -> String {
    let mut s = format!(
        "{} {} run {} seed {} ({:.1} s): {}",
        rec.verdict.label(),
        rec.test,
        rec.iteration,
        rec.seed,
        rec.seconds,
        rec.message.as_deref().unwrap_or("")
    );
    if let Some(log) = &rec.log {
        s.push_str(&format!("\n    log:   {}", log.display()));
    }
    s.push_str(&format!("\n    rerun: {}", rec.rerun));
    s
}
