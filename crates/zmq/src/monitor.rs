//! The socket monitor: what happens to a socket's endpoints and connections.
//!
//! Two ways to watch a socket:
//!
//! - **libzmq's**, [`Socket::monitor`](crate::Socket::monitor): the socket binds a PAIR at
//!   an `inproc://` endpoint and sends each event there as two frames, 6 bytes (`u16`
//!   event, `u32` value, host byte order) then the endpoint. Connect a PAIR to it and read;
//!   [`Event::parse`] turns the two frames into an [`Event`] (it reads libzmq's frames
//!   too). Events are dropped, as in libzmq, while no PAIR is connected or while its queue
//!   is full.
//! - **typed**, [`Socket::monitor_events`](crate::Socket::monitor_events): an
//!   [`EventStream`] of [`Event`]s, with what libzmq's frames leave out (the peer's
//!   address, its routing id, the reason of a failure), and our
//!   [`EventKind::Subscribed`], the slow-joiner signal. No socket is involved; the queue
//!   is bounded ([`EVENT_QUEUE`]) and counts what it drops.
//!
//! ```
//! use std::time::Duration;
//! use zmq::monitor::{EventKind, EVENT_ALL};
//!
//! let ctx = zmq::Context::new();
//! let server = ctx.socket(zmq::REP).unwrap();
//! let events = server.monitor_events(EVENT_ALL).unwrap();
//! server.bind("tcp://127.0.0.1:*").unwrap();
//! let first = events.recv(Some(Duration::from_secs(5))).unwrap();
//! assert_eq!(first.kind, EventKind::Listening);
//! assert_eq!(first.endpoint, server.get_last_endpoint().unwrap().unwrap());
//! ```
//!
//! Events follow libzmq 4.3 for tcp and ipc (inproc raises none): a connect raises
//! CONNECT_DELAYED when the connection is in progress, CONNECTED when it is up, then
//! HANDSHAKE_SUCCEEDED or one of the HANDSHAKE_FAILED_* with DISCONNECTED, and
//! CONNECT_RETRIED (with the wait in ms) before each new attempt; a failed attempt closes
//! its descriptor (CLOSED). A bind raises LISTENING or BIND_FAILED, ACCEPTED (or
//! ACCEPT_FAILED) per connection, and CLOSED when it is unbound or its socket closes.
//! Stopping a monitor, or closing the socket, raises MONITOR_STOPPED last.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use zmq_transport::pipe::PipeEnd;
use zmq_transport::{EndpointId, MonitorEvent, NewPeer, SocketLink};
use zmtp_codec::Frame;

pub use zmq_transport::monitor::{EventKind, EVENT_ALL};

/// Our slow-joiner event's bit ([`EventKind::Subscribed`]), for the typed monitor only.
pub const EVENT_SUBSCRIBED: u32 = EventKind::Subscribed.bit();

/// Every event the typed monitor can report: libzmq's and ours.
pub const ALL: u32 = EVENT_ALL | EVENT_SUBSCRIBED;

/// How many events an [`EventStream`] holds before it drops new ones (and counts them in
/// [`EventStream::dropped`]). libzmq's monitor socket drops at its high-water mark (1000)
/// too; ours is a little larger so that a burst of reconnections is not lost.
pub const EVENT_QUEUE: usize = 4096;

/// The size of the first frame of libzmq's v1 event: `u16` event, `u32` value.
const WIRE_HEADER: usize = 6;

/// One monitor event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// libzmq's value: a descriptor, an errno, an interval in ms, a
    /// `ZMQ_PROTOCOL_ERROR_*` code or a ZAP status (see [`EventKind`]).
    pub value: u32,
    /// The endpoint, as libzmq names it (see [`MonitorEvent::endpoint`]).
    pub endpoint: String,
    /// The peer's address (the IP for tcp), when known. Not in libzmq's frames.
    pub peer_address: Option<String>,
    /// The peer's routing id, once its handshake brought one. Not in libzmq's frames.
    pub routing_id: Option<Vec<u8>>,
    /// Why, for failures (the error's text, the ZAP handler's status text). Not in
    /// libzmq's frames.
    pub reason: Option<String>,
}

impl Event {
    /// An event with no details beyond libzmq's three.
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

