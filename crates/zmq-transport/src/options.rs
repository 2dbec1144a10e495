//! The socket options the transport acts on, with libzmq's defaults.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use zmq_security::MechanismConfig;
use zmtp_codec::{Metadata, SocketType};

/// Options of one socket that its connections follow. The facade fills this from the
/// user's `setsockopt` calls; each bind and connect takes a snapshot.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TransportOptions {
    /// The socket's type, announced in the handshake.
    pub socket_type: SocketType,
    /// `ZMQ_ROUTING_ID`: sent as `Identity` by REQ, DEALER and ROUTER.
    pub routing_id: Bytes,
    /// `ZMQ_METADATA`: application properties sent in the handshake.
    pub metadata: Metadata,
    /// `ZMQ_SNDHWM`, in messages; 0 for no limit.
    pub sndhwm: usize,
    /// `ZMQ_RCVHWM`, in messages; 0 for no limit.
    pub rcvhwm: usize,
    /// `ZMQ_MAXMSGSIZE`: the largest frame accepted; `None` (libzmq's -1) for no limit.
    pub max_msg_size: Option<u64>,
    /// `ZMQ_HANDSHAKE_IVL`: how long a handshake may take; `None` for no limit.
    pub handshake_ivl: Option<Duration>,
    /// `ZMQ_RECONNECT_IVL`: the first wait before reconnecting; `None` (-1) never reconnects.
    pub reconnect_ivl: Option<Duration>,
    /// `ZMQ_RECONNECT_IVL_MAX`: with a value above `reconnect_ivl`, the wait doubles after
    /// each failed attempt up to this (exponential backoff).
    pub reconnect_ivl_max: Option<Duration>,
    /// `ZMQ_CONNECT_TIMEOUT`: how long a TCP connect may take; `None` for the OS default.
    pub connect_timeout: Option<Duration>,
    /// `ZMQ_BACKLOG`: the listen queue length.
    pub backlog: i32,
    /// `ZMQ_IMMEDIATE`: queue messages only to completed connections.
    pub immediate: bool,
    /// The socket takes a peer only once the connection to it is complete, when it knows
    /// the peer's routing id and type (a ROUTER; IMMEDIATE sockets). tcp and ipc connects
    /// express this by having no session; for an inproc connect made before the bind, it
    /// makes the socket take its peer at the bind instead of at once.
    pub defer_attach: bool,
    /// `ZMQ_IPV6`: use IPv6 (dual-stack) for wildcards and names.
    pub ipv6: bool,
    /// `ZMQ_TCP_KEEPALIVE`: -1 for the OS default, 0 off, 1 on.
    pub tcp_keepalive: i32,
    /// `ZMQ_TCP_KEEPALIVE_CNT`: -1 for the OS default.
    pub tcp_keepalive_cnt: i32,
    /// `ZMQ_TCP_KEEPALIVE_IDLE`, in seconds: -1 for the OS default.
    pub tcp_keepalive_idle: i32,
    /// `ZMQ_TCP_KEEPALIVE_INTVL`, in seconds: -1 for the OS default.
    pub tcp_keepalive_intvl: i32,
    /// `ZMQ_SNDBUF`: the kernel send buffer size; -1 for the OS default.
    pub sndbuf: i32,
    /// `ZMQ_RCVBUF`: the kernel receive buffer size; -1 for the OS default.
    pub rcvbuf: i32,
    /// `ZMQ_TOS`: the IP type-of-service byte; 0 leaves it alone.
    pub tos: i32,
    /// The security mechanism and this socket's role in it, as the `ZMQ_PLAIN_*` and
    /// `ZMQ_CURVE_*` options decide them. Applies to tcp and ipc; inproc has no handshake.
    pub mechanism: MechanismConfig,
    /// `ZMQ_ZAP_DOMAIN`: the domain of our ZAP requests (at most 255 bytes).
    pub zap_domain: Bytes,
    /// `ZMQ_ZAP_ENFORCE_DOMAIN`: RFC 27's strict rules (see `zmq_security::zap`).
    pub zap_enforce_domain: bool,
    /// `ZMQ_HEARTBEAT_IVL`: send a PING this often once the handshake is done (ZMTP 3.x
    /// peers only); `None` (0) for none.
    pub heartbeat_ivl: Option<Duration>,
    /// `ZMQ_HEARTBEAT_TIMEOUT`, resolved: how long the peer may stay silent after our PING
    /// before the connection is closed; `None` for no limit. (libzmq's default, -1, means
    /// the interval: the facade passes `heartbeat_ivl` then.)
    pub heartbeat_timeout: Option<Duration>,
    /// `ZMQ_HEARTBEAT_TTL` in deciseconds, as our PINGs carry it: how long the peer may go
    /// without hearing from us before it closes the connection (0: no limit).
    pub heartbeat_ttl: u16,
    /// `ZMQ_STREAM_NOTIFY` (STREAM): queue an empty message to the socket when a raw
    /// connection is made and when it is lost.
    pub raw_notify: bool,
    /// `ZMQ_CONFLATE`: the queues carrying this socket's data keep only the last message
    /// (see [`TransportOptions::conflate_out`] and [`TransportOptions::conflate_in`]).
    pub conflate: bool,
    /// `ZMQ_TCP_MAXRT`: how long sent data may stay unacknowledged before the connection
    /// is dropped (`TCP_USER_TIMEOUT` on Linux); `None` for the OS default.
    pub tcp_maxrt: Option<Duration>,
    /// `ZMQ_PRIORITY`: `SO_PRIORITY` of tcp sockets; 0 leaves it alone.
    pub priority: i32,
    /// `ZMQ_BUSY_POLL`: `SO_BUSY_POLL` of tcp sockets, in microseconds; 0 leaves it alone.
    pub busy_poll: i32,
    /// `ZMQ_BINDTODEVICE`: the interface tcp sockets are bound to (`SO_BINDTODEVICE`);
    /// empty for none.
    pub bind_to_device: Bytes,
    /// `ZMQ_USE_FD`: a bind listens on this descriptor, which the application opened and
    /// bound, instead of opening a socket; -1 for none.
    pub use_fd: i32,
    /// `ZMQ_RECONNECT_STOP`: when a connect stops reconnecting (`RECONNECT_STOP_*` bits).
    pub reconnect_stop: i32,
    /// Set once the socket called `disconnect`: with
    /// [`RECONNECT_STOP_AFTER_DISCONNECT`], none of its connects reconnects any more.
    /// Shared by every snapshot of the socket's options.
    pub disconnected: Arc<AtomicBool>,
    /// `ZMQ_TCP_ACCEPT_FILTER`: when not empty, a tcp listener accepts only peers whose
    /// address is in one of these networks (address, prefix length).
    pub tcp_accept_filters: Vec<(IpAddr, u8)>,
    /// `ZMQ_ROUTER_NOTIFY` (ROUTER): an empty message from each tcp or ipc peer when its
    /// handshake completes ([`NOTIFY_CONNECT`]) and when its connection ends
    /// ([`NOTIFY_DISCONNECT`]), which the ROUTER delivers behind the peer's routing id.
    pub router_notify: i32,
    /// `ZMQ_DISCONNECT_MSG` (ROUTER): like [`NOTIFY_DISCONNECT`] with this message
    /// instead of an empty one; empty for none.
    pub disconnect_msg: Bytes,
    /// `ZMQ_SOCKS_PROXY`: tcp connects go through this SOCKS5 proxy (`host:port`);
    /// empty for none.
    pub socks_proxy: String,
    /// `ZMQ_SOCKS_USERNAME`: with a non-empty one, the proxy is asked for user name and
    /// password authentication (RFC 1929).
    pub socks_username: Bytes,
    /// `ZMQ_SOCKS_PASSWORD`.
    pub socks_password: Bytes,
    /// `ZMQ_HICCUP_MSG`: delivered to the socket through a connect's pipe when its
    /// connection is lost (and will be re-established); empty for none.
    pub hiccup_msg: Bytes,
    /// `ZMQ_LINGER` (None: infinite): how long a STREAM connection the socket closed may
    /// take to write what was queued to it (a fixed cap when infinite).
    pub linger: Option<Duration>,
}

