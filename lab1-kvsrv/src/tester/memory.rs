//! Exact heap growth, for the memory tests.
//!
//! The test binary installs testkit's counting allocator; a [`Baseline`]
//! notes the live heap bytes at one moment (after the clerks exist and
//! before their operations) and later says how much the heap grew since.
//! Nothing is estimated: every byte the server keeps is counted, and so is
//! every byte anything else keeps, which is why the tests drop their own
//! copies of values before measuring.
//!
//! The scenarios below are the memory tests of Part A; their limits come
//! from `grade.toml`.

use labrpc::rng::Rng;
use testkit::Run;

use super::checks::{assert_budgets, limit_count};
use super::kv::KvTester;
use super::rig::Net;
use crate::Clerk;

const MIB: usize = 1024 * 1024;

/// Live heap bytes at one moment.
#[derive(Clone, Copy, Debug)]
pub struct Baseline {
    live: usize,
}

/// Live heap bytes now.
///
/// # Panics
/// If the test binary does not count its heap (the test file must start
/// with `testkit::install_counting_allocator!();`).
pub fn live_bytes() -> usize {
    testkit::heap::live().unwrap_or_else(|| {
        panic!(
            "this memory test needs exact heap counts: put `testkit::install_counting_allocator!();` \
             at the top of its test file"
        )
    })
}

impl Baseline {
    /// Notes the live heap now.
    pub fn now() -> Baseline {
        Baseline { live: live_bytes() }
    }

    /// Bytes the live heap grew since the baseline (negative if it shrank).
    pub fn growth(&self) -> i64 {
        live_bytes() as i64 - self.live as i64
    }
}

/// A value of exactly `len` bytes of printable ASCII drawn from `rng`.
pub fn random_value(rng: &mut Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut bytes = Vec::with_capacity(len);
    let mut bits = 0u64;
    for i in 0..len {
        // Eight letters from each draw: values of 10 MiB are made quickly.
        if i % 8 == 0 {
            bits = rng.next_u64();
        }
        bytes.push(ALPHABET[(bits & 0xff) as usize % ALPHABET.len()]);
        bits >>= 8;
    }
    String::from_utf8(bytes).unwrap_or_else(|_| unreachable!("the alphabet is ASCII"))
}

