//! The engine: one per connection. It drives the handshake and then the traffic of one
//! non-blocking stream, moving frames between the stream and the socket's pipe.
//!
//! The engine makes no protocol decision itself: the greeting and mechanism are
//! `zmq_security::Handshake`, framing is `zmtp_codec`. Its loop reads while the stream is
//! readable and the inbound pipe has room, decodes everything read (many frames per read),
//! moves queued outbound frames into one batch, and writes the batch with vectored writes
//! (large frames are never copied), until nothing moves. After the peer hangs up it keeps
//! delivering what it already read before tearing down, so no received message is lost.
//!
//! Security: the handshake runs the socket's mechanism. When it asks ZAP, the engine sends
//! the request to the context's handler ([`crate::zap`]) and stops reading until the reply
//! wakes it. After a CURVE handshake, every frame out is sealed and every frame in opened
//! by the connection's cipher. A failed handshake writes what it queued for the peer (an
//! ERROR command) before the connection closes, and the engine ends with the reason.
//!
//! Heartbeats: on ZMTP 3.x connections the engine answers PING with PONG, sends PING every
//! `ZMQ_HEARTBEAT_IVL`, and ends the connection when the peer stays silent past our
//! timeout or its own PING's TTL ([`crate::heartbeat`]). One reactor timer follows the
//! earliest heartbeat deadline. PING and PONG go out only between messages, sealed under
//! CURVE like every frame, and at most one of each waits for the stream.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rand_core::{CryptoRng, OsRng, RngCore};
use smallvec::SmallVec;
use zeroize::Zeroize;
use zmq_security::FailureClass;
use zmq_security::{
    CurveOpener, CurveSealer, Handshake, HandshakeConfig, HandshakeError, ZapConfig,
};
use zmtp_codec::encode::Encoder;
use zmtp_codec::limits::DEFAULT_HANDSHAKE_COMMAND_SIZE;
use zmtp_codec::{
    Command, DecodeError, Decoder, Frame, Item, Mechanism, Metadata, SocketType, Version,
    WriteBatch,
};

use crate::errno;
use crate::heartbeat::{Expiry, Heartbeat, PingSettings};
use crate::monitor::{self, EventKind, MonitorEvent};
use crate::options::TransportOptions;
use crate::pipe::{pipe_pair, DirectRead, DirectWrite, PipeEnd, Wake, Wakeup};
use crate::reactor::{Ctx, Key, Scheduled, TimerId, TimerKind, Timers};
use crate::readbuf::{ReadSpace, MIN_SPARE, READ_CHUNK};
use crate::recycle;
use crate::runtime::{EndpointId, NewPeer, SocketLink};
use crate::stream::Stream;
use crate::zap::{ZapPending, ZapPoll, ZapRouter};

/// STREAM's connections: no ZMTP (a child module, for the engine's fields).
#[path = "raw_engine.rs"]
mod raw_engine;

/// The most an engine writes in one run while it has more to write: then it yields, so
/// that the other connections of its I/O thread take their turns (a publisher's
/// subscribers progress together instead of one after the other).
const WRITE_TURN: usize = 512 * 1024;

/// The bytes read after the rest of a large body, in the same `readv` (into a small buffer,
/// then the input): when the peer sent nothing more, the read comes back short and the
/// stream is known drained without a read that would only say `WouldBlock` (one system
/// call less per large message that comes alone: in a 64 KiB round trip over ipc, one of
/// the two reads of each side failed so); when more follows, only these few bytes are
/// copied twice.
const BODY_TAIL: usize = 64;

/// The most read at once after a large frame body: the next frame's header, and the start
/// of its body if it is another large frame (libzmq reads headers through 8 KiB too).
const AFTER_LARGE_READ: usize = 8 * 1024;
/// The most reserved at once for a large frame body; beyond it, the buffer grows with the
/// bytes that arrive (at most doubling). Reads go straight into the reserved capacity, so
/// capacity no byte has reached is never written: it costs address space, not memory, and
/// a peer that announces a large frame and sends nothing makes no pages resident.
const LARGE_BODY_RESERVE: usize = 4 * 1024 * 1024;
/// Outbound bytes gathered before writing, so one connection cannot hog the thread.
const OUT_BATCH: usize = 256 * 1024;
/// The most chunks handed to one vectored write.
const MAX_IOV: usize = 64;
/// How long a failed handshake may take to write its ERROR when `ZMQ_HANDSHAKE_IVL` sets
/// no limit.
const ERROR_FLUSH: Duration = Duration::from_secs(1);
/// How long the socket's thread keeps a connection's input after reading it itself
/// ([`Engine::end_direct_read`]) without coming back to wait on it: the I/O thread's
/// poller leaves the stream unwatched meanwhile, so a request-reply loop costs no
/// `epoll_ctl` a message. A lease unused for a whole period is ended at the next check,
/// so what arrives while the caller is away (an end of stream, a PING, a message for a
/// later poll) waits at most twice this for the I/O thread.
const READ_LEASE: Duration = Duration::from_millis(10);

/// Who created the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// Accepted by a listener of this endpoint.
    Listener(EndpointId),
    /// Made by the connecter with this key.
    Connecter(Key),
}

/// Why an engine stopped: the socket monitor reports it ([`Engine::report_end`]).
#[derive(Debug)]
pub(crate) enum EngineEnd {
    /// The peer closed the connection (everything it sent was delivered).
    PeerClosed,
    /// A socket error.
    Io(io::Error),
    /// The handshake failed (what it queued for the peer, such as an ERROR, was written
    /// first, if the peer took it in time).
    Handshake {
        /// Why.
        error: HandshakeError,
        /// The ZAP handler's status text, when it refused the peer (for the monitor and
        /// logs; the peer only learns the status code).
        zap_text: Option<Bytes>,
    },
    /// The peer broke the framing rules after the handshake.
    Protocol(DecodeError),
    /// A CURVE MESSAGE did not open (altered, replayed or reordered traffic), or our nonces
    /// ran out.
    Crypto(HandshakeError),
    /// The peer sent ERROR after the handshake.
    PeerError(Bytes),
    /// The handshake or the linger period ran out.
    TimedOut,
    /// Closing: everything queued was sent.
    Drained,
    /// The socket dropped this peer.
    Detached,
    /// The I/O thread is stopping.
    Terminated,
    /// Heartbeats: the peer stayed silent past our `ZMQ_HEARTBEAT_TIMEOUT`, or past the TTL
    /// of its own PING (libzmq's `timeout_error`; the monitor reports DISCONNECTED).
    HeartbeatTimeout(Expiry),
}

enum Phase {
    /// Boxed: a handshake (with its mechanism's keys and state) is much larger than a
    /// decoder, and lasts only while the connection is set up.
    Handshake(Box<Handshake>),
    Active(Decoder),
    /// A STREAM socket's connection: raw bytes both ways (`raw_engine`).
    Raw,
}

