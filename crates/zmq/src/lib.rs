//! A pure-Rust ZeroMQ, source-compatible with the `zmq` crate 0.10.
//!
//! This facade is what applications depend on. It will hold `Context`, `Socket`, the
//! options, `poll`, proxies and the socket monitor on top of the runtime in
//! `zmq-transport`. The runtime arrives in its own issue; for now the facade offers the
//! parts that need no runtime: Z85 encoding ([`z85_encode`], [`z85_decode`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod z85;

pub use z85::{z85_decode, z85_encode, DecodeError, EncodeError};
