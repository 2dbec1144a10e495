//! Helpers that several of the facade's test files share: endpoints unique in a run,
//! sockets set up for tests, and binding.
//!
//! Each test file includes this module and uses part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// Socket timeouts in the tests, generous for a loaded machine.
pub(crate) const TIMEOUT_MS: i32 = 10_000;

/// The transports every pattern runs over.
pub(crate) const TRANSPORTS: [&str; 3] = ["tcp", "ipc", "inproc"];

/// An endpoint to bind on `transport` (`tcp`, `ipc`, anything else for inproc), unique in
/// this run: ipc paths and inproc names carry the test file's name and a counter.
pub(crate) fn endpoint(transport: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let file = env!("CARGO_CRATE_NAME");
    match transport {
        "tcp" => "tcp://127.0.0.1:*".to_owned(),
        "ipc" => {
            let path =
                std::env::temp_dir().join(format!("zmq-{file}-{}-{n}.ipc", std::process::id()));
            let _ = std::fs::remove_file(&path);
            format!("ipc://{}", path.display())
        }
        _ => format!("inproc://{file}-{n}"),
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
