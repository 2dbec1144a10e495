//! The `get_*`, `set_*` and `is_*` option methods of `Socket`, as in the `zmq` crate.

use bytes::Bytes;
use zmq_patterns::PatternOption;
use zmq_security::{CurvePublicKey, CurveSecretKey};

use crate::error::{Error, Result};
use crate::socket::Socket;
use crate::Mechanism;

/// The longest PLAIN user name, password and ZAP domain libzmq accepts.
const MAX_STRING: usize = 255;

macro_rules! int_options {
    ($($get:ident, $set:ident, $field:ident, $ty:ty, $doc:literal;)*) => {
        impl Socket {
            $(
                #[doc = concat!("Gets ", $doc, ".")]
                pub fn $get(&self) -> Result<$ty> {
                    self.read(|o| o.$field)
                }

                #[doc = concat!("Sets ", $doc, ".")]
                pub fn $set(&self, value: $ty) -> Result<()> {
                    self.update(|o| o.$field = value)
                }
            )*
        }
    };
}

macro_rules! bool_options {
    ($($is:ident, $set:ident, $field:ident, $doc:literal;)*) => {
        impl Socket {
            $(
                #[doc = concat!("Whether ", $doc, ".")]
                pub fn $is(&self) -> Result<bool> {
                    self.read(|o| o.$field)
                }

                #[doc = concat!("Sets whether ", $doc, ".")]
                pub fn $set(&self, value: bool) -> Result<()> {
                    self.update(|o| o.$field = value)
                }
            )*
        }
    };
}

int_options! {
    get_sndhwm, set_sndhwm, sndhwm, i32, "`ZMQ_SNDHWM`, the most messages queued per peer for sending (0: no limit)";
    get_rcvhwm, set_rcvhwm, rcvhwm, i32, "`ZMQ_RCVHWM`, the most messages queued per peer for receiving (0: no limit)";
    get_affinity, set_affinity, affinity, u64, "`ZMQ_AFFINITY`, the I/O thread affinity bitmask";
    get_sndbuf, set_sndbuf, sndbuf, i32, "`ZMQ_SNDBUF`, the kernel send buffer size (-1: OS default)";
    get_rcvbuf, set_rcvbuf, rcvbuf, i32, "`ZMQ_RCVBUF`, the kernel receive buffer size (-1: OS default)";
    get_linger, set_linger, linger, i32, "`ZMQ_LINGER`, how long closing waits to send queued messages, in ms (-1: forever)";
    get_reconnect_ivl, set_reconnect_ivl, reconnect_ivl, i32, "`ZMQ_RECONNECT_IVL`, the wait before reconnecting, in ms (-1: never)";
    get_reconnect_ivl_max, set_reconnect_ivl_max, reconnect_ivl_max, i32, "`ZMQ_RECONNECT_IVL_MAX`, the longest reconnect wait with exponential backoff, in ms (0: no backoff)";
    get_backlog, set_backlog, backlog, i32, "`ZMQ_BACKLOG`, the listen queue length";
    get_maxmsgsize, set_maxmsgsize, maxmsgsize, i64, "`ZMQ_MAXMSGSIZE`, the largest frame accepted, in bytes (-1: no limit)";
    get_rcvtimeo, set_rcvtimeo, rcvtimeo, i32, "`ZMQ_RCVTIMEO`, how long `recv` blocks, in ms (-1: forever)";
    get_sndtimeo, set_sndtimeo, sndtimeo, i32, "`ZMQ_SNDTIMEO`, how long `send` blocks, in ms (-1: forever)";
    get_tcp_keepalive, set_tcp_keepalive, tcp_keepalive, i32, "`ZMQ_TCP_KEEPALIVE` (-1: OS default, 0: off, 1: on)";
    get_tcp_keepalive_cnt, set_tcp_keepalive_cnt, tcp_keepalive_cnt, i32, "`ZMQ_TCP_KEEPALIVE_CNT` (-1: OS default)";
    get_tcp_keepalive_idle, set_tcp_keepalive_idle, tcp_keepalive_idle, i32, "`ZMQ_TCP_KEEPALIVE_IDLE`, in seconds (-1: OS default)";
    get_tcp_keepalive_intvl, set_tcp_keepalive_intvl, tcp_keepalive_intvl, i32, "`ZMQ_TCP_KEEPALIVE_INTVL`, in seconds (-1: OS default)";
    get_handshake_ivl, set_handshake_ivl, handshake_ivl, i32, "`ZMQ_HANDSHAKE_IVL`, how long a handshake may take, in ms (0: no limit)";
    get_connect_timeout, set_connect_timeout, connect_timeout, i32, "`ZMQ_CONNECT_TIMEOUT`, how long a TCP connect may take, in ms (0: OS default)";
    get_tos, set_tos, tos, i32, "`ZMQ_TOS`, the IP type-of-service byte (`IP_TOS`, `IPV6_TCLASS`) of tcp connections";
    get_rate, set_rate, rate, i32, "`ZMQ_RATE`, the multicast rate in kbit/s (above 0; stored, as libzmq without pgm)";
    get_recovery_ivl, set_recovery_ivl, recovery_ivl, i32, "`ZMQ_RECOVERY_IVL`, the multicast recovery window in ms (stored, as libzmq without pgm)";
    get_multicast_hops, set_multicast_hops, multicast_hops, i32, "`ZMQ_MULTICAST_HOPS`, the multicast TTL (above 0; stored, as libzmq without pgm)";
    get_multicast_maxtpdu, set_multicast_maxtpdu, multicast_maxtpdu, i32, "`ZMQ_MULTICAST_MAXTPDU`, the multicast transport data unit in bytes (above 0; stored)";
    get_tcp_maxrt, set_tcp_maxrt, tcp_maxrt, i32, "`ZMQ_TCP_MAXRT`, how long sent data may stay unacknowledged before the connection drops, in ms (`TCP_USER_TIMEOUT`; 0: OS default)";
    get_priority, set_priority, priority, i32, "`ZMQ_PRIORITY`, the `SO_PRIORITY` of tcp sockets (Linux; 0 leaves it alone)";
    get_use_fd, set_use_fd, use_fd, i32, "`ZMQ_USE_FD`, a listening descriptor the next tcp or ipc bind uses instead of opening a socket (-1: none)";
    get_reconnect_stop, set_reconnect_stop, reconnect_stop, i32, "`ZMQ_RECONNECT_STOP`, when connects stop reconnecting: [`RECONNECT_STOP_CONN_REFUSED`](crate::RECONNECT_STOP_CONN_REFUSED), [`RECONNECT_STOP_HANDSHAKE_FAILED`](crate::RECONNECT_STOP_HANDSHAKE_FAILED), [`RECONNECT_STOP_AFTER_DISCONNECT`](crate::RECONNECT_STOP_AFTER_DISCONNECT)";
}

