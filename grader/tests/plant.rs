//! `grader plant` on the answer fixture: a bug the tests catch is reported
//! with the test and its message, a bug no test sees is reported as not
//! caught and fails the command, and the shipped reference is untouched.

mod common;

#[test]
fn planted_bugs_are_reported_caught_or_not() {
    let reference = common::fixtures().join("lab8-answer/src/reference/answer.rs");
    let before = std::fs::read_to_string(&reference).expect("read the fixture's reference");
    let out = common::run_on_fixtures(&["plant", "lab8", "-n", "1", "-j", "2"]);
    let (stdout, stderr) = common::texts(&out);
    let all = format!("{stdout}\n{stderr}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a surviving bug fails the command:\n{all}"
    );
    let caught = stdout
        .split("\nwrong-answer: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no table entry for wrong-answer:\n{all}"));
    assert!(
        caught
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("answer_is_42 1/1") && l.contains("the answer is wrong")),
        "wrong-answer is caught by answer_is_42 with its message:\n{all}"
    );
    let survived = stdout
        .split("\nsaturates-early: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no table entry for saturates-early:\n{all}"));
    assert!(
        survived
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("NOT CAUGHT")),
        "saturates-early survives:\n{all}"
    );
    assert!(stdout.contains("1 of 2 planted bugs caught"), "{all}");
    let after = std::fs::read_to_string(&reference).expect("read the fixture's reference");
    assert_eq!(
        before, after,
        "planting never touches the shipped reference"
    );

    // One bug, chosen by name: caught, so the command succeeds.
    let out = common::run_on_fixtures(&["plant", "lab8", "--bug", "wrong-answer", "-j", "2"]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 of 1 planted bugs caught"),
        "{stdout}\n{stderr}"
    );

    // A name the file does not have is an error naming the known bugs.
    let out = common::run_on_fixtures(&["plant", "lab8", "--bug", "nope"]);
    let (stdout, stderr) = common::texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("no planted bug named \"nope\"") && stderr.contains("wrong-answer"),
        "{stderr}"
    );
}
