//! The engine: one per connection. It drives the handshake and then the traffic of one
//! non-blocking stream, moving frames between the stream and the socket's pipe.
//!
//! The engine makes no protocol decision itself: the greeting and mechanism are
//! `zmq_security::Handshake`, framing is `zmtp_codec`. Its loop reads while the stream is
//! readable and the inbound pipe has room, decodes everything read (many frames per read),
//! moves queued outbound frames into one batch, and writes the batch with vectored writes
//! (large frames are never copied), until nothing moves. After the peer hangs up it keeps
//! delivering what it already read before tearing down, so no received message is lost.

use std::io::{self, IoSlice, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;
use zmq_security::{Handshake, HandshakeConfig, HandshakeError, MechanismConfig};
use zmtp_codec::limits::DEFAULT_HANDSHAKE_COMMAND_SIZE;
use zmtp_codec::{Command, DecodeError, Decoder, Frame, Item, Metadata, Version, WriteBatch};

use crate::options::TransportOptions;
use crate::pipe::{pipe_pair, PipeEnd, Read as PipeRead, Wakeup};
use crate::reactor::{Ctx, Key, Scheduled, TimerId, TimerKind, Timers};
use crate::runtime::{EndpointId, NewPeer, SocketLink};
use crate::stream::Stream;

/// The most read at once when no large frame is pending.
const READ_CHUNK: usize = 64 * 1024;
/// Outbound bytes gathered before writing, so one connection cannot hog the thread.
const OUT_BATCH: usize = 256 * 1024;
/// The most chunks handed to one vectored write.
const MAX_IOV: usize = 64;

/// Who created the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// Accepted by a listener of this endpoint.
    Listener(EndpointId),
    /// Made by the connecter with this key.
    Connecter(Key),
}

/// Why an engine stopped.
///
/// The details are what the socket monitor reports (DISCONNECTED, HANDSHAKE_FAILED_* with
/// their reasons), which arrives with the monitor; until then only the kind of end is used.
#[derive(Debug)]
#[allow(dead_code)]
pub(crate) enum EngineEnd {
    /// The peer closed the connection (everything it sent was delivered).
    PeerClosed,
    /// A socket error.
    Io(io::Error),
    /// The handshake failed.
    Handshake(HandshakeError),
    /// The peer broke the framing rules after the handshake.
    Protocol(DecodeError),
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
}

enum Phase {
    /// Boxed: a handshake (with its mechanism's keys and state) is much larger than a
    /// decoder, and lasts only while the connection is set up.
    Handshake(Box<Handshake>),
    Active(Decoder),
}

pub(crate) struct Engine {
    stream: Stream,
    input: BytesMut,
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
}