/// `ZMQ_NOTIFY_CONNECT`.
pub const NOTIFY_CONNECT: i32 = 1;
/// `ZMQ_NOTIFY_DISCONNECT`.
pub const NOTIFY_DISCONNECT: i32 = 2;

/// `ZMQ_RECONNECT_STOP_CONN_REFUSED`: stop when the peer refuses the connection.
pub const RECONNECT_STOP_CONN_REFUSED: i32 = 0x1;
/// `ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED`: stop when a connection ends before its handshake
/// completed.
pub const RECONNECT_STOP_HANDSHAKE_FAILED: i32 = 0x2;
/// `ZMQ_RECONNECT_STOP_AFTER_DISCONNECT`: stop once the socket has called `disconnect`.
pub const RECONNECT_STOP_AFTER_DISCONNECT: i32 = 0x4;

impl TransportOptions {
    /// libzmq's defaults for a socket of `socket_type`.
    pub fn new(socket_type: SocketType) -> Self {
        Self {
            socket_type,
            routing_id: Bytes::new(),
            metadata: Metadata::new(),
            sndhwm: 1000,
            rcvhwm: 1000,
            max_msg_size: None,
            handshake_ivl: Some(Duration::from_secs(30)),
            reconnect_ivl: Some(Duration::from_millis(100)),
            reconnect_ivl_max: None,
            connect_timeout: None,
            backlog: 100,
            immediate: false,
            defer_attach: false,
            ipv6: false,
            tcp_keepalive: -1,
            tcp_keepalive_cnt: -1,
            tcp_keepalive_idle: -1,
            tcp_keepalive_intvl: -1,
            sndbuf: -1,
            rcvbuf: -1,
            tos: 0,
            mechanism: MechanismConfig::Null,
            zap_domain: Bytes::new(),
            zap_enforce_domain: false,
            heartbeat_ivl: None,
            heartbeat_timeout: None,
            heartbeat_ttl: 0,
            raw_notify: true,
            conflate: false,
            tcp_maxrt: None,
            priority: 0,
            busy_poll: 0,
            bind_to_device: Bytes::new(),
            use_fd: -1,
            reconnect_stop: 0,
            disconnected: Arc::new(AtomicBool::new(false)),
            tcp_accept_filters: Vec::new(),
            router_notify: 0,
            disconnect_msg: Bytes::new(),
            socks_proxy: String::new(),
            socks_username: Bytes::new(),
            socks_password: Bytes::new(),
            hiccup_msg: Bytes::new(),
            linger: None,
        }
    }

