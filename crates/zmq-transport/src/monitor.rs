//! Socket monitor events, as the transport raises them (libzmq's `zmq_socket_monitor`).
//!
//! The reactor, the engines and [`Runtime::bind`](crate::Runtime::bind) report what
//! happens to a socket's endpoints and connections through [`SocketLink::event`], which
//! the facade implements (the wire-format monitor socket, the typed event stream, the
//! socket's counters). The transport asks [`SocketLink::event_mask`] first and builds an
//! event only if the socket wants that kind, so an unmonitored socket pays one atomic load
//! per connection event and nothing per message.
//!
//! Which events are raised, and when, follows libzmq 4.3 (`stream_connecter_base.cpp`,
//! `tcp_connecter.cpp`, `stream_listener_base.cpp`, `tcp_listener.cpp`,
//! `stream_engine_base.cpp`, `socket_base.cpp`); inproc raises none, as in libzmq.
//! [`EventKind::Subscribed`] is ours: libzmq has no such event.

use bytes::Bytes;

use crate::runtime::SocketLink;

/// What happened. The discriminants are libzmq's `ZMQ_EVENT_*` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// `ZMQ_EVENT_CONNECTED`: a connect's TCP or ipc connection is up (before the
    /// handshake). Value: the descriptor.
    Connected = 0x0001,
    /// `ZMQ_EVENT_CONNECT_DELAYED`: a non-blocking connect is in progress. Value: the
    /// errno `connect` gave (`EINPROGRESS`), as libzmq.
    ConnectDelayed = 0x0002,
    /// `ZMQ_EVENT_CONNECT_RETRIED`: the next attempt is scheduled. Value: the wait in ms.
    ConnectRetried = 0x0004,
    /// `ZMQ_EVENT_LISTENING`: a bind is listening. Value: the descriptor.
    Listening = 0x0008,
    /// `ZMQ_EVENT_BIND_FAILED`: a tcp or ipc bind failed. Value: the errno.
    BindFailed = 0x0010,
    /// `ZMQ_EVENT_ACCEPTED`: a listener accepted a connection. Value: the descriptor.
    Accepted = 0x0020,
    /// `ZMQ_EVENT_ACCEPT_FAILED`: `accept` failed. Value: the errno.
    AcceptFailed = 0x0040,
    /// `ZMQ_EVENT_CLOSED`: a listener, or a connect attempt's descriptor, was closed.
    /// Value: the descriptor.
    Closed = 0x0080,
    /// `ZMQ_EVENT_CLOSE_FAILED`: never raised (closing a descriptor cannot fail in a way
    /// we can report; libzmq aborts there on POSIX).
    CloseFailed = 0x0100,
    /// `ZMQ_EVENT_DISCONNECTED`: a connection ended. Value: the descriptor.
    Disconnected = 0x0200,
    /// `ZMQ_EVENT_MONITOR_STOPPED`: the monitor ends (raised by the facade).
    MonitorStopped = 0x0400,
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL`: the handshake failed on an I/O error, a
    /// timeout, a peer that closed, or our own configuration. Value: an errno.
    HandshakeFailedNoDetail = 0x0800,
    /// `ZMQ_EVENT_HANDSHAKE_SUCCEEDED`: the connection is ready for traffic. Value: 0.
    HandshakeSucceeded = 0x1000,
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL`: the peer broke the protocol. Value: a
    /// `ZMQ_PROTOCOL_ERROR_*` code.
    HandshakeFailedProtocol = 0x2000,
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_AUTH`: ZAP refused the peer, or the peer's ZAP refused
    /// us. Value: the ZAP status code (300, 400, 500).
    HandshakeFailedAuth = 0x4000,
    /// Ours, not libzmq's (it never travels in the wire format): a PUB or XPUB received
    /// the first subscription of a tcp or ipc connection, which the socket applies before
    /// it sends its next message. Value: 0. The slow-joiner signal.
    Subscribed = 0x0002_0000,
}

/// Every libzmq event (`ZMQ_EVENT_ALL`): what the wire format can carry.
pub const EVENT_ALL: u32 = 0xFFFF;

impl EventKind {
    /// Every kind, in the order of their bits.
    pub const ALL: [Self; 16] = [
        Self::Connected,
        Self::ConnectDelayed,
        Self::ConnectRetried,
        Self::Listening,
        Self::BindFailed,
        Self::Accepted,
        Self::AcceptFailed,
        Self::Closed,
        Self::CloseFailed,
        Self::Disconnected,
        Self::MonitorStopped,
        Self::HandshakeFailedNoDetail,
        Self::HandshakeSucceeded,
        Self::HandshakeFailedProtocol,
        Self::HandshakeFailedAuth,
        Self::Subscribed,
    ];

    /// The event's bit (libzmq's `ZMQ_EVENT_*` value).
    pub const fn bit(self) -> u32 {
        self as u32
    }

    /// The kind whose bit is `bit`, if any.
    pub fn from_bit(bit: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.bit() == bit)
    }

    /// libzmq's name without the `ZMQ_EVENT_` prefix (`"CONNECTED"`), or `"SUBSCRIBED"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Connected => "CONNECTED",
            Self::ConnectDelayed => "CONNECT_DELAYED",
            Self::ConnectRetried => "CONNECT_RETRIED",
            Self::Listening => "LISTENING",
            Self::BindFailed => "BIND_FAILED",
            Self::Accepted => "ACCEPTED",
            Self::AcceptFailed => "ACCEPT_FAILED",
            Self::Closed => "CLOSED",
            Self::CloseFailed => "CLOSE_FAILED",
            Self::Disconnected => "DISCONNECTED",
            Self::MonitorStopped => "MONITOR_STOPPED",
            Self::HandshakeFailedNoDetail => "HANDSHAKE_FAILED_NO_DETAIL",
            Self::HandshakeSucceeded => "HANDSHAKE_SUCCEEDED",
            Self::HandshakeFailedProtocol => "HANDSHAKE_FAILED_PROTOCOL",
            Self::HandshakeFailedAuth => "HANDSHAKE_FAILED_AUTH",
            Self::Subscribed => "SUBSCRIBED",
        }
    }

    /// Whether libzmq's wire format (v1) can carry this kind.
    pub const fn on_wire(self) -> bool {
        self.bit() & EVENT_ALL != 0
    }
}

