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
//!
//! Security options are stored as libzmq stores them: a mechanism, a role
//! (`as_server`), and each mechanism's credentials; the `set_plain_*` and `set_curve_*`
//! methods change the mechanism and role exactly as `zmq_setsockopt` does. CURVE keys are
//! written as Z85 text in a file:
//!
//! ```
//! let options: zmq::SocketOptions = serde_json::from_str(r#"{
//!     "mechanism": "CURVE",
//!     "as_server": true,
//!     "curve_secretkey": "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"
//! }"#).unwrap();
//! assert_eq!(options.mechanism, zmq::Mechanism::ZMQ_CURVE);
//! // Debug output never shows a secret key or a password.
//! assert!(!format!("{options:?}").contains("D:)Q"));
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Mechanism;

/// The options of one socket. Unknown names in a configuration file are refused, so a
/// misspelt option is an error rather than silently ignored.
///
/// `Debug` shows neither `plain_password`, `socks_password` nor `curve_secretkey`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// `ZMQ_STREAM_NOTIFY` (STREAM): receive `[routing id, ""]` when a peer connects and
    /// when it disconnects. Defaults to true, as libzmq.
    pub stream_notify: bool,
    /// `ZMQ_REQ_CORRELATE`: a REQ tags requests with an id and matches replies to it.
    pub req_correlate: bool,
    /// `ZMQ_REQ_RELAXED`: a REQ may send a new request without waiting for the reply.
    pub req_relaxed: bool,
    /// `ZMQ_MECHANISM`: the security mechanism, `"NULL"`, `"PLAIN"` or `"CURVE"` in a file.
    /// It applies to tcp and ipc; inproc has no handshake, as in libzmq.
    pub mechanism: Mechanism,
    /// Whether this socket is the server of its mechanism (libzmq's `as_server`): set by
    /// `ZMQ_PLAIN_SERVER` and `ZMQ_CURVE_SERVER`, cleared by setting a PLAIN user name or
    /// password or a CURVE server key. The role never depends on binding or connecting.
    pub as_server: bool,
    /// `ZMQ_PLAIN_USERNAME`: a PLAIN client's user name, at most 255 bytes.
    pub plain_username: String,
    /// `ZMQ_PLAIN_PASSWORD`: a PLAIN client's password, at most 255 bytes.
    pub plain_password: String,
    /// `ZMQ_CURVE_PUBLICKEY`: our long-term public key (a CURVE client's; a server derives
    /// its own from its secret key). All zeros until set.
    #[serde(with = "z85_key")]
    pub curve_publickey: [u8; 32],
    /// `ZMQ_CURVE_SECRETKEY`: our long-term secret key. All zeros until set.
    #[serde(with = "z85_key")]
    pub curve_secretkey: [u8; 32],
    /// `ZMQ_CURVE_SERVERKEY`: a CURVE client's knowledge of the server's public key. All
    /// zeros until set.
    #[serde(with = "z85_key")]
    pub curve_serverkey: [u8; 32],
    /// `ZMQ_ZAP_DOMAIN`: the domain of this socket's ZAP requests, at most 255 bytes.
    pub zap_domain: String,
    /// `ZMQ_ZAP_ENFORCE_DOMAIN`: RFC 27's strict rules: a NULL or CURVE server with a
    /// domain and no ZAP handler refuses every peer, and a CURVE server without a domain
    /// does not ask the handler.
    pub zap_enforce_domain: bool,
    /// `ZMQ_HEARTBEAT_IVL`: send a ZMTP PING to each peer this often, in ms; 0 for none.
    /// Only ZMTP 3.x peers get them (1.0 and 2.0 have no commands).
    pub heartbeat_ivl: i32,
    /// `ZMQ_HEARTBEAT_TTL` in ms, 0 to 6553599: how long the peer may go without hearing
    /// from us before it closes the connection. PINGs carry it in deciseconds, so it is
    /// kept rounded down to a multiple of 100 (0 for no limit).
    pub heartbeat_ttl: i32,
    /// `ZMQ_HEARTBEAT_TIMEOUT` in ms: how long a peer may stay silent after our PING before
    /// the connection is closed (and reconnected, for a connect); -1 for the interval.
    pub heartbeat_timeout: i32,
    /// `ZMQ_CONFLATE`: keep only the last message in each queue carrying this socket's
    /// data (PUSH, PULL, PUB, SUB, DEALER; others ignore it, as libzmq). Multipart
    /// messages are not supported with it, as libzmq says.
    pub conflate: bool,
    /// `ZMQ_RATE`: multicast data rate in kbit/s (stored for pgm/norm, which we do not
    /// have, as libzmq built without them).
    pub rate: i32,
    /// `ZMQ_RECOVERY_IVL`: multicast recovery window in ms (stored, as `rate`).
    pub recovery_ivl: i32,
    /// `ZMQ_MULTICAST_HOPS`: multicast TTL (stored, as `rate`).
    pub multicast_hops: i32,
    /// `ZMQ_MULTICAST_MAXTPDU`: multicast transport data unit in bytes (stored, as `rate`).
    pub multicast_maxtpdu: i32,
    /// `ZMQ_MULTICAST_LOOP`: UDP multicast loopback (stored: no udp transport).
    pub multicast_loop: bool,
    /// `ZMQ_TCP_MAXRT`: how long sent data may stay unacknowledged, in ms
    /// (`TCP_USER_TIMEOUT`); 0 for the OS default.
    pub tcp_maxrt: i32,
    /// `ZMQ_PRIORITY`: `SO_PRIORITY` of tcp sockets (Linux); 0 leaves it alone.
    pub priority: i32,
    /// `ZMQ_BUSY_POLL`: `SO_BUSY_POLL` of tcp sockets in microseconds (Linux); 0 leaves
    /// it alone.
    pub busy_poll: i32,
    /// `ZMQ_BINDTODEVICE`: the interface tcp sockets are bound to (`SO_BINDTODEVICE`,
    /// which needs `CAP_NET_RAW`), at most 16 bytes; empty for none.
    pub bindtodevice: String,
    /// `ZMQ_USE_FD`: a tcp or ipc bind listens on this descriptor, which the application
    /// opened, bound and made listen; -1 for none.
    pub use_fd: i32,
    /// `ZMQ_RECONNECT_STOP`: when connects stop reconnecting, a bitmask of
    /// `RECONNECT_STOP_CONN_REFUSED` (1), `RECONNECT_STOP_HANDSHAKE_FAILED` (2) and
    /// `RECONNECT_STOP_AFTER_DISCONNECT` (4).
    pub reconnect_stop: i32,
    /// `ZMQ_METADATA`: application properties sent in the handshake, names starting
    /// with `X-`. Setting a name again keeps the first value, as libzmq.
    pub metadata: std::collections::BTreeMap<String, String>,
    /// `ZMQ_LOOPBACK_FASTPATH`: Windows' `SIO_LOOPBACK_FAST_PATH` (stored; no effect
    /// elsewhere, as libzmq).
    pub loopback_fastpath: bool,
    /// `ZMQ_INVERT_MATCHING`: PUB, XPUB and SUB deliver what does *not* match a
    /// subscription (stored by every socket type, as libzmq).
    pub invert_matching: bool,
    /// `ZMQ_TCP_ACCEPT_FILTER` (deprecated in libzmq for ZAP): when not empty, tcp binds
    /// accept only peers in one of these networks, `address` or `address/prefix`.
    pub tcp_accept_filter: Vec<String>,
    /// `ZMQ_ROUTER_NOTIFY` (ROUTER): [`NOTIFY_CONNECT`](crate::NOTIFY_CONNECT) delivers
    /// `[routing id, ""]` when a tcp or ipc peer's handshake completes,
    /// [`NOTIFY_DISCONNECT`](crate::NOTIFY_DISCONNECT) when its connection ends.
    pub router_notify: i32,
    /// `ZMQ_HELLO_MSG`: a message sent to each new peer (empty: none).
    pub hello_msg: Vec<u8>,
    /// `ZMQ_DISCONNECT_MSG` (ROUTER): delivered as `[routing id, message]` when a tcp or
    /// ipc peer's connection ends (empty: none).
    pub disconnect_msg: Vec<u8>,
    /// `ZMQ_SOCKS_PROXY`: tcp connects go through this SOCKS5 proxy, `host:port`; empty
    /// for none.
    pub socks_proxy: String,
    /// `ZMQ_SOCKS_USERNAME`: set, the proxy is asked for user name and password
    /// authentication; at most 255 bytes.
    pub socks_username: String,
    /// `ZMQ_SOCKS_PASSWORD`: at most 255 bytes.
    pub socks_password: String,
    /// `ZMQ_HICCUP_MSG`: delivered to this socket when a connect's tcp or ipc connection
    /// is lost, before it reconnects (empty: none).
    pub hiccup_msg: Vec<u8>,
}