bool_options! {
    is_ipv6, set_ipv6, ipv6, "`ZMQ_IPV6`: IPv6 (dual-stack) for wildcards and host names";
    is_immediate, set_immediate, immediate, "`ZMQ_IMMEDIATE`: messages queue only to completed connections";
    is_probe_router, set_probe_router, probe_router, "`ZMQ_PROBE_ROUTER`: an empty message goes to each new peer";
    is_router_mandatory, set_router_mandatory, router_mandatory, "`ZMQ_ROUTER_MANDATORY`: unroutable messages are errors, not drops";
    is_router_handover, set_router_handover, router_handover, "`ZMQ_ROUTER_HANDOVER`: a new peer may take over a routing id";
    is_conflate, set_conflate, conflate, "`ZMQ_CONFLATE`: queues keep only the last message (PUSH, PULL, PUB, SUB, DEALER; single-part messages only)";
    is_multicast_loop, set_multicast_loop, multicast_loop, "`ZMQ_MULTICAST_LOOP`: UDP multicast loopback (stored; we have no udp transport)";
    is_loopback_fastpath, set_loopback_fastpath, loopback_fastpath, "`ZMQ_LOOPBACK_FASTPATH`: Windows' loopback fast path (stored; no effect elsewhere, as libzmq)";
    is_zap_enforce_domain, set_zap_enforce_domain, zap_enforce_domain, "`ZMQ_ZAP_ENFORCE_DOMAIN`: RFC 27's strict ZAP rules (see [`SocketOptions::zap_enforce_domain`](crate::SocketOptions::zap_enforce_domain))";
}

/// Heartbeat options (`ZMQ_HEARTBEAT_*`), checked and rounded as `zmq_setsockopt` does.
impl Socket {
    /// `ZMQ_HEARTBEAT_IVL`: how often a PING goes to each peer, in ms (0: never).
    pub fn get_heartbeat_ivl(&self) -> Result<i32> {
        self.read(|o| o.heartbeat_ivl)
    }

