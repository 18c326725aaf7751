//! The facade's behaviour in the real mode, through its public API only.
//!
//! Tests that wait on the real clock use generous margins: the machines that
//! run them have few, busy cores.

mod channel;
mod rand;
mod select;
mod sync;
mod thread;
mod time;

use labrt::time::Duration;

/// How long a test waits for something that should happen "at once" before
/// declaring it lost. Long, so a loaded machine does not fail the test.
pub const PATIENCE: Duration = Duration::from_secs(20);
