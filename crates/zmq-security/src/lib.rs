//! ZeroMQ security mechanisms as sans-IO handshake state machines.
//!
//! This crate will hold the NULL, PLAIN (RFC 24) and CURVE (RFC 25/26) mechanisms and the
//! ZAP request/reply exchange (RFC 27), driven by bytes and time passed in, with no sockets,
//! threads or clock reads. It has no functionality yet: the mechanisms arrive with the runtime
//! and security work (see `ARCHITECTURE.md`).
#![no_std]
#![forbid(unsafe_code)]
