//! Socket options as one struct, with libzmq's defaults, that serde can read from a
//! configuration file.
//!
//! Every field is also reachable through the `get_*`/`set_*` methods of
//! [`Socket`](crate::Socket); [`Socket::set_options`](crate::Socket::set_options) applies a
//! whole struct at once. Times are in milliseconds and -1 means "no limit", as in libzmq.
//!
//! ```
//! let options: zmq::SocketOptions = serde_json::from_str(r#"{ "sndhwm": 10000, "linger": 0 }"#).unwrap();
//! assert_eq!(options.sndhwm, 10000);
//! assert_eq!(options.rcvhwm, 1000, "unnamed options keep libzmq's defaults");
//! ```

use serde::{Deserialize, Serialize};

/// The options of one socket. Unknown names in a configuration file are refused, so a
/// misspelt option is an error rather than silently ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SocketOptions {
    /// `ZMQ_SNDHWM`: the most messages queued per peer for sending; 0 for no limit.
    pub sndhwm: i32,
    /// `ZMQ_RCVHWM`: the most messages queued per peer for receiving; 0 for no limit.
    pub rcvhwm: i32,
    /// `ZMQ_AFFINITY`: I/O thread affinity bitmask (kept for compatibility; connections
    /// are spread over all I/O threads).
    pub affinity: u64,
    /// `ZMQ_ROUTING_ID` (`ZMQ_IDENTITY`): this socket's routing id, 0-255 bytes, not
    /// starting with a zero byte.
    pub routing_id: Vec<u8>,
    /// `ZMQ_CONNECT_ROUTING_ID`: the routing id to give the peer of the next connect
    /// (ROUTER); consumed by that connect.
    pub connect_routing_id: Vec<u8>,
    /// `ZMQ_SNDBUF`: kernel send buffer size in bytes; -1 for the OS default.
    pub sndbuf: i32,
    /// `ZMQ_RCVBUF`: kernel receive buffer size in bytes; -1 for the OS default.
    pub rcvbuf: i32,
    /// `ZMQ_LINGER`: how long closing waits to send queued messages; -1 forever, 0 not at
    /// all. Defaults to -1, as libzmq.
    pub linger: i32,
    /// `ZMQ_RECONNECT_IVL`: the wait before reconnecting; -1 never reconnects.
    pub reconnect_ivl: i32,
    /// `ZMQ_RECONNECT_IVL_MAX`: with a value above `reconnect_ivl`, the wait doubles after
    /// each failed attempt up to it; 0 keeps it constant.
    pub reconnect_ivl_max: i32,
    /// `ZMQ_BACKLOG`: the listen queue length.
    pub backlog: i32,
    /// `ZMQ_MAXMSGSIZE`: the largest frame accepted, in bytes; -1 for no limit.
    pub maxmsgsize: i64,
    /// `ZMQ_RCVTIMEO`: how long `recv` blocks; -1 forever, 0 not at all.
    pub rcvtimeo: i32,
    /// `ZMQ_SNDTIMEO`: how long `send` blocks; -1 forever, 0 not at all.
    pub sndtimeo: i32,
    /// `ZMQ_IPV6`: use IPv6 (dual-stack) for wildcards and host names.
    pub ipv6: bool,
    /// `ZMQ_IMMEDIATE`: queue messages only to completed connections.
    pub immediate: bool,
    /// `ZMQ_TCP_KEEPALIVE`: -1 OS default, 0 off, 1 on.
    pub tcp_keepalive: i32,
    /// `ZMQ_TCP_KEEPALIVE_CNT`: -1 for the OS default.
    pub tcp_keepalive_cnt: i32,
    /// `ZMQ_TCP_KEEPALIVE_IDLE` in seconds: -1 for the OS default.
    pub tcp_keepalive_idle: i32,
    /// `ZMQ_TCP_KEEPALIVE_INTVL` in seconds: -1 for the OS default.
    pub tcp_keepalive_intvl: i32,
    /// `ZMQ_HANDSHAKE_IVL`: how long a handshake may take; 0 for no limit.
    pub handshake_ivl: i32,
    /// `ZMQ_CONNECT_TIMEOUT`: how long a TCP connect may take; 0 for the OS default.
    pub connect_timeout: i32,
    /// `ZMQ_TOS`: the IP type-of-service byte.
    pub tos: i32,
    /// `ZMQ_ROUTER_MANDATORY`: a ROUTER reports unroutable messages instead of dropping them.
    pub router_mandatory: bool,
    /// `ZMQ_ROUTER_HANDOVER`: a ROUTER hands a routing id over to a new peer that claims it.
    pub router_handover: bool,
    /// `ZMQ_PROBE_ROUTER`: send an empty message to each new peer.
    pub probe_router: bool,
    /// `ZMQ_REQ_CORRELATE`: a REQ tags requests with an id and matches replies to it.
    pub req_correlate: bool,
    /// `ZMQ_REQ_RELAXED`: a REQ may send a new request without waiting for the reply.
    pub req_relaxed: bool,
}

impl Default for SocketOptions {
    fn default() -> Self {
        Self {
            sndhwm: 1000,
            rcvhwm: 1000,
            affinity: 0,
            routing_id: Vec::new(),
            connect_routing_id: Vec::new(),
            sndbuf: -1,
            rcvbuf: -1,
            linger: -1,
            reconnect_ivl: 100,
            reconnect_ivl_max: 0,
            backlog: 100,
            maxmsgsize: -1,
            rcvtimeo: -1,
            sndtimeo: -1,
            ipv6: false,
            immediate: false,
            tcp_keepalive: -1,
            tcp_keepalive_cnt: -1,
            tcp_keepalive_idle: -1,
            tcp_keepalive_intvl: -1,
            handshake_ivl: 30_000,
            connect_timeout: 0,
            tos: 0,
            router_mandatory: false,
            router_handover: false,
            probe_router: false,
            req_correlate: false,
            req_relaxed: false,
        }
    }
}