    /// Sets `ZMQ_HEARTBEAT_IVL`, in ms (0: no PINGs); `EINVAL` if negative. It applies to
    /// connections made after the call.
    pub fn set_heartbeat_ivl(&self, value: i32) -> Result<()> {
        if value < 0 {
            return Err(Error::EINVAL);
        }
        self.update(|o| o.heartbeat_ivl = value)
    }

    /// `ZMQ_HEARTBEAT_TTL`, in ms: a multiple of 100, since PINGs carry deciseconds.
    pub fn get_heartbeat_ttl(&self) -> Result<i32> {
        self.read(|o| o.heartbeat_ttl)
    }

    /// Sets `ZMQ_HEARTBEAT_TTL`, in ms, rounded down to deciseconds as libzmq does (so
    /// values under 100 are 0: no limit); `EINVAL` beyond 6553599 or below -99.
    pub fn set_heartbeat_ttl(&self, value: i32) -> Result<()> {
        // libzmq divides first and checks the deciseconds: -99..=-1 round to 0.
        let deciseconds = value / 100;
        if !(0..=i32::from(u16::MAX)).contains(&deciseconds) {
            return Err(Error::EINVAL);
        }
        self.update(|o| o.heartbeat_ttl = deciseconds * 100)
    }

    /// `ZMQ_HEARTBEAT_TIMEOUT`, in ms: -1 (the default) means the interval.
    pub fn get_heartbeat_timeout(&self) -> Result<i32> {
        self.read(|o| o.heartbeat_timeout)
    }

    /// Sets `ZMQ_HEARTBEAT_TIMEOUT`, in ms (0: no timeout); `EINVAL` if negative, as in
    /// libzmq (the default, -1, cannot be set back).
    ///
    /// As in libzmq, the peer is alive when a whole frame arrives, not a part of one: a
    /// frame that takes longer than the timeout to arrive after a PING (a large message on
    /// a slow link) ends the connection. Keep the timeout above the time the largest
    /// message takes to cross.
    pub fn set_heartbeat_timeout(&self, value: i32) -> Result<()> {
        if value < 0 {
            return Err(Error::EINVAL);
        }
        self.update(|o| o.heartbeat_timeout = value)
    }
}

/// Security options, as `zmq_setsockopt` sets them: each setter also sets the mechanism and
/// the role the way libzmq does, so the last one set decides (libzmq-notes 1.3, 1.10).
impl Socket {
    /// `ZMQ_PLAIN_SERVER`: whether this socket is a PLAIN server.
    pub fn is_plain_server(&self) -> Result<bool> {
        self.read(|o| o.as_server && o.mechanism == Mechanism::ZMQ_PLAIN)
    }

    /// Sets `ZMQ_PLAIN_SERVER`: `true` makes this socket a PLAIN server (which asks the ZAP
    /// handler about every client, and refuses every client when there is none); `false`
    /// sets the mechanism back to NULL.
    pub fn set_plain_server(&self, value: bool) -> Result<()> {
        self.update(|o| {
            o.as_server = value;
            o.mechanism = if value {
                Mechanism::ZMQ_PLAIN
            } else {
                Mechanism::ZMQ_NULL
            };
        })
    }

    /// `ZMQ_PLAIN_USERNAME`.
    pub fn get_plain_username(&self) -> Result<std::result::Result<String, Vec<u8>>> {
        self.read(|o| Ok(o.plain_username.clone()))
    }

    /// Sets `ZMQ_PLAIN_USERNAME` (1 to 255 bytes), which makes this socket a PLAIN client;
    /// `None` sets the mechanism back to NULL.
    pub fn set_plain_username(&self, value: Option<&str>) -> Result<()> {
        self.set_plain_credential(value, |o, v| o.plain_username = v)
    }

    /// `ZMQ_PLAIN_PASSWORD`.
    pub fn get_plain_password(&self) -> Result<std::result::Result<String, Vec<u8>>> {
        self.read(|o| Ok(o.plain_password.clone()))
    }

    /// Sets `ZMQ_PLAIN_PASSWORD` (1 to 255 bytes), which makes this socket a PLAIN client;
    /// `None` sets the mechanism back to NULL.
    pub fn set_plain_password(&self, value: Option<&str>) -> Result<()> {
        self.set_plain_credential(value, |o, v| o.plain_password = v)
    }

