//! Logs through `tracing`, with one variable to pick level and topics.
//!
//! Kit code logs with a *topic* as the tracing target and the peer as a
//! field, e.g. `tracing::debug!(target: "vote", peer = me, term = t, "granted")`.
//! `DISTLAB_LOG` is a tracing filter over those topics:
//! `DISTLAB_LOG=debug` shows everything at debug, `DISTLAB_LOG=vote=debug,commit=trace`
//! only those topics. Unset, nothing is printed.
//!
//! Each line reads `<seconds since start>s <topic>: <message> peer=<n> <fields>`;
//! the `distlab-logs` viewer (`cargo run -p testkit --bin distlab-logs -- -c 3 LOGFILE`)
//! filters it by topic and prints one column per peer.

use std::fmt;

use labrt::sync::Once;

use labrt::time::Instant;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// The environment variable holding the filter.
pub const LOG_VAR: &str = "DISTLAB_LOG";

/// Installs the subscriber once per process (later calls do nothing). A bad
/// filter is reported on stderr and logging stays off; it never fails a test.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let Ok(spec) = std::env::var(LOG_VAR) else {
            return;
        };
        let filter = match tracing_subscriber::EnvFilter::try_new(&spec) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("distlab: ignoring {LOG_VAR}={spec:?}: {e} (try `debug` or `vote=debug,append=trace`)");
                return;
            }
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_timer(Uptime::default())
            .with_target(true)
            .with_level(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_test_writer()
            .try_init();
    });
}

/// Seconds since the subscriber was installed, on labrt's clock (virtual time
/// in a simulation); the same format as `tracing_subscriber`'s `Uptime`.
struct Uptime {
    epoch: Instant,
}

impl Default for Uptime {
    fn default() -> Self {
        Uptime {
            epoch: Instant::now(),
        }
    }
}

impl FormatTime for Uptime {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        let e = self.epoch.elapsed();
        write!(w, "{:4}.{:09}s", e.as_secs(), e.subsec_nanos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(timer: &impl FormatTime) -> String {
        let mut out = String::new();
        timer
            .format_time(&mut Writer::new(&mut out))
            .expect("formats");
        out
    }

    #[test]
    fn uptime_is_formatted_like_tracing_subscribers() {
        let ours = stamp(&Uptime::default());
        let theirs = stamp(&tracing_subscriber::fmt::time::uptime());
        let shape = |s: &str| {
            s.chars()
                .map(|c| if c.is_ascii_digit() { '9' } else { c })
                .collect::<String>()
        };
        assert_eq!(shape(&ours), shape(&theirs), "{ours:?} vs {theirs:?}");
        assert!(ours.starts_with("   0.") && ours.ends_with('s'), "{ours:?}");
    }
}