/// One event: libzmq's kind, value and endpoint, and what libzmq's v1 format leaves out.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MonitorEvent {
    /// What happened.
    pub kind: EventKind,
    /// The value libzmq gives (a descriptor, an errno, an interval, a code; see
    /// [`EventKind`]).
    pub value: u32,
    /// The endpoint as libzmq names it: the endpoint bound (resolved) for LISTENING and
    /// the listener's CLOSED, as given for BIND_FAILED and a connect's CONNECT_DELAYED,
    /// CONNECT_RETRIED and CLOSED, and the connection's address (our side for an
    /// accepted connection, the peer's for a connect: `tcp://127.0.0.1:5555`) for the
    /// connection's events.
    pub endpoint: String,
    /// The peer's address (`Peer-Address`: the IP for tcp), when known.
    pub peer_address: Option<String>,
    /// The peer's routing id, once the handshake has brought it.
    pub routing_id: Option<Bytes>,
    /// Why, for failures: the error's text, and the ZAP handler's status text.
    pub reason: Option<String>,
}

impl MonitorEvent {
    /// An event with no peer details.
    pub fn new(kind: EventKind, value: u32, endpoint: impl Into<String>) -> Self {
        Self {
            kind,
            value,
            endpoint: endpoint.into(),
            peer_address: None,
            routing_id: None,
            reason: None,
        }
    }
}

/// Raises an event on `link` if the socket wants its kind; `detail` adds the peer details
/// (called only then).
pub(crate) fn emit(
    link: &dyn SocketLink,
    kind: EventKind,
    value: u32,
    endpoint: &str,
    detail: impl FnOnce(&mut MonitorEvent),
) {
    if link.event_mask() & kind.bit() != 0 {
        let mut event = MonitorEvent::new(kind, value, endpoint);
        detail(&mut event);
        link.event(event);
    }
}

/// A descriptor or an errno as an event value (libzmq stores both as `uint32_t`).
pub(crate) fn value(v: i32) -> u32 {
    v as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_libzmqs_and_round_trip() {
        assert_eq!(EventKind::Connected.bit(), 1);
        assert_eq!(EventKind::HandshakeFailedAuth.bit(), 0x4000);
        let all = EventKind::ALL
            .iter()
            .filter(|k| k.on_wire())
            .fold(0, |acc, k| acc | k.bit());
        // libzmq's fifteen events; ZMQ_EVENT_ALL also covers the unused 0x8000.
        assert_eq!(all, 0x7FFF);
        assert_eq!(all & !EVENT_ALL, 0);
        for k in EventKind::ALL {
            assert_eq!(EventKind::from_bit(k.bit()), Some(k));
        }
        assert!(!EventKind::Subscribed.on_wire());
        assert_eq!(EventKind::from_bit(0x8000), None);
    }
}