    fn set_plain_credential(
        &self,
        value: Option<&str>,
        set: impl FnOnce(&mut crate::SocketOptions, String),
    ) -> Result<()> {
        match value {
            None => self.update(|o| o.mechanism = Mechanism::ZMQ_NULL),
            Some(v) if v.is_empty() || v.len() > MAX_STRING => Err(Error::EINVAL),
            Some(v) => self.update(|o| {
                set(o, v.to_owned());
                o.as_server = false;
                o.mechanism = Mechanism::ZMQ_PLAIN;
            }),
        }
    }

    /// `ZMQ_CURVE_SERVER`: whether this socket is a CURVE server.
    pub fn is_curve_server(&self) -> Result<bool> {
        self.read(|o| o.as_server && o.mechanism == Mechanism::ZMQ_CURVE)
    }

    /// Sets `ZMQ_CURVE_SERVER`: `true` makes this socket a CURVE server (give it its secret
    /// key with [`set_curve_secretkey`](Self::set_curve_secretkey)); `false` sets the
    /// mechanism back to NULL.
    pub fn set_curve_server(&self, value: bool) -> Result<()> {
        self.update(|o| {
            o.as_server = value;
            o.mechanism = if value {
                Mechanism::ZMQ_CURVE
            } else {
                Mechanism::ZMQ_NULL
            };
        })
    }

    /// `ZMQ_CURVE_PUBLICKEY`, as 32 bytes (all zeros until set); [`z85_encode`](crate::z85_encode)
    /// gives its text form.
    pub fn get_curve_publickey(&self) -> Result<Vec<u8>> {
        self.read(|o| o.curve_publickey.to_vec())
    }

    /// Sets `ZMQ_CURVE_PUBLICKEY`: 32 bytes, or 40 characters of Z85 (41 with a trailing
    /// NUL), else `EINVAL`. Sets the mechanism to CURVE.
    pub fn set_curve_publickey(&self, key: &[u8]) -> Result<()> {
        let key = CurvePublicKey::from_option(key).map_err(|_| Error::EINVAL)?;
        self.update(|o| {
            o.curve_publickey = *key.as_bytes();
            o.mechanism = Mechanism::ZMQ_CURVE;
        })
    }

    /// `ZMQ_CURVE_SECRETKEY`, as 32 bytes (all zeros until set).
    pub fn get_curve_secretkey(&self) -> Result<Vec<u8>> {
        self.read(|o| o.curve_secretkey.to_vec())
    }

    /// Sets `ZMQ_CURVE_SECRETKEY`: 32 bytes, or 40 characters of Z85 (41 with a trailing
    /// NUL), else `EINVAL`. Sets the mechanism to CURVE.
    pub fn set_curve_secretkey(&self, key: &[u8]) -> Result<()> {
        let key = CurveSecretKey::from_option(key).map_err(|_| Error::EINVAL)?;
        self.update(|o| {
            o.curve_secretkey = *key.expose_secret();
            o.mechanism = Mechanism::ZMQ_CURVE;
        })
    }

    /// `ZMQ_CURVE_SERVERKEY`, as 32 bytes (all zeros until set).
    pub fn get_curve_serverkey(&self) -> Result<Vec<u8>> {
        self.read(|o| o.curve_serverkey.to_vec())
    }

    /// Sets `ZMQ_CURVE_SERVERKEY`, the server's public key: 32 bytes, or 40 characters of
    /// Z85 (41 with a trailing NUL), else `EINVAL`. Makes this socket a CURVE client (give
    /// it its own key pair with `set_curve_publickey` and `set_curve_secretkey`).
    pub fn set_curve_serverkey(&self, key: &[u8]) -> Result<()> {
        let key = CurvePublicKey::from_option(key).map_err(|_| Error::EINVAL)?;
        self.update(|o| {
            o.curve_serverkey = *key.as_bytes();
            o.as_server = false;
            o.mechanism = Mechanism::ZMQ_CURVE;
        })
    }

    /// `ZMQ_ZAP_DOMAIN`.
    pub fn get_zap_domain(&self) -> Result<std::result::Result<String, Vec<u8>>> {
        self.read(|o| Ok(o.zap_domain.clone()))
    }

    /// Sets `ZMQ_ZAP_DOMAIN` (at most 255 bytes; empty for none): the domain this socket's
    /// ZAP requests name. A NULL socket with a domain asks the ZAP handler too.
    pub fn set_zap_domain(&self, domain: &str) -> Result<()> {
        if domain.len() > MAX_STRING {
            return Err(Error::EINVAL);
        }
        self.update(|o| o.zap_domain = domain.to_owned())
    }
}