impl Engine {
    pub(crate) fn new(
        stream: Stream,
        owner: Owner,
        link: Arc<dyn SocketLink>,
        options: Arc<TransportOptions>,
        session: Option<PipeEnd>,
        peer_routing_id: Option<Bytes>,
        ctx: &mut Ctx<'_>,
    ) -> Self {
        let mut out = WriteBatch::new(Version::V3_1);
        let mut config = HandshakeConfig::new(options.socket_type);
        config.routing_id = options.routing_id.clone();
        config.metadata = options.metadata.clone();
        config.mechanism = MechanismConfig::Null;
        let (phase, failed) = match Handshake::new(config, &mut out) {
            Ok(hs) => (Some(Phase::Handshake(Box::new(hs))), None),
            Err(e) => (None, Some(EngineEnd::Handshake(e))),
        };
        let handshake_timer = options.handshake_ivl.map(|ivl| {
            let at = Instant::now() + ivl;
            Scheduled {
                at,
                id: ctx.timers.add(at, ctx.key, TimerKind::Handshake),
            }
        });
        let persistent = session.is_some();
        Self {
            stream,
            input: BytesMut::with_capacity(READ_CHUNK),
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
            eof: false,
            in_blocked: false,
            out_closed: false,
            handshake_timer,
            closing: false,
            linger_timer: None,
            lingering: false,
            failed,
        }
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

    pub(crate) fn is_lingering(&self) -> bool {
        self.lingering
    }

    pub(crate) fn on_ready(&mut self, readable: bool, writable: bool) {
        self.readable |= readable;
        self.writable |= writable;
    }

    pub(crate) fn on_pipe_wake(&mut self, why: Wakeup) {
        if why == Wakeup::Writable {
            self.in_blocked = false;
        }
    }

    /// Whether the timer `id` ends the engine.
    pub(crate) fn timer_fired(&self, id: TimerId, kind: TimerKind) -> bool {
        match kind {
            TimerKind::Handshake => {
                self.handshake_timer.is_some_and(|t| t.id == id)
                    && matches!(self.phase, Phase::Handshake(_))
            }
            TimerKind::Linger => self.linger_timer.is_some_and(|t| t.id == id),
            _ => false,
        }
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
    pub(crate) fn run(&mut self, ctx: &mut Ctx<'_>) -> Result<(), EngineEnd> {
        if let Some(end) = self.failed.take() {
            return Err(end);
        }
        loop {
            let mut progress = false;
            if self.readable && !self.eof && !self.in_blocked {
                match self.read_some() {
                    Ok(0) => {
                        self.eof = true;
                        progress = true;
                    }
                    Ok(_) => progress = true,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.readable = false,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => progress = true,
                    Err(e) => return Err(EngineEnd::Io(e)),
                }
            }
            if !self.input.is_empty() && !self.in_blocked {
                progress |= self.process_input(ctx)?;
            }
            progress |= self.pull_outbound();
            if self.writable && !self.out.is_empty() {
                match self.write_some() {
                    Ok(n) => progress |= n > 0,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.writable = false,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => progress = true,
                    Err(e) => return Err(EngineEnd::Io(e)),
                }
            }
            if !progress {
                break;
            }
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

    fn read_some(&mut self) -> io::Result<usize> {
        let chunk = match &self.phase {
            // A large frame: grow with the bytes that arrive, never to the announced size
            // at once.
            Phase::Active(d) => match d.pending_body() {
                Some(len) if len > self.input.len() + READ_CHUNK => {
                    (len - self.input.len()).min(self.input.len().max(READ_CHUNK))
                }
                _ => READ_CHUNK,
            },
            Phase::Handshake(_) => READ_CHUNK,
        };
        let start = self.input.len();
        self.input.resize(start + chunk, 0);
        let result = self.stream.read(&mut self.input[start..]);
        self.input.truncate(start + *result.as_ref().unwrap_or(&0));
        result
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

    /// Runs the handshake or decodes traffic from the buffered input.
    fn process_input(&mut self, ctx: &mut Ctx<'_>) -> Result<bool, EngineEnd> {
        let before = (self.input.len(), self.out.len());
        if let Phase::Handshake(hs) = &mut self.phase {
            match hs.handle_input(&mut self.input, &mut self.out) {
                Ok(None) => return Ok((self.input.len(), self.out.len()) != before),
                Ok(Some(established)) => self.established(established, ctx),
                Err(e) => {
                    // Send an ERROR the handshake queued, if the socket takes it now.
                    let _ = self.write_some();
                    return Err(EngineEnd::Handshake(e));
                }
            }
        }
        let Phase::Active(decoder) = &mut self.phase else {
            return Ok(true);
        };
        let Some(pipe) = self.pipe.as_mut() else {
            return Ok(true);
        };
        loop {
            if !pipe.writer.in_message() && !pipe.writer.can_write() {
                self.in_blocked = true;
                break;
            }
            match decoder.decode(&mut self.input) {
                Ok(Some(Item::Data { body, more })) => {
                    pipe.writer.write(Frame { data: body, more })
                }
                Ok(Some(Item::Command(command))) => match command {
                    Command::Ping { .. } => {
                        if let Some(pong) = command.pong_for() {
                            // PONG never fails: its context is cut to the limit.
                            let _ = self.out.push_command(&pong);
                        }
                    }
                    Command::Error { reason } => return Err(EngineEnd::PeerError(reason)),
                    // Everything else after the handshake is dropped, as libzmq does;
                    // subscriptions arrive with the publish-subscribe sockets.
                    _ => {}
                },
                Ok(None) => break,
                Err(e) => {
                    pipe.writer.flush();
                    return Err(EngineEnd::Protocol(e));
                }
            }
        }
        pipe.writer.flush();
        Ok((self.input.len(), self.out.len()) != before)
    }

    /// The handshake is done: set up traffic and give the socket its peer.
    fn established(&mut self, est: zmq_security::Established, ctx: &mut Ctx<'_>) {
        if let Some(t) = self.handshake_timer.take() {
            ctx.timers.cancel(t.at, t.id);
        }
        let mut decoder = est.decoder;
        decoder.set_max_message_size(self.options.max_msg_size);
        decoder.set_max_command_size(
            self.options
                .max_msg_size
                .map(|m| m.max(DEFAULT_HANDSHAKE_COMMAND_SIZE)),
        );
        // Our own properties come first: lookups take the first match, so a peer cannot
        // pass off a `Peer-Address` of its choosing.
        let mut metadata = Metadata::new();
        let address = self.stream.peer_address();
        if !address.is_empty() {
            let _ = metadata.insert("Peer-Address", Bytes::from(address));
        }
        metadata.extend_from(&est.peer_metadata);
        let metadata = Arc::new(metadata);
        let pipe = match self.pipe.take() {
            Some(session) => session,
            None => {
                let (ours, theirs) = pipe_pair(self.options.rcvhwm, self.options.sndhwm);
                self.link.attach(NewPeer {
                    pipe: theirs,
                    routing_id: self
                        .peer_routing_id
                        .clone()
                        .unwrap_or_else(|| est.peer_routing_id.clone()),
                    socket_type: est.peer_socket_type,
                    metadata: Arc::clone(&metadata),
                    endpoint_id: self.endpoint_id(),
                });
                ours
            }
        };
        pipe.reader.set_waker(Arc::clone(ctx.waker), ctx.key as u64);
        pipe.writer.set_waker(Arc::clone(ctx.waker), ctx.key as u64);
        pipe.writer.set_metadata(metadata);
        self.pipe = Some(pipe);
        self.phase = Phase::Active(decoder);
    }

    /// Moves queued outbound frames into the batch, while the stream takes what is written.
    ///
    /// Nothing is pulled while the stream is not writable: the messages stay in the pipe,
    /// where the high-water mark counts them, so a peer that stops reading makes the
    /// sender block (or see `EAGAIN`) after SNDHWM messages plus what the kernel holds,
    /// instead of after a whole batch of them.
    fn pull_outbound(&mut self) -> bool {
        if matches!(self.phase, Phase::Handshake(_)) || !self.writable {
            return false;
        }
        let Some(pipe) = self.pipe.as_mut() else {
            return false;
        };
        let mut progress = false;
        while self.out.len() < OUT_BATCH {
            match pipe.reader.read() {
                PipeRead::Frame(f) => {
                    self.out.push_data(f.more, f.data);
                    progress = true;
                }
                PipeRead::Empty => break,
                PipeRead::Closed => {
                    progress |= !self.out_closed;
                    self.out_closed = true;
                    break;
                }
            }
        }
        progress
    }

    /// Ends the engine: cancels its timers and settles its pipe. Returns the owner and, for
    /// a connecter's session that outlives the connection, the pipe to keep.
    pub(crate) fn finish(
        mut self,
        why: EngineEnd,
        timers: &mut Timers,
    ) -> (Owner, Option<PipeEnd>) {
        for t in [self.handshake_timer.take(), self.linger_timer.take()]
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
        match self.pipe.take() {
            Some(mut pipe) if keep => {
                // A message cut off by the disconnect is dropped whole.
                pipe.writer.rollback();
                (self.owner, Some(pipe))
            }
            Some(mut pipe) => {
                pipe.writer.close();
                pipe.reader.close();
                (self.owner, None)
            }
            None => (self.owner, None),
        }
    }
}
