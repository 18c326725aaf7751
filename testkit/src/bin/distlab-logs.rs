//! `distlab-logs`: read a test's log and print it one column per peer.
//!
//! ```text
//! DISTLAB_LOG=debug cargo test -p lab2-raft --test part_a -- --exact a_initial_election > run.log
//! cargo run -p testkit --bin distlab-logs -- -c 3 --just vote,append run.log
//! ```
//!
//! Lines written by `testkit::log` (`<secs>s <topic>: <message> peer=<n> ...`)
//! go into column `n`; any other line (test output, panics) is printed as is.

use std::io::{BufRead, BufReader, Read};
use std::process::ExitCode;

const USAGE: &str = "usage: distlab-logs [-c PEERS] [-w WIDTH] [--just TOPIC,..] [--ignore TOPIC,..] [FILE]
  -c, --columns PEERS   one column per peer (default: no columns, just filtering)
  -w, --width WIDTH     characters per column (default 36)
  --just TOPICS         show only these topics (comma-separated: vote,append,commit,persist,snapshot,client,test)
  --ignore TOPICS       hide these topics
  FILE                  the log (default: standard input)";

struct Options {
    columns: usize,
    width: usize,
    just: Vec<String>,
    ignore: Vec<String>,
    file: Option<String>,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        columns: 0,
        width: 36,
        just: Vec::new(),
        ignore: Vec::new(),
        file: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "-c" | "--columns" => {
                let v = value(a)?;
                o.columns = v
                    .parse()
                    .map_err(|_| format!("{a} takes a number of peers, got {v:?}"))?;
            }
            "-w" | "--width" => {
                let v = value(a)?;
                o.width = v
                    .parse::<usize>()
                    .ok()
                    .filter(|w| *w >= 8)
                    .ok_or_else(|| format!("{a} takes a width of at least 8, got {v:?}"))?;
            }
            "--just" => o.just = value(a)?.split(',').map(str::to_owned).collect(),
            "--ignore" => o.ignore = value(a)?.split(',').map(str::to_owned).collect(),
            f if !f.starts_with('-') && o.file.is_none() => o.file = Some(f.to_owned()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

/// A parsed log line: time, topic, peer, the rest.
struct Entry<'a> {
    secs: &'a str,
    topic: &'a str,
    peer: Option<usize>,
    text: String,
}

fn parse_line(line: &str) -> Option<Entry<'_>> {
    let trimmed = line.trim_start();
    let (secs, rest) = trimmed.split_once("s ")?;
    secs.parse::<f64>().ok()?;
    let (topic, body) = rest.split_once(": ")?;
    if topic.contains(' ') {
        return None;
    }
    let mut peer = None;
    let mut words = Vec::new();
    for w in body.split(' ') {
        match w.strip_prefix("peer=").and_then(|p| p.parse().ok()) {
            Some(p) if peer.is_none() => peer = Some(p),
            _ => words.push(w),
        }
    }
    Some(Entry {
        secs,
        topic,
        peer,
        text: words.join(" "),
    })
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(width)
        .map(|c| c.iter().collect())
        .collect::<Vec<String>>()
}

fn render(o: &Options, e: &Entry<'_>) -> Vec<String> {
    let head = format!("{:>9} {:<8}", ms(e.secs), e.topic.to_uppercase());
    match (o.columns, e.peer) {
        (n, Some(p)) if n > 0 && p < n => wrap(&e.text, o.width)
            .into_iter()
            .enumerate()
            .map(|(i, chunk)| {
                let lead = if i == 0 {
                    head.clone()
                } else {
                    " ".repeat(head.len())
                };
                format!("{lead} {}{chunk}", " ".repeat(p * (o.width + 1)))
            })
            .collect(),
        (_, Some(p)) => vec![format!("{head} S{p} {}", e.text)],
        (_, None) => vec![format!("{head} {}", e.text)],
    }
}

fn ms(secs: &str) -> String {
    secs.parse::<f64>()
        .map(|s| format!("{:.1}ms", s * 1e3))
        .unwrap_or_else(|_| secs.to_owned())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = match parse_args(&args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("distlab-logs: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let input: Box<dyn Read> = match &o.file {
        Some(f) => match std::fs::File::open(f) {
            Ok(file) => Box::new(file),
            Err(e) => {
                eprintln!("distlab-logs: cannot open {f}: {e}");
                return ExitCode::from(2);
            }
        },
        None => Box::new(std::io::stdin()),
    };
    if o.columns > 0 {
        let header: String = (0..o.columns)
            .map(|p| format!("{:<w$}", format!("S{p}"), w = o.width + 1))
            .collect();
        println!("{:>9} {:<8} {header}", "time", "topic");
    }
    for line in BufReader::new(input).lines() {
        let Ok(line) = line else { break };
        match parse_line(&line) {
            Some(e) => {
                let shown = (o.just.is_empty() || o.just.iter().any(|t| t == e.topic))
                    && !o.ignore.iter().any(|t| t == e.topic);
                if shown {
                    for l in render(&o, &e) {
                        println!("{l}");
                    }
                }
            }
            None => println!("{line}"),
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_testkit_line_and_finds_the_peer() {
        let e = parse_line("   0.012500000s vote: granted vote to 2 peer=1 term=3")
            .expect("a log line");
        assert_eq!((e.secs, e.topic, e.peer), ("0.012500000", "vote", Some(1)));
        assert_eq!(e.text, "granted vote to 2 term=3");
    }

    #[test]
    fn other_lines_are_not_log_entries() {
        assert!(parse_line("thread 'x' panicked at src/lib.rs:3:5:").is_none());
        assert!(parse_line("test a_initial_election ... ok").is_none());
    }

    #[test]
    fn a_peer_goes_into_its_own_column() {
        let o =
            parse_args(&["-c".into(), "3".into(), "-w".into(), "10".into()]).expect("valid args");
        let e = parse_line("   0.001000000s append: sent 4 peer=2").expect("a log line");
        let lines = render(&o, &e);
        assert_eq!(lines.len(), 1);
        let col = lines[0].find("sent 4").expect("text present");
        let head_len = format!("{:>9} {:<8} ", "1.0ms", "APPEND").len();
        assert_eq!(col, head_len + 2 * 11, "{:?}", lines[0]);
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        let e = parse_args(&["-c".into(), "three".into()])
            .err()
            .unwrap_or_default();
        assert!(e.contains("\"three\""), "{e}");
    }
}
