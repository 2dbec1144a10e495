//! The context: I/O threads, inproc endpoints, and the sockets made from it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::{Condvar, Mutex};
use zmq_transport::Runtime;

use crate::core::Shared;
use crate::error::{Error, Result};
use crate::socket::Socket;
use crate::SocketType;

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

    /// Sets `ZMQ_IO_THREADS` (at least 1); takes effect if no socket was made yet.
    pub fn set_io_threads(&self, value: i32) -> Result<()> {
        if value < 1 {
            return Err(Error::EINVAL);
        }
        self.inner.io_threads.store(value, Ordering::Relaxed);
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
        let rt = Arc::new(Runtime::new(threads).map_err(|_| Error::EMTHREAD)?);
        *slot = Some(Arc::clone(&rt));
        Ok(rt)
    }

    pub(crate) fn register(&self, shared: &Arc<Shared>) -> Result<u64> {
        if self.inner.terminated.load(Ordering::Acquire) {
            return Err(Error::ETERM);
        }
        let id = self.inner.next_socket.fetch_add(1, Ordering::Relaxed);
        self.inner.sockets.lock().insert(id, Arc::downgrade(shared));
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