/// A number of bytes as MiB, for messages.
pub fn mib(bytes: i64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Fails unless `growth` is at most `max`, naming what was measured.
fn assert_growth_at_most(run: &Run, what: &str, growth: i64, max: i64) {
    println!("{what}: the live heap grew by {growth} bytes (limit {max})");
    assert!(
        growth <= max,
        "{what}: the live heap grew by {growth} bytes ({:.2} MiB); expected at most {max} bytes \
         ({:.2} MiB; grade.toml limits of {}). Look at what the server keeps: per client, only \
         what that client's next retry needs, and no value after it has been overwritten \
         (seed {})",
        mib(growth),
        mib(max),
        run.name(),
        run.seed()
    );
}

/// A large value is stored, overwritten by another, read by two clerks,
/// then overwritten by a tiny one: afterwards the heap must have grown by
/// less than `max_growth_mib`. A server that keeps a reply to a read, a
/// copy of a put's value, or an overwritten value fails.
///
/// Limits: `value_mib`, `max_growth_mib`.
pub fn overwritten_value_is_freed(run: &Run) {
    let len = limit_count(run, "value_mib") * MIB;
    let max = limit_count(run, "max_growth_mib") * MIB;
    let tester = KvTester::new(run, Net::Reliable);
    let (mut ck0, mut ck1) = (tester.make_clerk(), tester.make_clerk());
    let mut rng = Rng::new(run.seed());
    let base = Baseline::now();
    {
        let first = random_value(&mut rng, len);
        ck0.put("k", &first);
        run.add_ops(1);
        drop(first);
        let second = random_value(&mut rng, len);
        ck1.put("k", &second);
        run.add_ops(1);
        let read = ck1.get("k");
        run.add_ops(1);
        assert!(read == second, "{}", mismatch(run, "ck1", &read, &second));
        let read = ck0.get("k");
        run.add_ops(1);
        assert!(read == second, "{}", mismatch(run, "ck0", &read, &second));
    }
    // ck0's last request was that large read; ck1 now makes the value tiny.
    ck1.put("k", "0");
    run.add_ops(1);
    let growth = base.growth();
    assert_growth_at_most(
        run,
        "after the 10 MiB values were overwritten by \"0\"",
        growth,
        max as i64 - 1,
    );
    assert_budgets(run, tester.network());
}

/// One clerk appends a large value to a key twice. The server then holds
/// the doubled value and, until the clerk's next request, the second
/// append's reply (the first value): twice `value_mib` plus one reply, and
/// nothing else of that size.
///
/// Limits: `value_mib`, `max_growth_mib`.
pub fn two_big_appends(run: &Run) {
    let len = limit_count(run, "value_mib") * MIB;
    let max = limit_count(run, "max_growth_mib") * MIB;
    let tester = KvTester::new(run, Net::Reliable);
    let mut ck = tester.make_clerk();
    let mut rng = Rng::new(run.seed());
    let base = Baseline::now();
    {
        let first = random_value(&mut rng, len);
        let old = ck.append("k", &first);
        run.add_ops(1);
        assert!(
            old.is_empty(),
            "{}",
            mismatch(run, "the first append's old value", &old, "")
        );
        let second = random_value(&mut rng, len);
        let old = ck.append("k", &second);
        run.add_ops(1);
        assert!(
            old == first,
            "{}",
            mismatch(run, "the second append's old value", &old, &first)
        );
    }
    let growth = base.growth();
    assert_growth_at_most(run, "after two 10 MiB appends", growth, max as i64);
    assert_budgets(run, tester.network());
}

/// `clients` clerks (created before measuring) each put a `value_bytes`
/// value to the same key once. The heap may grow by at most
/// `max_bytes_per_client` per clerk: the server's record of each client
/// must be small, and hold no copy of the value.
///
/// Limits: `clients`, `value_bytes`, `max_bytes_per_client`.
pub fn many_clients_put(run: &Run) {
    let n = limit_count(run, "clients");
    let per_client = limit_count(run, "max_bytes_per_client");
    let tester = KvTester::new(run, Net::Reliable);
    let mut clerks: Vec<Clerk> = (0..n).map(|_| tester.make_clerk()).collect();
    let value = random_value(&mut Rng::new(run.seed()), limit_count(run, "value_bytes"));
    let base = Baseline::now();
    for ck in &mut clerks {
        ck.put("k", &value);
        run.add_ops(1);
    }
    let growth = base.growth();
    let read = clerks[0].get("k");
    run.add_ops(1);
    assert!(
        read == value,
        "{}",
        mismatch(run, "get after the puts", &read, &value)
    );
    assert_growth_at_most(
        run,
        &format!("after {n} clerks each put once"),
        growth,
        (n * per_client) as i64,
    );
    assert_budgets(run, tester.network());
}

/// A value is stored; then `clients` clerks (created before measuring)
/// each get it once. Reads must leave (almost) nothing behind: under
/// `max_bytes_per_client` per clerk.
///
/// Limits: `clients`, `value_bytes`, `max_bytes_per_client`.
pub fn many_clients_get(run: &Run) {
    let n = limit_count(run, "clients");
    let per_client = limit_count(run, "max_bytes_per_client");
    let tester = KvTester::new(run, Net::Reliable);
    let value = random_value(&mut Rng::new(run.seed()), limit_count(run, "value_bytes"));
    tester.make_clerk().put("k", &value);
    run.add_ops(1);
    let mut clerks: Vec<Clerk> = (0..n).map(|_| tester.make_clerk()).collect();
    let base = Baseline::now();
    for ck in &mut clerks {
        let read = ck.get("k");
        run.add_ops(1);
        assert!(read == value, "{}", mismatch(run, "a get", &read, &value));
    }
    let growth = base.growth();
    assert_growth_at_most(
        run,
        &format!("after {n} clerks each got once"),
        growth,
        (n * per_client) as i64 - 1,
    );
    assert_budgets(run, tester.network());
}

/// One clerk makes `appends` appends of `arg_bytes` bytes each to one key.
/// The server holds the value and at most the last reply: the heap may
/// grow by less than `max_growth_bytes`. A server that keeps every reply
/// holds hundreds of megabytes.
///
/// Limits: `appends`, `arg_bytes`, `max_growth_bytes`.
pub fn many_appends(run: &Run) {
    let appends = limit_count(run, "appends");
    let arg_len = limit_count(run, "arg_bytes");
    let max = limit_count(run, "max_growth_bytes");
    let tester = KvTester::new(run, Net::Reliable);
    let mut ck = tester.make_clerk();
    let mut rng = Rng::new(run.seed());
    let base = Baseline::now();
    for i in 0..appends {
        let old = ck.append("k", &random_value(&mut rng, arg_len));
        run.add_ops(1);
        assert!(
            old.len() == i * arg_len,
            "append {i} returned an old value of {} bytes; expected {} bytes, as {i} appends of \
             {arg_len} bytes came before it. Look for an append applied twice or not at all \
             (seed {})",
            old.len(),
            i * arg_len,
            run.seed()
        );
    }
    let growth = base.growth();
    assert_growth_at_most(
        run,
        &format!("after {appends} appends of {arg_len} bytes"),
        growth,
        max as i64 - 1,
    );
    assert_budgets(run, tester.network());
}

/// A failure message for a value that came back wrong, without printing
/// megabytes of it.
fn mismatch(run: &Run, what: &str, got: &str, want: &str) -> String {
    let head = |s: &str| s.chars().take(16).collect::<String>();
    format!(
        "{what} returned {} bytes starting {:?}; expected {} bytes starting {:?} (seed {})",
        got.len(),
        head(got),
        want.len(),
        head(want),
        run.seed()
    )
}
