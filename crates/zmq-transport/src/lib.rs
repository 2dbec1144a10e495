//! ZeroMQ transports, the reactor and the connection engine.
//!
//! This is the only crate of the workspace that touches the operating system: endpoints,
//! the reactor on `polling`, I/O threads, the engine that drives the codec and the security
//! mechanism over a non-blocking socket, pipes, listeners and connecters for tcp, ipc and
//! inproc. Protocol decisions live in the sans-IO crates below it; this crate only drives
//! them.

pub mod endpoint;
pub mod errno;
pub mod net;
pub mod pipe;
