//! Multi-producer multi-consumer channels with crossbeam-channel's API:
//! [`unbounded`], [`bounded`], [`never()`], [`Sender`], [`Receiver`], the
//! error types, and [`select!`](crate::select!).
//!
//! [`Sender`] and [`Receiver`] are newtypes over crossbeam-channel's, with
//! the same methods; both can be cloned and shared between threads. In the
//! simulation mode a blocking send or receive is a scheduling point and the
//! timeouts run on virtual time.
//!
//! crossbeam's timer channels (`after`, `tick`) are left out on purpose: they
//! carry `std::time::Instant`s and run on a hidden thread. Use
//! [`Receiver::recv_timeout`], [`Receiver::recv_deadline`] or a
//! `default(timeout)` case in [`select!`](crate::select!) instead.
//!
//! ```
//! use labrt::channel::{self, RecvTimeoutError};
//! use labrt::time::Duration;
//!
//! let (tx, rx) = channel::bounded(1);
//! tx.send("hello").unwrap();
//! assert_eq!(rx.recv(), Ok("hello"));
//! assert_eq!(
//!     rx.recv_timeout(Duration::from_millis(1)),
//!     Err(RecvTimeoutError::Timeout)
//! );
//! ```

use std::fmt;

use crate::time::{Duration, Instant};

pub use crossbeam_channel::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};

/// A channel with no capacity limit: sends never block.
#[inline]
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    (Sender { inner: tx }, Receiver { inner: rx })
}

/// A channel holding at most `cap` messages: a send blocks while it is full.
///
/// With `cap == 0` every send waits for a receiver to take the message
/// (a rendezvous channel).
#[inline]
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = crossbeam_channel::bounded(cap);
    (Sender { inner: tx }, Receiver { inner: rx })
}

/// A receiver that never delivers anything and is never disconnected; for
/// leaving a [`select!`](crate::select!) case switched off.
#[inline]
pub fn never<T>() -> Receiver<T> {
    Receiver {
        inner: crossbeam_channel::never(),
    }
}

/// The sending side of a channel. Cloning it adds a sender; the channel is
/// disconnected for receivers once every sender is dropped.
pub struct Sender<T> {
    inner: crossbeam_channel::Sender<T>,
}

/// The receiving side of a channel. Cloning it adds a receiver (each message
/// goes to one of them); the channel is disconnected for senders once every
/// receiver is dropped.
pub struct Receiver<T> {
    inner: crossbeam_channel::Receiver<T>,
}

impl<T> Sender<T> {
    /// Sends `msg`, blocking while a bounded channel is full. `Err` (with the
    /// message back) if every receiver is gone.
    #[inline]
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        self.inner.send(msg)
    }

    /// Sends `msg` only if that needs no waiting.
    #[inline]
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.inner.try_send(msg)
    }

    /// Sends `msg`, waiting at most `timeout` for room.
    #[inline]
    pub fn send_timeout(&self, msg: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        self.inner.send_timeout(msg, timeout)
    }

    /// Sends `msg`, waiting for room until `deadline` at the latest.
    #[inline]
    pub fn send_deadline(&self, msg: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.inner.send_deadline(msg, deadline.to_std())
    }

    /// True if no message is waiting in the channel.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// True if the channel is full (always false for unbounded channels).
    #[inline]
    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    /// How many messages are waiting in the channel.
    #[inline]
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// The channel's capacity; `None` if unbounded.
    #[inline]
    pub fn capacity(&self) -> Option<usize> {
        self.inner.capacity()
    }

    /// True if both senders belong to the same channel.
    #[inline]
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        self.inner.same_channel(&other.inner)
    }
}

impl<T> Clone for Sender<T> {
    #[inline]
    fn clone(&self) -> Self {
        Sender {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Sender { .. }")
    }
}

impl<T> Receiver<T> {
    /// Waits for a message. `Err` once the channel is empty and every sender
    /// is gone (messages sent before that are still delivered).
    #[inline]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.inner.recv()
    }