    /// Whether `ZMQ_CONFLATE` applies to this socket type at all: PUSH, PULL, PUB, SUB
    /// and DEALER, as libzmq (`get_effective_conflate_option`).
    fn conflates(&self) -> bool {
        self.conflate
            && matches!(
                self.socket_type,
                SocketType::Push
                    | SocketType::Pull
                    | SocketType::Pub
                    | SocketType::Sub
                    | SocketType::Dealer
            )
    }

    /// Whether the queue from this socket to a peer conflates: it carries data, not a
    /// SUB's subscriptions (libzmq conflates both ways, and so loses subscriptions).
    pub fn conflate_out(&self) -> bool {
        self.conflates() && self.socket_type != SocketType::Sub
    }

    /// Whether the queue from a peer to this socket conflates: it carries data, not the
    /// subscriptions a PUB receives.
    pub fn conflate_in(&self) -> bool {
        self.conflates() && self.socket_type != SocketType::Pub
    }

    /// The message a ROUTER's peer pipe gets when the peer's connection ends
    /// (`ZMQ_DISCONNECT_MSG`, else the empty one of `ZMQ_NOTIFY_DISCONNECT`), if any.
    pub fn disconnect_notice(&self) -> Option<Bytes> {
        if self.socket_type != SocketType::Router {
            return None;
        }
        if !self.disconnect_msg.is_empty() {
            Some(self.disconnect_msg.clone())
        } else if self.router_notify & NOTIFY_DISCONNECT != 0 {
            Some(Bytes::new())
        } else {
            None
        }
    }

