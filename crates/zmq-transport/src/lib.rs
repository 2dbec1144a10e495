//! ZeroMQ transports, the reactor and the connection engine.
//!
//! This is the only crate of the workspace that touches the operating system: endpoints,
//! the reactor on `polling`, I/O threads, the engine that drives the codec and the security
//! mechanism over a non-blocking socket, pipes, listeners and connecters for tcp, ipc and
//! inproc. Protocol decisions live in the sans-IO crates below it; this crate only drives
//! them.
//!
//! The facade uses it through [`Runtime`] (one per context): [`Runtime::bind`],
//! [`Runtime::connect`] and [`Runtime::close_endpoint`], with a [`SocketLink`] through
//! which new peers arrive as [`NewPeer`]s, each with a [`pipe::PipeEnd`].
//!
//! Security: each connection's handshake uses the mechanism in its
//! [`TransportOptions`], with CURVE's randomness from the operating system, and sends ZAP
//! requests to the in-process [`Authorizer`] ([`Runtime::set_authorizer`]) or to the socket
//! bound at `inproc://zeromq.zap.01`. inproc connections have no handshake, so no mechanism
//! applies to them, as in libzmq.

pub mod cache;
pub mod direct;
pub mod endpoint;
mod engine;
pub mod errno;
mod heartbeat;
pub mod monitor;
pub mod net;
pub mod options;
pub mod pipe;
mod reactor;
mod readbuf;
pub mod recycle;
pub mod runtime;
pub mod sched;
mod socks;
mod stream;
mod zap;

pub use monitor::{EventKind, MonitorEvent};

/// Entry points for `fuzz/` and its corpus replay; not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::pipe::fuzzing::pipe_ops;
    pub use crate::readbuf::fuzzing::read_splits;
    pub use crate::socks::fuzz_negotiate as socks_negotiate;
}
pub use options::TransportOptions;
pub use runtime::{Bound, EndpointId, NewPeer, Runtime, SocketLink, TransportError};
pub use zap::{Authorizer, ZAP_ENDPOINT};