impl Socket {
    /// Sets `ZMQ_REQ_RELAXED`: a REQ may send a new request without waiting for a reply.
    pub fn set_req_relaxed(&self, value: bool) -> Result<()> {
        self.update(|o| o.req_relaxed = value)
    }

    /// Sets `ZMQ_REQ_CORRELATE`: a REQ tags each request and takes only its reply.
    pub fn set_req_correlate(&self, value: bool) -> Result<()> {
        self.update(|o| o.req_correlate = value)
    }

    /// Sets `ZMQ_ROUTING_ID` (`ZMQ_IDENTITY`): 1 to 255 bytes, not starting with a zero byte
    /// (those are for generated ids).
    pub fn set_identity(&self, value: &[u8]) -> Result<()> {
        if value.is_empty() {
            return Err(Error::EINVAL);
        }
        self.update(|o| o.routing_id = value.to_vec())
    }

    /// Gets `ZMQ_ROUTING_ID` (`ZMQ_IDENTITY`). On a STREAM socket, as in libzmq, it is the
    /// routing id generated last for a peer once there is one: read it after `connect` to
    /// learn the id to send to that peer with.
    pub fn get_identity(&self) -> Result<Vec<u8>> {
        self.routing_id()
    }

    /// Sets `ZMQ_CONNECT_ROUTING_ID`: the routing id a ROUTER or a STREAM gives the peer of
    /// its next `connect` (1 to 255 bytes), instead of the peer's own (ROUTER) or a
    /// generated one. A STREAM's `connect` with an id already in use fails with `EINVAL`.
    pub fn set_connect_routing_id(&self, value: &[u8]) -> Result<()> {
        if value.is_empty() {
            return Err(Error::EINVAL);
        }
        self.update(|o| o.connect_routing_id = value.to_vec())
    }

    /// Sets `ZMQ_CONNECT_RID`, libzmq's older name of `ZMQ_CONNECT_ROUTING_ID`: see
    /// [`set_connect_routing_id`](Self::set_connect_routing_id).
    pub fn set_connect_rid(&self, value: &[u8]) -> Result<()> {
        self.set_connect_routing_id(value)
    }

    /// Sets `ZMQ_STREAM_NOTIFY` (STREAM only, else `EINVAL`): whether the application
    /// receives `[routing id, ""]` when a peer connects and when it disconnects (the
    /// default). It applies to the binds and connects made after it.
    pub fn set_stream_notify(&self, value: bool) -> Result<()> {
        if self.get_socket_type()? != crate::SocketType::STREAM {
            return Err(Error::EINVAL);
        }
        self.update(|o| o.stream_notify = value)
    }

    /// Whether `ZMQ_STREAM_NOTIFY` is on (see [`set_stream_notify`](Self::set_stream_notify)).
    pub fn is_stream_notify(&self) -> Result<bool> {
        self.read(|o| o.stream_notify)
    }
}

/// Publish-subscribe options. Like the `zmq` crate's, these are write-only (except
/// `ZMQ_TOPICS_COUNT`), and they are not part of [`SocketOptions`](crate::SocketOptions):
/// SUBSCRIBE and UNSUBSCRIBE are actions, and the others live in the socket's pattern.
/// Setting one on a socket type that does not have it gives `EINVAL`, as in libzmq.
impl Socket {
    /// `ZMQ_SUBSCRIBE` (SUB, XSUB; XPUB with `ZMQ_XPUB_MANUAL`): receive messages whose
    /// first frame starts with `topic` (empty: every message).
    pub fn set_subscribe(&self, topic: &[u8]) -> Result<()> {
        self.pattern_option(PatternOption::Subscribe(Bytes::copy_from_slice(topic)))
    }

    /// `ZMQ_UNSUBSCRIBE`: cancels one `set_subscribe` of `topic`.
    pub fn set_unsubscribe(&self, topic: &[u8]) -> Result<()> {
        self.pattern_option(PatternOption::Unsubscribe(Bytes::copy_from_slice(topic)))
    }

    /// `ZMQ_XPUB_VERBOSE`: an XPUB passes every subscribe to the application, not only
    /// the first for a topic.
    pub fn set_xpub_verbose(&self, value: bool) -> Result<()> {
        self.pattern_option(PatternOption::XpubVerbose(value))
    }

