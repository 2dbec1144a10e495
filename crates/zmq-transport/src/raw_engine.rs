//! The raw engine of STREAM sockets (libzmq's `raw_engine_t`, `raw_decoder_t` and
//! `raw_encoder_t`): no greeting, no handshake, no framing.
//!
//! A STREAM socket's connection is an [`Engine`] that skips the ZMTP handshake: it gets its
//! pipe at once, and then
//!
//! - every read from the connection (at most [`RAW_READ_CHUNK`] bytes, as libzmq's) becomes
//!   one single-frame message in the socket's pipe (as libzmq's raw decoder makes one
//!   message per read), read only while the pipe is below
//!   its high-water mark, so a socket that stops receiving stops the reading (the peer then
//!   meets TCP's flow control);
//! - every frame the socket queues is written as it is, with no header (large ones without
//!   a copy);
//! - with `ZMQ_STREAM_NOTIFY` (the default), an empty message is queued when the
//!   connection is made and when it is lost (end of file or a socket error), which the
//!   STREAM pattern delivers as `[routing id, ""]`, unless the pipe is at its high-water
//!   mark (then it is dropped, as libzmq drops it);
//! - when the socket drops the peer (the application sent it an empty frame), nothing more
//!   is read, what it queued before is written first, then the connection closes, after
//!   at most `ZMQ_LINGER`, or [`RAW_CLOSE_DRAIN`] if that is infinite (libzmq drops what
//!   its engine had not taken yet).
//!
//! Nothing is parsed, so no peer input can do more than fill the pipe up to its
//! high-water mark. This module is a child of `engine` so that the two kinds of connection
//! share the reactor's handling (timers, linger, sessions) unchanged.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use zmtp_codec::{Frame, Metadata};

use super::{Engine, EngineEnd, Phase, OUT_BATCH};
use crate::pipe::{pipe_pair, Read as PipeRead};
use crate::reactor::{Ctx, Scheduled, TimerKind};
use crate::runtime::NewPeer;

/// The most one read takes, so one message holds at most this much: libzmq's
/// `in_batch_size` (8 KiB). A STREAM's queue at `ZMQ_RCVHWM` (1000 by default) then holds
/// at most 8 MiB per connection, as libzmq's.
const RAW_READ_CHUNK: usize = 8 * 1024;

/// The longest a connection the STREAM socket closed (it sent the peer an empty frame) may
/// take to write what was queued to it when `ZMQ_LINGER` is infinite (a finite linger
/// bounds it instead). libzmq drops what its engine had not taken at once; we write it,
/// but a peer that stops reading cannot keep the connection (and its queue) alive for ever.
const RAW_CLOSE_DRAIN: Duration = Duration::from_secs(10);

impl Engine {
    /// Turns a new engine into a raw one: no handshake (its timer is cancelled, the
    /// refusal of the STREAM type by the ZMTP handshake is forgotten), and the socket gets
    /// its peer now, with the connect notification first.
    pub(super) fn become_raw(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(t) = self.handshake_timer.take() {
            ctx.timers.cancel(t.at, t.id);
        }
        self.failed = None;
        self.phase = Phase::Raw;
        // The handshake wrote nothing (it refused STREAM first); make sure of it.
        self.out = zmtp_codec::WriteBatch::new(zmtp_codec::Version::V3_1);
        self.input.clear();
        let mut metadata = Metadata::new();
        let address = self.stream.peer_address();
        if !address.is_empty() {
            let _ = metadata.insert("Peer-Address", Bytes::from(address));
        }
        let metadata = Arc::new(metadata);
        let mut pipe = match self.pipe.take() {
            // A connect's session: the socket named this peer when it connected.
            Some(session) => session,
            None => {
                let (ours, theirs) = pipe_pair(self.options.rcvhwm, self.options.sndhwm);
                self.link.attach(NewPeer {
                    pipe: theirs,
                    routing_id: self.peer_routing_id.clone().unwrap_or_default(),
                    socket_type: None,
                    metadata: Arc::clone(&metadata),
                    endpoint_id: self.endpoint_id(),
                    in_process: false,
                });
                ours
            }
        };
        pipe.reader.set_waker(Arc::clone(ctx.waker), ctx.key as u64);
        pipe.writer.set_waker(Arc::clone(ctx.waker), ctx.key as u64);
        pipe.writer.set_metadata(metadata);
        // A connect's session lives across reconnections: a notification the socket has
        // no room for is dropped (as libzmq's `pipe_t::write` at the high-water mark), so
        // a peer that accepts and closes in a loop cannot grow the queue.
        if self.options.raw_notify && pipe.writer.can_write() {
            pipe.writer.write(Frame::last(Bytes::new()));
            pipe.writer.flush();
        }
        self.pipe = Some(pipe);
    }

