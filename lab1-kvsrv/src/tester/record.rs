//! Clerks that record every operation for the linearizability check.
//!
//! Each wraps the student's clerk: it notes the call and its input, calls
//! the clerk, and notes the output when the clerk returns. An operation
//! that never returns (its thread panicked) stays open in the history.

use labcheck::models::{KvInput, KvOutput, VersionedInput, VersionedOutput};
use labcheck::{ClientId, Recorder};

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
}

impl RecordingClerk {
    /// Records `clerk`'s operations into `rec` as client `id`.
    pub fn new(clerk: Clerk, id: ClientId, rec: KvRecorder) -> RecordingClerk {
        RecordingClerk { clerk, id, rec }
    }

    /// [`Clerk::get`], recorded.
    pub fn get(&mut self, key: &str) -> String {
        let call = self.rec.begin(self.id, KvInput::get(key));
        let value = self.clerk.get(key);
        self.rec.end(call, KvOutput::value(value.clone()));
        value
    }

    /// [`Clerk::put`], recorded.
    pub fn put(&mut self, key: &str, value: &str) {
        let call = self.rec.begin(self.id, KvInput::put(key, value));
        self.clerk.put(key, value);
        self.rec.end(call, KvOutput::Ok);
    }

    /// [`Clerk::append`], recorded as an append that returns the old value.
    pub fn append(&mut self, key: &str, arg: &str) -> String {
        let call = self
            .rec
            .begin(self.id, KvInput::append_return_old(key, arg));
        let old = self.clerk.append(key, arg);
        self.rec.end(call, KvOutput::value(old.clone()));
        old
    }
}

/// A Part B [`VersionedClerk`] whose operations are recorded as client `id`.
pub struct RecordingVersionedClerk {
    clerk: VersionedClerk,
    id: ClientId,
    rec: VersionedRecorder,
}

impl RecordingVersionedClerk {
    /// Records `clerk`'s operations into `rec` as client `id`.
    pub fn new(
        clerk: VersionedClerk,
        id: ClientId,
        rec: VersionedRecorder,
    ) -> RecordingVersionedClerk {
        RecordingVersionedClerk { clerk, id, rec }
    }

    /// [`VersionedClerk::get`], recorded.
    pub fn get(&mut self, key: &str) -> Option<(String, Version)> {
        let call = self.rec.begin(self.id, VersionedInput::get(key));
        let found = self.clerk.get(key);
        self.rec.end(call, get_output(&found));
        found
    }

    /// [`VersionedClerk::put`], recorded.
    pub fn put(&mut self, key: &str, value: &str, version: Version) -> Result<(), PutError> {
        let call = self.rec.begin(self.id, put_input(key, value, version));
        let result = self.clerk.put(key, value, version);
        self.rec.end(call, put_output(&result));
        result
    }
}