    /// Reads an event from the two frames of libzmq's monitor format (v1), as a PAIR
    /// connected to a [`Socket::monitor`](crate::Socket::monitor) endpoint receives them,
    /// from this library or from libzmq.
    pub fn parse<F: AsRef<[u8]>>(frames: &[F]) -> Result<Self, ParseError> {
        let [head, endpoint] = frames else {
            return Err(ParseError::FrameCount(frames.len()));
        };
        let head = head.as_ref();
        let Ok(head) = <[u8; WIRE_HEADER]>::try_from(head) else {
            return Err(ParseError::HeaderSize(head.len()));
        };
        let raw = u16::from_ne_bytes([head[0], head[1]]);
        let value = u32::from_ne_bytes([head[2], head[3], head[4], head[5]]);
        let kind = EventKind::from_bit(u32::from(raw))
            .filter(|k| k.on_wire())
            .ok_or(ParseError::UnknownEvent(raw))?;
        let endpoint = String::from_utf8_lossy(endpoint.as_ref()).into_owned();
        Ok(Self::new(kind, value, endpoint))
    }

    /// The two frames of libzmq's monitor format (v1); `None` for an event that format
    /// cannot carry ([`EventKind::Subscribed`]).
    pub fn to_frames(&self) -> Option<[Vec<u8>; 2]> {
        if !self.kind.on_wire() {
            return None;
        }
        let mut head = Vec::with_capacity(WIRE_HEADER);
        head.extend_from_slice(&(self.kind.bit() as u16).to_ne_bytes());
        head.extend_from_slice(&self.value.to_ne_bytes());
        Some([head, self.endpoint.clone().into_bytes()])
    }

    /// The `zmq` crate's name for the kind, if it has one.
    pub fn socket_event(&self) -> Option<SocketEvent> {
        SocketEvent::try_from_raw(self.kind.bit() as u16).filter(|_| self.kind.on_wire())
    }
}

impl From<MonitorEvent> for Event {
    fn from(e: MonitorEvent) -> Self {
        Self {
            kind: e.kind,
            value: e.value,
            endpoint: e.endpoint,
            peer_address: e.peer_address,
            routing_id: e.routing_id.map(|r| r.to_vec()),
            reason: e.reason,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.kind.name(), self.value, self.endpoint)?;
        if let Some(peer) = &self.peer_address {
            write!(f, " peer={peer}")?;
        }
        if let Some(reason) = &self.reason {
            write!(f, " ({reason})")?;
        }
        Ok(())
    }
}

/// Why [`Event::parse`] refused its frames.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// Not two frames.
    FrameCount(usize),
    /// The first frame is not 6 bytes.
    HeaderSize(usize),
    /// An event number libzmq's v1 format does not define.
    UnknownEvent(u16),
}

impl ParseError {
    /// libzmq's errno for this error: `EPROTO`.
    pub fn errno(&self) -> i32 {
        zmq_transport::errno::EPROTO
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FrameCount(n) => write!(
                f,
                "a monitor event is two frames (event and value, then the endpoint), not {n}; \
                 read it with recv_multipart from a PAIR connected to the monitor endpoint \
                 (libzmq's v2 format is not supported)"
            ),
            Self::HeaderSize(n) => write!(
                f,
                "the first frame of a monitor event is 6 bytes (u16 event, u32 value), not {n}; \
                 is this a monitor socket's output?"
            ),
            Self::UnknownEvent(raw) => write!(
                f,
                "{raw:#06x} is not a ZMQ_EVENT_* of libzmq's monitor format v1"
            ),
        }
    }
}

impl std::error::Error for ParseError {}

