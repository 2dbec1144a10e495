//! ZeroMQ connection handshakes and security mechanisms as sans-IO state machines.
//!
//! A [`Handshake`] takes a connection from its first byte to the traffic phase: the greeting
//! in libzmq's stages, the downgrade to ZMTP 2.0 or 1.0 for old peers, and the security
//! mechanism. Bytes from the peer go in through [`Handshake::handle_input`]; bytes for the
//! peer come out in the caller's [`WriteBatch`](zmtp_codec::WriteBatch). The crate does no
//! I/O, reads no clock and starts no thread; it builds without `std` (it needs `alloc`).
//!
//! Mechanisms so far: NULL (RFC 23). PLAIN (RFC 24), CURVE (RFC 25/26) and the ZAP exchange
//! (RFC 27) will be added as [`MechanismConfig`] variants and handshake states.
//!
//! A failed handshake is a [`HandshakeError`], which also tells the engine which libzmq
//! monitor event to raise ([`HandshakeError::monitor_class`],
//! [`HandshakeError::zmtp_error_code`], [`protocol_error`]).
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod config;
pub mod error;
pub mod handshake;
mod null;
pub mod protocol_error;

#[doc(hidden)]
pub mod fuzzing;

pub use config::{HandshakeConfig, MechanismConfig};
pub use error::{FailureClass, HandshakeError, MAX_ROUTING_ID};
pub use handshake::{Established, Handshake};
