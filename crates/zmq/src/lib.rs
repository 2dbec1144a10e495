//! A pure-Rust ZeroMQ, source-compatible with the `zmq` crate 0.10.
//!
//! A program written for the `zmq` crate builds against this one by changing only its
//! `Cargo.toml`; it then needs no C library. It talks to libzmq peers over `tcp://` and
//! `ipc://`, and to sockets of the same process over `inproc://`.
//!
//! Security is libzmq's: PLAIN and CURVE (set with the `set_plain_*` and `set_curve_*`
//! options; [`CurveKeyPair`] makes keys), with ZAP handlers bound at
//! `inproc://zeromq.zap.01`, or an in-process authorizer
//! ([`Context::set_authorizer`]). As in libzmq, mechanisms apply to tcp and ipc, not to
//! inproc, which has no handshake.
//!
//! ```
//! let ctx = zmq::Context::new();
//! let rep = ctx.socket(zmq::REP).unwrap();
//! rep.bind("inproc://doc").unwrap();
//! let req = ctx.socket(zmq::REQ).unwrap();
//! req.connect("inproc://doc").unwrap();
//!
//! req.send("hello", 0).unwrap();
//! assert_eq!(rep.recv_string(0).unwrap().unwrap(), "hello");
//! rep.send("world", 0).unwrap();
//! assert_eq!(req.recv_string(0).unwrap().unwrap(), "world");
//! ```
//!
//! Monitoring: [`Socket::monitor`] is libzmq's `zmq_socket_monitor` (events as two-frame
//! messages on an inproc PAIR, which [`monitor::Event::parse`] reads);
//! [`Socket::monitor_events`] gives the same events typed, with the peer's address, routing
//! id and the reason of a failure, and the slow-joiner signal
//! ([`monitor::EventKind::Subscribed`]). [`Socket::stats`] counts messages, bytes, drops,
//! reconnections and handshake failures, and each peer's queues (libzmq has no such
//! counters). See [`monitor`].
//!
//! A [`Socket`] is `Send` but not `Sync`, as in the `zmq` crate: move it to another
//! thread, but do not share it.
//!
//! ```compile_fail
//! fn shared_between_threads<T: Sync>() {}
//! shared_between_threads::<zmq::Socket>();
//! ```
//!
//! Where the `zmq` crate panics or hangs, this one returns an error or documents what it
//! does: `Error::from_raw` never panics, and dropping a socket never blocks. Terminating a
//! context (dropping the last `Context`, or [`Context::destroy`]) waits for each closed
//! socket's queued messages to be sent for at most its `ZMQ_LINGER`; with libzmq's default
//! of -1 (no limit) that includes waiting for a peer that has not connected yet, as libzmq
//! does, so set a finite linger where a peer may never appear.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod context;
mod core;
mod curve;
mod error;
mod message;
pub mod monitor;
mod options;
mod poll;
mod proxy;
mod socket;
mod sockopt;
mod z85;
mod zap;

/// Endpoint strings, parsed and checked without binding or connecting: use
/// [`Endpoint::parse`](endpoint::Endpoint::parse) to learn exactly why an endpoint is
/// refused (the `EINVAL` of `bind` and `connect` does not say).
pub mod endpoint {
    pub use zmq_transport::endpoint::{Direction, Endpoint, EndpointError};
}

pub use context::Context;
pub use curve::{curve_keypair, curve_public, CurveKeyPair};
pub use error::{Error, Result};
pub use message::Message;
pub use monitor::SocketEvent;
pub use options::{
    SocketOptions, NOTIFY_CONNECT, NOTIFY_DISCONNECT, RECONNECT_STOP_AFTER_DISCONNECT,
    RECONNECT_STOP_CONN_REFUSED, RECONNECT_STOP_HANDSHAKE_FAILED,
};
pub use poll::{poll, PollEvents, PollItem};
pub use proxy::{
    proxy, proxy_steerable, proxy_steerable_with_capture, proxy_with_capture, Proxy,
    ProxyStatistics, SideStatistics, StatisticsReplyError, PROXY_BURST_SIZE,
};
pub use socket::Socket;
pub use z85::{z85_decode, z85_encode, DecodeError, EncodeError};
pub use zap::{AuthDecision, AuthRequest, Credentials};

/// Send flag: return `EAGAIN` instead of blocking.
pub static DONTWAIT: i32 = 1;
/// Send flag: more parts of the message follow.
pub static SNDMORE: i32 = 2;

/// Poll for messages to receive.
pub const POLLIN: PollEvents = PollEvents::POLLIN;
/// Poll for room to send.
pub const POLLOUT: PollEvents = PollEvents::POLLOUT;
/// Poll for errors (descriptors only).
pub const POLLERR: PollEvents = PollEvents::POLLERR;

