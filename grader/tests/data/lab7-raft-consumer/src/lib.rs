//! Grader test data: the smallest service on lab 2's Raft. `propose.rs` is
//! the student's skeleton, `reference/propose.rs` the solution; the Raft
//! underneath is whatever lab2-raft builds (the reference in the kit, the
//! student's own in a submission).

#[cfg(not(feature = "reference"))]
mod propose;
// distlab:reference-begin
#[cfg(feature = "reference")]
#[path = "reference/propose.rs"]
mod propose;
// distlab:reference-end

pub use propose::propose_all;
