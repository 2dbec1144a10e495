//! The ZMTP wire format as a sans-IO, `no_std` codec.
//!
//! This crate knows the bytes ZeroMQ peers exchange and nothing else: it does no I/O, reads
//! no clock, starts no thread, and the caller owns every buffer. It builds without `std`
//! (it needs `alloc`), so other stacks can embed it.
//!
//! What it covers:
//! - [`greeting`]: our ZMTP 3.1 greeting and an incremental reader of the peer's, in the
//!   stages libzmq uses, with detection of ZMTP 1.0 (unversioned and versioned), 2.0, 3.0
//!   and 3.1+ peers.
//! - [`frame`]: frame flags and the ZMTP 3.x, 2.0 and 1.0 frame headers.
//! - [`command`]: READY, ERROR, SUBSCRIBE, CANCEL, PING, PONG, JOIN, LEAVE, and the
//!   mechanism commands (HELLO, WELCOME, INITIATE, MESSAGE) as opaque bodies.
//! - [`metadata`]: the property lists carried by READY and INITIATE.
//! - [`msg`]: the [`Frame`] that patterns, pipes and engines pass between them.
//! - [`socket_type`]: socket-type names, libzmq's numeric values and the peer table.
//! - [`decode`] and [`encode`]: an incremental zero-copy decoder and a batching encoder.
//! - [`z85`]: the Z85 text encoding of RFC 32.
//! - [`copy`]: body copies that avoid a slow case of the C library's `memcpy`.
//! - [`limits`]: the named limits the decoder enforces.
//!
//! A connection reads the greeting with [`greeting::GreetingReader`], answering each stage
//! at once, then decodes frames with a [`decode::Decoder`] built for the version the peer
//! speaks and writes with an [`encode::WriteBatch`]:
//!
//! ```
//! use bytes::BytesMut;
//! use zmtp_codec::greeting::{Greeting, GreetingReader, Progress};
//! use zmtp_codec::mechanism::Mechanism;
//!
//! // What a libzmq peer sends first: its signature, then (after ours) the rest.
//! let peer = Greeting::new(Mechanism::NULL, false).to_bytes();
//! let mut input = BytesMut::from(&peer[..]);
//! let mut reader = GreetingReader::new();
//! loop {
//!     match reader.poll(&mut input).unwrap() {
//!         Progress::SendVersion => { /* write our byte 10 now */ }
//!         Progress::SendRest(_version) => { /* write the rest of our greeting */ }
//!         Progress::Done(greeting) => {
//!             assert_eq!(greeting.mechanism, Mechanism::NULL);
//!             break;
//!         }
//!         Progress::NeedMore => unreachable!("the whole greeting is buffered"),
//!         _ => unreachable!("not a ZMTP 1.0 peer"),
//!     }
//! }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod command;
pub mod copy;
pub mod decode;
pub mod encode;
pub mod frame;
pub mod greeting;
pub mod limits;
pub mod mechanism;
pub mod metadata;
pub mod msg;
pub mod socket_type;
pub mod z85;

#[doc(hidden)]
pub mod fuzzing;

pub use bytes;

pub use command::{Command, CommandError};
pub use decode::{DecodeError, Decoder, Item};
pub use encode::{EncodeError, WriteBatch};
pub use frame::FrameFlags;
pub use greeting::{Greeting, GreetingError, GreetingReader, PeerGreeting, Version};
pub use mechanism::Mechanism;
pub use metadata::{Metadata, MetadataError};
pub use msg::{Frame, Payload};
pub use socket_type::SocketType;