    /// `ZMQ_XPUB_VERBOSER`: as `XPUB_VERBOSE`, and every unsubscribe too.
    pub fn set_xpub_verboser(&self, value: bool) -> Result<()> {
        self.pattern_option(PatternOption::XpubVerboser(value))
    }

    /// `ZMQ_XPUB_MANUAL`: an XPUB applies subscriptions only when the application sets
    /// SUBSCRIBE/UNSUBSCRIBE (for the peer that sent the last one).
    pub fn set_xpub_manual(&self, value: bool) -> Result<()> {
        self.pattern_option(PatternOption::XpubManual(value))
    }

    /// `ZMQ_XPUB_MANUAL_LAST_VALUE`: as `XPUB_MANUAL`, and a message sent right after a
    /// subscription goes to that subscriber only.
    pub fn set_xpub_manual_last_value(&self, value: bool) -> Result<()> {
        self.pattern_option(PatternOption::XpubManualLastValue(value))
    }

    /// `ZMQ_XPUB_NODROP`: sending blocks (or gives `EAGAIN`) at a subscriber's high-water
    /// mark instead of dropping.
    pub fn set_xpub_nodrop(&self, value: bool) -> Result<()> {
        self.pattern_option(PatternOption::XpubNodrop(value))
    }

    /// `ZMQ_XPUB_WELCOME_MSG`: a message sent to each new subscriber (`None`: none).
    pub fn set_xpub_welcome_msg(&self, value: Option<&str>) -> Result<()> {
        let msg = value.map_or_else(Bytes::new, |v| Bytes::copy_from_slice(v.as_bytes()));
        self.pattern_option(PatternOption::XpubWelcomeMsg(msg))
    }

    /// `ZMQ_XSUB_VERBOSE_UNSUBSCRIBE`: an XSUB forwards every unsubscribe, not only the
    /// last for a topic.
    pub fn set_xsub_verbose_unsubscribe(&self, value: bool) -> Result<()> {
        self.pattern_option(PatternOption::XsubVerboseUnsubscribe(value))
    }

    /// `ZMQ_INVERT_MATCHING`: PUB, XPUB and SUB match the messages that do *not* start
    /// with a subscribed topic. Other socket types keep the value, as libzmq.
    pub fn set_invert_matching(&self, value: bool) -> Result<()> {
        self.update(|o| o.invert_matching = value)
    }

    /// `ZMQ_INVERT_MATCHING`.
    pub fn is_invert_matching(&self) -> Result<bool> {
        self.read(|o| o.invert_matching)
    }

    /// `ZMQ_ONLY_FIRST_SUBSCRIBE`: only the first frame of a multipart message can be a
    /// subscription (XPUB, XSUB).
    pub fn set_only_first_subscribe(&self, value: bool) -> Result<()> {
        self.pattern_option(PatternOption::OnlyFirstSubscribe(value))
    }

    /// `ZMQ_TOPICS_COUNT`: the number of distinct topics subscribed to (PUB, XPUB: by any
    /// peer; SUB, XSUB: by this socket).
    pub fn get_topics_count(&self) -> Result<i32> {
        self.topics_count()
            .map(|n| i32::try_from(n).unwrap_or(i32::MAX))
    }
}

/// Options that need more than a plain value.
impl Socket {
    /// Sets `ZMQ_BUSY_POLL`: the `SO_BUSY_POLL` of tcp sockets, in microseconds (Linux;
    /// 0 leaves it alone). Write-only, as in libzmq.
    pub fn set_busy_poll(&self, value: i32) -> Result<()> {
        self.update(|o| o.busy_poll = value)
    }

    /// `ZMQ_IPV4ONLY` (deprecated): the inverse of `ZMQ_IPV6`.
    pub fn is_ipv4only(&self) -> Result<bool> {
        self.read(|o| !o.ipv6)
    }

    /// Sets `ZMQ_IPV4ONLY` (deprecated): `false` is `set_ipv6(true)`.
    pub fn set_ipv4only(&self, value: bool) -> Result<()> {
        self.update(|o| o.ipv6 = !value)
    }

    /// `ZMQ_BINDTODEVICE`: the interface tcp sockets are bound to (empty: none).
    pub fn get_bindtodevice(&self) -> Result<std::result::Result<String, Vec<u8>>> {
        self.read(|o| Ok(o.bindtodevice.clone()))
    }

