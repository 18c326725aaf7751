//! JUnit XML (the Jenkins/Ant dialect CI tools read): one `<testsuite>` per
//! lab, one `<testcase>` per run. Assertion-style verdicts are `<failure>`,
//! the grader's kills and crashes are `<error>`; scores go in `<properties>`.

use std::fmt::Write as _;

use super::{Graded, cap};
use crate::verdict::VerdictKind;

/// Most log bytes attached to a failing test case.
const MAX_LOG: usize = 16 * 1024;

/// The JUnit document for `graded`.
pub fn to_junit(graded: &[Graded]) -> String {
    let mut body = String::new();
    let (mut all_tests, mut all_failures, mut all_errors, mut all_time) = (0, 0, 0, 0.0);
    let stamp = crate::clock::iso_now();
    for g in graded {
        for lab in &g.scores {
            let suite = if graded.len() > 1 {
                format!("{}/{}", g.name, lab.lab)
            } else {
                lab.lab.clone()
            };
            if let Some(p) = &lab.problem {
                all_tests += 1;
                all_errors += 1;
                let _ = write!(
                    body,
                    "  <testsuite name=\"{}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0\" timestamp=\"{stamp}\">\n    <testcase name=\"build\" classname=\"{}\" time=\"0\">\n      <error message=\"{}\" type=\"GRADING\">{}</error>\n    </testcase>\n  </testsuite>\n",
                    esc(&suite),
                    esc(&lab.lab),
                    esc(first_line(p)),
                    esc(&cap(p, MAX_LOG))
                );
                continue;
            }
            let runs: Vec<_> = g.records.iter().filter(|r| r.lab == lab.lab).collect();
            let failures = runs
                .iter()
                .filter(|r| matches!(r.verdict, VerdictKind::Fail | VerdictKind::NoVerdict))
                .count();
            let errors = runs
                .iter()
                .filter(|r| {
                    matches!(
                        r.verdict,
                        VerdictKind::Timeout | VerdictKind::OutOfMemory | VerdictKind::Crash
                    )
                })
                .count();
            let time: f64 = runs.iter().map(|r| r.seconds).sum();
            all_tests += runs.len();
            all_failures += failures;
            all_errors += errors;
            all_time += time;
            let _ = writeln!(
                body,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"{time:.3}\" timestamp=\"{stamp}\">",
                esc(&suite),
                runs.len()
            );
            let _ = writeln!(
                body,
                "    <properties>\n      <property name=\"score\" value=\"{:.2}\"/>\n      <property name=\"max_score\" value=\"{}\"/>\n      <property name=\"policy\" value=\"{}\"/>\n      <property name=\"on_reference\" value=\"{}\"/>\n      <property name=\"sandboxed\" value=\"{}\"/>\n    </properties>",
                lab.score,
                lab.max,
                esc(&lab.policy),
                esc(&g.on_reference.join(" ")),
                g.sandboxed
            );
            for r in runs {
                let _ = write!(
                    body,
                    "    <testcase name=\"{} #{} seed {}\" classname=\"{}.{}\" time=\"{:.3}\"",
                    esc(&r.test),
                    r.iteration,
                    r.seed,
                    esc(&lab.lab),
                    esc(&r.part),
                    r.seconds
                );
                if r.passed() {
                    body.push_str("/>\n");
                    continue;
                }
                let tag = match r.verdict {
                    VerdictKind::Fail | VerdictKind::NoVerdict => "failure",
                    _ => "error",
                };
                let msg = r.message.as_deref().unwrap_or("");
                let _ = write!(
                    body,
                    ">\n      <{tag} message=\"{}\" type=\"{}\">{}\nrerun: {}</{tag}>\n",
                    esc(first_line(msg)),
                    r.verdict.label(),
                    esc(msg),
                    esc(&r.rerun)
                );
                if let Some(log) = r.log.as_ref().and_then(|p| std::fs::read(p).ok()) {
                    let text = String::from_utf8_lossy(&log);
                    let start = text.len().saturating_sub(MAX_LOG);
                    let start = (start..text.len())
                        .find(|&i| text.is_char_boundary(i))
                        .unwrap_or(text.len());
                    let _ = writeln!(
                        body,
                        "      <system-out>{}</system-out>",
                        esc(&text[start..])
                    );
                }
                body.push_str("    </testcase>\n");
            }
            body.push_str("  </testsuite>\n");
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"distlab grader\" tests=\"{all_tests}\" failures=\"{all_failures}\" errors=\"{all_errors}\" time=\"{all_time:.3}\">\n{body}</testsuites>\n"
    )
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Escapes text for XML attributes and content, dropping the control
/// characters XML 1.0 forbids (student output may contain any byte).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escaping_removes_markup_and_forbidden_controls() {
        assert_eq!(
            esc("a<b>&\"c'\u{1b}[31m"),
            "a&lt;b&gt;&amp;&quot;c&apos;[31m"
        );
    }
}
