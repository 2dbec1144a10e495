//! The socket options the transport acts on, with libzmq's defaults.

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
}

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
        }
    }
}
