//! Targeted faults beyond the network-wide knobs.
//!
//! The knobs (`set_reliable`, `set_long_delays`, `set_long_reordering`) make the
//! whole network misbehave at MIT's rates. A [`Fault`] picks out calls by end
//! and/or method and does one thing to them, so a test can say, for instance,
//! "lose every reply to `KV.Put` from clerk 3" and check what the clerk does.

use labrt::time::Duration;

/// What a [`Fault`] does to a call it matches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultAction {
    /// The request is lost: the handler does not run and the call fails.
    DropRequest,
    /// The handler runs, then its reply is lost and the call fails.
    DropReply,
    /// The request is held this long before delivery.
    Delay(Duration),
}

/// A rule that applies [`FaultAction`] to matching calls.
///
/// ```
/// use labrpc::Fault;
/// let f = Fault::drop_reply().on_end("clerk-3").on_method("KV.Put").with_probability(0.5);
/// assert_eq!(f.probability(), 0.5);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    end: Option<String>,
    method: Option<String>,
    action: FaultAction,
    probability: f64,
}

/// Identifies an installed fault, for [`crate::Network::remove_fault`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FaultId(pub(crate) u64);

impl Fault {
    fn new(action: FaultAction) -> Fault {
        Fault {
            end: None,
            method: None,
            action,
            probability: 1.0,
        }
    }

    /// Lose matching requests before their handler runs.
    pub fn drop_request() -> Fault {
        Fault::new(FaultAction::DropRequest)
    }

    /// Run matching handlers, then lose their replies.
    pub fn drop_reply() -> Fault {
        Fault::new(FaultAction::DropReply)
    }

    /// Hold matching requests for `delay` before delivery.
    pub fn delay(delay: Duration) -> Fault {
        Fault::new(FaultAction::Delay(delay))
    }

    /// Only calls made through the end named `end`.
    pub fn on_end(mut self, end: impl Into<String>) -> Fault {
        self.end = Some(end.into());
        self
    }

    /// Only calls to `method` (the full `"Service.Method"`).
    pub fn on_method(mut self, method: impl Into<String>) -> Fault {
        self.method = Some(method.into());
        self
    }

    /// Apply to each matching call with probability `p` (clamped to 0..=1),
    /// drawn from the network's seeded generator.
    pub fn with_probability(mut self, p: f64) -> Fault {
        self.probability = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        self
    }

    /// The action this fault takes.
    pub fn action(&self) -> FaultAction {
        self.action
    }

    /// The chance that a matching call is affected.
    pub fn probability(&self) -> f64 {
        self.probability
    }

    pub(crate) fn matches(&self, end: &str, method: &str) -> bool {
        self.end.as_deref().is_none_or(|e| e == end)
            && self.method.as_deref().is_none_or(|m| m == method)
    }
}