    /// Whether a ROUTER's peer pipe gets an empty message when the handshake completes.
    pub fn notifies_connect(&self) -> bool {
        self.socket_type == SocketType::Router && self.router_notify & NOTIFY_CONNECT != 0
    }

    /// Whether a tcp peer at `peer` may connect under `ZMQ_TCP_ACCEPT_FILTER`. IPv4
    /// peers of a dual-stack listener (`::ffff:a.b.c.d`) match IPv4 networks.
    pub fn accepts_peer(&self, peer: IpAddr) -> bool {
        let peer = match peer {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
            v4 => v4,
        };
        self.tcp_accept_filters.is_empty()
            || self
                .tcp_accept_filters
                .iter()
                .any(|&(net, bits)| in_network(peer, net, bits))
    }

    /// Whether a connect that ended this way is given up rather than retried
    /// (`ZMQ_RECONNECT_STOP`): `refused` when the peer refused it, `handshake_failed`
    /// when it ended before its handshake completed.
    pub fn stops_reconnecting(&self, refused: bool, handshake_failed: bool) -> bool {
        (refused && self.reconnect_stop & RECONNECT_STOP_CONN_REFUSED != 0)
            || (handshake_failed && self.reconnect_stop & RECONNECT_STOP_HANDSHAKE_FAILED != 0)
            || (self.reconnect_stop & RECONNECT_STOP_AFTER_DISCONNECT != 0
                && self.disconnected.load(Ordering::Relaxed))
    }
}

/// Whether `addr` is in the network `net`/`bits` (families must agree).
fn in_network(addr: IpAddr, net: IpAddr, bits: u8) -> bool {
    fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
        let whole = usize::from(bits / 8);
        let rest = bits % 8;
        if a.len() < whole || a[..whole] != b[..whole] {
            return false;
        }
        rest == 0 || {
            let mask = 0xffu8 << (8 - rest);
            a[whole] & mask == b[whole] & mask
        }
    }
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => bits <= 32 && prefix_eq(&a.octets(), &n.octets(), bits),
        (IpAddr::V6(a), IpAddr::V6(n)) => bits <= 128 && prefix_eq(&a.octets(), &n.octets(), bits),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_filters_match_networks() {
        let mut o = TransportOptions::new(SocketType::Pull);
        assert!(
            o.accepts_peer("10.1.2.3".parse().unwrap()),
            "no filter: everyone"
        );
        o.tcp_accept_filters = vec![
            ("10.1.0.0".parse().unwrap(), 16),
            ("192.168.1.7".parse().unwrap(), 32),
            ("fe80::".parse().unwrap(), 10),
        ];
        for ok in [
            "10.1.255.1",
            "192.168.1.7",
            "::ffff:10.1.0.9",
            "fe80::1",
            "febf::1",
        ] {
            assert!(o.accepts_peer(ok.parse().unwrap()), "{ok}");
        }
        for no in ["10.2.0.1", "192.168.1.8", "fec0::1", "::1", "127.0.0.1"] {
            assert!(!o.accepts_peer(no.parse().unwrap()), "{no}");
        }
        o.tcp_accept_filters = vec![("0.0.0.0".parse().unwrap(), 0)];
        assert!(o.accepts_peer("8.8.8.8".parse().unwrap()));
        assert!(
            !o.accepts_peer("::1".parse().unwrap()),
            "families must agree"
        );
    }
}
