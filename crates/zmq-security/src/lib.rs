//! ZeroMQ connection handshakes and security mechanisms as sans-IO state machines.
//!
//! A [`Handshake`] takes a connection from its first byte to the traffic phase: the greeting
//! in libzmq's stages, the downgrade to ZMTP 2.0 or 1.0 for old peers, and the security
//! mechanism. Bytes from the peer go in through [`Handshake::handle_input`]; bytes for the
//! peer come out in the caller's [`WriteBatch`](zmtp_codec::WriteBatch). The crate does no
//! I/O, reads no clock and starts no thread; it builds without `std` (it needs `alloc`).
//!
//! Mechanisms, each exactly as libzmq 4.3 speaks it:
//! - NULL (RFC 23), with a ZAP request when a ZAP domain is set.
//! - PLAIN (RFC 24): [`MechanismConfig::PlainClient`] and [`MechanismConfig::PlainServer`].
//! - CURVE (RFC 25/26): [`MechanismConfig::CurveClient`] and
//!   [`MechanismConfig::CurveServer`], with the traffic cipher [`CurveCipher`] in
//!   [`Established::cipher`]. Randomness comes from the caller
//!   ([`Handshake::with_rng`] takes any [`rand_core::CryptoRngCore`]).
//! - ZAP (RFC 27) as events: [`Handshake::poll_zap_request`] yields a [`ZapRequest`], and
//!   [`Handshake::handle_zap_reply`] takes the handler's reply ([`zap`]).
//!
//! A failed handshake is a [`HandshakeError`], which also tells the engine which libzmq
//! monitor event to raise ([`HandshakeError::monitor_class`],
//! [`HandshakeError::zmtp_error_code`], [`HandshakeError::zap_status`],
//! [`protocol_error`]).
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod config;
pub mod curve;
pub mod error;
pub mod handshake;
pub mod keys;
mod mechanism;
mod null;
pub mod plain;
pub mod protocol_error;
pub mod zap;

#[doc(hidden)]
pub mod fuzzing;

pub use rand_core;

pub use config::{HandshakeConfig, MechanismConfig, ZapConfig};
pub use curve::{CurveCipher, CurveOpener, CurveSealer};
pub use error::{CryptoFailure, FailureClass, HandshakeError, MechanismCommand, MAX_ROUTING_ID};
pub use handshake::{Established, Handshake};
pub use keys::{CurveKeyPair, CurvePublicKey, CurveSecretKey, KeyError};
pub use zap::{ZapReply, ZapReplyError, ZapRequest, ZapStatus};