/// `ZMQ_NOTIFY_CONNECT`: a ROUTER delivers `[routing id, ""]` when a peer connects.
pub const NOTIFY_CONNECT: i32 = 1;
/// `ZMQ_NOTIFY_DISCONNECT`: a ROUTER delivers `[routing id, ""]` when a peer goes.
pub const NOTIFY_DISCONNECT: i32 = 2;

/// `ZMQ_RECONNECT_STOP_CONN_REFUSED`: stop reconnecting when the peer refuses.
pub const RECONNECT_STOP_CONN_REFUSED: i32 = 0x1;
/// `ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED`: stop reconnecting when a connection ends
/// before its handshake completed.
pub const RECONNECT_STOP_HANDSHAKE_FAILED: i32 = 0x2;
/// `ZMQ_RECONNECT_STOP_AFTER_DISCONNECT`: stop reconnecting once `disconnect` was called.
pub const RECONNECT_STOP_AFTER_DISCONNECT: i32 = 0x4;

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
            stream_notify: true,
            req_correlate: false,
            req_relaxed: false,
            mechanism: Mechanism::ZMQ_NULL,
            as_server: false,
            plain_username: String::new(),
            plain_password: String::new(),
            curve_publickey: [0; 32],
            curve_secretkey: [0; 32],
            curve_serverkey: [0; 32],
            zap_domain: String::new(),
            zap_enforce_domain: false,
            heartbeat_ivl: 0,
            heartbeat_ttl: 0,
            heartbeat_timeout: -1,
            conflate: false,
            rate: 100,
            recovery_ivl: 10_000,
            multicast_hops: 1,
            multicast_maxtpdu: 1500,
            multicast_loop: true,
            tcp_maxrt: 0,
            priority: 0,
            busy_poll: 0,
            bindtodevice: String::new(),
            use_fd: -1,
            reconnect_stop: 0,
            metadata: std::collections::BTreeMap::new(),
            loopback_fastpath: false,
            invert_matching: false,
            tcp_accept_filter: Vec::new(),
            router_notify: 0,
            hello_msg: Vec::new(),
            disconnect_msg: Vec::new(),
            socks_proxy: String::new(),
            socks_username: String::new(),
            socks_password: String::new(),
            hiccup_msg: Vec::new(),
        }
    }
}

