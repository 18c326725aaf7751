//! `labcheck` judges the histories the distlab labs record: was what the
//! clients saw consistent with a single copy of the service, taking effect
//! one operation at a time (linearizability)?
//!
//! 1. Record operations with a [`Recorder`] while the test's clients run.
//! 2. [`check`] the [`History`] against a [`Model`] (the [`models`] cover the
//!    labs' key/value stores and a register), with a timeout; or
//!    [`check_with_options`] with a timeout and a memory cap
//!    ([`CheckOptions`]).
//! 3. On failure, write the HTML picture ([`html::write_failure_picture`])
//!    and, if wanted, the history itself ([`History::save_jsonl`]) so it can
//!    be re-checked with the `labcheck` command.
//!
//! ```
//! use labrt::time::Duration;
//! use labcheck::models::{Kv, KvInput, KvOutput};
//! use labcheck::{CheckResult, Recorder, check};
//!
//! let rec: Recorder<KvInput, KvOutput> = Recorder::start();
//! let put = rec.begin(0, KvInput::put("k", "v"));
//! rec.end(put, KvOutput::Ok);
//! let get = rec.begin(1, KvInput::get("k"));
//! rec.end(get, KvOutput::value("v"));
//!
//! let history = rec.history();
//! match check(&Kv, &history, Duration::from_secs(5)) {
//!     CheckResult::Linearizable => {}
//!     failed => {
//!         let picture = labcheck::html::write_failure_picture(&Kv, &history, &failed);
//!         panic!("history is {failed}; picture: {picture:?}");
//!     }
//! }
//! ```
//!
//! The checker is a Wing & Gong search with Lowe's memoization, made
//! P-compositional by [`Model::partition`] (each part, e.g. each key, is
//! checked separately and in parallel). A check that runs out of time, or
//! whose search reaches the memory cap (2 GiB by default), returns
//! [`CheckResult::Unknown`], which is never a pass; [`check_with_options`]
//! says which limit was reached ([`UnknownReason`]).

#![warn(missing_docs)]

mod checker;
pub mod formats;
mod history;
pub mod html;
mod model;
pub mod models;
mod recorder;
mod scheduler;
mod search;

use labrt::time::Duration;

pub use checker::{
    CheckOptions, CheckReport, CheckResult, Evidence, LinearizedOp, PartStats, PartStatus,
    PartitionFailure, UnknownReason, check, check_with_options, check_with_stats,
};
pub use formats::ParseError;
pub use history::{ClientId, History, Operation};
pub use model::{Model, partition_by};
pub use recorder::{Pending, Recorder};

/// Checks `history` and panics unless it is linearizable, after writing the
/// picture with [`html::write_failure_picture`]. A check that gave up
/// ([`CheckResult::Unknown`]: the timeout, or the default memory cap) fails
/// too, naming the limit, and so does an empty history: a test that
/// recorded no operation has shown nothing.
///
/// ```should_panic
/// use labcheck::models::{Kv, KvInput, KvOutput};
/// use labcheck::{History, assert_linearizable};
/// let empty: History<KvInput, KvOutput> = History::from(Vec::new());
/// assert_linearizable(&Kv, &empty, labrt::time::Duration::from_secs(1));
/// ```
pub fn assert_linearizable<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    timeout: Duration,
) {
    assert!(
        !history.is_empty(),
        "the history holds no operation, so there is nothing to check: an empty history proves \
         nothing (did the test record its clients' calls?)"
    );
    let report = check_with_options(model, history, &CheckOptions::new(timeout));
    let result = &report.result;
    if result.is_linearizable() {
        return;
    }
    let picture = match html::write_failure_picture(model, history, result) {
        Ok(path) => format!("picture: {}", path.display()),
        Err(e) => format!("could not write the picture: {e}"),
    };
    // For `Unknown`, the report's text names the limit that was reached.
    panic!(
        "history of {} operations is {report} ({picture})",
        history.len()
    );
}
