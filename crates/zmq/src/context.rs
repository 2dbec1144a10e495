//! The context: I/O threads, inproc endpoints, and the sockets made from it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::{Condvar, Mutex};
use zmq_transport::sched::IoScheduling;
use zmq_transport::Runtime;

use crate::core::Shared;
use crate::error::{Error, Result};
use crate::socket::Socket;
use crate::SocketType;

/// libzmq's default `ZMQ_MAX_SOCKETS`.
const DEFAULT_MAX_SOCKETS: i32 = 1023;
/// libzmq's `ZMQ_SOCKET_LIMIT` where `poll` is used (65535, `ctx.cpp`
/// `clipped_maxsocket`).
const SOCKET_LIMIT: i32 = 65535;

/// A ZeroMQ context: the I/O threads, the inproc endpoints, and the sockets made from it.
///
/// Cheap to clone; every clone and every socket shares the same context. The I/O threads
/// start with the first socket. When the last clone and the last socket are gone, the
/// context terminates: it waits for closed sockets' connections to send what they queued
/// (each for at most its socket's `ZMQ_LINGER`), then stops its threads.
#[derive(Clone)]
pub struct Context {
    inner: Arc<ContextInner>,
}

pub(crate) struct ContextInner {
    io_threads: AtomicI32,
    /// `ZMQ_THREAD_SCHED_POLICY` and `ZMQ_THREAD_PRIORITY`; -1 while unset.
    sched_policy: AtomicI32,
    sched_priority: AtomicI32,
    max_sockets: AtomicI32,
    ipv6: AtomicBool,
    blocky: AtomicBool,
    runtime: Mutex<Option<Arc<Runtime>>>,
    sockets: Mutex<HashMap<u64, Weak<Shared>>>,
    sockets_gone: Condvar,
    next_socket: AtomicU64,
    terminated: AtomicBool,
}

impl Default for Context {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("io_threads", &self.inner.io_threads.load(Ordering::Relaxed))
            .field("sockets", &self.inner.sockets.lock().len())
            .finish()
    }
}

