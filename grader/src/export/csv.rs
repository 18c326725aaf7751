//! The CSV roll-up: one row per submission, a column per test score, for
//! spreadsheets and course gradebooks.

use std::fmt::Write as _;

use super::Graded;

/// The CSV text for `graded`.
pub fn to_csv(graded: &[Graded]) -> String {
    let mut columns: Vec<(String, String)> = Vec::new();
    for g in graded {
        for l in &g.scores {
            for t in &l.tests {
                let key = (l.lab.clone(), t.test.clone());
                if !columns.contains(&key) {
                    columns.push(key);
                }
            }
        }
    }
    let mut out = String::from("submission,score,max_score,runs,passed_runs,problem,on_reference");
    for (lab, test) in &columns {
        let _ = write!(out, ",{}", field(&format!("{lab}/{test}")));
    }
    out.push('\n');
    for g in graded {
        let _ = write!(
            out,
            "{},{:.2},{},{},{},{},{}",
            field(&g.name),
            g.score(),
            g.max_score(),
            g.records.len(),
            g.records.iter().filter(|r| r.passed()).count(),
            field(&g.problem_text(false)),
            field(&g.on_reference.join(" "))
        );
        for (lab, test) in &columns {
            match g.gated_test_score(lab, test) {
                Some((score, _, _)) => {
                    let _ = write!(out, ",{score:.2}");
                }
                None => out.push(','),
            }
        }
        out.push('\n');
    }
    out
}

/// A CSV field, quoted when it holds a comma, quote or newline.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_with_separators_are_quoted() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
