//! The append check: after clients append to a key, every append that
//! returned is in the key's value exactly once, and each client's appends
//! are in the order the client made them.
//!
//! Client `c`'s `n`-th append to a key writes the token `<c.n>`; the final
//! value is split back into tokens and compared with what each client
//! appended.

use std::collections::{BTreeMap, BTreeSet};

/// The text of client `client`'s `n`-th append.
pub fn token(client: u64, n: u64) -> String {
    format!("<{client}.{n}>")
}

/// The appends that returned for one key: for each client, its append
/// numbers in the order it made them.
pub type AppendLog = BTreeMap<u64, Vec<u64>>;

/// Splits a value made of tokens into `(client, n)` pairs, in order.
fn tokens(key: &str, value: &str) -> Result<Vec<(u64, u64)>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < value.len() {
        let rest = &value[at..];
        let parsed = rest
            .strip_prefix('<')
            .and_then(|body| body.split_once('>'))
            .and_then(|(inside, _)| {
                let (c, n) = inside.split_once('.')?;
                Some((
                    c.parse::<u64>().ok()?,
                    n.parse::<u64>().ok()?,
                    inside.len() + 2,
                ))
            });
        let Some((client, n, used)) = parsed else {
            let snippet: String = rest.chars().take(24).collect();
            return Err(format!(
                "key {key:?} holds text that no append wrote, at byte {at}: {snippet:?}; expected \
                 only whole tokens like <3.17>, one per append. Look for a value that was cut \
                 short, or written over instead of appended to"
            ));
        };
        out.push((client, n));
        at += used;
    }
    Ok(out)
}

/// Checks `value`, the final value of `key`, against `log`, the appends
/// that returned. Tokens of appends that never returned (their clerk was
/// still retrying when the test ended) are not expected, but allowed
/// once each. Returns the first problem found.
pub fn check(key: &str, value: &str, log: &AppendLog) -> Result<(), String> {
    let found = tokens(key, value)?;
    let mut seen = BTreeSet::new();
    for &(client, n) in &found {
        if !seen.insert((client, n)) {
            return Err(format!(
                "key {key:?} holds {} more than once, but client {client} made that append once; \
                 expected each append exactly once. Look for a retried append that is applied \
                 again instead of being recognised as a duplicate (after a leader change, or a \
                 restart, the duplicate table must still know it)",
                token(client, n)
            ));
        }
    }
    for (&client, expected) in log {
        let in_value: Vec<u64> = found
            .iter()
            .filter(|(c, _)| *c == client)
            .map(|&(_, n)| n)
            .collect();
        if let Some(&missing) = expected.iter().find(|n| !in_value.contains(n)) {
            return Err(format!(
                "client {client}'s append of {} to key {key:?} returned, but it is missing from \
                 the key's value {}; expected every append that returned to be in the value. \
                 Look for a reply sent before the operation was committed, an operation lost \
                 when a leader changed or a server restarted, or a snapshot missing recent \
                 writes",
                token(client, missing),
                shorten(value)
            ));
        }
        let returned: Vec<u64> = in_value
            .iter()
            .copied()
            .filter(|n| expected.contains(n))
            .collect();
        if returned != *expected {
            return Err(format!(
                "client {client}'s appends to key {key:?} are out of order: it appended {} but \
                 the value holds them as {}; expected them in the order the client made them \
                 (each returned before the next began). Look for an old request applied after \
                 a newer one",
                list(client, expected),
                list(client, &returned)
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

/// A value for a message: whole if short, else its ends.
pub fn shorten(value: &str) -> String {
    const SHOW: usize = 60;
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 2 * SHOW {
        return format!("{value:?}");
    }
    let head: String = chars[..SHOW].iter().collect();
    let tail: String = chars[chars.len() - SHOW..].iter().collect();
    format!("{head:?} ... {tail:?} ({} bytes in all)", value.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(entries: &[(u64, &[u64])]) -> AppendLog {
        entries.iter().map(|&(c, ns)| (c, ns.to_vec())).collect()
    }

    #[test]
    fn interleaved_appends_in_each_clients_order_pass() {
        let value = "<0.0><1.0><0.1><1.1>";
        assert_eq!(
            check("k", value, &log(&[(0, &[0, 1]), (1, &[0, 1])])),
            Ok(())
        );
    }

    #[test]
    fn an_append_that_never_returned_may_be_there_once() {
        assert_eq!(check("k", "<0.0><0.1>", &log(&[(0, &[0])])), Ok(()));
    }

    #[test]
    fn a_duplicated_append_is_reported() {
        let e = check("k", "<0.0><0.0>", &log(&[(0, &[0])])).expect_err("duplicate");
        assert!(e.contains("more than once"), "{e}");
    }

    #[test]
    fn a_lost_append_is_reported() {
        let e = check("k", "<0.0>", &log(&[(0, &[0, 1])])).expect_err("missing");
        assert!(e.contains("missing"), "{e}");
    }

    #[test]
    fn a_reordered_append_is_reported() {
        let e = check("k", "<0.1><0.0>", &log(&[(0, &[0, 1])])).expect_err("out of order");
        assert!(e.contains("out of order"), "{e}");
    }

    #[test]
    fn text_no_append_wrote_is_reported_with_its_place() {
        let e = check("k", "<0.0>zz", &log(&[(0, &[0])])).expect_err("garbage");
        assert!(e.contains("byte 5"), "{e}");
    }
}