impl Context {
    /// A new context with one I/O thread.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(ContextInner {
                io_threads: AtomicI32::new(1),
                sched_policy: AtomicI32::new(-1),
                sched_priority: AtomicI32::new(-1),
                max_sockets: AtomicI32::new(DEFAULT_MAX_SOCKETS),
                ipv6: AtomicBool::new(false),
                blocky: AtomicBool::new(true),
                runtime: Mutex::new(None),
                sockets: Mutex::new(HashMap::new()),
                sockets_gone: Condvar::new(),
                next_socket: AtomicU64::new(0),
                terminated: AtomicBool::new(false),
            }),
        }
    }

    /// `ZMQ_IO_THREADS`.
    pub fn get_io_threads(&self) -> Result<i32> {
        Ok(self.inner.io_threads.load(Ordering::Relaxed))
    }

    /// Sets `ZMQ_IO_THREADS` (0 or more, else `EINVAL`); takes effect if no socket was
    /// made yet. libzmq allows 0 for contexts that use inproc only; this library still
    /// starts one I/O thread then, so tcp and ipc keep working.
    pub fn set_io_threads(&self, value: i32) -> Result<()> {
        if value < 0 {
            return Err(Error::EINVAL);
        }
        self.inner.io_threads.store(value, Ordering::Relaxed);
        Ok(())
    }

    /// `ZMQ_THREAD_SCHED_POLICY`: the scheduling policy the I/O threads get, a
    /// `SCHED_*` value of `<sched.h>`, or -1 (the default) while unset.
    ///
    /// Unset, an I/O thread that would run under the normal policy (`SCHED_OTHER`) runs
    /// under `SCHED_BATCH` on Linux, where libzmq leaves it under the normal one: woken
    /// for a burst of messages, it then never preempts the thread that queued them, which
    /// goes on queueing while it can (a stream of small messages through a core that both
    /// share is about a quarter faster, a round trip through the I/O threads of an idle
    /// machine over a third shorter; `zmq_transport::sched`). Set `SCHED_OTHER` (0) for
    /// libzmq's behaviour. An I/O thread that inherits another policy (a real-time one)
    /// keeps it while this is unset.
    pub fn get_thread_sched_policy(&self) -> Result<i32> {
        Ok(self.inner.sched_policy.load(Ordering::Relaxed))
    }

    /// Sets `ZMQ_THREAD_SCHED_POLICY` (0 or more, else `EINVAL`); takes effect if no
    /// socket was made yet. A policy the system refuses (a real-time one without the
    /// privilege for it, say) leaves the threads as they were; libzmq aborts then. No
    /// effect outside Linux.
    pub fn set_thread_sched_policy(&self, value: i32) -> Result<()> {
        if value < 0 {
            return Err(Error::EINVAL);
        }
        self.inner.sched_policy.store(value, Ordering::Relaxed);
        Ok(())
    }

    /// `ZMQ_THREAD_PRIORITY`: the static priority the I/O threads get, for the policies
    /// that have one (`SCHED_FIFO`, `SCHED_RR`), or -1 (the default) while unset. libzmq
    /// has no getter for it (the option's number is `ZMQ_SOCKET_LIMIT`'s).
    pub fn get_thread_priority(&self) -> Result<i32> {
        Ok(self.inner.sched_priority.load(Ordering::Relaxed))
    }

    /// Sets `ZMQ_THREAD_PRIORITY` (0 or more, else `EINVAL`); takes effect if no socket
    /// was made yet. A priority outside the policy's range leaves the threads as they were.
    /// No effect outside Linux.
    pub fn set_thread_priority(&self, value: i32) -> Result<()> {
        if value < 0 {
            return Err(Error::EINVAL);
        }
        self.inner.sched_priority.store(value, Ordering::Relaxed);
        Ok(())
    }

    /// `ZMQ_MAX_SOCKETS`: how many sockets may be open at once (1023 by default).
    pub fn get_max_sockets(&self) -> Result<i32> {
        Ok(self.inner.max_sockets.load(Ordering::Relaxed))
    }

    /// Sets `ZMQ_MAX_SOCKETS`: 1 to [`get_socket_limit`](Self::get_socket_limit), else
    /// `EINVAL`. Making a socket beyond it gives `EMFILE`, as libzmq.
    pub fn set_max_sockets(&self, value: i32) -> Result<()> {
        if !(1..=SOCKET_LIMIT).contains(&value) {
            return Err(Error::EINVAL);
        }
        self.inner.max_sockets.store(value, Ordering::Relaxed);
        Ok(())
    }

    /// `ZMQ_SOCKET_LIMIT`: the largest `ZMQ_MAX_SOCKETS` accepted (65535, as libzmq on
    /// Linux).
    pub fn get_socket_limit(&self) -> Result<i32> {
        Ok(SOCKET_LIMIT)
    }

    /// `ZMQ_IPV6`: the `ZMQ_IPV6` of sockets made from now on.
    pub fn get_ipv6(&self) -> Result<bool> {
        Ok(self.inner.ipv6.load(Ordering::Relaxed))
    }

    /// Sets `ZMQ_IPV6` for sockets made from now on.
    pub fn set_ipv6(&self, value: bool) -> Result<()> {
        self.inner.ipv6.store(value, Ordering::Relaxed);
        Ok(())
    }

    /// `ZMQ_BLOCKY`: true (the default) keeps libzmq's `ZMQ_LINGER` of -1 for new
    /// sockets; false gives them a linger of 0, so terminating never waits.
    pub fn get_blocky(&self) -> Result<bool> {
        Ok(self.inner.blocky.load(Ordering::Relaxed))
    }

    /// Sets `ZMQ_BLOCKY` for sockets made from now on.
    pub fn set_blocky(&self, value: bool) -> Result<()> {
        self.inner.blocky.store(value, Ordering::Relaxed);
        Ok(())
    }

    /// Makes a socket of `socket_type`.
    pub fn socket(&self, socket_type: SocketType) -> Result<Socket> {
        Socket::new(self.clone(), socket_type)
    }

    /// Terminates the context: blocking calls on its sockets return `ETERM` from now on,
    /// and this waits until every socket is closed (dropped), then until their connections
    /// have lingered. A socket still open in this same thread makes it wait forever, as in
    /// libzmq; drop your sockets first.
    ///
    /// With the default `ZMQ_LINGER` of -1, messages queued to a connect whose peer is not
    /// up yet keep termination waiting until the peer appears and takes them, as in
    /// libzmq; set a finite linger on such sockets to bound the wait.
    pub fn destroy(&mut self) -> Result<()> {
        self.inner.terminate();
        Ok(())
    }

    pub(crate) fn runtime(&self) -> Result<Arc<Runtime>> {
        if self.inner.terminated.load(Ordering::Acquire) {
            return Err(Error::ETERM);
        }
        let mut slot = self.inner.runtime.lock();
        if let Some(rt) = &*slot {
            return Ok(Arc::clone(rt));
        }
        let threads = self.inner.io_threads.load(Ordering::Relaxed).max(1) as usize;
        let set = |v: &AtomicI32| Some(v.load(Ordering::Relaxed)).filter(|&v| v >= 0);
        let scheduling = IoScheduling {
            policy: set(&self.inner.sched_policy),
            priority: set(&self.inner.sched_priority),
        };
        let rt = Runtime::with_scheduling(threads, scheduling).map_err(|_| Error::EMTHREAD)?;
        let rt = Arc::new(rt);
        *slot = Some(Arc::clone(&rt));
        Ok(rt)
    }

    pub(crate) fn register(&self, shared: &Arc<Shared>) -> Result<u64> {
        if self.inner.terminated.load(Ordering::Acquire) {
            return Err(Error::ETERM);
        }
        let mut sockets = self.inner.sockets.lock();
        let max = self.inner.max_sockets.load(Ordering::Relaxed);
        if sockets.len() >= max.max(0) as usize {
            return Err(Error::EMFILE);
        }
        let id = self.inner.next_socket.fetch_add(1, Ordering::Relaxed);
        sockets.insert(id, Arc::downgrade(shared));
        Ok(id)
    }

    pub(crate) fn unregister(&self, id: u64) {
        let mut sockets = self.inner.sockets.lock();
        sockets.remove(&id);
        if sockets.is_empty() {
            self.inner.sockets_gone.notify_all();
        }
    }
}

impl ContextInner {
    fn terminate(&self) {
        if self.terminated.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut sockets = self.sockets.lock();
        for shared in sockets.values().filter_map(Weak::upgrade) {
            shared.terminate();
        }
        while !sockets.is_empty() {
            self.sockets_gone.wait(&mut sockets);
        }
        drop(sockets);
        if let Some(rt) = self.runtime.lock().take() {
            rt.wait_lingering(None);
            // The last reference stops the I/O threads; sockets hold none by now.
            drop(rt);
        }
    }
}

impl Drop for ContextInner {
    fn drop(&mut self) {
        self.terminate();
    }
}