/// The `zmq` crate's monitor event kinds, with libzmq's values.
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketEvent {
    /// `ZMQ_EVENT_CONNECTED`
    CONNECTED = 0x0001,
    /// `ZMQ_EVENT_CONNECT_DELAYED`
    CONNECT_DELAYED = 0x0002,
    /// `ZMQ_EVENT_CONNECT_RETRIED`
    CONNECT_RETRIED = 0x0004,
    /// `ZMQ_EVENT_LISTENING`
    LISTENING = 0x0008,
    /// `ZMQ_EVENT_BIND_FAILED`
    BIND_FAILED = 0x0010,
    /// `ZMQ_EVENT_ACCEPTED`
    ACCEPTED = 0x0020,
    /// `ZMQ_EVENT_ACCEPT_FAILED`
    ACCEPT_FAILED = 0x0040,
    /// `ZMQ_EVENT_CLOSED`
    CLOSED = 0x0080,
    /// `ZMQ_EVENT_CLOSE_FAILED`
    CLOSE_FAILED = 0x0100,
    /// `ZMQ_EVENT_DISCONNECTED`
    DISCONNECTED = 0x0200,
    /// `ZMQ_EVENT_MONITOR_STOPPED`
    MONITOR_STOPPED = 0x0400,
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL`
    HANDSHAKE_FAILED_NO_DETAIL = 0x0800,
    /// `ZMQ_EVENT_HANDSHAKE_SUCCEEDED`
    HANDSHAKE_SUCCEEDED = 0x1000,
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL`
    HANDSHAKE_FAILED_PROTOCOL = 0x2000,
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_AUTH`
    HANDSHAKE_FAILED_AUTH = 0x4000,
    /// `ZMQ_EVENT_ALL`: every event, as a mask for [`Socket::monitor`](crate::Socket::monitor).
    ALL = 0xFFFF,
}

impl SocketEvent {
    const EVERY: [Self; 16] = [
        Self::CONNECTED,
        Self::CONNECT_DELAYED,
        Self::CONNECT_RETRIED,
        Self::LISTENING,
        Self::BIND_FAILED,
        Self::ACCEPTED,
        Self::ACCEPT_FAILED,
        Self::CLOSED,
        Self::CLOSE_FAILED,
        Self::DISCONNECTED,
        Self::MONITOR_STOPPED,
        Self::HANDSHAKE_FAILED_NO_DETAIL,
        Self::HANDSHAKE_SUCCEEDED,
        Self::HANDSHAKE_FAILED_PROTOCOL,
        Self::HANDSHAKE_FAILED_AUTH,
        Self::ALL,
    ];

    /// libzmq's value.
    pub fn to_raw(self) -> u16 {
        self as u16
    }

    /// The event of libzmq's value `raw`. The `zmq` crate panics on a value it does not
    /// know; this returns [`SocketEvent::ALL`] for one (use
    /// [`try_from_raw`](Self::try_from_raw) to tell).
    pub fn from_raw(raw: u16) -> Self {
        Self::try_from_raw(raw).unwrap_or(Self::ALL)
    }

    /// The event of libzmq's value `raw`, if there is one.
    pub fn try_from_raw(raw: u16) -> Option<Self> {
        Self::EVERY.into_iter().find(|e| e.to_raw() == raw)
    }
}

/// The monitors of one socket and its event counters, reached from I/O threads through
/// the socket's [`SocketLink`].
#[derive(Default)]
pub(crate) struct Hub {
    /// The kinds anyone wants: the counters' and the monitors'.
    mask: AtomicU32,
    sinks: Mutex<Sinks>,
    pub(crate) counters: EventCounters,
}

/// Counted from events (relaxed atomics: written by I/O threads, read by `stats`).
#[derive(Default)]
pub(crate) struct EventCounters {
    pub(crate) reconnects: AtomicU64,
    pub(crate) handshake_failures: AtomicU64,
    pub(crate) handshakes: AtomicU64,
    pub(crate) disconnects: AtomicU64,
}

/// The kinds the counters need, whether or not anyone monitors.
const COUNTED: u32 = EventKind::ConnectRetried.bit()
    | EventKind::HandshakeSucceeded.bit()
    | EventKind::HandshakeFailedNoDetail.bit()
    | EventKind::HandshakeFailedProtocol.bit()
    | EventKind::HandshakeFailedAuth.bit()
    | EventKind::Disconnected.bit();

#[derive(Default)]
struct Sinks {
    wire: Option<WireMonitor>,
    streams: Vec<Arc<EventQueue>>,
}

/// `Socket::monitor`'s PAIR: the inproc binding and the events it sends.
pub(crate) struct WireMonitor {
    events: u32,
    link: Arc<MonitorPair>,
    /// The inproc bind, to close when the monitor stops.
    pub(crate) id: EndpointId,
}

impl WireMonitor {
    pub(crate) fn new(events: u32, link: Arc<MonitorPair>, id: EndpointId) -> Self {
        Self { events, link, id }
    }
}

impl Hub {
    pub(crate) fn new() -> Self {
        let hub = Self::default();
        hub.mask.store(COUNTED, Ordering::Relaxed);
        hub
    }

    pub(crate) fn mask(&self) -> u32 {
        self.mask.load(Ordering::Relaxed)
    }

    fn update_mask(&self, sinks: &Sinks) {
        let mut mask = COUNTED;
        if let Some(w) = &sinks.wire {
            mask |= w.events;
        }
        for s in &sinks.streams {
            mask |= s.events;
        }
        self.mask.store(mask, Ordering::Relaxed);
    }

    /// Counts the event and hands it to the monitors that want it. Never blocks on a
    /// reader: a full queue drops the event.
    pub(crate) fn deliver(&self, event: MonitorEvent) {
        let c = &self.counters;
        match event.kind {
            EventKind::ConnectRetried => c.reconnects.fetch_add(1, Ordering::Relaxed),
            EventKind::HandshakeSucceeded => c.handshakes.fetch_add(1, Ordering::Relaxed),
            EventKind::Disconnected => c.disconnects.fetch_add(1, Ordering::Relaxed),
            EventKind::HandshakeFailedNoDetail
            | EventKind::HandshakeFailedProtocol
            | EventKind::HandshakeFailedAuth => {
                c.handshake_failures.fetch_add(1, Ordering::Relaxed)
            }
            _ => 0,
        };
        let bit = event.kind.bit();
        let mut sinks = self.sinks.lock();
        if let Some(w) = &sinks.wire {
            if w.events & bit != 0 {
                w.link.send(&event);
            }
        }
        let before = sinks.streams.len();
        // Streams their owners dropped go now.
        sinks.streams.retain(|s| Arc::strong_count(s) > 1);
        if sinks.streams.len() != before {
            self.update_mask(&sinks);
        }
        let wanted: Vec<&Arc<EventQueue>> = sinks
            .streams
            .iter()
            .filter(|s| s.events & bit != 0)
            .collect();
        if let Some((last, rest)) = wanted.split_last() {
            let event = Event::from(event);
            for s in rest {
                s.push(event.clone());
            }
            last.push(event);
        }
    }

    /// Starts `Socket::monitor`'s PAIR, returning the previous one (already stopped: it
    /// sent MONITOR_STOPPED if it wanted it) for the caller to unbind.
    pub(crate) fn set_wire(&self, wire: Option<WireMonitor>) -> Option<WireMonitor> {
        let mut sinks = self.sinks.lock();
        let old = std::mem::replace(&mut sinks.wire, wire);
        self.update_mask(&sinks);
        drop(sinks);
        if let Some(old) = &old {
            old.link.stop(old.events);
        }
        old
    }

    /// Adds a typed stream.
    pub(crate) fn add_stream(&self, events: u32) -> EventStream {
        let queue = Arc::new(EventQueue {
            events,
            inner: Mutex::new(QueueInner::default()),
            cond: Condvar::new(),
            dropped: AtomicU64::new(0),
        });
        let mut sinks = self.sinks.lock();
        sinks.streams.push(Arc::clone(&queue));
        self.update_mask(&sinks);
        EventStream { queue }
    }

    /// The socket is closing: every monitor gets MONITOR_STOPPED (if it asked for it) and
    /// ends. Returns the PAIR monitor to unbind.
    pub(crate) fn stop_all(&self) -> Option<WireMonitor> {
        let streams = std::mem::take(&mut self.sinks.lock().streams);
        for s in streams {
            if s.events & EventKind::MonitorStopped.bit() != 0 {
                s.push(Event::new(EventKind::MonitorStopped, 0, ""));
            }
            s.stop();
        }
        self.set_wire(None)
    }
}

/// The monitor's end of the inproc PAIR: the transport attaches the user's PAIR here.
#[derive(Default)]
pub(crate) struct MonitorPair {
    peer: Mutex<Option<PipeEnd>>,
}

impl MonitorPair {
    /// Sends an event without blocking: dropped if no PAIR is connected or its queue is
    /// full, as libzmq's `zmq_send(monitor, ..., ZMQ_DONTWAIT)`.
    fn send(&self, event: &MonitorEvent) {
        if !event.kind.on_wire() {
            return;
        }
        let mut peer = self.peer.lock();
        let Some(pipe) = peer.as_mut() else {
            return;
        };
        if pipe.writer.is_reader_closed() {
            *peer = None;
            return;
        }
        if !pipe.writer.can_write() {
            return;
        }
        let mut head = Vec::with_capacity(WIRE_HEADER);
        head.extend_from_slice(&(event.kind.bit() as u16).to_ne_bytes());
        head.extend_from_slice(&event.value.to_ne_bytes());
        pipe.writer
            .write(Frame::new(bytes::Bytes::from(head), true));
        pipe.writer.write(Frame::new(
            bytes::Bytes::from(event.endpoint.clone()),
            false,
        ));
        pipe.writer.flush();
    }

    /// Sends MONITOR_STOPPED (if wanted) and closes the PAIR's end.
    fn stop(&self, events: u32) {
        if events & EventKind::MonitorStopped.bit() != 0 {
            self.send(&MonitorEvent::new(EventKind::MonitorStopped, 0, ""));
        }
        // Dropping the pipe end closes it: the user's PAIR reads what was sent, then
        // loses its peer.
        self.peer.lock().take();
    }
}

impl SocketLink for MonitorPair {
    fn attach(&self, peer: NewPeer) {
        let mut current = self.peer.lock();
        // A PAIR takes one peer; a new one only once the previous went away.
        if current.as_ref().is_none_or(|p| p.writer.is_reader_closed()) {
            *current = Some(peer.pipe);
        }
    }
}

#[derive(Default)]
struct QueueInner {
    items: VecDeque<Event>,
    stopped: bool,
}

struct EventQueue {
    events: u32,
    inner: Mutex<QueueInner>,
    cond: Condvar,
    dropped: AtomicU64,
}

impl EventQueue {
    fn push(&self, event: Event) {
        let mut inner = self.inner.lock();
        if inner.stopped {
            return;
        }
        if inner.items.len() >= EVENT_QUEUE {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        inner.items.push_back(event);
        drop(inner);
        self.cond.notify_all();
    }

    fn stop(&self) {
        self.inner.lock().stopped = true;
        self.cond.notify_all();
    }
}

/// The typed events of one socket, from [`Socket::monitor_events`](crate::Socket::monitor_events).
///
/// It is `Send` and `Sync`: read it from any thread, while the socket is used from its own.
/// It holds at most [`EVENT_QUEUE`] events; more are dropped and counted. It ends (after
/// MONITOR_STOPPED, if asked for) when the socket closes.
pub struct EventStream {
    queue: Arc<EventQueue>,
}

impl EventStream {
    /// The next event, waiting up to `timeout` (`None`: until one comes or the monitor
    /// ends). `None` when the time ran out, or when the monitor ended and every event was
    /// read.
    pub fn recv(&self, timeout: Option<Duration>) -> Option<Event> {
        // A timeout too long to be an instant is no timeout.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut inner = self.queue.inner.lock();
        loop {
            if let Some(event) = inner.items.pop_front() {
                return Some(event);
            }
            if inner.stopped {
                return None;
            }
            match deadline {
                Some(d) => {
                    if self.queue.cond.wait_until(&mut inner, d).timed_out() {
                        return inner.items.pop_front();
                    }
                }
                None => self.queue.cond.wait(&mut inner),
            }
        }
    }

    /// The next event if one is there.
    pub fn try_recv(&self) -> Option<Event> {
        self.queue.inner.lock().items.pop_front()
    }

    /// Events dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped.load(Ordering::Relaxed)
    }

    /// Whether the monitor ended (the socket closed); events already queued can still be
    /// read.
    pub fn is_stopped(&self) -> bool {
        self.queue.inner.lock().stopped
    }

    /// The events this stream reports (a mask of [`EventKind`] bits).
    pub fn events(&self) -> u32 {
        self.queue.events
    }
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("events", &format_args!("{:#x}", self.queue.events))
            .field("queued", &self.queue.inner.lock().items.len())
            .field("dropped", &self.dropped())
            .finish()
    }
}

/// A socket's counters, from [`Socket::stats`](crate::Socket::stats). libzmq has none.
///
/// Messages count whole messages, bytes count every part; both are what the application
/// sent and received through the socket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SocketStats {
    /// Messages received by the application.
    pub messages_in: u64,
    /// Bytes received by the application (all parts).
    pub bytes_in: u64,
    /// Messages sent by the application.
    pub messages_out: u64,
    /// Bytes sent by the application (all parts).
    pub bytes_out: u64,
    /// Messages not delivered to a peer because its queue was at `SNDHWM` (PUB, XPUB,
    /// ROUTER): one per peer and message.
    pub dropped_at_hwm: u64,
    /// Connection attempts scheduled after a failed or lost connection (CONNECT_RETRIED).
    pub reconnects: u64,
    /// Handshakes completed (HANDSHAKE_SUCCEEDED).
    pub handshakes: u64,
    /// Handshakes failed (any HANDSHAKE_FAILED_*).
    pub handshake_failures: u64,
    /// Connections lost or refused after they were made (DISCONNECTED).
    pub disconnects: u64,
    /// Each peer's queues now.
    pub peers: Vec<PeerStats>,
}

/// One peer's queues, in [`SocketStats::peers`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerStats {
    /// The bind or connect the peer came through, as bound or given.
    pub endpoint: Option<String>,
    /// The peer's routing id (empty when it has none).
    pub routing_id: Vec<u8>,
    /// Messages from the peer not yet read by the socket.
    pub queued_in: u64,
    /// Messages to the peer not yet taken by its connection (or its inproc socket).
    pub queued_out: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let e = Event::new(EventKind::ConnectRetried, 117, "tcp://127.0.0.1:5555");
        let frames = e.to_frames().unwrap();
        assert_eq!(frames[0].len(), 6);
        assert_eq!(Event::parse(&frames).unwrap(), e);
        assert_eq!(e.socket_event(), Some(SocketEvent::CONNECT_RETRIED));
        assert!(Event::new(EventKind::Subscribed, 0, "x")
            .to_frames()
            .is_none());
    }

    #[test]
    fn bad_frames_are_refused_with_the_reason() {
        assert_eq!(
            Event::parse(&[b"x".as_slice()]),
            Err(ParseError::FrameCount(1))
        );
        assert_eq!(
            Event::parse(&[b"12345".as_slice(), b""]),
            Err(ParseError::HeaderSize(5))
        );
        let mut head = 0x8000u16.to_ne_bytes().to_vec();
        head.extend_from_slice(&[0; 4]);
        assert_eq!(
            Event::parse(&[head.as_slice(), b""]),
            Err(ParseError::UnknownEvent(0x8000))
        );
        // Our own event never travels in libzmq's format.
        let mut head = (EVENT_SUBSCRIBED as u16).to_ne_bytes().to_vec();
        head.extend_from_slice(&[0; 4]);
        assert!(Event::parse(&[head.as_slice(), b""]).is_err());
    }

    #[test]
    fn socket_events_have_libzmqs_values() {
        assert_eq!(SocketEvent::HANDSHAKE_FAILED_AUTH.to_raw(), 0x4000);
        assert_eq!(SocketEvent::from_raw(0x0200), SocketEvent::DISCONNECTED);
        assert_eq!(SocketEvent::try_from_raw(0x8000), None);
        assert_eq!(SocketEvent::from_raw(0x8000), SocketEvent::ALL);
        for k in EventKind::ALL.into_iter().filter(|k| k.on_wire()) {
            assert_eq!(
                SocketEvent::try_from_raw(k.bit() as u16).map(SocketEvent::to_raw),
                Some(k.bit() as u16)
            );
        }
    }

    #[test]
    fn a_full_stream_drops_and_counts() {
        let hub = Hub::new();
        let stream = hub.add_stream(ALL);
        for i in 0..EVENT_QUEUE + 5 {
            hub.deliver(MonitorEvent::new(EventKind::ConnectRetried, i as u32, "e"));
        }
        assert_eq!(stream.dropped(), 5);
        assert_eq!(stream.try_recv().map(|e| e.value), Some(0));
        assert_eq!(
            hub.counters.reconnects.load(Ordering::Relaxed),
            (EVENT_QUEUE + 5) as u64
        );
    }
}
