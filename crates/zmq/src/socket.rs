//! `Socket`: the API of the `zmq` crate 0.10 over our socket core.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use zmq_patterns::{new_pattern, PatternOption};
use zmq_security::{CurveKeyPair, CurvePublicKey, CurveSecretKey, MechanismConfig};
use zmq_transport::endpoint::{Direction, Endpoint};
use zmq_transport::{EndpointId, Runtime, SocketLink, TransportOptions};
use zmtp_codec::Frame;

use crate::context::Context;
use crate::core::{pattern_error, Core, Deadline};
use crate::error::{Error, Result};
use crate::message::Message;
use crate::monitor::{EventStream, MonitorPair, SocketStats, WireMonitor};
use crate::options::SocketOptions;
use crate::poll::{PollEvents, PollItem};
use crate::{Mechanism, Sendable, SocketType, DONTWAIT, SNDMORE};

/// A ZeroMQ socket.
///
/// Like the `zmq` crate's, it is `Send` but not `Sync`: move it between threads, but use it
/// from one at a time. All methods take `&self`. Dropping it closes it: its connections
/// send what it queued for at most `ZMQ_LINGER`, in the background, and the context waits
/// for them when it terminates.
pub struct Socket {
    inner: RefCell<Inner>,
}

struct Inner {
    core: Core,
    ctx: Context,
    runtime: Arc<Runtime>,
    registration: u64,
    socket_type: SocketType,
    options: SocketOptions,
    endpoints: Vec<EndpointRecord>,
    rcvmore: bool,
    last_endpoint: String,
    traffic: Traffic,
    /// Set by `disconnect` under `ZMQ_RECONNECT_STOP_AFTER_DISCONNECT`; every connect's
    /// options share it.
    disconnected: Arc<std::sync::atomic::AtomicBool>,
}

/// What the application sent and received (the socket's thread alone touches it).
#[derive(Default)]
struct Traffic {
    messages_in: u64,
    bytes_in: u64,
    messages_out: u64,
    bytes_out: u64,
}

struct EndpointRecord {
    /// As the user gave it.
    given: String,
    /// As bound (wildcards and ports resolved), for a bind.
    resolved: String,
    id: EndpointId,
    bind: bool,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.inner.try_borrow() {
            Ok(inner) => f
                .debug_struct("Socket")
                .field("type", &inner.socket_type)
                .field("last_endpoint", &inner.last_endpoint)
                .finish(),
            Err(_) => f.write_str("Socket { .. }"),
        }
    }
}