    /// `Engine::run` for a raw connection: moves bytes until nothing moves. `Err` ends
    /// the engine; a lost connection first queues the disconnect notification.
    pub(super) fn run_raw(&mut self, ctx: &mut Ctx<'_>) -> Result<(), EngineEnd> {
        let result = self.move_raw(ctx);
        if matches!(result, Err(EngineEnd::PeerClosed | EngineEnd::Io(_))) {
            self.notify_lost();
        }
        result
    }

    fn move_raw(&mut self, ctx: &mut Ctx<'_>) -> Result<(), EngineEnd> {
        // The socket dropped this peer: nothing more is read (it would be discarded), and
        // what it queued before must be written within a bound.
        let dropped = self
            .pipe
            .as_ref()
            .is_some_and(|pipe| pipe.writer.is_reader_closed());
        if dropped && self.linger_timer.is_none() {
            let bound = self.options.linger.unwrap_or(RAW_CLOSE_DRAIN);
            if bound.is_zero() {
                return Err(EngineEnd::Detached);
            }
            let at = Instant::now() + bound;
            self.linger_timer = Some(Scheduled {
                at,
                id: ctx.timers.add(at, ctx.key, TimerKind::Linger),
            });
        }
        loop {
            let mut progress = false;
            if self.readable && !self.eof && !self.in_blocked && !dropped {
                progress |= self.read_raw()?;
            }
            progress |= self.pull_raw();
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
        // Every read was delivered as it came: at the end of the stream, nothing is left.
        if self.eof {
            return Err(EngineEnd::PeerClosed);
        }
        let written = self.out.is_empty();
        if self.closing && written && (self.out_closed || self.pipe.is_none()) {
            return Err(EngineEnd::Drained);
        }
        // The socket dropped this peer (or asked to close it): what it queued before is
        // written, then the connection closes.
        if let Some(pipe) = &self.pipe {
            if pipe.writer.is_reader_closed() && self.out_closed && written {
                return Err(EngineEnd::Detached);
            }
        }
        Ok(())
    }

    /// One read, delivered as one message, if the pipe has room. Returns whether anything
    /// moved.
    fn read_raw(&mut self) -> Result<bool, EngineEnd> {
        let Some(pipe) = self.pipe.as_mut() else {
            return Ok(false);
        };
        if !pipe.writer.can_write() {
            // Woken (`Wakeup::Writable`) when the socket has read down to the low-water
            // mark.
            self.in_blocked = true;
            return Ok(false);
        }
        // `input` is a scratch buffer here, kept at its size: each read is copied out to a
        // message of exactly its length, so a small read never pins a large buffer.
        if self.input.len() < RAW_READ_CHUNK {
            self.input.resize(RAW_READ_CHUNK, 0);
        }
        match self.stream.read(&mut self.input[..RAW_READ_CHUNK]) {
            Ok(0) => {
                self.eof = true;
                Ok(true)
            }
            Ok(n) => {
                let data = Bytes::copy_from_slice(&self.input[..n]);
                pipe.writer.write(Frame::last(data));
                pipe.writer.flush();
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.readable = false;
                Ok(false)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
            Err(e) => Err(EngineEnd::Io(e)),
        }
    }

    /// Moves queued frames into the batch as raw bytes, while the stream takes what is
    /// written (as `Engine::pull_outbound`, so SNDHWM keeps counting what waits).
    fn pull_raw(&mut self) -> bool {
        if !self.writable {
            return false;
        }
        let Some(pipe) = self.pipe.as_mut() else {
            return false;
        };
        let mut progress = false;
        while self.out.len() < OUT_BATCH {
            match pipe.reader.read() {
                PipeRead::Frame(f) => {
                    self.out.push_bytes(f.data);
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

    /// The connection is lost: with `ZMQ_STREAM_NOTIFY`, the socket gets an empty message
    /// if it has room for it (dropped at the high-water mark, as the connect
    /// notification).
    fn notify_lost(&mut self) {
        if !self.options.raw_notify {
            return;
        }
        if let Some(pipe) = self.pipe.as_mut() {
            pipe.writer.rollback();
            if pipe.writer.can_write() {
                pipe.writer.write(Frame::last(Bytes::new()));
                pipe.writer.flush();
            }
        }
    }
}