    /// Takes a message if one is waiting; never blocks.
    #[inline]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.inner.try_recv()
    }

    /// Waits at most `timeout` for a message.
    #[inline]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.inner.recv_timeout(timeout)
    }

    /// Waits for a message until `deadline` at the latest.
    #[inline]
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.inner.recv_deadline(deadline.to_std())
    }

    /// A blocking iterator over messages; ends when the channel is
    /// disconnected and drained.
    #[inline]
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// An iterator over the messages waiting now; never blocks.
    #[inline]
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// True if no message is waiting in the channel.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// True if the channel is full (always false for unbounded channels).
    #[inline]
    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    /// How many messages are waiting in the channel.
    #[inline]
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// The channel's capacity; `None` if unbounded.
    #[inline]
    pub fn capacity(&self) -> Option<usize> {
        self.inner.capacity()
    }

    /// True if both receivers belong to the same channel.
    #[inline]
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        self.inner.same_channel(&other.inner)
    }
}

impl<T> Clone for Receiver<T> {
    #[inline]
    fn clone(&self) -> Self {
        Receiver {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Receiver { .. }")
    }
}

/// Blocking iterator over a [`Receiver`]'s messages; see [`Receiver::iter`].
#[derive(Debug)]
#[must_use = "iterators do nothing unless consumed"]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// Non-blocking iterator over a [`Receiver`]'s waiting messages; see
/// [`Receiver::try_iter`].
#[derive(Debug)]
#[must_use = "iterators do nothing unless consumed"]
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Owning blocking iterator over a [`Receiver`]'s messages.
#[derive(Debug)]
#[must_use = "iterators do nothing unless consumed"]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    #[inline]
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    #[inline]
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// What `labrt::select!` expands to needs; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crossbeam_channel;

    use super::{Receiver, Sender};

    /// Something a `recv(..)` case can name: a receiver or a reference to one.
    pub trait RecvCase {
        /// The message type.
        type Msg;
        /// The crossbeam receiver behind it.
        fn raw(&self) -> &crossbeam_channel::Receiver<Self::Msg>;
    }

    impl<T> RecvCase for Receiver<T> {
        type Msg = T;
        #[inline]
        fn raw(&self) -> &crossbeam_channel::Receiver<T> {
            &self.inner
        }
    }

    impl<R: RecvCase + ?Sized> RecvCase for &R {
        type Msg = R::Msg;
        #[inline]
        fn raw(&self) -> &crossbeam_channel::Receiver<R::Msg> {
            (**self).raw()
        }
    }

    /// Something a `send(..)` case can name: a sender or a reference to one.
    pub trait SendCase {
        /// The message type.
        type Msg;
        /// The crossbeam sender behind it.
        fn raw(&self) -> &crossbeam_channel::Sender<Self::Msg>;
    }

    impl<T> SendCase for Sender<T> {
        type Msg = T;
        #[inline]
        fn raw(&self) -> &crossbeam_channel::Sender<T> {
            &self.inner
        }
    }

    impl<S: SendCase + ?Sized> SendCase for &S {
        type Msg = S::Msg;
        #[inline]
        fn raw(&self) -> &crossbeam_channel::Sender<S::Msg> {
            (**self).raw()
        }
    }

    /// The crossbeam receiver behind a `recv(..)` case's expression.
    #[inline]
    pub fn recv_handle<R: RecvCase + ?Sized>(r: &R) -> &crossbeam_channel::Receiver<R::Msg> {
        r.raw()
    }

    /// The crossbeam sender behind a `send(..)` case's expression.
    #[inline]
    pub fn send_handle<S: SendCase + ?Sized>(s: &S) -> &crossbeam_channel::Sender<S::Msg> {
        s.raw()
    }
}