impl Socket {
    pub(crate) fn new(ctx: Context, socket_type: SocketType) -> Result<Self> {
        let runtime = ctx.runtime()?;
        let codec_type = socket_type.to_codec();
        let seed = seed();
        let pattern = new_pattern(codec_type, seed).map_err(pattern_error)?;
        let core = Core::new(pattern);
        let registration = ctx.register(&core.shared)?;
        let mut options = SocketOptions::default();
        // libzmq: subscribers drop what they queued when closed, and so does every socket
        // of a context with ZMQ_BLOCKY off. ZMQ_IPV6 starts as the context's.
        if matches!(socket_type, SocketType::SUB | SocketType::XSUB) || !ctx.get_blocky()? {
            options.linger = 0;
        }
        options.ipv6 = ctx.get_ipv6()?;
        Ok(Self {
            inner: RefCell::new(Inner {
                core,
                ctx,
                runtime,
                registration,
                socket_type,
                options,
                endpoints: Vec::new(),
                rcvmore: false,
                last_endpoint: String::new(),
                traffic: Traffic::default(),
                disconnected: Arc::default(),
            }),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> Result<T>) -> Result<T> {
        // A socket is used from one thread at a time and its methods never call each
        // other while borrowed, so the borrow always succeeds.
        let mut inner = self.inner.try_borrow_mut().map_err(|_| Error::EFAULT)?;
        f(&mut inner)
    }

    /// Binds to an endpoint: `tcp://*:5555`, `tcp://127.0.0.1:*`, `ipc:///tmp/x`,
    /// `ipc://*`, `inproc://name`. The endpoint actually bound is in
    /// [`get_last_endpoint`](Self::get_last_endpoint).
    pub fn bind(&self, endpoint: &str) -> Result<()> {
        self.with(|s| {
            s.check_security()?;
            let link: Arc<dyn SocketLink> = s.core.shared.clone();
            let bound = s
                .runtime
                .bind(endpoint, link, &s.transport_options())
                .map_err(Error::from)?;
            s.last_endpoint.clone_from(&bound.endpoint);
            s.endpoints.push(EndpointRecord {
                given: endpoint.to_owned(),
                resolved: bound.endpoint,
                id: bound.id,
                bind: true,
            });
            // inproc connects made before this bind are joined now: take them at once,
            // as libzmq does inside zmq_bind.
            s.take_new_peers();
            Ok(())
        })
    }

    /// Connects to an endpoint, now or whenever it appears: messages queue to it meanwhile
    /// (unless `ZMQ_IMMEDIATE`), and lost connections are re-established.
    pub fn connect(&self, endpoint: &str) -> Result<()> {
        self.with(|s| {
            let parsed = Endpoint::parse(endpoint, Direction::Connect).map_err(Error::from)?;
            s.check_security()?;
            let options = s.transport_options();
            let link: Arc<dyn SocketLink> = s.core.shared.clone();
            let routing_id = std::mem::take(&mut s.options.connect_routing_id);
            let routing_id = (!routing_id.is_empty()).then(|| Bytes::from(routing_id));
            // Sockets that take a peer only once connected (ROUTER, IMMEDIATE) have no
            // session; others queue to a connect before it is up. inproc pipes join the
            // sockets directly.
            let session_first = !matches!(parsed, Endpoint::Inproc(_)) && !options.defer_attach;
            let (peer, session) = if session_first {
                let given = routing_id.clone().unwrap_or_default();
                let (peer, theirs) = s.core.attach_session(&options, given);
                if peer.is_none() && s.socket_type == SocketType::STREAM {
                    // A CONNECT_ROUTING_ID already in use (libzmq asserts): keep it set.
                    s.options.connect_routing_id =
                        routing_id.map(|r| r.to_vec()).unwrap_or_default();
                    return Err(Error::EINVAL);
                }
                (peer, Some(theirs))
            } else {
                (None, None)
            };
            match s
                .runtime
                .connect(endpoint, link, &options, session, routing_id)
            {
                Ok(id) => {
                    if let Some(peer) = peer {
                        s.core.set_peer_endpoint(peer, id);
                    }
                    s.last_endpoint = endpoint.to_owned();
                    s.endpoints.push(EndpointRecord {
                        given: endpoint.to_owned(),
                        resolved: endpoint.to_owned(),
                        id,
                        bind: false,
                    });
                    // An inproc peer is there already: take it at once, as libzmq does
                    // inside zmq_connect (a PROBE_ROUTER probe then goes out now).
                    s.take_new_peers();
                    Ok(())
                }
                Err(e) => {
                    if let Some(peer) = peer {
                        s.core.detach(peer);
                    }
                    Err(Error::from(e))
                }
            }
        })
    }

    /// Stops listening on a bound endpoint (as given to `bind`, or as reported by
    /// `get_last_endpoint`) and closes the connections accepted through it.
    pub fn unbind(&self, endpoint: &str) -> Result<()> {
        self.with(|s| s.close_endpoint(endpoint, true))
    }

    /// Closes a connect's connection and stops reconnecting; its queued messages are
    /// dropped.
    pub fn disconnect(&self, endpoint: &str) -> Result<()> {
        self.with(|s| {
            s.close_endpoint(endpoint, false)?;
            if s.options.reconnect_stop & crate::options::RECONNECT_STOP_AFTER_DISCONNECT != 0 {
                s.disconnected
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
    }

    /// Sends a message part. `flags`: [`SNDMORE`] if more parts follow, [`DONTWAIT`] to
    /// return `EAGAIN` instead of blocking.
    pub fn send<T: Sendable>(&self, data: T, flags: i32) -> Result<()> {
        data.send(self, flags)
    }

    /// Sends a message part (the `zmq` crate's older spelling of [`send`](Self::send)).
    #[deprecated(since = "0.9.0", note = "use `send` instead")]
    pub fn send_msg(&self, msg: Message, flags: i32) -> Result<()> {
        self.send(msg, flags)
    }

    /// Sends a string part.
    #[deprecated(since = "0.9.0", note = "use `send` instead")]
    pub fn send_str(&self, data: &str, flags: i32) -> Result<()> {
        self.send(data, flags)
    }

    /// Sends a multipart message; `flags` applies to every part.
    pub fn send_multipart<I, T>(&self, iter: I, flags: i32) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: Into<Message>,
    {
        let mut iter = iter.into_iter().peekable();
        while let Some(part) = iter.next() {
            let more = if iter.peek().is_some() { SNDMORE } else { 0 };
            self.send(part.into(), flags | more)?;
        }
        Ok(())
    }

    pub(crate) fn send_message(&self, msg: Message, flags: i32) -> Result<()> {
        self.send_payload(flags, || msg.into_payload())
    }

    /// [`Socket::send_message`] of a copy of a part borrowed from the caller, made here
    /// rather than into a [`Message`] first: the payload is built in registers and stored
    /// once, into the frame this call hands down. A message passed by value was stored
    /// field by field by its conversion (its `more` flag a single byte) and loaded back
    /// in wider pieces by the send, and each load waited for those stores to reach the
    /// cache: inproc streams of 64 B to 1 KiB +12-20% without it (PERFORMANCE.md, "The
    /// eighteenth pass").
    pub(crate) fn send_copy(&self, body: &[u8], flags: i32) -> Result<()> {
        self.send_payload(flags, || crate::message::copy_bytes(body))
    }

    /// The body of the sends of a part whose payload `payload` gives, called where the
    /// frame is built.
    #[inline(always)]
    fn send_payload(
        &self,
        flags: i32,
        payload: impl FnOnce() -> zmtp_codec::Payload,
    ) -> Result<()> {
        self.with(|s| {
            let more = flags & SNDMORE != 0;
            let mut frame = Frame::new(payload(), more);
            let len = frame.data.len() as u64;
            let deadline = Deadline::from_timeout(s.options.sndtimeo, flags & DONTWAIT != 0);
            s.core.send(&mut frame, deadline)?;
            s.sent(len, more);
            Ok(())
        })
    }

    /// [`Socket::send_message`] of a message part borrowed from the caller
    /// ([`Core::send_borrowed`]).
    pub(crate) fn send_borrowed(&self, body: &[u8], flags: i32) -> Result<()> {
        self.with(|s| {
            let more = flags & SNDMORE != 0;
            let deadline = Deadline::from_timeout(s.options.sndtimeo, flags & DONTWAIT != 0);
            s.core.send_borrowed(body, more, deadline)?;
            s.sent(body.len() as u64, more);
            Ok(())
        })
    }

    fn recv_frame(&self, flags: i32) -> Result<Message> {
        let mut msg = Message::new();
        self.recv(&mut msg, flags)?;
        Ok(msg)
    }

    /// Receives a message part into `msg`.
    pub fn recv(&self, msg: &mut Message, flags: i32) -> Result<()> {
        self.with(|s| {
            let deadline = Deadline::from_timeout(s.options.rcvtimeo, flags & DONTWAIT != 0);
            let mut frame = Frame::default();
            s.core.recv(deadline, &mut frame)?;
            s.rcvmore = frame.more;
            s.traffic.bytes_in += frame.data.len() as u64;
            s.traffic.messages_in += u64::from(!frame.more);
            msg.set_received(frame, s.core.peers.last_metadata.as_ref());
            Ok(())
        })
    }

    /// Receives a message part into `buf`, returning the part's full size: a value above
    /// `buf.len()` means the part was cut to fit.
    pub fn recv_into(&self, buf: &mut [u8], flags: i32) -> Result<usize> {
        let msg = self.recv_frame(flags)?;
        let n = msg.len().min(buf.len());
        zmtp_codec::copy::copy(&mut buf[..n], &msg[..n]);
        let len = msg.len();
        zmq_transport::recycle::release(msg.into_payload());
        Ok(len)
    }

    /// Receives a message part.
    pub fn recv_msg(&self, flags: i32) -> Result<Message> {
        self.recv_frame(flags)
    }

    /// Receives a message part as bytes.
    pub fn recv_bytes(&self, flags: i32) -> Result<Vec<u8>> {
        self.recv_frame(flags).map(|m| {
            let bytes = m.to_vec();
            zmq_transport::recycle::release(m.into_payload());
            bytes
        })
    }

    /// Receives a message part as a string; `Err(bytes)` inside if it is not UTF-8.
    pub fn recv_string(&self, flags: i32) -> Result<std::result::Result<String, Vec<u8>>> {
        self.recv_bytes(flags)
            .map(|bytes| String::from_utf8(bytes).map_err(std::string::FromUtf8Error::into_bytes))
    }

    /// Receives every part of a message.
    pub fn recv_multipart(&self, flags: i32) -> Result<Vec<Vec<u8>>> {
        let mut parts = vec![self.recv_bytes(flags)?];
        while self.get_rcvmore()? {
            parts.push(self.recv_bytes(flags)?);
        }
        Ok(parts)
    }

    /// Monitors the socket, as libzmq's `zmq_socket_monitor`: binds a PAIR at
    /// `monitor_endpoint` (`inproc://` only, else `EPROTONOSUPPORT`) and sends it the events
    /// of `events` (a mask of [`SocketEvent`](crate::SocketEvent) values, such as
    /// `SocketEvent::ALL as i32`), each as two frames: 6 bytes (`u16` event, `u32` value,
    /// host byte order), then the endpoint; [`monitor::Event::parse`](crate::monitor::Event::parse)
    /// reads them. Events are sent without blocking: dropped while no PAIR is connected or
    /// while its queue is full, as in libzmq.
    ///
    /// A new call replaces the monitor, and an empty `monitor_endpoint` (libzmq's `NULL`)
    /// stops it; either way the old one sends MONITOR_STOPPED (if in its `events`) and its
    /// endpoint is unbound. Closing the socket does the same. See [`crate::monitor`] for
    /// which events are raised and when.
    pub fn monitor(&self, monitor_endpoint: &str, events: i32) -> Result<()> {
        self.with(|s| {
            if monitor_endpoint.is_empty() {
                s.stop_monitor();
                return Ok(());
            }
            let parsed = Endpoint::parse(monitor_endpoint, Direction::Bind).map_err(Error::from)?;
            if !matches!(parsed, Endpoint::Inproc(_)) {
                return Err(Error::EPROTONOSUPPORT);
            }
            s.stop_monitor();
            let pair = Arc::new(MonitorPair::default());
            let link: Arc<dyn SocketLink> = pair.clone();
            let options = TransportOptions::new(zmtp_codec::SocketType::Pair);
            let bound = s
                .runtime
                .bind(monitor_endpoint, link, &options)
                .map_err(Error::from)?;
            s.core
                .shared
                .monitor
                .set_wire(Some(WireMonitor::new(events as u32, pair, bound.id)));
            Ok(())
        })
    }

    /// The socket's events, typed, with no monitor socket: see [`crate::monitor`].
    /// `events` is a mask of [`EventKind`](crate::monitor::EventKind) bits
    /// ([`monitor::ALL`](crate::monitor::ALL) for everything, including the slow-joiner
    /// signal [`EventKind::Subscribed`](crate::monitor::EventKind::Subscribed)). Any number
    /// of streams may watch one socket, alongside [`monitor`](Self::monitor); each ends
    /// when the socket closes.
    pub fn monitor_events(&self, events: u32) -> Result<EventStream> {
        self.with(|s| Ok(s.core.shared.monitor.add_stream(events)))
    }

    /// The socket's counters (libzmq has none): messages and bytes the application sent
    /// and received, messages dropped at a peer's high-water mark, reconnections, handshakes
    /// and their failures, and each peer's queues now. Counting costs the sending and
    /// receiving paths two additions, and connections a relaxed atomic per event.
    pub fn stats(&self) -> Result<SocketStats> {
        self.with(|s| {
            let names: Vec<(EndpointId, String)> = s
                .endpoints
                .iter()
                .map(|e| (e.id, e.resolved.clone()))
                .collect();
            let peers = s.core.peer_stats(|id| {
                names
                    .iter()
                    .find(|(i, _)| *i == id)
                    .map(|(_, name)| name.clone())
            });
            let c = &s.core.shared.monitor.counters;
            let load =
                |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
            Ok(SocketStats {
                messages_in: s.traffic.messages_in,
                bytes_in: s.traffic.bytes_in,
                messages_out: s.traffic.messages_out,
                bytes_out: s.traffic.bytes_out,
                dropped_at_hwm: s.core.pattern.dropped_at_hwm(),
                reconnects: load(&c.reconnects),
                handshakes: load(&c.handshakes),
                handshake_failures: load(&c.handshake_failures),
                disconnects: load(&c.disconnects),
                peers,
            })
        })
    }

    /// `ZMQ_TYPE`.
    pub fn get_socket_type(&self) -> Result<SocketType> {
        self.with(|s| Ok(s.socket_type))
    }

    /// `ZMQ_RCVMORE`: whether the last part received has more parts after it.
    pub fn get_rcvmore(&self) -> Result<bool> {
        self.with(|s| Ok(s.rcvmore))
    }

    /// `ZMQ_EVENTS`: [`POLLIN`](crate::POLLIN) if a message can be received now,
    /// [`POLLOUT`](crate::POLLOUT) if one can be sent.
    pub fn get_events(&self) -> Result<PollEvents> {
        self.with(|s| {
            let (can_in, can_out) = s.core.events()?;
            let mut events = PollEvents::empty();
            events.set(PollEvents::POLLIN, can_in);
            events.set(PollEvents::POLLOUT, can_out);
            Ok(events)
        })
    }

    /// `ZMQ_FD`: a descriptor for event loops. Unlike libzmq's it is level-triggered: it
    /// stays readable while [`get_events`](Self::get_events) would report an event (and
    /// may be readable spuriously after the socket's state changed); call `get_events`
    /// to find out which.
    pub fn get_fd(&self) -> Result<std::os::fd::RawFd> {
        self.with(|s| {
            let fd = s.core.shared.signal_fd().map_err(|_| Error::EMFILE)?;
            s.core.events()?;
            Ok(fd)
        })
    }

    /// `ZMQ_LAST_ENDPOINT`: the endpoint last bound (with wildcards and ephemeral ports
    /// resolved) or connected.
    pub fn get_last_endpoint(&self) -> Result<std::result::Result<String, Vec<u8>>> {
        self.with(|s| Ok(Ok(s.last_endpoint.clone())))
    }

    /// `ZMQ_MECHANISM`: the security mechanism the options configure (NULL until a
    /// `ZMQ_PLAIN_*` or `ZMQ_CURVE_*` option is set).
    pub fn get_mechanism(&self) -> Result<Mechanism> {
        self.read(|o| o.mechanism)
    }

    /// A poll item for [`poll`](crate::poll) watching this socket for `events`.
    pub fn as_poll_item(&self, events: PollEvents) -> PollItem<'_> {
        PollItem::from_socket(self, events)
    }

    /// Waits up to `timeout_ms` (-1: no limit) for `events` on this socket alone; returns
    /// 1 if one happened, else 0.
    pub fn poll(&self, events: PollEvents, timeout_ms: i64) -> Result<i32> {
        crate::poll::poll(&mut [self.as_poll_item(events)], timeout_ms)
    }

    /// All options at once, as a [`SocketOptions`].
    pub fn get_options(&self) -> Result<SocketOptions> {
        self.with(|s| Ok(s.options.clone()))
    }

    /// Applies every option of `options` (e.g. read from a configuration file).
    pub fn set_options(&self, options: &SocketOptions) -> Result<()> {
        self.with(|s| {
            validate(options)?;
            for option in pattern_options(options) {
                apply_pattern_option(s, option)?;
            }
            s.apply_hwms(options);
            s.core.hello_msg = Bytes::from(options.hello_msg.clone());
            s.options = options.clone();
            Ok(())
        })
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut SocketOptions)) -> Result<()> {
        self.with(|s| {
            let mut options = s.options.clone();
            f(&mut options);
            validate(&options)?;
            let changed: Vec<PatternOption> = pattern_options(&options)
                .into_iter()
                .zip(pattern_options(&s.options))
                .filter(|(new, old)| new != old)
                .map(|(new, _)| new)
                .collect();
            for option in changed {
                apply_pattern_option(s, option)?;
            }
            s.apply_hwms(&options);
            s.core.hello_msg = Bytes::from(options.hello_msg.clone());
            s.options = options;
            Ok(())
        })
    }

    /// Passes an option that is an action or lives in the pattern alone (SUBSCRIBE,
    /// XPUB_*...) to the pattern, and does the writes it causes.
    pub(crate) fn pattern_option(&self, option: PatternOption) -> Result<()> {
        self.with(|s| s.core.set_option(option))
    }

    /// `ZMQ_TOPICS_COUNT`.
    pub(crate) fn topics_count(&self) -> Result<usize> {
        self.with(|s| s.core.topics_count())
    }

    /// `ZMQ_ROUTING_ID`: the option as set; on a STREAM, the routing id it generated last
    /// for a peer, if any (libzmq's STREAM writes it there, so that the application learns
    /// the id of the peer of its last `connect`).
    pub(crate) fn routing_id(&self) -> Result<Vec<u8>> {
        self.with(|s| {
            Ok(match s.core.pattern.generated_routing_id() {
                Some(id) => id.to_vec(),
                None => s.options.routing_id.clone(),
            })
        })
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&SocketOptions) -> T) -> Result<T> {
        self.with(|s| Ok(f(&s.options)))
    }

    /// The `ZMQ_FD` descriptor and every event pending now, for a wait on `wanted`: the
    /// descriptor becomes readable when one of `wanted` may have happened, not merely
    /// because another event is pending.
    pub(crate) fn wait_state(
        &self,
        wanted: PollEvents,
    ) -> Result<(std::os::fd::RawFd, PollEvents)> {
        self.with(|s| {
            let fd = s.core.shared.signal_fd().map_err(|_| Error::EMFILE)?;
            let (can_in, can_out) = s.core.events_for(
                wanted.contains(PollEvents::POLLIN),
                wanted.contains(PollEvents::POLLOUT),
            )?;
            let mut events = PollEvents::empty();
            events.set(PollEvents::POLLIN, can_in);
            events.set(PollEvents::POLLOUT, can_out);
            Ok((fd, events))
        })
    }
}

impl Inner {
    /// `ZMQ_SNDHWM` and `ZMQ_RCVHWM` changed after connecting reach the existing pipes,
    /// as in libzmq 4.3 (`pipe_t::set_hwms`).
    fn apply_hwms(&mut self, new: &SocketOptions) {
        if new.sndhwm != self.options.sndhwm || new.rcvhwm != self.options.rcvhwm {
            self.core
                .set_hwms(new.sndhwm.max(0) as usize, new.rcvhwm.max(0) as usize);
        }
    }

    /// Attaches the peers waiting in the mailbox. A terminating context is reported by
    /// the next blocking call, not here.
    fn take_new_peers(&mut self) {
        let _ = self.core.process_mailbox();
    }

    /// After a part of `len` bytes was sent: the connections it asked to close, and the
    /// socket's counters.
    #[inline]
    fn sent(&mut self, len: u64, more: bool) {
        self.close_requested_peers();
        self.traffic.bytes_out += len;
        self.traffic.messages_out += u64::from(!more);
    }

    /// Closes the connections the application asked to close (a STREAM's empty data
    /// frame): what was queued to each is sent first. A connect's connection ends the
    /// connect, as libzmq's session ends with its pipe: no reconnecting.
    fn close_requested_peers(&mut self) {
        if self.socket_type != SocketType::STREAM {
            // The only type that asks: no call into the pattern at every send.
            return;
        }
        while let Some((peer, endpoint)) = self.core.take_disconnect() {
            let connect =
                endpoint.and_then(|id| self.endpoints.iter().position(|e| e.id == id && !e.bind));
            if let Some(i) = connect {
                let record = self.endpoints.remove(i);
                self.runtime.close_endpoint(record.id, self.linger());
            }
            self.core.detach(peer);
        }
    }

    fn transport_options(&self) -> TransportOptions {
        let o = &self.options;
        let ms = |v: i32| (v > 0).then(|| Duration::from_millis(v as u64));
        let mut t = TransportOptions::new(self.socket_type.to_codec());
        t.routing_id = Bytes::from(o.routing_id.clone());
        t.sndhwm = o.sndhwm.max(0) as usize;
        t.rcvhwm = o.rcvhwm.max(0) as usize;
        t.max_msg_size = (o.maxmsgsize >= 0).then_some(o.maxmsgsize as u64);
        t.handshake_ivl = ms(o.handshake_ivl);
        t.reconnect_ivl = if o.reconnect_ivl < 0 {
            None
        } else {
            Some(Duration::from_millis(o.reconnect_ivl as u64))
        };
        t.reconnect_ivl_max = ms(o.reconnect_ivl_max);
        t.connect_timeout = ms(o.connect_timeout);
        t.backlog = o.backlog;
        t.immediate = o.immediate;
        // A ROUTER names its peers by the routing id learnt when the connection is made;
        // IMMEDIATE sockets queue only to completed connections.
        t.defer_attach = self.socket_type == SocketType::ROUTER || o.immediate;
        t.ipv6 = o.ipv6;
        t.tcp_keepalive = o.tcp_keepalive;
        t.tcp_keepalive_cnt = o.tcp_keepalive_cnt;
        t.tcp_keepalive_idle = o.tcp_keepalive_idle;
        t.tcp_keepalive_intvl = o.tcp_keepalive_intvl;
        t.sndbuf = o.sndbuf;
        t.rcvbuf = o.rcvbuf;
        t.tos = o.tos;
        t.mechanism = mechanism_config(o);
        t.zap_domain = Bytes::from(o.zap_domain.clone());
        t.zap_enforce_domain = o.zap_enforce_domain;
        t.heartbeat_ivl = ms(o.heartbeat_ivl);
        t.heartbeat_timeout = match o.heartbeat_timeout {
            -1 => t.heartbeat_ivl,
            timeout => ms(timeout),
        };
        // Validated: at most 6553599 ms, so the deciseconds fit.
        t.heartbeat_ttl = u16::try_from(o.heartbeat_ttl / 100).unwrap_or(u16::MAX);
        t.raw_notify = o.stream_notify;
        t.metadata = application_metadata(o);
        t.conflate = o.conflate;
        t.tcp_maxrt = ms(o.tcp_maxrt);
        t.priority = o.priority;
        t.busy_poll = o.busy_poll;
        t.bind_to_device = Bytes::from(o.bindtodevice.clone().into_bytes());
        t.use_fd = o.use_fd;
        t.reconnect_stop = o.reconnect_stop;
        t.disconnected = Arc::clone(&self.disconnected);
        t.router_notify = o.router_notify;
        t.hiccup_msg = Bytes::from(o.hiccup_msg.clone());
        t.linger = self.linger();
        t.socks_proxy.clone_from(&o.socks_proxy);
        t.socks_username = Bytes::from(o.socks_username.clone().into_bytes());
        t.socks_password = Bytes::from(o.socks_password.clone().into_bytes());
        t.disconnect_msg = Bytes::from(o.disconnect_msg.clone());
        t.tcp_accept_filters = o
            .tcp_accept_filter
            .iter()
            .filter_map(|f| parse_accept_filter(f, true))
            .collect();
        t
    }

    /// Refuses a bind or connect whose every handshake would fail on our own configuration:
    /// a PLAIN server enforcing an empty ZAP domain (libzmq asserts at the handshake).
    fn check_security(&self) -> Result<()> {
        let o = &self.options;
        if o.mechanism == Mechanism::ZMQ_PLAIN
            && o.as_server
            && o.zap_enforce_domain
            && o.zap_domain.is_empty()
        {
            return Err(Error::EINVAL);
        }
        Ok(())
    }

    /// Stops `monitor`'s PAIR (it sends MONITOR_STOPPED first) and unbinds it.
    fn stop_monitor(&mut self) {
        if let Some(old) = self.core.shared.monitor.set_wire(None) {
            self.runtime.close_endpoint(old.id, Some(Duration::ZERO));
        }
    }

    fn linger(&self) -> Option<Duration> {
        (self.options.linger >= 0).then(|| Duration::from_millis(self.options.linger as u64))
    }

    fn close_endpoint(&mut self, endpoint: &str, bind: bool) -> Result<()> {
        let Some(i) = self
            .endpoints
            .iter()
            .position(|e| e.bind == bind && (e.given == endpoint || e.resolved == endpoint))
        else {
            return Err(Error::ENOENT);
        };
        let record = self.endpoints.remove(i);
        self.runtime.close_endpoint(record.id, Some(Duration::ZERO));
        self.core.detach_endpoint(record.id);
        Ok(())
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        let linger = inner.linger();
        // The I/O threads learn of the close before the pipes close, so connections drain
        // what was queued instead of dropping it.
        for record in inner.endpoints.drain(..) {
            inner.runtime.close_endpoint(record.id, linger);
        }
        // After the endpoints, whose listeners reported CLOSED: MONITOR_STOPPED is last.
        if let Some(wire) = inner.core.shared.monitor.stop_all() {
            inner.runtime.close_endpoint(wire.id, Some(Duration::ZERO));
        }
        inner.core.close_all();
        inner.ctx.unregister(inner.registration);
    }
}

/// The handshake's mechanism and role, from the options, as libzmq picks them
/// (`zmtp_engine.cpp`): the mechanism option, then `as_server` for the role. A CURVE server
/// uses only its secret key (its public key is derived from it).
fn mechanism_config(o: &SocketOptions) -> MechanismConfig {
    match (o.mechanism, o.as_server) {
        (Mechanism::ZMQ_PLAIN, true) => MechanismConfig::PlainServer,
        (Mechanism::ZMQ_PLAIN, false) => MechanismConfig::PlainClient {
            username: Bytes::from(o.plain_username.clone()),
            password: Bytes::from(o.plain_password.clone()),
        },
        (Mechanism::ZMQ_CURVE, true) => MechanismConfig::CurveServer {
            keypair: CurveKeyPair::from_secret(CurveSecretKey::from_bytes(o.curve_secretkey)),
        },
        (Mechanism::ZMQ_CURVE, false) => MechanismConfig::CurveClient {
            keypair: CurveKeyPair::new(
                CurvePublicKey::from_bytes(o.curve_publickey),
                CurveSecretKey::from_bytes(o.curve_secretkey),
            ),
            server_key: CurvePublicKey::from_bytes(o.curve_serverkey),
        },
        // GSSAPI is refused when set.
        (Mechanism::ZMQ_NULL | Mechanism::ZMQ_GSSAPI, _) => MechanismConfig::Null,
    }
}

/// The largest `ZMQ_HEARTBEAT_TTL`, in ms: PINGs carry it in 16 bits of deciseconds
/// (RFC 37; libzmq's `options.cpp` refuses more).
const MAX_HEARTBEAT_TTL: i32 = u16::MAX as i32 * 100 + 99;

fn validate(o: &SocketOptions) -> Result<()> {
    let ok = o.sndhwm >= 0
        && o.rcvhwm >= 0
        && o.linger >= -1
        && o.reconnect_ivl >= -1
        && o.reconnect_ivl_max >= 0
        && o.backlog >= 0
        && o.rcvtimeo >= -1
        && o.sndtimeo >= -1
        && (-1..=1).contains(&o.tcp_keepalive)
        && o.tcp_keepalive_cnt >= -1
        && o.tcp_keepalive_idle >= -1
        && o.tcp_keepalive_intvl >= -1
        && o.handshake_ivl >= 0
        && o.connect_timeout >= 0
        && o.tos >= 0
        && o.sndbuf >= -1
        && o.rcvbuf >= -1
        && o.routing_id.len() <= 255
        && o.connect_routing_id.len() <= 255
        && o.routing_id.first() != Some(&0)
        && o.mechanism != Mechanism::ZMQ_GSSAPI
        && o.plain_username.len() <= 255
        && o.plain_password.len() <= 255
        && o.zap_domain.len() <= 255
        && o.heartbeat_ivl >= 0
        && (0..=MAX_HEARTBEAT_TTL).contains(&o.heartbeat_ttl)
        && o.heartbeat_timeout >= -1
        && o.rate > 0
        && o.recovery_ivl >= 0
        && o.multicast_hops > 0
        && o.multicast_maxtpdu > 0
        && o.tcp_maxrt >= 0
        && o.priority >= 0
        && o.bindtodevice.len() <= MAX_DEVICE_NAME
        && o.use_fd >= -1
        && o.socks_username.len() <= 255
        && o.socks_password.len() <= 255
        && (0..=crate::NOTIFY_CONNECT | crate::NOTIFY_DISCONNECT).contains(&o.router_notify)
        && o.metadata.iter().all(|(k, v)| valid_metadata(k, v))
        && o.tcp_accept_filter
            .iter()
            .all(|f| parse_accept_filter(f, true).is_some());
    if ok {
        Ok(())
    } else {
        Err(Error::EINVAL)
    }
}

/// The longest `ZMQ_BINDTODEVICE` libzmq accepts (`BINDDEVSIZ`).
pub(crate) const MAX_DEVICE_NAME: usize = 16;

/// A `ZMQ_METADATA` property as libzmq accepts it (`options.cpp`): a name starting with
/// `X-`, at most 255 bytes, and a non-empty value. Names and values travel in the
/// handshake, whose property names must also be RFC 23 tokens.
pub(crate) fn valid_metadata(name: &str, value: &str) -> bool {
    name.starts_with("X-")
        && name.len() <= 255
        && !value.is_empty()
        && zmtp_codec::Metadata::new()
            .insert(name, Bytes::new())
            .is_ok()
}

/// A `ZMQ_TCP_ACCEPT_FILTER` network, `address` or `address/prefix`, as libzmq's
/// `tcp_address_mask_t::resolve` takes it: a numeric address (IPv6 only with `ipv6`), and
/// a prefix of 0 to 32 (128 for IPv6) when given.
pub(crate) fn parse_accept_filter(filter: &str, ipv6: bool) -> Option<(std::net::IpAddr, u8)> {
    let (addr, bits) = match filter.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (filter, None),
    };
    let addr: std::net::IpAddr = addr.parse().ok()?;
    if addr.is_ipv6() && !ipv6 {
        return None;
    }
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        None => max,
        Some(b) if !b.is_empty() && b.bytes().all(|c| c.is_ascii_digit()) => b.parse().ok()?,
        Some(_) => return None,
    };
    (bits <= max).then_some((addr, bits))
}

