//! The append checker: after clients append to a key, every append that
//! returned must be in the key's value exactly once, and each client's
//! appends must appear in the order that client made them.
//!
//! Each append writes a token `[c.n]`: client `c`'s `n`-th append. The final
//! value is then parsed back into tokens and compared with what each client
//! appended.

use std::collections::{BTreeMap, HashSet};

/// The text of client `client`'s `n`-th append.
pub fn token(client: u64, n: u64) -> String {
    format!("[{client}.{n}]")
}

/// The appends made to one key: for each client, its append numbers in the
/// order it made them.
pub type AppendLog = BTreeMap<u64, Vec<u64>>;

/// Parses a value made of tokens into `(client, n)` pairs, in order.
fn parse(key: &str, value: &str) -> Result<Vec<(u64, u64)>, String> {
    let mut out = Vec::new();
    let mut rest = value;
    let mut offset = 0;
    while !rest.is_empty() {
        let bad = || {
            let snippet: String = rest.chars().take(24).collect();
            format!(
                "key {key:?} holds text that no append wrote, at byte {offset}: {snippet:?}; \
                 expected only whole tokens like [3.17], one per append. Look for a value that \
                 was cut short, or written over instead of appended to"
            )
        };
        let body = rest.strip_prefix('[').ok_or_else(bad)?;
        let close = body.find(']').ok_or_else(bad)?;
        let (client, n) = body[..close].split_once('.').ok_or_else(bad)?;
        let client = client.parse::<u64>().map_err(|_| bad())?;
        let n = n.parse::<u64>().map_err(|_| bad())?;
        out.push((client, n));
        let used = close + 2;
        offset += used;
        rest = &rest[used..];
    }
    Ok(out)
}

/// Checks `value`, the final value of `key`, against `log`, the appends
/// that returned. Returns a description of the first problem found.
pub fn check(key: &str, value: &str, log: &AppendLog) -> Result<(), String> {
    let tokens = parse(key, value)?;
    let mut seen = HashSet::new();
    for &(client, n) in &tokens {
        if !seen.insert((client, n)) {
            return Err(format!(
                "key {key:?} holds {} more than once, but client {client} made that append \
                 once; expected each append exactly once. Look for a retried append that the \
                 server applies again instead of recognising it as one it already applied",
                token(client, n)
            ));
        }
        let made = log.get(&client).is_some_and(|ns| ns.contains(&n));
        if !made {
            return Err(format!(
                "key {key:?} holds {}, but client {client} never appended that to key {key:?}; \
                 expected only the tokens appended to it. Look for an append applied to another \
                 key than the one it names",
                token(client, n)
            ));
        }
    }
    for (&client, expected) in log {
        let in_value: Vec<u64> = tokens
            .iter()
            .filter(|(c, _)| *c == client)
            .map(|&(_, n)| n)
            .collect();
        if let Some(&missing) = expected.iter().find(|n| !in_value.contains(n)) {
            return Err(format!(
                "client {client}'s append of {} to key {key:?} returned, but it is missing \
                 from the key's value; expected every append that returned to be in the value. \
                 Look for a request answered as done without being applied, or a write that \
                 replaced the value instead of appending to it",
                token(client, missing)
            ));
        }
        if in_value != *expected {
            return Err(format!(
                "client {client}'s appends to key {key:?} are out of order: it appended {} but the \
                 value holds them as {}; expected them in the order the client made them (each \
                 returned before the next began). Look for an old request applied after a newer \
                 one",
                list(client, expected),
                list(client, &in_value)
            ));
        }
    }
    Ok(())
}

fn list(client: u64, ns: &[u64]) -> String {
    let shown: Vec<String> = ns.iter().take(8).map(|&n| token(client, n)).collect();
    let more = if ns.len() > 8 { " ..." } else { "" };
    format!("{}{more}", shown.join(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(entries: &[(u64, &[u64])]) -> AppendLog {
        entries.iter().map(|&(c, ns)| (c, ns.to_vec())).collect()
    }

    #[test]
    fn interleaved_appends_in_each_clients_order_pass() {
        let value = "[0.0][1.0][0.1][1.1]";
        assert_eq!(
            check("k", value, &log(&[(0, &[0, 1]), (1, &[0, 1])])),
            Ok(())
        );
    }

    #[test]
    fn a_duplicated_append_is_reported() {
        let e = check("k", "[0.0][0.0]", &log(&[(0, &[0])])).expect_err("duplicate");
        assert!(e.contains("more than once"), "{e}");
    }

    #[test]
    fn a_lost_append_is_reported() {
        let e = check("k", "[0.0]", &log(&[(0, &[0, 1])])).expect_err("missing");
        assert!(e.contains("missing"), "{e}");
    }

    #[test]
    fn a_reordered_append_is_reported() {
        let e = check("k", "[0.1][0.0]", &log(&[(0, &[0, 1])])).expect_err("out of order");
        assert!(e.contains("out of order"), "{e}");
    }

    #[test]
    fn garbage_and_foreign_tokens_are_reported() {
        let e = check("k", "[0.0]zz", &log(&[(0, &[0])])).expect_err("garbage");
        assert!(e.contains("byte 5"), "{e}");
        let e = check("k", "[2.0]", &log(&[(0, &[])])).expect_err("foreign");
        assert!(e.contains("never appended"), "{e}");
    }
}
