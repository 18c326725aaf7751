//! Clerks that record every operation for the linearizability check.
//!
//! Each wraps the student's clerk: it notes the call and its input, calls
//! the clerk, and notes the output when the clerk returns. An operation
//! that never returns (its thread panicked) stays open in the history.
//! Each operation that returns is also counted in the run's report at once,
//! so a test that fails midway reports how many operations completed.

use labcheck::models::{KvInput, KvOutput, VersionedInput, VersionedOutput};
use labcheck::{ClientId, Recorder};
use testkit::OpCounter;

use super::versioned::{get_output, put_input, put_output};
use crate::{Clerk, PutError, Version, VersionedClerk};

/// A Part A history.
pub type KvRecorder = Recorder<KvInput, KvOutput>;

/// A Part B history.
pub type VersionedRecorder = Recorder<VersionedInput, VersionedOutput>;

/// A Part A [`Clerk`] whose operations are recorded as client `id`.
pub struct RecordingClerk {
    clerk: Clerk,
    id: ClientId,
    rec: KvRecorder,
    ops: OpCounter,
}

impl RecordingClerk {
    /// Records `clerk`'s operations into `rec` as client `id`, and counts
    /// each one that returns with `ops` (from [`testkit::Run::op_counter`]).
    pub fn new(clerk: Clerk, id: ClientId, rec: KvRecorder, ops: OpCounter) -> RecordingClerk {
        RecordingClerk {
            clerk,
            id,
            rec,
            ops,
        }
    }

    /// [`Clerk::get`], recorded.
    pub fn get(&mut self, key: &str) -> String {
        let call = self.rec.begin(self.id, KvInput::get(key));
        let value = self.clerk.get(key);
        self.rec.end(call, KvOutput::value(value.clone()));
        self.ops.add(1);
        value
    }

    /// [`Clerk::put`], recorded.
    pub fn put(&mut self, key: &str, value: &str) {
        let call = self.rec.begin(self.id, KvInput::put(key, value));
        self.clerk.put(key, value);
        self.rec.end(call, KvOutput::Ok);
        self.ops.add(1);
    }

    /// [`Clerk::append`], recorded as an append that returns the old value.
    pub fn append(&mut self, key: &str, arg: &str) -> String {
        let call = self
            .rec
            .begin(self.id, KvInput::append_return_old(key, arg));
        let old = self.clerk.append(key, arg);
        self.rec.end(call, KvOutput::value(old.clone()));
        self.ops.add(1);
        old
    }
}

/// A Part B [`VersionedClerk`] whose operations are recorded as client `id`.
pub struct RecordingVersionedClerk {
    clerk: VersionedClerk,
    id: ClientId,
    rec: VersionedRecorder,
    ops: OpCounter,
}

impl RecordingVersionedClerk {
    /// Records `clerk`'s operations into `rec` as client `id`, and counts
    /// each one that returns with `ops` (from [`testkit::Run::op_counter`]).
    pub fn new(
        clerk: VersionedClerk,
        id: ClientId,
        rec: VersionedRecorder,
        ops: OpCounter,
    ) -> RecordingVersionedClerk {
        RecordingVersionedClerk {
            clerk,
            id,
            rec,
            ops,
        }
    }

    /// [`VersionedClerk::get`], recorded.
    pub fn get(&mut self, key: &str) -> Option<(String, Version)> {
        let call = self.rec.begin(self.id, VersionedInput::get(key));
        let found = self.clerk.get(key);
        self.rec.end(call, get_output(&found));
        self.ops.add(1);
        found
    }

    /// [`VersionedClerk::put`], recorded.
    pub fn put(&mut self, key: &str, value: &str, version: Version) -> Result<(), PutError> {
        let call = self.rec.begin(self.id, put_input(key, value, version));
        let result = self.clerk.put(key, value, version);
        self.rec.end(call, put_output(&result));
        self.ops.add(1);
        result
    }
}

// distlab:reference-begin
#[cfg(all(test, feature = "reference"))]
mod tests {
    use labrt::time::Duration;
    use testkit::Run;

    use super::*;
    use crate::tester::{KvTester, Net, VersionedTester};

    #[test]
    fn each_operation_is_counted_in_the_report_as_it_returns() {
        let run = Run::with_limit(
            testkit::origin!(),
            "each_operation_is_counted_in_the_report_as_it_returns",
            Duration::from_secs(30),
        );
        let kv = KvTester::new(&run, Net::Reliable);
        let mut ck = RecordingClerk::new(kv.make_clerk(), 0, Recorder::start(), run.op_counter());
        ck.put("k", "a");
        assert_eq!(run.ops(), 1);
        assert_eq!(ck.append("k", "b"), "a");
        assert_eq!(run.ops(), 2);
        assert_eq!(ck.get("k"), "ab");
        assert_eq!(run.ops(), 3);
        let versioned = VersionedTester::new(&run, Net::Reliable);
        let mut ck = RecordingVersionedClerk::new(
            versioned.make_clerk(),
            1,
            Recorder::start(),
            run.op_counter(),
        );
        assert_eq!(ck.put("k", "x", Version::ABSENT), Ok(()));
        assert_eq!(run.ops(), 4);
        assert_eq!(ck.get("k"), Some(("x".to_owned(), Version(1))));
        assert_eq!(run.ops(), 5);
    }
}
// distlab:reference-end
