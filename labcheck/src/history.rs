//! Histories: what each client asked for, what it got back, and when.

use std::fmt;

/// Identifies the client (thread, clerk, Jepsen process) that issued an
/// operation. Each client appears as one row in the HTML picture.
pub type ClientId = u64;

/// One operation of a history.
///
/// Times are nanoseconds since some common start (see
/// [`Recorder`](crate::Recorder)); only their order matters. Operation `a`
/// precedes operation `b` in real time exactly when `a.ret < b.call`; equal
/// times count as concurrent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// The client that issued the operation.
    pub client: ClientId,
    /// What the client asked for.
    pub input: I,
    /// What the client got back, or `None` when the outcome is unknown (the
    /// call failed or timed out, so the operation may or may not have taken
    /// effect). The model's [`step`](crate::Model::step) decides what an
    /// unknown outcome allows.
    pub output: Option<O>,
    /// When the call started.
    pub call: u64,
    /// When the call returned, or `None` when it never returned: the
    /// operation may then take effect at any time after its call. Use
    /// `None` for every operation whose effect could still happen later (an
    /// RPC whose reply was lost), so that it is free to linearize after
    /// everything else, which for the kit's models is the same as not
    /// happening at all.
    pub ret: Option<u64>,
}

impl<I, O> Operation<I, O> {
    /// An operation that returned `output` at time `ret`.
    pub fn completed(client: ClientId, input: I, output: O, call: u64, ret: u64) -> Self {
        Self {
            client,
            input,
            output: Some(output),
            call,
            ret: Some(ret),
        }
    }

    /// An operation whose outcome is unknown and that never returned: it may
    /// take effect at any time after `call`, or (if the model allows it) not
    /// at all.
    pub fn unknown(client: ClientId, input: I, call: u64) -> Self {
        Self {
            client,
            input,
            output: None,
            call,
            ret: None,
        }
    }

    /// The return time the checker uses: `u64::MAX` for "never returned", and
    /// never earlier than the call.
    pub(crate) fn effective_ret(&self) -> u64 {
        self.ret.unwrap_or(u64::MAX).max(self.call)
    }
}

/// A sequence of operations, in any order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History<I, O> {
    ops: Vec<Operation<I, O>>,
}

impl<I, O> Default for History<I, O> {
    fn default() -> Self {
        Self { ops: Vec::new() }
    }
}

impl<I, O> History<I, O> {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one operation.
    pub fn push(&mut self, op: Operation<I, O>) {
        self.ops.push(op);
    }

    /// The operations, in the order they were added. An operation's index in
    /// this slice is its id in [`CheckResult`](crate::CheckResult) evidence and
    /// in the HTML picture.
    pub fn ops(&self) -> &[Operation<I, O>] {
        &self.ops
    }

    /// The number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the history has no operations.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Consumes the history, giving back its operations.
    pub fn into_ops(self) -> Vec<Operation<I, O>> {
        self.ops
    }
}

impl<I, O> From<Vec<Operation<I, O>>> for History<I, O> {
    fn from(ops: Vec<Operation<I, O>>) -> Self {
        Self { ops }
    }
}

impl<I, O> FromIterator<Operation<I, O>> for History<I, O> {
    fn from_iter<T: IntoIterator<Item = Operation<I, O>>>(iter: T) -> Self {
        Self {
            ops: iter.into_iter().collect(),
        }
    }
}

impl<I: fmt::Debug, O: fmt::Debug> fmt::Display for History<I, O> {
    /// One line per operation: `client [call, return] input -> output`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, op) in self.ops.iter().enumerate() {
            let ret = op.ret.map_or("never".to_string(), |r| r.to_string());
            let out = op
                .output
                .as_ref()
                .map_or("unknown".to_string(), |o| format!("{o:?}"));
            writeln!(
                f,
                "#{i} client {} [{}, {ret}] {:?} -> {out}",
                op.client, op.call, op.input
            )?;
        }
        Ok(())
    }
}