/// Socket types, with libzmq's names and values.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SocketType {
    /// Exclusive pair (RFC 31).
    PAIR,
    /// Publisher (RFC 29).
    PUB,
    /// Subscriber (RFC 29).
    SUB,
    /// Request (RFC 28).
    REQ,
    /// Reply (RFC 28).
    REP,
    /// Dealer (RFC 28).
    DEALER,
    /// Router (RFC 28).
    ROUTER,
    /// Pull (RFC 30).
    PULL,
    /// Push (RFC 30).
    PUSH,
    /// Extended publisher (RFC 29).
    XPUB,
    /// Extended subscriber (RFC 29).
    XSUB,
    /// Raw TCP (or ipc) peers, without ZMTP: `[routing id, bytes]` messages.
    STREAM,
}

pub use SocketType::*;

impl SocketType {
    /// libzmq's numeric value (`ZMQ_PAIR` = 0 ...).
    pub fn to_raw(self) -> i32 {
        i32::from(self.to_codec().as_u8())
    }

    /// The type with libzmq's numeric value `raw`.
    pub fn from_raw(raw: i32) -> Option<Self> {
        [
            PAIR, PUB, SUB, REQ, REP, DEALER, ROUTER, PULL, PUSH, XPUB, XSUB, STREAM,
        ]
        .into_iter()
        .find(|t| t.to_raw() == raw)
    }

    pub(crate) fn to_codec(self) -> zmtp_codec::SocketType {
        use zmtp_codec::SocketType as T;
        match self {
            PAIR => T::Pair,
            PUB => T::Pub,
            SUB => T::Sub,
            REQ => T::Req,
            REP => T::Rep,
            DEALER => T::Dealer,
            ROUTER => T::Router,
            PULL => T::Pull,
            PUSH => T::Push,
            XPUB => T::XPub,
            XSUB => T::XSub,
            STREAM => T::Stream,
        }
    }
}

/// Security mechanisms, as `ZMQ_MECHANISM` reports them. In configuration files
/// ([`SocketOptions`]) they are written `"NULL"`, `"PLAIN"`, `"CURVE"`.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Mechanism {
    /// No security.
    #[serde(rename = "NULL", alias = "ZMQ_NULL")]
    ZMQ_NULL,
    /// Clear-text user name and password (RFC 24), checked by a ZAP handler.
    #[serde(rename = "PLAIN", alias = "ZMQ_PLAIN")]
    ZMQ_PLAIN,
    /// CurveZMQ (RFC 25/26): authenticated and encrypted.
    #[serde(rename = "CURVE", alias = "ZMQ_CURVE")]
    ZMQ_CURVE,
    /// Kerberos: not supported (setting it is refused with `EINVAL`).
    #[serde(rename = "GSSAPI", alias = "ZMQ_GSSAPI")]
    ZMQ_GSSAPI,
}

/// What can be sent: anything that converts into a [`Message`].
pub trait Sendable {
    /// Sends `self` on `socket` with `flags`.
    fn send(self, socket: &Socket, flags: i32) -> Result<()>;
}

impl<T: Into<Message>> Sendable for T {
    fn send(self, socket: &Socket, flags: i32) -> Result<()> {
        // A large part borrowed from the caller (`&[u8]`, `&str`, `&Vec<u8>`, `&String`)
        // may be written to the connection from there, without the copy into a message;
        // a smaller one is copied straight into the frame sent.
        if let Some(body) = zmq_transport::direct::borrowed_bytes(&self) {
            if body.len() >= BORROWED_SEND_MIN {
                return socket.send_borrowed(body, flags);
            }
            return socket.send_copy(body, flags);
        }
        socket.send_message(self.into(), flags)
    }
}

/// The size from which a part sent from a borrowed buffer is written from there when it
/// can be (`Core::send_borrowed`): below it, the I/O thread's batching of several parts
/// into one write is worth more than the copy spared.
const BORROWED_SEND_MIN: usize = 64 * 1024;

/// The libzmq version this library is wire- and API-compatible with.
pub fn version() -> (i32, i32, i32) {
    (4, 3, 5)
}

/// Whether a capability is available, as `zmq_has`: `"ipc"` and `"curve"` are. The names
/// are libzmq's (`zmq_has` knows no `"plain"`: PLAIN is always there, and so `"plain"` is
/// not a capability here either); `"gssapi"`, `"pgm"`, `"tipc"`, `"norm"`, `"vmci"`,
/// `"draft"`, `"WS"` and `"WSS"` are not available.
pub fn has(capability: &str) -> Option<bool> {
    Some(matches!(capability, "ipc" | "curve"))
}
