//! Servers and the services they host.
//!
//! A [`Server`] is what a peer exposes on the network: one or more named
//! [`Service`]s (for instance a key/value service and the Raft service on the
//! same peer), each a table of typed methods. A call names its target as
//! `"Service.Method"`.

use std::any::{TypeId, type_name};
use std::collections::BTreeMap;
use std::fmt;

use labrt::sync::Arc;
use labrt::sync::atomic::{AtomicU64, Ordering};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec;

/// A type-erased method: decodes its argument bytes, runs, encodes its reply.
type ErasedHandler = dyn Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync;

struct Method {
    args: TypeId,
    args_name: &'static str,
    reply: TypeId,
    reply_name: &'static str,
    handler: Box<ErasedHandler>,
}

/// A named set of methods, each a typed closure.
///
/// ```
/// use labrpc::Service;
/// let svc = Service::new("Echo").method("Shout", |s: String| s.to_uppercase());
/// assert_eq!(svc.name(), "Echo");
/// ```
pub struct Service {
    name: String,
    methods: BTreeMap<String, Method>,
}

impl Service {
    /// An empty service called `name` (the part before the dot in a call).
    pub fn new(name: impl Into<String>) -> Service {
        let name = name.into();
        assert!(
            !name.is_empty() && !name.contains('.'),
            "labrpc: a service name must be non-empty and contain no '.', got {name:?}"
        );
        Service {
            name,
            methods: BTreeMap::new(),
        }
    }

    /// The service's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Registers `handler` as `method`. The handler receives a freshly decoded
    /// copy of the caller's argument and returns the reply, which is encoded on
    /// its way back. A method registered twice is replaced.
    ///
    /// A handler may block for as long as it likes: it runs on its own thread
    /// and stalls only its own call.
    pub fn method<A, R, F>(mut self, method: impl Into<String>, handler: F) -> Service
    where
        A: DeserializeOwned + 'static,
        R: Serialize + 'static,
        F: Fn(A) -> R + Send + Sync + 'static,
    {
        let erased = move |bytes: &[u8]| -> Result<Vec<u8>, String> {
            let args: A = codec::decode(bytes)
                .map_err(|e| format!("cannot decode arguments as {}: {e}", type_name::<A>()))?;
            let reply = handler(args);
            codec::encode(&reply)
                .map_err(|e| format!("cannot encode reply of type {}: {e}", type_name::<R>()))
        };
        self.methods.insert(
            method.into(),
            Method {
                args: TypeId::of::<A>(),
                args_name: type_name::<A>(),
                reply: TypeId::of::<R>(),
                reply_name: type_name::<R>(),
                handler: Box::new(erased),
            },
        );
        self
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.name)
            .field("methods", &self.methods.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A peer's endpoint: the services it hosts and a count of calls it executed.
///
/// Cheap to clone; clones share the services and the counter.
#[derive(Clone)]
pub struct Server {
    inner: Arc<ServerInner>,
}

struct ServerInner {
    services: BTreeMap<String, Service>,
    executed: AtomicU64,
    received_bytes: AtomicU64,
}

/// What the caller asked for, with its types, for dispatch-time checks.
pub(crate) struct Request<'a> {
    pub(crate) target: &'a str,
    pub(crate) args_type: TypeId,
    pub(crate) args_name: &'static str,
    pub(crate) reply_type: TypeId,
    pub(crate) reply_name: &'static str,
    pub(crate) args: &'a [u8],
}

/// Why dispatch failed. Both are programming errors, reported loudly.
pub(crate) enum DispatchError {
    /// No such service or method; the message lists what is registered.
    Unknown(String),
    /// The handler's types differ from the caller's; the message names both.
    TypeMismatch(String),
    /// The handler ran but its bytes did not round-trip.
    Codec(String),
}

impl DispatchError {
    pub(crate) fn message(&self) -> &str {
        match self {
            DispatchError::Unknown(m)
            | DispatchError::TypeMismatch(m)
            | DispatchError::Codec(m) => m,
        }
    }
}

impl Server {
    /// A server hosting `services`. Two services with the same name is a bug
    /// and panics.
    pub fn new(services: impl IntoIterator<Item = Service>) -> Server {
        let mut map = BTreeMap::new();
        for svc in services {
            let name = svc.name.clone();
            assert!(
                map.insert(name.clone(), svc).is_none(),
                "labrpc: service {name:?} added twice to one server"
            );
        }
        Server {
            inner: Arc::new(ServerInner {
                services: map,
                executed: AtomicU64::new(0),
                received_bytes: AtomicU64::new(0),
            }),
        }
    }

    /// How many calls this server has executed (dispatched to a handler).
    pub fn executed(&self) -> u64 {
        self.inner.executed.load(Ordering::Relaxed)
    }

    /// The bytes of the arguments of every call this server executed: what
    /// reached it through the network (a lower bound on what a peer must
    /// have been told to know what it knows).
    pub fn received_bytes(&self) -> u64 {
        self.inner.received_bytes.load(Ordering::Relaxed)
    }

    /// Every registered `"Service.Method"`, sorted.
    pub fn registered(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (sname, svc) in &self.inner.services {
            for m in svc.methods.keys() {
                out.push(format!("{sname}.{m}"));
            }
        }
        out
    }

    /// Finds the method, checks the types and runs it on this thread.
    pub(crate) fn dispatch(&self, req: &Request<'_>) -> Result<Vec<u8>, DispatchError> {
        let (sname, mname) = req.target.rsplit_once('.').ok_or_else(|| {
            DispatchError::Unknown(format!(
                "labrpc: {:?} is not of the form \"Service.Method\"; registered: {}",
                req.target,
                self.registered().join(", ")
            ))
        })?;
        let method = self
            .inner
            .services
            .get(sname)
            .and_then(|svc| svc.methods.get(mname))
            .ok_or_else(|| {
                DispatchError::Unknown(format!(
                    "labrpc: unknown method {:?}; this server registers: {}",
                    req.target,
                    self.registered().join(", ")
                ))
            })?;
        if method.args != req.args_type || method.reply != req.reply_type {
            return Err(DispatchError::TypeMismatch(format!(
                "labrpc: type mismatch calling {:?}: the caller sends {} and expects {}, \
                 but the handler takes {} and returns {}",
                req.target, req.args_name, req.reply_name, method.args_name, method.reply_name
            )));
        }
        self.inner.executed.fetch_add(1, Ordering::Relaxed);
        self.inner
            .received_bytes
            .fetch_add(req.args.len() as u64, Ordering::Relaxed);
        (method.handler)(req.args).map_err(|m| DispatchError::Codec(format!("labrpc: {m}")))
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("methods", &self.registered())
            .field("executed", &self.executed())
            .finish()
    }
}