    /// Sets `ZMQ_BINDTODEVICE` (1 to 16 bytes, else `EINVAL`, as libzmq): later binds and
    /// connects bind their tcp sockets to this interface with `SO_BINDTODEVICE`. That
    /// needs `CAP_NET_RAW`; without it `bind` or `connect` fails with `EPERM`, and a
    /// missing interface gives `ENODEV`.
    pub fn set_bindtodevice(&self, device: &str) -> Result<()> {
        if device.is_empty() || device.len() > crate::socket::MAX_DEVICE_NAME {
            return Err(Error::EINVAL);
        }
        self.update(|o| o.bindtodevice = device.to_owned())
    }

    /// Adds a `ZMQ_METADATA` property, given as `"X-name:value"`: later connections
    /// send it in their handshake, and the peer reads it with `Message::gets("X-name")`.
    /// `EINVAL` unless the name starts with `X-` and is a valid property name of at most
    /// 255 bytes, and the value is not empty. A name set before keeps its first value,
    /// as libzmq. Write-only, as in libzmq.
    pub fn set_metadata(&self, property: &str) -> Result<()> {
        let (name, value) = property.split_once(':').ok_or(Error::EINVAL)?;
        if !crate::socket::valid_metadata(name, value) {
            return Err(Error::EINVAL);
        }
        self.update(|o| {
            o.metadata
                .entry(name.to_owned())
                .or_insert_with(|| value.to_owned());
        })
    }

    /// Adds a `ZMQ_TCP_ACCEPT_FILTER` network (`"10.0.0.0/8"`, `"192.168.1.7"`,
    /// `"fe80::/10"` with `ZMQ_IPV6`), or with `None` removes them all: later tcp binds
    /// accept only peers in one of the networks and close the others at once. `EINVAL`
    /// for anything but a numeric address with an optional prefix length, as libzmq
    /// (an empty string too). Write-only, as in libzmq, which deprecates it for ZAP.
    pub fn set_tcp_accept_filter(&self, filter: Option<&str>) -> Result<()> {
        match filter {
            None => self.update(|o| o.tcp_accept_filter.clear()),
            Some(f) => {
                let ipv6 = self.read(|o| o.ipv6)?;
                if crate::socket::parse_accept_filter(f, ipv6).is_none() {
                    return Err(Error::EINVAL);
                }
                self.update(|o| o.tcp_accept_filter.push(f.to_owned()))
            }
        }
    }

    /// `ZMQ_ROUTER_NOTIFY`.
    pub fn get_router_notify(&self) -> Result<i32> {
        self.read(|o| o.router_notify)
    }

    /// Sets `ZMQ_ROUTER_NOTIFY` (0 to 3, else `EINVAL`): a ROUTER delivers `[routing id,
    /// ""]` when a tcp or ipc peer connects ([`NOTIFY_CONNECT`](crate::NOTIFY_CONNECT))
    /// and when it goes ([`NOTIFY_DISCONNECT`](crate::NOTIFY_DISCONNECT)), for later binds
    /// and connects. As in libzmq, inproc peers are not notified.
    pub fn set_router_notify(&self, value: i32) -> Result<()> {
        self.update(|o| o.router_notify = value)
    }

    /// Sets `ZMQ_HELLO_MSG`: a message every new peer gets first (empty: none), as
    /// libzmq's draft option (meant for ROUTER and DEALER). Write-only, as in libzmq.
    pub fn set_hello_msg(&self, msg: &[u8]) -> Result<()> {
        self.update(|o| o.hello_msg = msg.to_vec())
    }

    /// Sets `ZMQ_DISCONNECT_MSG` (ROUTER): a ROUTER delivers `[routing id, msg]` when a
    /// tcp or ipc peer's connection ends (empty: none), for later binds and connects.
    /// Write-only, as in libzmq.
    pub fn set_disconnect_msg(&self, msg: &[u8]) -> Result<()> {
        self.update(|o| o.disconnect_msg = msg.to_vec())
    }

    /// Sets `ZMQ_HICCUP_MSG` (libzmq's draft, meant for DEALER): a message this socket
    /// receives when one of its connects' tcp or ipc connections is lost, before it
    /// reconnects (empty: none), for later connects. Write-only, as in libzmq.
    pub fn set_hiccup_msg(&self, msg: &[u8]) -> Result<()> {
        self.update(|o| o.hiccup_msg = msg.to_vec())
    }