pub(crate) struct Engine {
    stream: Stream,
    /// Bytes read and not yet decoded.
    input: BytesMut,
    /// Where the next read goes: the space after `input` in the same allocation
    /// ([`Engine::read_some`]).
    space: ReadSpace,
    /// A large frame's body is being gathered in `body` (and `input` is empty).
    large_body: bool,
    /// The large frame body being received ([`Engine::read_some`]), from `body_start` on:
    /// a recycled buffer (initialised past the body's end) or a new one (its length the
    /// start and what has arrived).
    body: Vec<u8>,
    /// Where the body starts in `body` ([`recycle::start_for`]).
    body_start: usize,
    /// How much of the large frame body has arrived in `body`.
    body_have: usize,
    /// `body` came from [`recycle::take`].
    body_recycled: bool,
    /// A large frame body that arrived whole, for the decoder ([`Decoder::decode_body`]).
    body_done: Option<Bytes>,
    /// The last read completed a large frame body: the next read is short.
    after_large: bool,
    /// Where large frame bodies are read before they join `body`, where the platform has
    /// no safe read into uninitialised capacity (allocated, zeroed, on the first large
    /// frame, then reused).
    #[cfg_attr(any(target_os = "linux", target_os = "android"), allow(dead_code))]
    scratch: Option<Box<[u8]>>,
    out: WriteBatch,
    phase: Phase,
    pipe: Option<PipeEnd>,
    /// The pipe is the connecter's session and outlives this connection.
    persistent: bool,
    owner: Owner,
    link: Arc<dyn SocketLink>,
    options: Arc<TransportOptions>,
    peer_routing_id: Option<Bytes>,
    readable: bool,
    writable: bool,
    /// The last run stopped at its [`WRITE_TURN`] with more to write.
    yielded: bool,
    /// The poller reported a hang-up: read until end-of-file.
    hup: bool,
    eof: bool,
    /// The inbound pipe is at its high-water mark: stop reading until it drains.
    in_blocked: bool,
    /// The socket closed its outbound end; once `out` is written, nothing more comes.
    out_closed: bool,
    handshake_timer: Option<Scheduled>,
    closing: bool,
    linger_timer: Option<Scheduled>,
    /// Counted in the thread's lingering sources.
    lingering: bool,
    failed: Option<EngineEnd>,
    /// Where ZAP requests go.
    zap_router: Arc<ZapRouter>,
    /// The handshake's ZAP request, until its reply is in. No input is read meanwhile.
    zap: Option<ZapPending>,
    /// The status text of the last ZAP reply.
    zap_text: Option<Bytes>,
    /// Our mechanism, for errors.
    mechanism: Mechanism,
    /// CURVE: seals every frame we send.
    sealer: Option<CurveSealer>,
    /// CURVE: opens every frame we receive.
    opener: Option<CurveOpener>,
    /// The handshake failed: `out` (which may end in an ERROR for the peer) is written,
    /// then the engine ends with this. Nothing more is read.
    failing: Option<HandshakeError>,
    /// The next outbound frame starts a message (only single-frame messages can be
    /// subscriptions).
    out_at_start: bool,
    /// Our socket is a SUB or XSUB: its subscriptions go out in the peer's wire form.
    subscriber: bool,
    /// ZMTP 3.x after the handshake: PING, PONG and their timers.
    heartbeat: Option<Heartbeat>,
    /// The reactor timer at the heartbeat's earliest deadline.
    heartbeat_timer: Option<Scheduled>,
    /// That timer fired: the heartbeat's deadlines are checked at the next run.
    heartbeat_due: bool,
    /// The PONG answering the peer's last PING, until it is written (a newer PING
    /// replaces it, so a peer that sends PINGs and reads nothing cannot grow our queue).
    pong: Option<Command>,
    /// Our socket is a PUB or XPUB that has not yet had a subscription from this
    /// connection: the first one raises [`EventKind::Subscribed`].
    awaiting_subscription: bool,
    /// The connection's endpoint, as its monitor events name it.
    endpoint: Arc<str>,
    /// The waker for the outbound pipe when the socket's own thread may write this
    /// connection's messages ([`Engine::write_direct`]); `None`: the I/O thread's.
    direct_waker: Option<Arc<dyn Wake>>,
    /// The same, as what lets the socket's thread wait for this connection's input and
    /// read it ([`Engine::begin_direct_read`]); published on the inbound pipe while the
    /// connection carries traffic.
    direct_reader: Option<Arc<dyn DirectRead>>,
    /// What lets the socket's thread write a large frame from the caller's buffer
    /// ([`Engine::direct_encoder`]); published on the outbound pipe while the
    /// connection carries traffic.
    direct_writer: Option<Arc<dyn DirectWrite>>,
    /// The socket's thread is writing a frame from the caller's buffer and waits for room
    /// for the rest ([`Engine::hold_writes`]): the I/O thread writes nothing meanwhile.
    writer_held: bool,
    /// The socket's thread is waiting for input on the stream: the I/O thread does not
    /// read meanwhile.
    reader_away: bool,
    /// The socket's thread read the stream last and is expected back to wait on it again
    /// ([`READ_LEASE`]): the I/O thread's poller does not watch for input meanwhile.
    reader_leased: bool,
    /// The socket's thread read under the lease since its timer last fired.
    lease_used: bool,
    /// The reactor timer that ends an unused lease.
    lease_timer: Option<Scheduled>,
    /// What the I/O thread's poller watches the stream for (reading, writing): the
    /// reactor keeps it in step with [`Engine::interest`].
    pub(crate) watched: (bool, bool),
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        stream: Stream,
        owner: Owner,
        link: Arc<dyn SocketLink>,
        options: Arc<TransportOptions>,
        session: Option<PipeEnd>,
        peer_routing_id: Option<Bytes>,
        endpoint: Arc<str>,
        ctx: &mut Ctx<'_>,
    ) -> Self {
        let mut out = WriteBatch::new(Version::V3_1);
        let mut config = HandshakeConfig::new(options.socket_type);
        config.routing_id = options.routing_id.clone();
        config.metadata = options.metadata.clone();
        config.mechanism = options.mechanism.clone();
        let mechanism = config.mechanism.mechanism();
        let mut zap = ZapConfig::new();
        zap.domain = options.zap_domain.clone();
        zap.enforce_domain = options.zap_enforce_domain;
        zap.handler = ctx.zap.has_handler();
        zap.address = Bytes::from(stream.peer_address());
        config.zap = zap;
        let handshake_failed = |error| EngineEnd::Handshake {
            error,
            zap_text: None,
        };
        let started = if mechanism == Mechanism::CURVE {
            // A failing OS generator fails this connection, and panics nowhere.
            match Drawn::from_os() {
                Ok(mut rng) => {
                    Handshake::with_rng(config, &mut rng, &mut out).map_err(handshake_failed)
                }
                Err(e) => Err(EngineEnd::Io(e)),
            }
        } else {
            Handshake::new(config, &mut out).map_err(handshake_failed)
        };
        let (phase, failed) = match started {
            Ok(hs) => (Some(Phase::Handshake(Box::new(hs))), None),
            Err(end) => (None, Some(end)),
        };
        let handshake_timer = options.handshake_ivl.map(|ivl| {
            let at = Instant::now() + ivl;
            Scheduled {
                at,
                id: ctx.timers.add(at, ctx.key, TimerKind::Handshake),
            }
        });
        let persistent = session.is_some();
        let subscriber = options.socket_type.sends_subscriptions();
        let raw = options.socket_type == SocketType::Stream;
        let awaiting_subscription =
            matches!(options.socket_type, SocketType::Pub | SocketType::XPub);
        let mut engine = Self {
            stream,
            input: BytesMut::new(),
            space: ReadSpace::default(),
            large_body: false,
            body: Vec::new(),
            body_start: 0,
            body_have: 0,
            body_recycled: false,
            body_done: None,
            scratch: None,
            after_large: false,
            out,
            phase: phase.unwrap_or(Phase::Active(Decoder::new(
                zmtp_codec::frame::FrameFormat::V3,
            ))),
            pipe: session,
            persistent,
            owner,
            link,
            options,
            peer_routing_id,
            readable: true,
            writable: true,
            hup: false,
            eof: false,
            in_blocked: false,
            out_closed: false,
            handshake_timer,
            closing: false,
            linger_timer: None,
            lingering: false,
            failed,
            zap_router: Arc::clone(ctx.zap),
            zap: None,
            zap_text: None,
            mechanism,
            sealer: None,
            opener: None,
            failing: None,
            out_at_start: true,
            subscriber,
            heartbeat: None,
            heartbeat_timer: None,
            heartbeat_due: false,
            pong: None,
            awaiting_subscription,
            endpoint,
            direct_waker: None,
            direct_reader: None,
            direct_writer: None,
            writer_held: false,
            reader_away: false,
            reader_leased: false,
            lease_used: false,
            lease_timer: None,
            yielded: false,
            // As the reactor registers every stream.
            watched: (true, true),
        };
        if raw {
            engine.become_raw(ctx);
        }
        engine
    }

    /// Whether the socket's thread should write this connection's messages itself when it
    /// finds the connection idle: for REQ and REP, whose strict send-receive alternation
    /// leaves nothing to batch, so that the hop to the I/O thread (a wake-up, a few
    /// microseconds) is spared on every request and reply.
    pub(crate) fn wants_direct_writes(&self) -> bool {
        matches!(self.options.socket_type, SocketType::Req | SocketType::Rep)
    }

    /// Sets the waker of the outbound pipe that tries [`Engine::write_direct`] first, and
    /// what lets the socket's thread read ([`Engine::begin_direct_read`]).
    pub(crate) fn set_direct(&mut self, waker: Arc<dyn Wake>, reader: Arc<dyn DirectRead>) {
        self.direct_waker = Some(waker);
        self.direct_reader = Some(reader);
    }

    /// Sets what lets the socket's thread write a frame itself
    /// ([`Engine::direct_encoder`]).
    pub(crate) fn set_direct_writer(&mut self, writer: Arc<dyn DirectWrite>) {
        self.direct_writer = Some(writer);
    }

    /// Called on the socket's thread before it waits for this connection's input itself:
    /// if the connection is idle (traffic flowing, no whole frame buffered, nothing known
    /// to be readable, nothing for the I/O thread to do), the I/O thread stops reading
    /// until [`Engine::end_direct_read`], and the stream's descriptor is returned to wait
    /// on.
    pub(crate) fn begin_direct_read(&mut self) -> Option<std::os::fd::RawFd> {
        // Input may hold part of a frame (a large body gathering, say): what is buffered
        // was decoded as far as it goes, unless the socket's queue is full.
        let idle = matches!(self.phase, Phase::Active(_))
            && self.pipe.is_some()
            && !self.readable
            && !self.reader_away
            && !self.hup
            && !self.eof
            && !self.in_blocked
            && !self.closing
            && self.failed.is_none()
            && self.failing.is_none()
            && !self.heartbeat_due
            && self.pong.is_none();
        if !idle {
            // The I/O thread reads, at once.
            self.reader_leased = false;
            return None;
        }
        self.reader_away = true;
        Some(self.raw_fd())
    }

    /// Ends the socket's thread's lease on the input ([`READ_LEASE`]), when it is about to
    /// wait for its messages some other way (a poll on the socket, a wait with other
    /// peers): the I/O thread watches the stream again, and reads what came meanwhile.
    pub(crate) fn end_read_lease(&mut self) {
        self.reader_leased = false;
    }

    /// Ends a wait begun with [`Engine::begin_direct_read`]: when the stream was seen
    /// readable, reads and decodes into the socket's pipe until the stream is drained (or
    /// the pipe is full). Returns whether the I/O thread must run: the stream ended or
    /// failed, a PONG waits to be written, input is left that the pipe cannot take yet, or
    /// the input's lease ([`READ_LEASE`]) needs its timer.
    pub(crate) fn end_direct_read(&mut self, readable: bool) -> bool {
        self.reader_away = false;
        self.readable |= readable;
        loop {
            if self.has_input() && !self.in_blocked {
                match self.decode_traffic() {
                    Ok(_) => {}
                    Err(end) => {
                        self.failed = Some(end);
                        return true;
                    }
                }
            }
            if !self.readable || self.eof || self.in_blocked {
                break;
            }
            if let Err(e) = self.read_input() {
                self.failed = Some(EngineEnd::Io(e));
                return true;
            }
        }
        if self.eof || self.readable || self.pong.is_some() || self.heartbeat_due {
            self.reader_leased = false;
            return true;
        }
        // Kept for the caller's next wait ([`READ_LEASE`]), except while a heartbeat timer
        // runs (ours, or the peer's PING's TTL), which judges the peer by what is read.
        // The lease timer is the I/O thread's to set: it runs once for that.
        if self
            .heartbeat
            .as_ref()
            .and_then(Heartbeat::deadline)
            .is_some()
        {
            self.reader_leased = false;
            return false;
        }
        self.reader_leased = true;
        self.lease_used = true;
        self.lease_timer.is_none()
    }

    /// Whether the socket's thread may write on this connection now: traffic flows,
    /// nothing of the engine's own waits to be written (nor a PING or PONG), the stream
    /// is writable, and the connection is neither closing nor failed.
    fn idle_for_writes(&self) -> bool {
        matches!(self.phase, Phase::Active(_))
            && self.writable
            && self.out.is_empty()
            && !self.closing
            && !self.out_closed
            && self.failed.is_none()
            && self.failing.is_none()
            && !self.heartbeat_due
            && self.pong.is_none()
    }

    /// Called on the socket's thread when its message made the outbound pipe readable:
    /// if the connection is idle (traffic flowing, nothing queued, writable), pulls the
    /// pipe's messages and writes them now. Returns true when that left nothing for the
    /// I/O thread to do; false when the I/O thread must run (the write would block, the
    /// connection is closing or failed, a heartbeat is due...), and it is then woken as
    /// without this path.
    ///
    /// PINGs and PONGs are left to the I/O thread, which keeps their timers.
    pub(crate) fn write_direct(&mut self) -> bool {
        if !self.idle_for_writes() {
            return false;
        }
        loop {
            if let Err(end) = self.pull_outbound(false) {
                self.failed = Some(end);
                return false;
            }
            if self.out.is_empty() {
                return !self.out_closed;
            }
            match self.write_some() {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.writable = false;
                    return false;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Left to the I/O thread, which reads what the peer sent before (an ERROR,
                // the end of the stream) and then meets the error itself.
                Err(_) => return false,
            }
        }
    }

    /// Called on the socket's thread before it writes a data frame from the caller's
    /// buffer ([`DirectWrite`]): the encoder to frame it with, if the connection is idle as
    /// for [`Engine::write_direct`] and its outbound pipe holds nothing. Not after a CURVE
    /// handshake (each frame is sealed into a buffer of its own), nor for a subscriber (its
    /// single-frame messages may be subscriptions).
    pub(crate) fn direct_encoder(&mut self) -> Option<Encoder> {
        let idle = self.idle_for_writes() && self.sealer.is_none() && !self.subscriber;
        if !idle
            || self
                .pipe
                .as_mut()
                .is_none_or(|pipe| pipe.reader.has_frame())
        {
            return None;
        }
        Some(*self.out.encoder())
    }

    /// One vectored write of `head` then `body`, for the socket's thread
    /// ([`Engine::direct_encoder`]).
    pub(crate) fn write_pieces(&mut self, head: &[u8], body: &[u8]) -> io::Result<usize> {
        self.stream
            .write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
    }

    /// The socket's thread wrote part of a frame and waits for room to write the rest
    /// itself: until [`Engine::end_held_write`] or [`Engine::hand_over_write`], the I/O
    /// thread writes nothing on this connection (no PING, no PONG: they would land inside
    /// the frame) and is not woken for room to write.
    pub(crate) fn hold_writes(&mut self) {
        self.writer_held = true;
        self.writable = false;
    }

    /// The socket's thread wrote a whole frame (`more`: its message goes on), with or
    /// without [`Engine::hold_writes`]. Returns whether the I/O thread must run: a PING or
    /// PONG waits, held back while the frame was being written.
    pub(crate) fn end_held_write(&mut self, more: bool) -> bool {
        let held = std::mem::replace(&mut self.writer_held, false);
        self.writable = true;
        self.out_at_start = !more;
        held && (self.heartbeat_due
            || self.pong.is_some()
            || self.heartbeat.as_ref().is_some_and(Heartbeat::ping_pending))
    }

    /// The socket's thread wrote part of a frame and leaves the rest, `head` then `body`
    /// (copied), to the I/O thread, which writes it once the stream has room.
    pub(crate) fn hand_over_write(&mut self, head: &[u8], body: &[u8], more: bool) {
        self.writer_held = false;
        self.writable = false;
        self.out_at_start = !more;
        if !head.is_empty() {
            self.out.push_raw(head);
        }
        if !body.is_empty() {
            self.out.push_bytes(recycle::copy(body));
        }
    }

    /// One read of traffic into `input`, with what it says of the stream: end of file,
    /// whether it may hold more, or an error that ends the connection. Returns whether
    /// anything happened (a read, the end, an interruption to retry); `false` when the
    /// stream had nothing (`WouldBlock`).
    fn read_input(&mut self) -> io::Result<bool> {
        if self.body_done.is_some() {
            // A whole large body waits for room in the pipe: nothing more is read until
            // the decoder has taken it.
            return Ok(false);
        }
        match self.read_some() {
            Ok((0, _)) => self.eof = true,
            // A read that did not fill its buffer drained the socket: with edge-triggered
            // readiness, data arriving after it raises a new event, so the read that would
            // only say `WouldBlock` is skipped (as tokio does on epoll). Not after a
            // hang-up, whose end-of-file may already wait behind the data, with no edge
            // to come.
            Ok((n, room)) => self.readable = n == room || self.hup,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.readable = false;
                return Ok(false);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        Ok(true)
    }

    /// What the I/O thread should be woken for: input, unless the socket's thread waits
    /// for it itself; room to write, only after a write would have blocked (libzmq's
    /// `set_pollout`/`reset_pollout`): a stream is writable nearly always, and each "room
    /// again" edge would wake the thread for nothing.
    pub(crate) fn interest(&self) -> (bool, bool) {
        (
            !self.reader_away && !self.reader_leased,
            !self.writable && !self.writer_held,
        )
    }

    /// Whether the last run stopped at its write turn with more to do, and must run again.
    pub(crate) fn take_yielded(&mut self) -> bool {
        std::mem::take(&mut self.yielded)
    }

    pub(crate) fn raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.stream)
    }

    /// The endpoint this connection belongs to, for a listener's connections; connecters
    /// close their own engines.
    pub(crate) fn endpoint_id(&self) -> Option<EndpointId> {
        match self.owner {
            Owner::Listener(id) => Some(id),
            Owner::Connecter(_) => None,
        }
    }

    /// Whether the handshake completed (traffic flows). A raw (STREAM) connection has no
    /// handshake and counts as completed, as libzmq's `raw_engine_t`.
    pub(crate) fn handshake_done(&self) -> bool {
        matches!(self.phase, Phase::Active(_) | Phase::Raw) && self.failing.is_none()
    }

    pub(crate) fn is_lingering(&self) -> bool {
        self.lingering
    }

    /// The poller saw the stream become ready; `hup`: the peer hung up (or the socket
    /// failed), so reads go on until end-of-file or `WouldBlock`.
    pub(crate) fn on_ready(&mut self, readable: bool, writable: bool, hup: bool) {
        self.readable |= readable;
        self.writable |= writable;
        self.hup |= hup;
    }

    pub(crate) fn on_pipe_wake(&mut self, why: Wakeup) {
        if why == Wakeup::Writable {
            self.in_blocked = false;
        }
    }

    /// How the timer `id` ends the engine, if it does.
    pub(crate) fn timer_fired(&mut self, id: TimerId, kind: TimerKind) -> Option<EngineEnd> {
        match kind {
            TimerKind::Handshake
                if self.handshake_timer.is_some_and(|t| t.id == id)
                    && matches!(self.phase, Phase::Handshake(_)) =>
            {
                self.handshake_timer = None;
                // A failed handshake whose ERROR could not be written in time ends with
                // its own reason; otherwise the handshake (or its ZAP handler) was too slow.
                Some(match self.failing.take() {
                    Some(error) => self.handshake_end(error),
                    None => EngineEnd::TimedOut,
                })
            }
            TimerKind::Linger if self.linger_timer.is_some_and(|t| t.id == id) => {
                self.linger_timer = None;
                // A STREAM peer the socket dropped ends as dropped (silently), in time.
                Some(if self.closing {
                    EngineEnd::TimedOut
                } else {
                    EngineEnd::Detached
                })
            }
            _ => None,
        }
    }

    /// Whether the timer `id` is the heartbeat's: the engine must then run, to check its
    /// deadlines.
    pub(crate) fn heartbeat_timer_fired(&mut self, id: TimerId) -> bool {
        if self.heartbeat_timer.is_some_and(|t| t.id == id) {
            self.heartbeat_timer = None;
            self.heartbeat_due = true;
            true
        } else {
            false
        }
    }

    /// The lease timer `id` fired ([`READ_LEASE`]): a lease used since the last check
    /// is checked again a period later; an unused one ends (the reactor then watches the
    /// stream again), unless the socket's thread is waiting on the stream, which asks
    /// for the timer again when it has read.
    pub(crate) fn lease_timer_fired(&mut self, id: TimerId, ctx: &mut Ctx<'_>) {
        if self.lease_timer.is_none_or(|t| t.id != id) {
            return;
        }
        self.lease_timer = None;
        if !self.reader_leased {
            return;
        }
        if std::mem::take(&mut self.lease_used) {
            self.set_lease_timer(ctx);
        } else if !self.reader_away {
            self.reader_leased = false;
        }
        // Else the socket's thread has waited on the stream for a whole period: no timer
        // meanwhile (an idle socket costs no wake-ups); it asks for one when it has read.
    }

    fn set_lease_timer(&mut self, ctx: &mut Ctx<'_>) {
        let at = Instant::now() + READ_LEASE;
        self.lease_timer = Some(Scheduled {
            at,
            id: ctx.timers.add(at, ctx.key, TimerKind::ReadLease),
        });
    }

    /// Checks the heartbeat's deadlines if its timer fired, then runs the connection, then
    /// points the heartbeat timer at the next deadline. `Err` ends the engine.
    pub(crate) fn run(&mut self, ctx: &mut Ctx<'_>) -> Result<(), EngineEnd> {
        if std::mem::take(&mut self.heartbeat_due) {
            if let Some(hb) = &mut self.heartbeat {
                hb.on_time(Instant::now(), !self.in_blocked)
                    .map_err(EngineEnd::HeartbeatTimeout)?;
            }
        }
        self.run_traffic(ctx)?;
        let want = self.heartbeat.as_ref().and_then(Heartbeat::deadline);
        if self.heartbeat_timer.map(|t| t.at) != want {
            if let Some(t) = self.heartbeat_timer.take() {
                ctx.timers.cancel(t.at, t.id);
            }
            self.heartbeat_timer = want.map(|at| Scheduled {
                at,
                id: ctx.timers.add(at, ctx.key, TimerKind::Heartbeat),
            });
        }
        if self.reader_leased && !self.reader_away && self.lease_timer.is_none() {
            self.set_lease_timer(ctx);
        }
        Ok(())
    }

    fn handshake_end(&mut self, error: HandshakeError) -> EngineEnd {
        let zap_text = match error {
            HandshakeError::ZapDenied { .. } => self.zap_text.take(),
            _ => None,
        };
        EngineEnd::Handshake { error, zap_text }
    }

    /// Starts closing: send what the socket queued (until it closes its end), for at most
    /// `linger`. Returns whether the engine lingers (so termination waits for it).
    pub(crate) fn start_linger(&mut self, linger: Option<Duration>, ctx: &mut Ctx<'_>) -> bool {
        if self.closing {
            return false;
        }
        self.closing = true;
        if linger == Some(Duration::ZERO) || self.pipe.is_none() {
            self.failed = Some(EngineEnd::Drained);
            return false;
        }
        if let Some(l) = linger {
            let at = Instant::now() + l;
            self.linger_timer = Some(Scheduled {
                at,
                id: ctx.timers.add(at, ctx.key, TimerKind::Linger),
            });
        }
        self.lingering = true;
        true
    }

    /// Moves bytes and frames until nothing moves. `Err` ends the engine.
    fn run_traffic(&mut self, ctx: &mut Ctx<'_>) -> Result<(), EngineEnd> {
        if let Some(end) = self.failed.take() {
            return Err(end);
        }
        if matches!(self.phase, Phase::Raw) {
            return self.run_raw(ctx);
        }
        let mut written = 0;
        loop {
            let mut progress = false;
            // Decoding comes before reading: the next read waits until every whole frame
            // read so far is in the pipe, so input that the pipe cannot take yet (it is at
            // its high-water mark) stays in the kernel instead of piling up here.
            if self.failing.is_none() {
                if matches!(self.phase, Phase::Handshake(_)) {
                    progress |= self.drive_handshake(ctx)?;
                }
                if matches!(self.phase, Phase::Active(_)) && self.has_input() && !self.in_blocked {
                    progress |= self.decode_traffic()?;
                }
            }
            // Nothing is read after a failed handshake, nor while a ZAP handler decides:
            // the peer's bytes wait in the kernel, not in our memory.
            let reading = self.failing.is_none() && self.zap.is_none() && !self.reader_away;
            if reading && self.readable && !self.eof && !self.in_blocked {
                progress |= self.read_input().map_err(EngineEnd::Io)?;
            }
            progress |= self.pull_outbound(true)?;
            if self.writable && !self.out.is_empty() {
                match self.write_some() {
                    Ok(n) => {
                        progress |= n > 0;
                        written += n;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.writable = false,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => progress = true,
                    Err(e) => {
                        return Err(match self.failing.take() {
                            Some(error) => self.handshake_end(error),
                            None => EngineEnd::Io(e),
                        })
                    }
                }
            }
            if !progress {
                break;
            }
            // Not once the stream has ended: what it left is decoded first (below, the
            // end is reported as soon as the loop stops).
            if written >= WRITE_TURN && self.writable && !self.eof {
                // Run again once the other connections have had theirs.
                self.yielded = true;
                break;
            }
        }
        if self.failing.is_some() && (self.out.is_empty() || self.eof) {
            let error = self.failing.take().expect("checked above");
            return Err(self.handshake_end(error));
        }
        if self.eof && !self.in_blocked {
            return Err(EngineEnd::PeerClosed);
        }
        if self.closing && self.out.is_empty() && (self.out_closed || self.pipe.is_none()) {
            return Err(EngineEnd::Drained);
        }
        // The socket dropped this peer: it closed both ends of the pipe. Whatever it queued
        // before is sent first; a socket that is closing sends the command that bounds this
        // by its linger, which may arrive after the pipe closed.
        if let Some(pipe) = &self.pipe {
            if pipe.writer.is_reader_closed() && self.out_closed && self.out.is_empty() {
                return Err(EngineEnd::Detached);
            }
        }
        Ok(())
    }

    /// Reads once, without zero-filling anything per read.
    ///
    /// - Small frames: each read fills the next part of a 64 KiB buffer ([`ReadSpace`]:
    ///   on Linux straight into its uninitialised capacity; buffers reused once no frame
    ///   holds them). The bytes read move to the end of `input` without a copy (`unsplit`
    ///   of two parts of one allocation), and the decoder splits frames off the front of
    ///   `input`, sharing the allocation.
    /// - A large frame (its body longer than [`MIN_SPARE`]): the body gathers in a buffer
    ///   of its own, a recycled one if the pool has one ([`recycle`]; initialised already,
    ///   read into as it is). Otherwise a new buffer's capacity (never zeroed) is reserved
    ///   for the whole body up to [`LARGE_BODY_RESERVE`], then grows with the bytes that
    ///   arrive (at most doubling), so a peer's announcement alone makes no memory
    ///   resident, and bodies up to 4 MiB are never moved by a reallocation. On Linux each
    ///   read goes straight into that capacity (rustix's safe `read` into a `Vec`'s spare
    ///   capacity: no zeroing, no copy); elsewhere through `scratch` (zeroed once,
    ///   reused). Reads stop at the body's end (but for the few bytes the body's start in
    ///   its buffer left, [`recycle::start_for`], which go back to the input), so the body
    ///   is one allocation that becomes the message as is.
    ///
    /// Returns how many bytes were read and how many the read asked for.
    fn read_some(&mut self) -> io::Result<(usize, usize)> {
        let pending = match &self.phase {
            Phase::Active(d) => d.pending_body(),
            Phase::Handshake(_) | Phase::Raw => None,
        };
        match pending {
            Some(len) if len > MIN_SPARE && len > self.input.len() => self.read_large_body(len),
            _ => {
                // Reads wait until the input holds no whole frame (`run_traffic` decodes
                // first): at most part of one small frame is buffered here.
                debug_assert!(
                    !matches!(self.phase, Phase::Active(_))
                        || self.input.len() <= MIN_SPARE + zmtp_codec::frame::MAX_HEADER_SIZE,
                    "read with {} bytes of input not yet decoded",
                    self.input.len()
                );
                self.space.ensure(&mut self.input);
                // After a large frame, another may follow: read little, so that its first
                // bytes are not copied twice (here and into its own buffer).
                let room = if std::mem::take(&mut self.after_large) {
                    self.space.room().min(AFTER_LARGE_READ)
                } else {
                    self.space.room()
                };
                let n = self.space.read(&mut self.stream, room, &mut self.input)?;
                Ok((n, room))
            }
        }
    }

    /// One read towards a large frame body of `len` bytes (see [`Engine::read_some`]).
    ///
    /// The body goes into a recycled buffer when the pool has one ([`recycle`]: its pages
    /// are resident and likely in cache), else into a new one grown as bytes arrive; either
    /// way it becomes recyclable [`Bytes`] when whole. Over CURVE, always a new one, and
    /// plain [`Bytes`], which the opener can take back whole to decrypt in place.
    fn read_large_body(&mut self, len: usize) -> io::Result<(usize, usize)> {
        if !self.large_body {
            // The body's first bytes move to its own buffer (reads so far shared theirs).
            let have = self.input.len();
            // A CURVE body is opened where it lies, which a recycled one cannot be.
            let recycled = if self.opener.is_some() {
                None
            } else {
                recycle::take(len)
            };
            match recycled {
                Some((mut buf, start)) => {
                    buf[start..start + have].copy_from_slice(&self.input);
                    self.body = buf;
                    self.body_start = start;
                    self.body_recycled = true;
                }
                None => {
                    let mut body = Vec::new();
                    body.try_reserve_exact(recycle::PAGE_HEAD + len.min(LARGE_BODY_RESERVE))
                        .map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
                    let start = recycle::start_for(body.as_ptr());
                    body.resize(start, 0);
                    body.extend_from_slice(&self.input);
                    self.body = body;
                    self.body_start = start;
                    self.body_recycled = false;
                }
            }
            self.input.clear();
            self.body_have = have;
            self.large_body = true;
        }
        let (start, have) = (self.body_start, self.body_have);
        let (n, want) = if self.body_recycled {
            // Initialised already: read straight into the rest of the body, and the first
            // bytes after it ([`BODY_TAIL`]).
            let rest = &mut self.body[start + have..start + len];
            let want = rest.len();
            let mut tail = [0u8; BODY_TAIL];
            let n = self
                .stream
                .read_vectored(&mut [IoSliceMut::new(rest), IoSliceMut::new(&mut tail)])?;
            if n > want {
                self.input.extend_from_slice(&tail[..n - want]);
            }
            (n, want + BODY_TAIL)
        } else {
            if self.body.capacity() == self.body.len() {
                // At most doubling what arrived, and never past the body's end.
                self.body
                    .try_reserve_exact((len - have).min(have.max(READ_CHUNK)))
                    .map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
            }
            // The capacity ends with the body, but for up to `PAGE_HEAD` bytes of the first
            // allocation (not all of its head taken by the start): read there, the next
            // frame's first bytes go back to the input below.
            let want = self.body.capacity() - self.body.len();
            let n = read_into_capacity(&mut self.stream, &mut self.body, &mut self.scratch)?;
            (n, want)
        };
        // What went to the body (the rest, after a vectored read, is in the input).
        self.body_have += n.min(len - have);
        if self.body_have >= len {
            let mut body = std::mem::take(&mut self.body);
            if !self.body_recycled && body.len() > start + len {
                self.input.extend_from_slice(&body[start + len..]);
                body.truncate(start + len);
            }
            self.body_done = Some(if self.opener.is_some() {
                // A buffer of its own, so that the MESSAGE is decrypted in place
                // (`CurveOpener::open_body`): a recycled body is shared with the pool's
                // owner and would be opened into a copy, a tenth of the receiving I/O
                // thread's time at 1 MiB.
                let mut whole = Bytes::from(body);
                bytes::Buf::advance(&mut whole, start);
                whole
            } else {
                recycle::into_bytes(body, start, len)
            });
            self.large_body = false;
            self.after_large = true;
        }
        Ok((n, want))
    }

    /// Whether anything read waits to be decoded.
    fn has_input(&self) -> bool {
        !self.input.is_empty() || self.body_done.is_some()
    }

    fn write_some(&mut self) -> io::Result<usize> {
        let n = {
            let slices: SmallVec<[IoSlice<'_>; MAX_IOV]> =
                self.out.chunks().take(MAX_IOV).map(IoSlice::new).collect();
            self.stream.write_vectored(&slices)?
        };
        self.out.advance(n);
        Ok(n)
    }

    /// Runs the handshake on the buffered input, or on the ZAP reply that arrived, and
    /// sends the ZAP request it makes. Returns whether anything moved.
    fn drive_handshake(&mut self, ctx: &mut Ctx<'_>) -> Result<bool, EngineEnd> {
        let Phase::Handshake(hs) = &mut self.phase else {
            return Ok(false);
        };
        let before = (self.input.len(), self.out.len());
        // Taking a ZAP reply is progress even if it moved no byte: reading resumes.
        let mut zap_moved = false;
        let result = match &mut self.zap {
            Some(pending) => match pending.poll() {
                ZapPoll::Waiting => return Ok(false),
                ZapPoll::Gone => {
                    self.zap = None;
                    Err(HandshakeError::NoZapHandler {
                        mechanism: self.mechanism,
                    })
                }
                ZapPoll::Reply(frames) => {
                    self.zap = None;
                    zap_moved = true;
                    // Frame 4 is the status text, kept for the monitor if the peer is refused.
                    self.zap_text = frames.get(4).cloned();
                    hs.handle_zap_reply(&frames, &mut self.input, &mut self.out)
                }
            },
            None if self.input.is_empty() => return Ok(false),
            None => hs.handle_input(&mut self.input, &mut self.out),
        };
        let result = match result {
            Ok(None) => match hs.poll_zap_request() {
                Some(request) => {
                    self.zap_router
                        .ask(request, ctx.waker, ctx.key as u64)
                        .map(|pending| {
                            self.zap = Some(pending);
                            zap_moved = true;
                            None
                        })
                }
                None => Ok(None),
            },
            other => other,
        };
        match result {
            Ok(None) => Ok(zap_moved || (self.input.len(), self.out.len()) != before),
            Ok(Some(established)) => {
                self.established(established, ctx);
                Ok(true)
            }
            Err(error) => {
                self.fail_handshake(error, ctx);
                Ok(true)
            }
        }
    }

    /// The handshake failed: write what it queued for the peer (an ERROR command), within
    /// the handshake's time limit (or [`ERROR_FLUSH`] without one), then end.
    fn fail_handshake(&mut self, error: HandshakeError, ctx: &mut Ctx<'_>) {
        self.zap = None;
        self.failing = Some(error);
        if self.handshake_timer.is_none() {
            let at = Instant::now() + ERROR_FLUSH;
            self.handshake_timer = Some(Scheduled {
                at,
                id: ctx.timers.add(at, ctx.key, TimerKind::Handshake),
            });
        }
    }

    /// Decodes traffic from the buffered input into the socket's pipe, while it has room.
    fn decode_traffic(&mut self) -> Result<bool, EngineEnd> {
        let before = (self.input.len(), self.out.len(), self.body_done.is_some());
        let Phase::Active(decoder) = &mut self.phase else {
            return Ok(false);
        };
        let Some(pipe) = self.pipe.as_mut() else {
            return Ok(false);
        };
        let mut first_subscription = false;
        // Subscriptions in data frames are looked for only until the first one arrived.
        let awaiting = self.awaiting_subscription;
        let mut in_at_start = !pipe.writer.in_message();
        loop {
            if !pipe.writer.in_message() && !pipe.writer.can_write() {
                self.in_blocked = true;
                if let Some(hb) = &mut self.heartbeat {
                    hb.on_input_stopped();
                }
                break;
            }
            // The common case first: a small data frame, copied from the input straight
            // into the pipe's slot (not returned through memory as an item).
            if self.opener.is_none()
                && !awaiting
                && self.body_done.is_none()
                && decoder
                    .decode_small(&mut self.input, |body, more| {
                        pipe.writer.write_copy(body, more);
                    })
                    .is_some()
            {
                if let Some(hb) = &mut self.heartbeat {
                    hb.on_frame();
                }
                continue;
            }
            let decoded = match self.body_done.take() {
                Some(body) => decoder.decode_body(body).map(Some),
                None => decoder.decode(&mut self.input),
            };
            let item = match decoded {
                // Any other data frame, moved once, into the pipe.
                Ok(Some(Item::Data { body, more })) if self.opener.is_none() => {
                    if let Some(hb) = &mut self.heartbeat {
                        hb.on_frame();
                    }
                    if awaiting {
                        note_subscription(&mut first_subscription, &mut in_at_start, &body, more);
                    }
                    // A small frame is copied out of the read buffer: the socket's thread
                    // then never touches the buffer's reference count (see `Payload`).
                    pipe.writer.write(Frame { data: body, more });
                    continue;
                }
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(e) => {
                    pipe.writer.flush();
                    return Err(EngineEnd::Protocol(e));
                }
            };
            let item = match &mut self.opener {
                Some(opener) => match opener.open(item) {
                    Ok(item) => item,
                    Err(e) => {
                        pipe.writer.flush();
                        return Err(EngineEnd::Crypto(e));
                    }
                },
                None => item,
            };
            if let Some(hb) = &mut self.heartbeat {
                hb.on_frame();
            }
            match item {
                // A data frame unwrapped from a CURVE MESSAGE.
                Item::Data { body, more } => {
                    if awaiting {
                        note_subscription(&mut first_subscription, &mut in_at_start, &body, more);
                    }
                    pipe.writer.write(Frame { data: body, more });
                }
                Item::Command(command) => match command {
                    // Answered between our outbound messages (see `queue_heartbeat`).
                    Command::Ping { ttl, .. } => {
                        if let Some(hb) = &mut self.heartbeat {
                            hb.on_ping(ttl, Instant::now(), true);
                        }
                        self.pong = command.pong_for();
                    }
                    Command::Error { reason } => {
                        pipe.writer.flush();
                        return Err(EngineEnd::PeerError(reason));
                    }
                    // Subscriptions reach the socket in the form the patterns read:
                    // one frame, 1 (subscribe) or 0 (cancel) and the topic. Publishers
                    // take them from any peer, as libzmq does.
                    Command::Subscribe(ref topic) | Command::Cancel(ref topic) => {
                        let subscribe = matches!(command, Command::Subscribe(_));
                        let mut data = BytesMut::with_capacity(1 + topic.len());
                        data.extend_from_slice(&[u8::from(subscribe)]);
                        data.extend_from_slice(topic);
                        pipe.writer.write(Frame::last(data.freeze()));
                        first_subscription |= subscribe;
                    }
                    // Everything else after the handshake is dropped, as libzmq does.
                    _ => {}
                },
            }
        }
        pipe.writer.flush();
        // Raised once the subscription is in the socket's pipe, so that the socket applies
        // it before it sends anything more.
        if first_subscription && self.awaiting_subscription {
            self.awaiting_subscription = false;
            self.emit(EventKind::Subscribed, 0, |_| {});
        }
        Ok((self.input.len(), self.out.len(), self.body_done.is_some()) != before)
    }

    /// The handshake is done: set up traffic and give the socket its peer.
    fn established(&mut self, mut est: zmq_security::Established, ctx: &mut Ctx<'_>) {
        let unversioned = est.is_unversioned();
        if let Some(t) = self.handshake_timer.take() {
            ctx.timers.cancel(t.at, t.id);
        }
        // CURVE: every frame is a MESSAGE, `OVERHEAD` bytes longer than what it carries;
        // ZMQ_MAXMSGSIZE limits what it carries.
        let overhead = match est.cipher.take() {
            Some(cipher) => {
                let (sealer, opener) = cipher.split();
                self.sealer = Some(sealer);
                self.opener = Some(opener);
                CurveSealer::OVERHEAD as u64
            }
            None => 0,
        };
        let max = self
            .options
            .max_msg_size
            .map(|m| m.saturating_add(overhead));
        let mut decoder = est.decoder;
        decoder.set_max_message_size(max);
        decoder.set_max_command_size(max.map(|m| m.max(DEFAULT_HANDSHAKE_COMMAND_SIZE)));
        // Our own properties come first: lookups take the first match, so a peer cannot
        // pass off a `Peer-Address` of its choosing. After a ZAP 200, the handshake's
        // properties start with the `User-Id` the handler gave.
        let mut metadata = Metadata::new();
        let address = self.stream.peer_address();
        if !address.is_empty() {
            let _ = metadata.insert("Peer-Address", Bytes::from(address));
        }
        metadata.extend_from(&est.peer_metadata);
        let metadata = Arc::new(metadata);
        let mut pipe = match self.pipe.take() {
            Some(mut session) => {
                // A connect's session got a (new) connection: a subscriber drops what it
                // queued for the old one and sends all its subscriptions again (libzmq's
                // hiccup). The socket acknowledges before anything more is sent.
                if self.subscriber {
                    session.reader.hiccup();
                }
                session
            }
            None => {
                let (ours, theirs) = pipe_pair(self.options.rcvhwm, self.options.sndhwm);
                ours.writer.set_conflate(self.options.conflate_in());
                theirs.writer.set_conflate(self.options.conflate_out());
                self.link.attach(NewPeer {
                    pipe: theirs,
                    routing_id: self
                        .peer_routing_id
                        .clone()
                        .unwrap_or_else(|| est.peer_routing_id.clone()),
                    socket_type: est.peer_socket_type,
                    metadata: Arc::clone(&metadata),
                    endpoint_id: self.endpoint_id(),
                    in_process: false,
                });
                ours
            }
        };
        let reader_waker = self.direct_waker.as_ref().unwrap_or(ctx.waker);
        pipe.reader
            .set_waker(Arc::clone(reader_waker), ctx.key as u64);
        pipe.writer.set_waker(Arc::clone(ctx.waker), ctx.key as u64);
        pipe.writer.set_metadata(metadata);
        pipe.writer.set_direct_reader(self.direct_reader.clone());
        pipe.reader.set_direct_writer(self.direct_writer.clone());
        // An unversioned ZMTP 1.0 peer sends no subscriptions: a publisher subscribes it to
        // everything, as libzmq does (`process_routing_id_msg`).
        if unversioned && matches!(self.options.socket_type, SocketType::Pub | SocketType::XPub) {
            pipe.writer.write(Frame::last(Bytes::from_static(&[1])));
            pipe.writer.flush();
        }
        if self.options.notifies_connect() {
            // ZMQ_ROUTER_NOTIFY: the ROUTER delivers it as [routing id, ""].
            pipe.writer.write(Frame::new(Bytes::new(), false));
            pipe.writer.flush();
        }
        self.pipe = Some(pipe);
        self.phase = Phase::Active(decoder);
        // ZMTP 1.0 and 2.0 have no commands, so no heartbeats.
        if est.version.has_commands() {
            let settings = self.options.heartbeat_ivl.map(|ivl| PingSettings {
                ivl,
                timeout: self.options.heartbeat_timeout,
                ttl: self.options.heartbeat_ttl,
            });
            self.heartbeat = Some(Heartbeat::new(settings, Instant::now()));
        }
        if self.peer_routing_id.is_none() && !est.peer_routing_id.is_empty() {
            self.peer_routing_id = Some(est.peer_routing_id.clone());
        }
        self.emit(EventKind::HandshakeSucceeded, 0, |_| {});
    }

    /// Raises a monitor event about this connection, with its peer's details.
    fn emit(&self, kind: EventKind, value: u32, detail: impl FnOnce(&mut MonitorEvent)) {
        monitor::emit(&*self.link, kind, value, &self.endpoint, |ev| {
            let address = self.stream.peer_address();
            ev.peer_address = (!address.is_empty()).then_some(address);
            ev.routing_id.clone_from(&self.peer_routing_id);
            detail(ev);
        });
    }

    /// Reports how the connection ended, as libzmq's `stream_engine_base_t::error` does: a
    /// failed handshake first (the kind of failure and its value), then DISCONNECTED. A
    /// connection the socket closed (closing, dropping the peer, terminating) ends silently.
    pub(crate) fn report_end(&self, why: &EngineEnd) {
        let fd = monitor::value(self.raw_fd());
        let handshaking = matches!(self.phase, Phase::Handshake(_));
        let reason = match why {
            EngineEnd::Drained | EngineEnd::Detached | EngineEnd::Terminated => return,
            EngineEnd::PeerClosed => "the peer closed the connection".to_owned(),
            EngineEnd::Io(e) => e.to_string(),
            EngineEnd::Handshake { error, zap_text } => match zap_text {
                Some(text) => format!("{error} (ZAP: {})", text.escape_ascii()),
                None => error.to_string(),
            },
            EngineEnd::Protocol(e) => e.to_string(),
            EngineEnd::Crypto(e) => e.to_string(),
            EngineEnd::PeerError(reason) => {
                format!("the peer sent ERROR \"{}\"", reason.escape_ascii())
            }
            EngineEnd::TimedOut if handshaking => {
                "the handshake did not finish within ZMQ_HANDSHAKE_IVL".to_owned()
            }
            EngineEnd::TimedOut => "the connection timed out".to_owned(),
            EngineEnd::HeartbeatTimeout(Expiry::NoReply) => {
                "no reply to our heartbeat within ZMQ_HEARTBEAT_TIMEOUT".to_owned()
            }
            EngineEnd::HeartbeatTimeout(Expiry::PeerTtl) => {
                "nothing from the peer within the TTL of its heartbeat".to_owned()
            }
        };
        let failed = match why {
            EngineEnd::Handshake { error, .. } | EngineEnd::Crypto(error) => {
                Some(match error.monitor_class() {
                    FailureClass::Protocol => (
                        EventKind::HandshakeFailedProtocol,
                        error.zmtp_error_code().unwrap_or(0),
                    ),
                    FailureClass::Auth => (
                        EventKind::HandshakeFailedAuth,
                        u32::from(error.zap_status().unwrap_or(0)),
                    ),
                    _ => (
                        EventKind::HandshakeFailedNoDetail,
                        monitor::value(no_detail_errno(error)),
                    ),
                })
            }
            _ if handshaking => {
                let errno = match why {
                    EngineEnd::Io(e) => e.raw_os_error().unwrap_or(errno::EPROTO),
                    EngineEnd::TimedOut => libc::ETIMEDOUT,
                    EngineEnd::PeerClosed => libc::EPIPE,
                    _ => errno::EPROTO,
                };
                Some((EventKind::HandshakeFailedNoDetail, monitor::value(errno)))
            }
            _ => None,
        };
        if let Some((kind, value)) = failed {
            self.emit(kind, value, |ev| ev.reason = Some(reason.clone()));
        }
        self.emit(EventKind::Disconnected, fd, |ev| ev.reason = Some(reason));
    }

    /// Moves queued outbound frames into the batch (sealed, after a CURVE handshake), while
    /// the stream takes what is written.
    ///
    /// Nothing is pulled while the stream is not writable: the messages stay in the pipe,
    /// where the high-water mark counts them, so a peer that stops reading makes the
    /// sender block (or see `EAGAIN`) after SNDHWM messages plus what the kernel holds,
    /// instead of after a whole batch of them.
    ///
    /// `heartbeats`: queue a due PING or PONG between messages (the I/O thread does;
    /// [`Engine::write_direct`] leaves them to it).
    fn pull_outbound(&mut self, heartbeats: bool) -> Result<bool, EngineEnd> {
        if matches!(self.phase, Phase::Handshake(_)) || !self.writable {
            return Ok(false);
        }
        let Some(pipe) = self.pipe.as_mut() else {
            return Ok(false);
        };
        let mut progress = false;
        // Each frame is read into this one place and encoded from there: returned by
        // value, it went through memory in pieces of other sizes than it was stored in,
        // and each such load waited for those stores (PERFORMANCE.md, "The sixteenth
        // pass").
        let mut f = Frame::default();
        while self.out.len() < OUT_BATCH {
            if self.out_at_start && heartbeats {
                progress |= queue_heartbeat(
                    &mut self.heartbeat,
                    &mut self.pong,
                    &mut self.sealer,
                    &mut self.out,
                )?;
            }
            if !pipe.reader.next_frame_into(&mut f) {
                if pipe.reader.is_finished() {
                    progress |= !self.out_closed;
                    self.out_closed = true;
                }
                break;
            }
            progress = true;
            let at_start = std::mem::replace(&mut self.out_at_start, !f.more);
            // A subscriber's single-frame message starting with 1 or 0 is a
            // subscription: a command for ZMTP 3.1 peers, a data frame for older.
            let subscription =
                self.subscriber && at_start && !f.more && matches!(f.data.first(), Some(0 | 1));
            match (&mut self.sealer, subscription) {
                (Some(sealer), true) => sealer
                    .seal_subscription(f.data[0] == 1, &f.data[1..], &mut self.out)
                    .map_err(EngineEnd::Crypto)?,
                (Some(sealer), false) => sealer
                    .seal_data(f.more, &f.data, &mut self.out)
                    .map_err(EngineEnd::Crypto)?,
                (None, true) => self.out.push_subscription(f.data[0] == 1, &f.data[1..]),
                (None, false) if !self.out.copies(f.data.len()) => {
                    self.out.push_data(f.more, std::mem::take(&mut f.data));
                    continue;
                }
                (None, false) => self.out.push_data_copy(f.more, &f.data),
            }
            if !f.data.is_inline() {
                // Copied into the batch: the body, likely cut from a chunk the sending
                // thread cuts the next ones from, is dropped with others.
                recycle::release(std::mem::take(&mut f.data));
            }
        }
        Ok(progress)
    }

    /// Ends the engine: cancels its timers and settles its pipe. Returns the owner and, for
    /// a connecter's session that outlives the connection, the pipe to keep.
    pub(crate) fn finish(
        mut self,
        why: EngineEnd,
        timers: &mut Timers,
    ) -> (Owner, Option<PipeEnd>) {
        for t in [
            self.handshake_timer.take(),
            self.linger_timer.take(),
            self.heartbeat_timer.take(),
            self.lease_timer.take(),
        ]
        .into_iter()
        .flatten()
        {
            timers.cancel(t.at, t.id);
        }
        let keep = self.persistent
            && !matches!(
                why,
                EngineEnd::Drained | EngineEnd::Terminated | EngineEnd::Detached
            );
        if let Some(pipe) = &self.pipe {
            // The socket's thread can no longer read or write for this connection.
            pipe.writer.set_direct_reader(None);
            pipe.reader.set_direct_writer(None);
        }
        match self.pipe.take() {
            Some(mut pipe) if keep => {
                // A message cut off by the disconnect is dropped whole.
                pipe.writer.rollback();
                if !self.options.hiccup_msg.is_empty()
                    && self.handshake_done()
                    && pipe.writer.can_write()
                {
                    // ZMQ_HICCUP_MSG, as libzmq's session when it starts reconnecting;
                    // dropped at the high-water mark (libzmq's `pipe_t::write` refuses it),
                    // so reconnecting in a loop cannot grow the queue.
                    pipe.writer
                        .write(Frame::new(self.options.hiccup_msg.clone(), false));
                    pipe.writer.flush();
                }
                (self.owner, Some(pipe))
            }
            Some(mut pipe) => {
                if let Some(notice) = self.options.disconnect_notice() {
                    // ZMQ_ROUTER_NOTIFY / ZMQ_DISCONNECT_MSG, after what the peer sent.
                    pipe.writer.rollback();
                    pipe.writer.write(Frame::new(notice, false));
                }
                pipe.writer.close();
                pipe.reader.close();
                (self.owner, None)
            }
            None => (self.owner, None),
        }
    }
}

/// Reads from `stream` into the spare capacity of `buf` (at most all of it), returning
/// how many bytes were appended. Linux: straight into the capacity, which is never
/// zeroed (rustix's `read` into `spare_capacity` is safe: it sets the length to what the
/// kernel wrote).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn read_into_capacity(
    stream: &mut Stream,
    buf: &mut Vec<u8>,
    _scratch: &mut Option<Box<[u8]>>,
) -> io::Result<usize> {
    use std::os::fd::AsFd;
    loop {
        // `recv`, not `read` (see `stream`).
        let flags = rustix::net::RecvFlags::empty();
        match rustix::net::recv(stream.as_fd(), rustix::buffer::spare_capacity(buf), flags) {
            Ok((n, _)) => return Ok(n),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Reads from `stream` into the spare capacity of `buf` (at most all of it), through
/// `scratch` (zeroed once per connection).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn read_into_capacity(
    stream: &mut Stream,
    buf: &mut Vec<u8>,
    scratch: &mut Option<Box<[u8]>>,
) -> io::Result<usize> {
    let scratch = scratch.get_or_insert_with(|| vec![0; READ_CHUNK].into_boxed_slice());
    let want = (buf.capacity() - buf.len()).min(scratch.len());
    let n = stream.read(&mut scratch[..want])?;
    buf.extend_from_slice(&scratch[..n]);
    Ok(n)
}

/// ZMTP 3.0 and older peers subscribe with a data frame `\x01topic`: notes in `found`
/// whether this frame, if it is a whole message (`at_start`: the frame before it ended
/// one), is such a subscription.
#[inline]
fn note_subscription(found: &mut bool, at_start: &mut bool, body: &[u8], more: bool) {
    *found |= !more && *at_start && body.first() == Some(&1);
    *at_start = !more;
}

/// Queues the PONG and the PING that wait, if any (sealed after a CURVE handshake).
/// Called only between messages. Returns whether anything was queued.
fn queue_heartbeat(
    heartbeat: &mut Option<Heartbeat>,
    pong: &mut Option<Command>,
    sealer: &mut Option<CurveSealer>,
    out: &mut WriteBatch,
) -> Result<bool, EngineEnd> {
    // Asked before every outbound message: nothing is built unless a command is due.
    let mut queued = false;
    if let Some(command) = pong.take() {
        queue_command(&command, sealer, out)?;
        queued = true;
    }
    if let Some(command) = heartbeat.as_mut().and_then(Heartbeat::take_ping) {
        queue_command(&command, sealer, out)?;
        queued = true;
    }
    Ok(queued)
}

fn queue_command(
    command: &Command,
    sealer: &mut Option<CurveSealer>,
    out: &mut WriteBatch,
) -> Result<(), EngineEnd> {
    match sealer {
        Some(sealer) => sealer.seal_command(command, out).map_err(EngineEnd::Crypto),
        // Neither fails: a PONG's context is cut to the limit, a PING has none.
        None => {
            let _ = out.push_command(command);
            Ok(())
        }
    }
}

/// The errno of a HANDSHAKE_FAILED_NO_DETAIL event for a failure of ours (libzmq gives
/// `EFAULT` when the ZAP handler it needs is missing).
fn no_detail_errno(error: &HandshakeError) -> i32 {
    match error {
        HandshakeError::NoZapHandler { .. } | HandshakeError::ZapNotPending => errno::EFAULT,
        _ => errno::EPROTO,
    }
}

/// CURVE's randomness for one handshake (at most 96 bytes: the short-term key, the cookie
/// key and two nonces), drawn from the operating system when the connection starts, so
/// that a failing generator fails the connection instead of panicking in the handshake.
struct Drawn {
    bytes: [u8; Self::LEN],
    used: usize,
}

impl Drawn {
    const LEN: usize = 128;

    fn from_os() -> io::Result<Self> {
        let mut bytes = [0; Self::LEN];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| io::Error::other(format!("the OS random generator failed: {e}")))?;
        Ok(Self { bytes, used: 0 })
    }
}

impl RngCore for Drawn {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let end = self.used + dest.len();
        if end <= Self::LEN {
            dest.copy_from_slice(&self.bytes[self.used..end]);
            self.bytes[self.used..end].zeroize();
            self.used = end;
        } else {
            // More than any handshake draws; the OS again.
            OsRng.fill_bytes(dest);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Drawn {}

impl Drop for Drawn {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_randomness_is_used_once_then_zeroed() {
        let mut rng = Drawn::from_os().unwrap();
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut a);
        rng.fill_bytes(&mut b);
        assert_ne!(a, b, "each draw takes fresh bytes");
        assert!(
            rng.bytes[..64].iter().all(|&x| x == 0),
            "drawn bytes are zeroed"
        );
        // Beyond what was drawn up front, the OS is asked again.
        let mut big = [0u8; 200];
        rng.fill_bytes(&mut big);
        assert!(big.iter().any(|&x| x != 0));
        assert_ne!(rng.next_u64(), rng.next_u64());
    }
}