/// The `ZMQ_METADATA` properties, as the handshake sends them.
fn application_metadata(o: &SocketOptions) -> zmtp_codec::Metadata {
    let mut md = zmtp_codec::Metadata::new();
    for (name, value) in &o.metadata {
        // Validated when set.
        let _ = md.insert(name, Bytes::from(value.clone().into_bytes()));
    }
    md
}

fn pattern_options(o: &SocketOptions) -> [PatternOption; 6] {
    [
        PatternOption::RouterMandatory(o.router_mandatory),
        PatternOption::RouterHandover(o.router_handover),
        PatternOption::ProbeRouter(o.probe_router),
        PatternOption::ReqCorrelate(o.req_correlate),
        PatternOption::ReqRelaxed(o.req_relaxed),
        PatternOption::InvertMatching(o.invert_matching),
    ]
}

/// Passes an option to the pattern. Options for other socket types are refused with
/// EINVAL, as libzmq, except when they are being set to their default.
fn apply_pattern_option(s: &mut Inner, option: PatternOption) -> Result<()> {
    let is_default = matches!(
        option,
        PatternOption::RouterMandatory(false)
            | PatternOption::RouterHandover(false)
            | PatternOption::ProbeRouter(false)
            | PatternOption::ReqCorrelate(false)
            | PatternOption::ReqRelaxed(false)
    );
    // libzmq keeps ZMQ_INVERT_MATCHING for every socket type; only PUB, XPUB and SUB use it.
    let stored_by_all = matches!(option, PatternOption::InvertMatching(_));
    match s.core.set_option(option) {
        Ok(()) => Ok(()),
        Err(_) if is_default || stored_by_all => Ok(()),
        Err(e) => Err(e),
    }
}

/// A seed for the patterns' generated routing ids: different per socket and per run.
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish()
}

/// The `ZMQ_FD` descriptor, as the `zmq` crate gives it: for event loops (see
/// [`Socket::get_fd`]). Returns -1 if no descriptor can be made (out of descriptors).
impl std::os::fd::AsRawFd for Socket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.get_fd().unwrap_or(-1)
    }
}
