//! The threads that run handlers.
//!
//! Every call's handler runs on a pool thread, never on the caller's thread, so
//! a caller can give up on a crashed server while the handler is still running.
//! The pool grows whenever no thread is idle, so a handler that blocks (waiting
//! for Raft to commit, say) never delays another call; idle threads retire after
//! a while, and all of them exit once the network is shut down and their
//! current handler has returned.

use std::panic::{AssertUnwindSafe, catch_unwind};

use labrt::channel::{Receiver, RecvTimeoutError, Sender, unbounded};
use labrt::sync::atomic::{AtomicUsize, Ordering};
use labrt::sync::{Arc, Mutex};
use labrt::thread;
use labrt::time::Duration;

use crate::spin;

type Job = Box<dyn FnOnce() + Send>;

/// How long an idle pool thread waits for work before it retires.
const IDLE_RETIRE: Duration = Duration::from_secs(10);

pub(crate) struct Pool {
    tx: Mutex<Option<Sender<Job>>>,
    rx: Receiver<Job>,
    /// Threads waiting for a job and not yet promised to a submitter.
    idle: Arc<AtomicUsize>,
    /// Threads alive (for the no-leak tests).
    live: Arc<AtomicUsize>,
}

impl Pool {
    pub(crate) fn new() -> Pool {
        let (tx, rx) = unbounded();
        Pool {
            tx: Mutex::new(Some(tx)),
            rx,
            idle: Arc::new(AtomicUsize::new(0)),
            live: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub(crate) fn live_threads(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Runs `job` on a pool thread. Returns false if the pool is shut down.
    ///
    /// Each submission either claims one idle thread or starts a new one, so
    /// the number of queued jobs never exceeds the threads that will take
    /// them: no job waits behind a blocked handler.
    pub(crate) fn submit(&self, job: Job) -> bool {
        let tx = {
            let guard = self.tx.lock().unwrap_or_else(|e| e.into_inner());
            match guard.as_ref() {
                Some(tx) => tx.clone(),
                None => return false,
            }
        };
        let claimed = self
            .idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        if !claimed && !self.spawn_worker() {
            return false;
        }
        tx.send(job).is_ok()
    }

    fn spawn_worker(&self) -> bool {
        let rx = self.rx.clone();
        let idle = Arc::clone(&self.idle);
        let live = Arc::clone(&self.live);
        live.fetch_add(1, Ordering::SeqCst);
        let spawned = thread::Builder::new()
            .name("labrpc-handler".into())
            .spawn(move || worker(rx, idle, Arc::clone(&live)));
        match spawned {
            Ok(_) => true,
            Err(_) => {
                self.live.fetch_sub(1, Ordering::SeqCst);
                false
            }
        }
    }

    /// Stops accepting jobs; threads exit once their current job is done.
    pub(crate) fn shutdown(&self) {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

fn worker(rx: Receiver<Job>, idle: Arc<AtomicUsize>, live: Arc<AtomicUsize>) {
    // A new worker was started for a specific submission: take that job first.
    let mut first = true;
    loop {
        let job = if first {
            first = false;
            rx.recv().ok()
        } else {
            next_job(&rx, &idle)
        };
        let Some(job) = job else { break };
        // A panicking handler must not take the pool thread with it; the
        // caller learns of it through its dropped reply channel.
        let _ = catch_unwind(AssertUnwindSafe(job));
        idle.fetch_add(1, Ordering::AcqRel);
    }
    live.fetch_sub(1, Ordering::SeqCst);
}

/// Waits for a job as an idle thread; `None` means retire.
fn next_job(rx: &Receiver<Job>, idle: &AtomicUsize) -> Option<Job> {
    match spin::poll_for(rx, spin::SPIN) {
        Ok(Some(job)) => return Some(job),
        Ok(None) => {}
        Err(()) => return None,
    }
    loop {
        match rx.recv_timeout(IDLE_RETIRE) {
            Ok(job) => return Some(job),
            Err(RecvTimeoutError::Disconnected) => {
                return None;
            }
            Err(RecvTimeoutError::Timeout) => {
                // Retire only if nobody has claimed an idle thread meanwhile:
                // a claim means a job is on its way to one of us.
                if idle
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                    .is_ok()
                {
                    return None;
                }
            }
        }
    }
}