/// Waits on several channel operations at once and runs the first that is
/// ready; crossbeam-channel's `select!`, for labrt's channels.
///
/// The syntax is crossbeam's: any number of `recv(receiver) -> result =>
/// body` and `send(sender, message) -> result => body` cases, plus at most
/// one `default => body` (run if nothing is ready now) or
/// `default(timeout) => body` (run if nothing became ready within
/// `timeout`). A receiver or sender may be named by value or by reference.
/// If several operations are ready, one is picked at random; see
/// [`select_biased!`](crate::select_biased!) to prefer the first.
///
/// ```
/// use labrt::channel::{self, RecvError};
/// use labrt::time::Duration;
///
/// let (tx1, rx1) = channel::unbounded::<u32>();
/// let (_tx2, rx2) = channel::unbounded::<&str>();
/// tx1.send(7).unwrap();
/// labrt::select! {
///     recv(rx1) -> msg => assert_eq!(msg, Ok(7)),
///     recv(rx2) -> _ => panic!("nothing was sent on rx2"),
///     default(Duration::from_secs(10)) => panic!("rx1 was ready"),
/// }
/// drop(tx1);
/// let got: Result<u32, RecvError> = labrt::select! {
///     recv(&rx1) -> msg => msg,
/// };
/// assert_eq!(got, Err(RecvError));
/// ```
#[macro_export]
macro_rules! select {
    ($($cases:tt)*) => {
        $crate::__labrt_select!(@parse select () $($cases)*)
    };
}

/// Like [`select!`](crate::select!), but when several operations are ready
/// the first listed wins.
#[macro_export]
macro_rules! select_biased {
    ($($cases:tt)*) => {
        $crate::__labrt_select!(@parse select_biased () $($cases)*)
    };
}

/// Rewrites each case of a `labrt::select!` to name crossbeam's channel
/// behind labrt's, then hands the whole to crossbeam's macro.
///
/// `@parse` reads one case head (`recv(..) -> pat =>`, `send(..) -> pat =>`,
/// `default(..) =>`), `@body` reads its body (a block, with or without a
/// comma, or an expression and a comma), and the finished list goes to the
/// backend. Anything it cannot read is passed on untouched, so crossbeam's
/// own diagnostics explain the mistake.
#[doc(hidden)]
#[macro_export]
macro_rules! __labrt_select {
    (@parse $which:ident ($($out:tt)*)) => {
        $crate::channel::__private::crossbeam_channel::$which! { $($out)* }
    };
    (@parse $which:ident $out:tt recv($r:expr $(,)?) -> $res:pat => $($rest:tt)*) => {
        $crate::__labrt_select!(
            @body $which $out
            [recv($crate::channel::__private::recv_handle(&$r)) -> $res]
            $($rest)*
        )
    };
    (@parse $which:ident $out:tt send($s:expr, $m:expr $(,)?) -> $res:pat => $($rest:tt)*) => {
        $crate::__labrt_select!(
            @body $which $out
            [send($crate::channel::__private::send_handle(&$s), $m) -> $res]
            $($rest)*
        )
    };
    (@parse $which:ident $out:tt default $(($($t:tt)*))? => $($rest:tt)*) => {
        $crate::__labrt_select!(@body $which $out [default $(($($t)*))?] $($rest)*)
    };
    (@parse $which:ident ($($out:tt)*) $($rest:tt)+) => {
        $crate::channel::__private::crossbeam_channel::$which! { $($out)* $($rest)+ }
    };

    (@body $which:ident ($($out:tt)*) [$($head:tt)*] { $($body:tt)* }, $($rest:tt)*) => {
        $crate::__labrt_select!(@parse $which ($($out)* $($head)* => { $($body)* },) $($rest)*)
    };
    (@body $which:ident ($($out:tt)*) [$($head:tt)*] { $($body:tt)* } $($rest:tt)*) => {
        $crate::__labrt_select!(@parse $which ($($out)* $($head)* => { $($body)* },) $($rest)*)
    };
    (@body $which:ident ($($out:tt)*) [$($head:tt)*] $body:expr, $($rest:tt)*) => {
        $crate::__labrt_select!(@parse $which ($($out)* $($head)* => $body,) $($rest)*)
    };
    (@body $which:ident ($($out:tt)*) [$($head:tt)*] $body:expr) => {
        $crate::__labrt_select!(@parse $which ($($out)* $($head)* => $body,))
    };
}