impl fmt::Debug for SocketOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field is named here, so a new one cannot be forgotten.
        let Self {
            sndhwm,
            rcvhwm,
            affinity,
            routing_id,
            connect_routing_id,
            sndbuf,
            rcvbuf,
            linger,
            reconnect_ivl,
            reconnect_ivl_max,
            backlog,
            maxmsgsize,
            rcvtimeo,
            sndtimeo,
            ipv6,
            immediate,
            tcp_keepalive,
            tcp_keepalive_cnt,
            tcp_keepalive_idle,
            tcp_keepalive_intvl,
            handshake_ivl,
            connect_timeout,
            tos,
            router_mandatory,
            router_handover,
            probe_router,
            stream_notify,
            req_correlate,
            req_relaxed,
            mechanism,
            as_server,
            plain_username,
            plain_password,
            curve_publickey,
            curve_secretkey,
            curve_serverkey,
            zap_domain,
            zap_enforce_domain,
            heartbeat_ivl,
            heartbeat_ttl,
            heartbeat_timeout,
            conflate,
            rate,
            recovery_ivl,
            multicast_hops,
            multicast_maxtpdu,
            multicast_loop,
            tcp_maxrt,
            priority,
            busy_poll,
            bindtodevice,
            use_fd,
            reconnect_stop,
            metadata,
            loopback_fastpath,
            invert_matching,
            tcp_accept_filter,
            router_notify,
            hello_msg,
            disconnect_msg,
            socks_proxy,
            socks_username,
            socks_password,
            hiccup_msg,
        } = self;
        let secret = |set: bool| if set { "(set)" } else { "" };
        f.debug_struct("SocketOptions")
            .field("sndhwm", sndhwm)
            .field("rcvhwm", rcvhwm)
            .field("affinity", affinity)
            .field("routing_id", routing_id)
            .field("connect_routing_id", connect_routing_id)
            .field("sndbuf", sndbuf)
            .field("rcvbuf", rcvbuf)
            .field("linger", linger)
            .field("reconnect_ivl", reconnect_ivl)
            .field("reconnect_ivl_max", reconnect_ivl_max)
            .field("backlog", backlog)
            .field("maxmsgsize", maxmsgsize)
            .field("rcvtimeo", rcvtimeo)
            .field("sndtimeo", sndtimeo)
            .field("ipv6", ipv6)
            .field("immediate", immediate)
            .field("tcp_keepalive", tcp_keepalive)
            .field("tcp_keepalive_cnt", tcp_keepalive_cnt)
            .field("tcp_keepalive_idle", tcp_keepalive_idle)
            .field("tcp_keepalive_intvl", tcp_keepalive_intvl)
            .field("handshake_ivl", handshake_ivl)
            .field("connect_timeout", connect_timeout)
            .field("tos", tos)
            .field("router_mandatory", router_mandatory)
            .field("router_handover", router_handover)
            .field("probe_router", probe_router)
            .field("stream_notify", stream_notify)
            .field("req_correlate", req_correlate)
            .field("req_relaxed", req_relaxed)
            .field("mechanism", mechanism)
            .field("as_server", as_server)
            .field("plain_username", plain_username)
            .field("plain_password", &secret(!plain_password.is_empty()))
            .field("curve_publickey", &z85_key::text(curve_publickey))
            .field("curve_secretkey", &secret(*curve_secretkey != [0; 32]))
            .field("curve_serverkey", &z85_key::text(curve_serverkey))
            .field("zap_domain", zap_domain)
            .field("zap_enforce_domain", zap_enforce_domain)
            .field("heartbeat_ivl", heartbeat_ivl)
            .field("heartbeat_ttl", heartbeat_ttl)
            .field("heartbeat_timeout", heartbeat_timeout)
            .field("conflate", conflate)
            .field("rate", rate)
            .field("recovery_ivl", recovery_ivl)
            .field("multicast_hops", multicast_hops)
            .field("multicast_maxtpdu", multicast_maxtpdu)
            .field("multicast_loop", multicast_loop)
            .field("tcp_maxrt", tcp_maxrt)
            .field("priority", priority)
            .field("busy_poll", busy_poll)
            .field("bindtodevice", bindtodevice)
            .field("use_fd", use_fd)
            .field("reconnect_stop", reconnect_stop)
            .field("metadata", metadata)
            .field("loopback_fastpath", loopback_fastpath)
            .field("invert_matching", invert_matching)
            .field("tcp_accept_filter", tcp_accept_filter)
            .field("router_notify", router_notify)
            .field("hello_msg", hello_msg)
            .field("disconnect_msg", disconnect_msg)
            .field("socks_proxy", socks_proxy)
            .field("socks_username", socks_username)
            .field("socks_password", &secret(!socks_password.is_empty()))
            .field("hiccup_msg", hiccup_msg)
            .finish()
    }
}

/// CURVE keys as Z85 text (40 characters) in configuration files.
mod z85_key {
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub(super) fn text(key: &[u8; 32]) -> String {
        zmq_security::CurvePublicKey::from_bytes(*key).to_z85()
    }

    pub(super) fn serialize<S: Serializer>(key: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text(key))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        zmq_security::CurvePublicKey::from_z85(text.as_bytes())
            .map(|k| *k.as_bytes())
            .map_err(|e| de::Error::custom(format!("{e} (CURVE keys are 40 characters of Z85)")))
    }
}
