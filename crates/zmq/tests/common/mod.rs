//! Helpers that several of the facade's test files share: endpoints unique in a run,
//! sockets set up for tests, and binding.
//!
//! Each test file includes this module and uses part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Socket timeouts in the tests, generous for a loaded machine.
pub(crate) const TIMEOUT_MS: i32 = 10_000;

/// The transports every pattern runs over.
pub(crate) const TRANSPORTS: [&str; 3] = ["tcp", "ipc", "inproc"];

/// An endpoint to bind on `transport` (`tcp`, `ipc`, anything else for inproc), unique in
/// this run: ipc paths and inproc names carry the test file's name and a counter.
pub(crate) fn endpoint(transport: &str) -> String {
    match transport {
        "tcp" => "tcp://127.0.0.1:*".to_owned(),
        "ipc" => format!("ipc://{}", ipc_path().display()),
        _ => format!("inproc://{}-{}", env!("CARGO_CRATE_NAME"), next()),
    }
}

/// A number unique in this run of the test file.
fn next() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A path for an ipc endpoint, unique in this run (removed first if a run before left it).
fn ipc_path() -> PathBuf {
    let name = format!(
        "zmq-{}-{}-{}.ipc",
        env!("CARGO_CRATE_NAME"),
        std::process::id(),
        next()
    );
    let path = std::env::temp_dir().join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// The transports between processes, for the tests that run each case over both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    Tcp,
    Ipc,
}

impl Transport {
    /// The transport's name in an endpoint.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Ipc => "ipc",
        }
    }
}

/// An ipc socket file, removed when dropped (none for tcp).
pub(crate) struct IpcFile(Option<PathBuf>);

impl Drop for IpcFile {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// An endpoint to bind on `transport`, unique in this run, and its ipc file, removed when
/// the test is done with it.
pub(crate) fn endpoint_file(transport: Transport) -> (String, IpcFile) {
    match transport {
        Transport::Tcp => ("tcp://127.0.0.1:*".to_owned(), IpcFile(None)),
        Transport::Ipc => {
            let path = ipc_path();
            (format!("ipc://{}", path.display()), IpcFile(Some(path)))
        }
    }
}

/// A socket that lingers for nothing at close and gives up a send or a receive after
/// [`TIMEOUT_MS`].
pub(crate) fn socket(ctx: &zmq::Context, ty: zmq::SocketType) -> zmq::Socket {
    let s = ctx.socket(ty).unwrap();
    s.set_linger(0).unwrap();
    s.set_rcvtimeo(TIMEOUT_MS).unwrap();
    s.set_sndtimeo(TIMEOUT_MS).unwrap();
    s
}

/// Binds `socket` on `transport`; returns the endpoint to connect to.
pub(crate) fn bind(socket: &zmq::Socket, transport: &str) -> String {
    socket.bind(&endpoint(transport)).unwrap();
    socket.get_last_endpoint().unwrap().unwrap()
}

/// Binds `socket` to a fresh endpoint of `transport`; returns the endpoint to connect to
/// and the ipc file to remove.
pub(crate) fn bind_file(socket: &zmq::Socket, transport: Transport) -> (String, IpcFile) {
    let (ep, file) = endpoint_file(transport);
    socket
        .bind(&ep)
        .unwrap_or_else(|e| panic!("bind {ep}: {e}"));
    (socket.get_last_endpoint().unwrap().unwrap(), file)
}
