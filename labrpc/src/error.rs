//! What a failed call tells its caller.

use std::fmt;

/// Why a call returned no reply.
///
/// Deliberately coarse: a real network cannot tell a client whether its request
/// was lost or only the reply was, so neither can labrpc. After
/// [`RpcError::NoReply`] the handler may or may not have run; code that needs
/// exactly-once behaviour has to find out for itself (that is the lab).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RpcError {
    /// No reply arrived: the request or the reply was lost, the server is
    /// disconnected, crashed or deleted, or its handler panicked.
    NoReply,
    /// The network was shut down (dropped or [`crate::Network::cleanup`]) while
    /// the call was pending; nothing will ever be delivered again.
    NetworkClosed,
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcError::NoReply => f.write_str("no reply (the request may or may not have executed)"),
            RpcError::NetworkClosed => f.write_str("the network has been shut down"),
        }
    }
}

impl std::error::Error for RpcError {}
