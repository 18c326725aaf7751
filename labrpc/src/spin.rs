//! Short spins before parking.
//!
//! Waking a parked thread costs 10–20 µs on a small VM, far more than a whole
//! call's work. Both sides of a call's hand-off (the caller waiting for its
//! reply, an idle handler thread waiting for work) first poll their channel
//! for a few microseconds; only when nothing comes do they park. The spin is
//! bounded in time, so a blocked handler costs one short spin and no more.

use labrt::channel::{Receiver, TryRecvError};
use labrt::time::{Duration, Instant};

/// How long a waiting side polls before parking.
pub(crate) const SPIN: Duration = Duration::from_micros(40);

/// Polls `rx` for up to `budget`. `Ok(Some)` is a message, `Ok(None)` means
/// nothing came in time, `Err` means the channel is disconnected.
pub(crate) fn poll_for<T>(rx: &Receiver<T>, budget: Duration) -> Result<Option<T>, ()> {
    let start = Instant::now();
    let mut round: u32 = 0;
    loop {
        match rx.try_recv() {
            Ok(v) => return Ok(Some(v)),
            Err(TryRecvError::Disconnected) => return Err(()),
            Err(TryRecvError::Empty) => {}
        }
        round = round.wrapping_add(1);
        if round.is_multiple_of(32) {
            if start.elapsed() >= budget {
                return Ok(None);
            }
            // Let the thread we wait for run if it shares our core.
            labrt::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}