    /// `ZMQ_SOCKS_PROXY`: the SOCKS5 proxy of tcp connects (empty: none).
    pub fn get_socks_proxy(&self) -> Result<std::result::Result<String, Vec<u8>>> {
        self.read(|o| Ok(o.socks_proxy.clone()))
    }

    /// Sets `ZMQ_SOCKS_PROXY` (`"host:port"`; `None` or empty for none): later tcp
    /// connects ask this SOCKS5 proxy to connect them (by name when the endpoint names a
    /// host), with user name and password when `ZMQ_SOCKS_USERNAME` is set.
    pub fn set_socks_proxy(&self, proxy: Option<&str>) -> Result<()> {
        self.update(|o| o.socks_proxy = proxy.unwrap_or_default().to_owned())
    }

    /// `ZMQ_SOCKS_USERNAME`.
    pub fn get_socks_username(&self) -> Result<std::result::Result<String, Vec<u8>>> {
        self.read(|o| Ok(o.socks_username.clone()))
    }

    /// Sets `ZMQ_SOCKS_USERNAME` (at most 255 bytes; empty for no authentication).
    pub fn set_socks_username(&self, username: &str) -> Result<()> {
        if username.len() > MAX_STRING {
            return Err(Error::EINVAL);
        }
        self.update(|o| o.socks_username = username.to_owned())
    }

    /// `ZMQ_SOCKS_PASSWORD`.
    pub fn get_socks_password(&self) -> Result<std::result::Result<String, Vec<u8>>> {
        self.read(|o| Ok(o.socks_password.clone()))
    }

    /// Sets `ZMQ_SOCKS_PASSWORD` (at most 255 bytes).
    pub fn set_socks_password(&self, password: &str) -> Result<()> {
        if password.len() > MAX_STRING {
            return Err(Error::EINVAL);
        }
        self.update(|o| o.socks_password = password.to_owned())
    }

    /// `ZMQ_THREAD_SAFE`: false, as for every socket type of the `zmq` crate (only
    /// libzmq's draft types are thread-safe).
    pub fn is_thread_safe(&self) -> Result<bool> {
        self.read(|_| false)
    }
}

/// GSSAPI options. Like a libzmq built without GSSAPI (pyzmq's, most distributions'),
/// this library has no GSSAPI mechanism: each of these gives `EINVAL`, as
/// `zmq_setsockopt` and `zmq_getsockopt` do there.
impl Socket {
    /// `ZMQ_GSSAPI_SERVER`: `EINVAL` (no GSSAPI).
    pub fn is_gssapi_server(&self) -> Result<bool> {
        Err(Error::EINVAL)
    }

    /// `ZMQ_GSSAPI_SERVER`: `EINVAL` (no GSSAPI).
    pub fn set_gssapi_server(&self, _value: bool) -> Result<()> {
        Err(Error::EINVAL)
    }

    /// `ZMQ_GSSAPI_PLAINTEXT`: `EINVAL` (no GSSAPI).
    pub fn is_gssapi_plaintext(&self) -> Result<bool> {
        Err(Error::EINVAL)
    }

    /// `ZMQ_GSSAPI_PLAINTEXT`: `EINVAL` (no GSSAPI).
    pub fn set_gssapi_plaintext(&self, _value: bool) -> Result<()> {
        Err(Error::EINVAL)
    }

    /// `ZMQ_GSSAPI_PRINCIPAL`: `EINVAL` (no GSSAPI).
    pub fn get_gssapi_principal(&self) -> Result<std::result::Result<String, Vec<u8>>> {
        Err(Error::EINVAL)
    }

    /// `ZMQ_GSSAPI_PRINCIPAL`: `EINVAL` (no GSSAPI).
    pub fn set_gssapi_principal(&self, _value: &str) -> Result<()> {
        Err(Error::EINVAL)
    }

    /// `ZMQ_GSSAPI_SERVICE_PRINCIPAL`: `EINVAL` (no GSSAPI).
    pub fn get_gssapi_service_principal(&self) -> Result<std::result::Result<String, Vec<u8>>> {
        Err(Error::EINVAL)
    }

    /// `ZMQ_GSSAPI_SERVICE_PRINCIPAL`: `EINVAL` (no GSSAPI).
    pub fn set_gssapi_service_principal(&self, _value: &str) -> Result<()> {
        Err(Error::EINVAL)
    }
}
