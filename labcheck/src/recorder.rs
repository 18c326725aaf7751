//! Recording a history while a test runs.

use labrt::sync::atomic::{AtomicU64, Ordering};
use labrt::sync::{Arc, Mutex, MutexGuard, PoisonError};
use labrt::time::Instant;

use crate::history::{ClientId, History, Operation};

/// Gives each recorder an id, so a [`Pending`] cannot be ended on another.
static NEXT_RECORDER: AtomicU64 = AtomicU64::new(0);

/// Collects the operations of many client threads into one history.
///
/// Cloning is cheap and every clone appends to the same history; it is
/// `Send + Sync` when the inputs and outputs are. Each [`begin`](Self::begin)
/// and [`end`](Self::end) takes a short lock; times are nanoseconds since
/// [`Recorder::start`] on labrt's monotonic clock (virtual time when the test
/// runs in labrt's simulation).
///
/// ```
/// use labcheck::Recorder;
/// use labcheck::models::{KvInput, KvOutput};
///
/// let rec: Recorder<KvInput, KvOutput> = Recorder::start();
/// let call = rec.begin(7, KvInput::get("x"));
/// // ... send the request, wait for the reply ...
/// rec.end(call, KvOutput::value(""));
///
/// let lost = rec.begin(7, KvInput::put("x", "1"));
/// // ... the call timed out: it may or may not have happened ...
/// rec.end_unknown(lost);
///
/// assert_eq!(rec.history().len(), 2);
/// ```
pub struct Recorder<I, O> {
    shared: Arc<Shared<I, O>>,
}

struct Shared<I, O> {
    id: u64,
    start: Instant,
    ops: Mutex<Vec<Operation<I, O>>>,
}

impl<I, O> Clone for Recorder<I, O> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// An operation that has been called and not yet ended. Give it back to
/// [`Recorder::end`] or [`Recorder::end_unknown`]; if it is dropped instead,
/// the operation stays in the history with an unknown outcome, as one that
/// never returned.
#[must_use = "end the operation with Recorder::end or Recorder::end_unknown"]
#[derive(Debug)]
pub struct Pending {
    recorder: u64,
    index: usize,
}

impl<I, O> Recorder<I, O> {
    /// A new, empty recorder; its clock starts now.
    pub fn start() -> Self {
        Self {
            shared: Arc::new(Shared {
                id: NEXT_RECORDER.fetch_add(1, Ordering::Relaxed),
                start: Instant::now(),
                ops: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Nanoseconds since [`Recorder::start`].
    pub fn now(&self) -> u64 {
        u64::try_from(self.shared.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn ops(&self) -> MutexGuard<'_, Vec<Operation<I, O>>> {
        // The lock is only held for pushes and field writes, so even after
        // a panic elsewhere the vector is consistent.
        self.shared
            .ops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that `client` calls with `input`, now.
    pub fn begin(&self, client: ClientId, input: I) -> Pending {
        let call = self.now();
        let mut ops = self.ops();
        ops.push(Operation::unknown(client, input, call));
        Pending {
            recorder: self.shared.id,
            index: ops.len() - 1,
        }
    }

    fn slot<'g>(
        &self,
        ops: &'g mut MutexGuard<'_, Vec<Operation<I, O>>>,
        pending: &Pending,
    ) -> &'g mut Operation<I, O> {
        assert_eq!(
            pending.recorder, self.shared.id,
            "Pending operation ended on a different Recorder than the one that began it"
        );
        &mut ops[pending.index]
    }

    /// Records that the call returned `output`, now.
    pub fn end(&self, pending: Pending, output: O) {
        let ret = self.now();
        let mut ops = self.ops();
        let op = self.slot(&mut ops, &pending);
        op.output = Some(output);
        op.ret = Some(ret);
    }

    /// Records that the call's outcome is unknown (it failed or timed out, so
    /// it may or may not have taken effect, possibly later): it stays open
    /// with no return time.
    pub fn end_unknown(&self, pending: Pending) {
        let mut ops = self.ops();
        let op = self.slot(&mut ops, &pending);
        op.output = None;
        op.ret = None;
    }

    /// Appends a complete operation (its times should come from
    /// [`Recorder::now`]).
    pub fn record(&self, op: Operation<I, O>) {
        self.ops().push(op);
    }

    /// The number of operations recorded so far.
    pub fn len(&self) -> usize {
        self.ops().len()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.ops().is_empty()
    }

    /// A copy of the history so far. Operations not yet ended appear with an
    /// unknown outcome and no return time.
    pub fn history(&self) -> History<I, O>
    where
        I: Clone,
        O: Clone,
    {
        History::from(self.ops().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use labrt::thread;

    #[test]
    fn many_threads_record_every_operation_with_call_before_return() {
        let rec: Recorder<u32, u32> = Recorder::start();
        thread::scope(|s| {
            for client in 0..8u64 {
                let rec = rec.clone();
                s.spawn(move || {
                    for i in 0..500u32 {
                        let call = rec.begin(client, i);
                        rec.end(call, i * 2);
                    }
                });
            }
        });
        let history = rec.history();
        assert_eq!(history.len(), 8 * 500);
        for client in 0..8u64 {
            let mine: Vec<&Operation<u32, u32>> = history
                .ops()
                .iter()
                .filter(|op| op.client == client)
                .collect();
            assert_eq!(mine.len(), 500, "client {client} lost operations");
            for (i, op) in mine.iter().enumerate() {
                assert_eq!(op.input, i as u32, "client {client}'s ops are out of order");
                assert_eq!(op.output, Some(op.input * 2));
                let ret = op.ret.expect("every op was ended");
                assert!(op.call <= ret, "op returned before it was called");
            }
            // One client's ops do not overlap: each starts after the last returned.
            for pair in mine.windows(2) {
                assert!(pair[0].ret.expect("ended") <= pair[1].call);
            }
        }
    }

    #[test]
    fn unknown_and_unended_operations_have_no_output_and_no_return() {
        let rec: Recorder<&str, &str> = Recorder::start();
        let a = rec.begin(1, "a");
        rec.end_unknown(a);
        let _never_ended = rec.begin(2, "b");
        let history = rec.history();
        for op in history.ops() {
            assert_eq!(op.output, None);
            assert_eq!(op.ret, None);
        }
    }

    #[test]
    #[should_panic(expected = "different Recorder")]
    fn ending_on_another_recorder_panics() {
        let one: Recorder<u8, u8> = Recorder::start();
        let other: Recorder<u8, u8> = Recorder::start();
        let call = one.begin(0, 1);
        other.end(call, 2);
    }

    #[test]
    fn recorder_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Recorder<String, String>>();
    }
}
