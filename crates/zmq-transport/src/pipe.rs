//! Pipes: the bounded message queues between a socket and its peers.
//!
//! A [`queue`] carries frames one way, from one [`Writer`] to one [`Reader`]; a
//! [`pipe_pair`] is two queues, one each way, as every peer of a socket has. The writer
//! publishes whole messages only, so a reader never sees part of one.
//!
//! **No lock on the hot path.** Frames travel through a single-producer, single-consumer
//! list of chunks (`frames`, libzmq's `yqueue_t`: no read-modify-write per frame, a chunk
//! per 64 frames, the last chunk read reused). The writer keeps an unfinished message to
//! itself and pushes it whole, then publishes the frames and counts the message in
//! `written`; the reader starts a message only when `written` says a whole one is there.
//! High-water marks are those counters too. A mutex guards only what changes rarely: the
//! wakers, and the peer's metadata.
//!
//! **Wake-ups** happen only on transitions, never per message: a reader that found the
//! queue empty is woken ([`Wakeup::Readable`]) by the next flush; a writer that found the
//! queue full is woken ([`Wakeup::Writable`]) once the reader has brought it down to the
//! low-water mark; either side is woken ([`Wakeup::Closed`]) when the other closes. Each
//! "I am waiting" flag is set before its side checks the counters a last time, and checked
//! by the other side after it moved them, with sequentially consistent atomics, so no
//! wake-up is lost.
//!
//! **High-water mark** (`ZMQ_SNDHWM`/`ZMQ_RCVHWM`): counted in whole messages, 0 for no
//! limit; the low-water mark is `(hwm + 1) / 2` as in libzmq (`pipe.cpp`, `compute_lwm`).
//! Either end may change it while messages flow ([`Writer::set_hwm`], [`Reader::set_hwm`]),
//! as libzmq's `pipe_t::set_hwms` does; a writer waiting for room is woken if the new mark
//! gives it some. An inproc queue's mark is the sum of both sockets' marks
//! ([`Writer::set_hwm_parts`]): each end then changes its own part only.
//!
//! **Conflation** (`ZMQ_CONFLATE`, libzmq's `ypipe_conflate`): a conflating queue holds at
//! most one message, the last one written; a new message replaces an unread one, and no
//! high-water mark applies. It is one slot under a lock instead of the lock-free queue.

use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use zmtp_codec::{Frame, Metadata, Payload};

use crate::direct::DirectPoll;

/// Why a pipe end is woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Wakeup {
    /// The queue this reader found empty has messages again.
    Readable,
    /// The queue this writer found full has room again.
    Writable,
    /// The other end was closed.
    Closed,
    /// The connection behind this pipe was re-established (libzmq's pipe hiccup): sent to
    /// the writer of a queue whose reader called [`Reader::hiccup`]. The writer must call
    /// [`Writer::hiccup_ack`]; the reader reads nothing until then.
    Hiccup,
}

/// Something to wake when a pipe end's state changes: a socket or an I/O thread.
pub trait Wake: Send + Sync {
    /// Called with the token the end was registered with. Must not block.
    fn wake(&self, token: u64, why: Wakeup);
}

/// A connection whose input the socket's own thread may wait for and read, instead of
/// the I/O thread reading it and waking the socket (REQ and REP, where every message is
/// awaited by a caller blocked in a receive: that wake-up is a few microseconds of each
/// one-way trip).
///
/// [`DirectRead::wait`] and [`DirectRead::finish`] come in pairs: while the socket's
/// thread waits, the I/O thread leaves the connection's input alone.
pub trait DirectRead: Send + Sync {
    /// Waits with `poll` until the connection has input, the socket's own wake-up
    /// descriptor is readable, or `timeout` passes. `None`: the connection cannot be
    /// waited on this way now (busy, input known to be waiting, closing...), and nothing
    /// was waited for; `Some(readable)` otherwise, to be followed by
    /// [`DirectRead::finish`].
    fn wait(&self, poll: &mut DirectPoll, timeout: Option<Duration>) -> Option<bool>;

    /// Ends a wait: reads and decodes what arrived (when `readable`) into the socket's
    /// pipe, and hands anything else (end of stream, errors, a PONG to send) to the I/O
    /// thread. The input may stay the socket's thread's for a while, unwatched by the
    /// I/O thread, for its next wait here.
    fn finish(&self, readable: bool);

    /// Gives the input back to the I/O thread at once: the socket's thread is about to
    /// wait for its messages some other way (a poll, a wait on several peers).
    fn release(&self);
}

/// A connection the socket's own thread may write a whole frame to from the caller's
/// buffer, when nothing is queued ahead of it: the copy `send(&[u8])` would make of a
/// large message into a new one, and the hand-over to the I/O thread, are spared.
pub trait DirectWrite: Send + Sync {
    /// Writes the frames `prefix` (the frames of the message before this one, not yet
    /// published on the pipe: [`Writer::unfinished`]) and the data frame `body` (`more`:
    /// more frames of its message follow) now, if the connection is idle (traffic flowing,
    /// nothing of its own waiting to be written, nothing in the pipe, writable). `false`:
    /// nothing was written, and the frames are to be sent through the pipe as usual.
    ///
    /// When the stream does not take everything at once, the caller waits for room and
    /// writes the rest itself until `hold_until` (the I/O thread writes nothing on the
    /// connection meanwhile); what is left then (or at once, with `None`) is copied and
    /// left to the I/O thread.
    fn write_frame(
        &self,
        prefix: &[&Frame],
        more: bool,
        body: &[u8],
        hold_until: Option<Instant>,
    ) -> bool;
}

type Waker = Option<(Arc<dyn Wake>, u64)>;

/// A counter on a cache line of its own: `written` changes at every flush on the writer's
/// thread and `read` at every message on the reader's, so sharing a line with each other
/// (or with the flags both sides read) would move it between the cores each time.
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

mod frames;
pub(crate) mod fuzzing;
mod sync;

use frames::{FrameRx, FrameTx};

struct Shared {
    /// Whole messages pushed by the writer.
    written: Padded<AtomicU64>,
    /// Messages taken by the reader.
    read: Padded<AtomicU64>,
    /// Bytes of the frames taken by the reader, stored with `read` ([`Writer::pace`]).
    read_bytes: Padded<AtomicU64>,
    /// The reader found no message and waits for the next flush.
    reader_waiting: AtomicBool,
    /// The writer found the queue full and waits for the low-water mark.
    writer_waiting: AtomicBool,
    /// While the writer waits to be paced ([`Writer::pace`]): the reader's byte count
    /// that ends the wait (0: none). Set by the writer, taken back (0) by the side that
    /// ends the wait.
    pace_target: AtomicU64,
    /// The writer will push nothing more.
    writer_closed: AtomicBool,
    /// The reader end is closed: writes are discarded.
    reader_closed: AtomicBool,
    /// The reader asked for a hiccup and reads nothing until the writer acknowledges it.
    hiccup_pending: AtomicBool,
    /// Messages with an index below this are discarded by the reader (written before a
    /// hiccup was acknowledged).
    discard_before: AtomicU64,
    /// Bumped whenever the metadata changes, so the reader checks it without locking.
    metadata_epoch: AtomicU64,
    /// A direct reader is published in `rare` (checked without locking).
    has_direct_reader: AtomicBool,
    /// A direct writer is published in `rare` (checked without locking).
    has_direct_writer: AtomicBool,
    rare: Mutex<Rare>,
    /// The high-water mark in effect (0: none), boost included.
    hwm: AtomicU64,
    lwm: AtomicU64,
    /// The mark is the sum of the writer's and the reader's parts (inproc).
    split: AtomicBool,
    writer_part: AtomicU64,
    reader_part: AtomicU64,
    /// The queue holds only the last message written (`ZMQ_CONFLATE`).
    conflate: AtomicBool,
    /// A conflating queue's one message.
    slot: Mutex<Option<Vec<Frame>>>,
}

/// What changes rarely, under a lock.
#[derive(Default)]
struct Rare {
    reader_waker: Waker,
    writer_waker: Waker,
    /// The properties of the peer the messages come from, set by the engine after each
    /// handshake.
    metadata: Option<Arc<Metadata>>,
    /// The connection behind the writer, when the reader's thread may read it itself.
    direct_reader: Option<Arc<dyn DirectRead>>,
    /// The connection behind the reader, when the writer's thread may write to it itself.
    direct_writer: Option<Arc<dyn DirectWrite>>,
}

impl Shared {
    /// Sets the mark from one end's value (0: no limit). A split mark is the sum of both
    /// parts, unlimited if either is, as libzmq's `pipe_t::set_hwms`. Wakes a writer the
    /// new mark lets on.
    fn set_hwm(&self, hwm: u64, from_writer: bool) {
        // Both sockets of an inproc pipe may change their part at once: the part is stored
        // and the total computed and stored under the lock, so the last to set leaves the
        // sum of both current parts (not one stale part).
        let rare = self.rare.lock();
        let total = if self.split.load(Ordering::Relaxed) {
            let (w, r) = if from_writer {
                self.writer_part.store(hwm, Ordering::Relaxed);
                (hwm, self.reader_part.load(Ordering::Relaxed))
            } else {
                self.reader_part.store(hwm, Ordering::Relaxed);
                (self.writer_part.load(Ordering::Relaxed), hwm)
            };
            if w == 0 || r == 0 {
                0
            } else {
                w.saturating_add(r)
            }
        } else {
            hwm
        };
        self.hwm.store(total, Ordering::SeqCst);
        self.lwm.store(total.div_ceil(2), Ordering::SeqCst);
        // Waking takes the lock again.
        drop(rare);
        let queued = self
            .written
            .load(Ordering::SeqCst)
            .saturating_sub(self.read.load(Ordering::SeqCst));
        if self.writer_waiting.load(Ordering::SeqCst)
            && (total == 0 || queued < total)
            && self.writer_waiting.swap(false, Ordering::SeqCst)
        {
            self.wake_writer(Wakeup::Writable);
        }
    }

    fn wake_reader(&self, why: Wakeup) {
        let waker = self.rare.lock().reader_waker.clone();
        if let Some((waker, token)) = waker {
            waker.wake(token, why);
        }
    }

    fn wake_writer(&self, why: Wakeup) {
        let waker = self.rare.lock().writer_waker.clone();
        if let Some((waker, token)) = waker {
            waker.wake(token, why);
        }
    }
}

/// Creates a queue holding at most `hwm` messages (0 for no limit).
pub fn queue(hwm: usize) -> (Writer, Reader) {
    let hwm = hwm as u64;
    let (frames_tx, frames_rx) = frames::frames();
    let shared = Arc::new(Shared {
        written: Padded(AtomicU64::new(0)),
        read: Padded(AtomicU64::new(0)),
        read_bytes: Padded(AtomicU64::new(0)),
        pace_target: AtomicU64::new(0),
        reader_waiting: AtomicBool::new(false),
        writer_waiting: AtomicBool::new(false),
        writer_closed: AtomicBool::new(false),
        reader_closed: AtomicBool::new(false),
        hiccup_pending: AtomicBool::new(false),
        discard_before: AtomicU64::new(0),
        metadata_epoch: AtomicU64::new(0),
        has_direct_reader: AtomicBool::new(false),
        has_direct_writer: AtomicBool::new(false),
        rare: Mutex::new(Rare::default()),
        hwm: AtomicU64::new(hwm),
        lwm: AtomicU64::new(hwm.div_ceil(2)),
        split: AtomicBool::new(false),
        writer_part: AtomicU64::new(0),
        reader_part: AtomicU64::new(0),
        conflate: AtomicBool::new(false),
        slot: Mutex::new(None),
    });
    (
        Writer {
            shared: Arc::clone(&shared),
            frames: frames_tx,
            pending: VecDeque::new(),
            complete_frames: 0,
            complete_msgs: 0,
            written: 0,
            read_seen: Cell::new(0),
            written_bytes: 0,
            read_bytes_seen: 0,
            pace_off: false,
            closed: false,
        },
        Reader {
            shared,
            frames: frames_rx,
            read: 0,
            read_bytes: 0,
            published_bytes: 0,
            published: 0,
            written_seen: 0,
            in_message: false,
            closed: false,
            metadata: None,
            metadata_epoch: 0,
            connected: false,
            taken: VecDeque::new(),
            catch_up_spins: 0,
            read_when_empty: 0,
        },
    )
}

/// One end of a pair of queues: what it writes, and what it reads.
pub struct PipeEnd {
    /// Messages to the other end.
    pub writer: Writer,
    /// Messages from the other end.
    pub reader: Reader,
}

/// Creates two connected pipe ends. Messages written at `a` are read at `b` (at most
/// `a_to_b_hwm` queued), and the reverse.
pub fn pipe_pair(a_to_b_hwm: usize, b_to_a_hwm: usize) -> (PipeEnd, PipeEnd) {
    let (aw, br) = queue(a_to_b_hwm);
    let (bw, ar) = queue(b_to_a_hwm);
    (
        PipeEnd {
            writer: aw,
            reader: ar,
        },
        PipeEnd {
            writer: bw,
            reader: br,
        },
    )
}

/// The writing end of a queue.
pub struct Writer {
    shared: Arc<Shared>,
    frames: FrameTx<Frame>,
    /// Frames written but not yet pushed: whole messages, then maybe part of one.
    pending: VecDeque<Frame>,
    /// How many frames at the front of `pending` form whole messages.
    complete_frames: usize,
    complete_msgs: u64,
    /// Messages pushed, as known to the writer.
    written: u64,
    /// The reader's count when the writer last looked: the queue has at least the room
    /// this leaves, so the writer looks again only when it seems full.
    read_seen: Cell<u64>,
    /// Bytes of the frames written (those of an unfinished message included).
    written_bytes: u64,
    /// The reader's byte count when the writer last looked ([`Writer::pace`]).
    read_bytes_seen: u64,
    /// A wait for the reader ran out ([`Writer::give_up_pace`]): no pacing until the
    /// reader has caught up.
    pace_off: bool,
    closed: bool,
}

impl Writer {
    /// Registers what to wake, with `token`, when the queue has room again or the reader
    /// closes.
    pub fn set_waker(&self, waker: Arc<dyn Wake>, token: u64) {
        self.shared.rare.lock().writer_waker = Some((waker, token));
    }

    /// Whether a new message may be written (the queue is below its high-water mark). When
    /// it is not, the writer is woken with [`Wakeup::Writable`] once the reader has brought
    /// the queue down to the low-water mark.
    pub fn can_write(&self) -> bool {
        let s = &*self.shared;
        let hwm = s.hwm.load(Ordering::Relaxed);
        if hwm == 0 || s.reader_closed.load(Ordering::Relaxed) {
            return true;
        }
        if s.conflate.load(Ordering::Relaxed) {
            // A new message replaces the unread one: there is always room.
            return true;
        }
        let queued = self.written + self.complete_msgs;
        if queued.saturating_sub(self.read_seen.get()) < hwm {
            return true;
        }
        self.read_seen.set(s.read.load(Ordering::SeqCst));
        if queued.saturating_sub(self.read_seen.get()) < hwm {
            return true;
        }
        s.writer_waiting.store(true, Ordering::SeqCst);
        // The reader (or a new mark) may have made room since: check again, now that it
        // will see the flag.
        queued.saturating_sub(s.read.load(Ordering::SeqCst)) < s.hwm.load(Ordering::SeqCst)
    }

    /// Changes the high-water mark (0: no limit) while the queue is in use, as
    /// `ZMQ_SNDHWM` set after connecting does in libzmq 4.3. Messages already queued stay;
    /// a writer waiting for room is woken if the new mark gives it some.
    pub fn set_hwm(&self, hwm: usize) {
        self.shared.set_hwm(hwm as u64, true);
    }

    /// Makes the mark the sum of two parts, the writing socket's (`ZMQ_SNDHWM`) and the
    /// reading socket's (`ZMQ_RCVHWM`), as an inproc queue's: from now on each end's
    /// `set_hwm` changes its own part. Unlimited if either part is 0.
    pub fn set_hwm_parts(&self, writer_part: usize, reader_part: usize) {
        let s = &*self.shared;
        {
            let _rare = s.rare.lock();
            s.writer_part.store(writer_part as u64, Ordering::Relaxed);
            s.split.store(true, Ordering::Relaxed);
        }
        s.set_hwm(reader_part as u64, false);
    }

    /// Makes this queue conflating (`ZMQ_CONFLATE`): it keeps only the last message
    /// written. Call it before the first write.
    pub fn set_conflate(&self, conflate: bool) {
        self.shared.conflate.store(conflate, Ordering::Relaxed);
    }

    /// Appends a frame. The message becomes readable once its last frame (without `more`)
    /// is written and [`Writer::flush`] is called. Frames written after the reader closed
    /// are discarded.
    pub fn write(&mut self, frame: Frame) {
        self.write_with(frame.len(), frame.more, || frame);
    }

    /// [`Writer::write`] of the frame at `frame`, taken from there (an empty frame is left
    /// in its place): the hot path of a socket's send, which hands its frame down through
    /// the pattern instead of moving it through each call.
    #[inline]
    pub fn write_from(&mut self, frame: &mut Frame) {
        self.write_with(frame.len(), frame.more, || std::mem::take(frame));
    }

    /// [`Writer::write`] of a frame holding a copy of `bytes`: the hot path of an I/O
    /// thread's decoding ([`zmtp_codec::decode::Decoder::decode_small`]), where a small
    /// body is copied from the read buffer into the queue's slot, its frame built there
    /// and not moved through memory on its way.
    #[inline]
    pub fn write_copy(&mut self, bytes: &[u8], more: bool) {
        if !self.shared.reader_closed.load(Ordering::Relaxed) && self.straight_in(more) {
            if let Some(data) = Payload::inline(bytes) {
                // Built here, in the one call that stores it: built in `write_with`'s
                // closure, called at three places, it was returned through memory.
                self.push_whole(bytes.len(), Frame { data, more });
                return;
            }
        }
        self.write(Frame {
            data: Payload::copy_from_slice(bytes),
            more,
        });
    }

    /// Whether a frame written now goes straight into the queue: a whole message with
    /// nothing before it held back, into a queue that does not conflate. Saves the round
    /// trip through `pending` that single-frame messages, most of them, would make.
    #[inline(always)]
    fn straight_in(&self, more: bool) -> bool {
        !more && self.pending.is_empty() && !self.shared.conflate.load(Ordering::Relaxed)
    }

    /// Pushes `frame` of `len` bytes, a whole message ([`Writer::straight_in`]): counted
    /// (and so readable) at the next flush.
    #[inline(always)]
    fn push_whole(&mut self, len: usize, frame: Frame) {
        self.written_bytes += len as u64;
        self.frames.push(frame);
        self.complete_msgs += 1;
    }

    /// The body of the writes: `take` gives the frame of `len` bytes, called once
    /// where it is stored (or to drop it, when the reader closed).
    #[inline(always)]
    fn write_with(&mut self, len: usize, more: bool, take: impl FnOnce() -> Frame) {
        if self.shared.reader_closed.load(Ordering::Relaxed) {
            drop(take());
            self.pending.clear();
            self.complete_frames = 0;
            self.complete_msgs = 0;
            return;
        }
        if self.straight_in(more) {
            self.push_whole(len, take());
            return;
        }
        self.written_bytes += len as u64;
        self.pending.push_back(take());
        if !more {
            self.complete_frames = self.pending.len();
            self.complete_msgs += 1;
        }
    }

    /// Pushes the whole messages written so far, waking the reader if it waits.
    pub fn flush(&mut self) {
        if self.complete_msgs == 0 {
            return;
        }
        if self.shared.conflate.load(Ordering::Relaxed) {
            self.flush_conflated();
            return;
        }
        if self.complete_frames > 0 {
            // (Not even an empty drain for the messages `write` pushed already: its set-up
            // and drop were a tenth of the instructions of a small send.)
            for frame in self.pending.drain(..self.complete_frames) {
                self.frames.push(frame);
            }
        }
        self.frames.publish();
        self.written += self.complete_msgs;
        self.complete_frames = 0;
        self.complete_msgs = 0;
        let s = &*self.shared;
        s.written.store(self.written, Ordering::SeqCst);
        if s.reader_waiting.load(Ordering::SeqCst) && s.reader_waiting.swap(false, Ordering::SeqCst)
        {
            s.wake_reader(Wakeup::Readable);
        }
    }

    /// A conflating queue keeps the last whole message only: it replaces an unread one,
    /// and counts as a new message only when the slot was empty.
    fn flush_conflated(&mut self) {
        let whole: Vec<Frame> = self.pending.drain(..self.complete_frames).collect();
        let start = whole[..whole.len().saturating_sub(1)]
            .iter()
            .rposition(|f| !f.more)
            .map_or(0, |i| i + 1);
        let last = whole.into_iter().skip(start).collect::<Vec<_>>();
        self.complete_frames = 0;
        self.complete_msgs = 0;
        let s = &*self.shared;
        {
            let mut slot = s.slot.lock();
            let was_empty = slot.is_none();
            *slot = Some(last);
            if was_empty {
                self.written += 1;
                s.written.store(self.written, Ordering::SeqCst);
            }
        }
        if s.reader_waiting.load(Ordering::SeqCst) && s.reader_waiting.swap(false, Ordering::SeqCst)
        {
            s.wake_reader(Wakeup::Readable);
        }
    }

    /// Sets the peer properties that messages pushed from now on carry (for
    /// `zmq_msg_gets`). The reader sees them from its next message on.
    pub fn set_metadata(&self, metadata: Arc<Metadata>) {
        self.shared.rare.lock().metadata = Some(metadata);
        self.shared.metadata_epoch.fetch_add(1, Ordering::Release);
    }

    /// Publishes (or withdraws) the connection the reader's thread may read itself
    /// ([`DirectRead`]).
    pub fn set_direct_reader(&self, reader: Option<Arc<dyn DirectRead>>) {
        let mut rare = self.shared.rare.lock();
        self.shared
            .has_direct_reader
            .store(reader.is_some(), Ordering::Release);
        rare.direct_reader = reader;
    }

    /// The frames of the message begun and not finished, oldest first (not yet visible
    /// to the reader).
    pub fn unfinished(&self) -> impl Iterator<Item = &Frame> {
        self.pending.range(self.complete_frames..)
    }

    /// Discards the frames of an unfinished message (also once they were sent some other
    /// way, [`DirectWrite`]).
    pub fn rollback(&mut self) {
        for frame in self.pending.drain(self.complete_frames..) {
            self.written_bytes -= frame.len() as u64;
        }
    }

    /// Whether a sender that blocks at the high-water mark should wait after this
    /// message before it sends more: when at least `limit` bytes written are not yet
    /// taken by the reader (0: never). If so, the writer is woken with
    /// [`Wakeup::Writable`] once the reader has brought them down to half of `limit`, and
    /// calls [`Writer::end_pace`] then, or [`Writer::give_up_pace`] if that took too long.
    ///
    /// This bounds the bytes in flight of a stream of large messages without changing
    /// what the high-water mark admits (`ARCHITECTURE.md`, "Send pacing"): a sender
    /// that runs ahead fills the queue with a thousand copies in fresh memory, each
    /// faulted in and cleared, and out of every cache by the time it is written; paced,
    /// it reuses a few buffers that are still warm.
    pub fn pace(&mut self, limit: u64) -> bool {
        if !self.pace_due(limit) {
            return false;
        }
        let s = &*self.shared;
        if self.closed
            || s.conflate.load(Ordering::Relaxed)
            || s.reader_closed.load(Ordering::Relaxed)
        {
            return false;
        }
        self.read_bytes_seen = s.read_bytes.load(Ordering::SeqCst);
        let queued = self.written_bytes.saturating_sub(self.read_bytes_seen);
        if self.pace_off {
            if queued > limit / 2 {
                return false;
            }
            self.pace_off = false;
        }
        if queued < limit {
            return false;
        }
        let target = self.written_bytes - limit / 2;
        s.pace_target.store(target, Ordering::SeqCst);
        // The reader may have published past the target since: check again, now that it
        // will see the target. Whoever takes the target back wakes or goes on.
        self.read_bytes_seen = s.read_bytes.load(Ordering::SeqCst);
        if self.read_bytes_seen >= target
            && s.pace_target
                .compare_exchange(target, 0, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            return false;
        }
        // Else the reader took it, and its wake-up is on the way.
        true
    }

    /// Whether [`Writer::pace`] may find a wait needed: a test of the writer's own
    /// counts, for every message sent (the reader's count only grows, so what was seen of
    /// it leaves at least the room it did).
    #[inline]
    pub fn pace_due(&self, limit: u64) -> bool {
        limit != 0 && (self.written_bytes - self.read_bytes_seen >= limit || self.pace_off)
    }

    /// Ends a wait begun by [`Writer::pace`].
    pub fn end_pace(&mut self) {
        self.shared.pace_target.store(0, Ordering::SeqCst);
    }

    /// Ends a wait begun by [`Writer::pace`] that the reader did not end in time (a
    /// reader that is not reading, or a slow link): no more pacing until the reader has
    /// caught up, so that such a sender does not wait at every message.
    pub fn give_up_pace(&mut self) {
        self.end_pace();
        self.pace_off = true;
    }

    /// Whether a message has been begun and not finished.
    pub fn in_message(&self) -> bool {
        self.pending.len() > self.complete_frames
    }

    /// The connection behind the reader, if this writer's thread may write a frame to it
    /// itself ([`DirectWrite`]).
    pub fn direct_writer(&self) -> Option<Arc<dyn DirectWrite>> {
        if !self.shared.has_direct_writer.load(Ordering::Acquire) {
            return None;
        }
        self.shared.rare.lock().direct_writer.clone()
    }

    /// Messages queued and not yet read (pushed or not).
    pub fn queued(&self) -> u64 {
        (self.written + self.complete_msgs).saturating_sub(self.shared.read.load(Ordering::Relaxed))
    }

    /// Whether the reader end is closed (writes are discarded).
    pub fn is_reader_closed(&self) -> bool {
        self.shared.reader_closed.load(Ordering::Relaxed)
    }

    /// Acknowledges a [`Wakeup::Hiccup`]: every message written so far (and not yet read)
    /// is discarded, so what is written from now on goes to the new connection alone, and
    /// the reader resumes.
    pub fn hiccup_ack(&mut self) {
        self.flush();
        let s = &*self.shared;
        s.discard_before.store(self.written, Ordering::SeqCst);
        if s.hiccup_pending.swap(false, Ordering::SeqCst) {
            s.reader_waiting.store(false, Ordering::SeqCst);
            s.wake_reader(Wakeup::Readable);
        }
    }

    /// Pushes what is whole, drops the rest, and tells the reader no more will come:
    /// after the queued messages it reads the end of the queue. The reader is woken with
    /// [`Wakeup::Closed`].
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.rollback();
        self.flush();
        // A hiccup nobody will acknowledge any more: the reader reads on to the end.
        self.shared.hiccup_pending.store(false, Ordering::SeqCst);
        self.shared.writer_closed.store(true, Ordering::SeqCst);
        self.shared.reader_waiting.store(false, Ordering::SeqCst);
        self.shared.wake_reader(Wakeup::Closed);
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("queued", &self.queued())
            .field("hwm", &self.shared.hwm.load(Ordering::Relaxed))
            .finish()
    }
}

/// The reading end of a queue.
pub struct Reader {
    shared: Arc<Shared>,
    frames: FrameRx<Frame>,
    read: u64,
    /// Bytes of the frames taken (see [`Writer::pace`]).
    read_bytes: u64,
    /// The byte count last stored in `shared.read_bytes`.
    published_bytes: u64,
    /// The count last stored in `shared.read` for the writer (see [`Reader::publish_read`]).
    published: u64,
    /// The writer's count when the reader last looked: messages up to it are there
    /// without looking again.
    written_seen: u64,
    /// A message was begun: its remaining frames are in the queue.
    in_message: bool,
    closed: bool,
    metadata: Option<Arc<Metadata>>,
    metadata_epoch: u64,
    /// [`Reader::hiccup`] was called before: the reader had a connection.
    connected: bool,
    /// The rest of a message taken from a conflating queue's slot.
    taken: VecDeque<Frame>,
    /// How many times a reader that caught up polls the writer's count before it asks
    /// to be woken ([`Reader::set_catch_up_spin`]; 0: it asks at once).
    catch_up_spins: u32,
    /// `read` when the reader last found no message at its first look: a reader that
    /// has read [`CATCH_UP_BATCH`] messages since trails a stream.
    read_when_empty: u64,
}

/// What [`Reader::read`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read {
    /// The next frame.
    Frame(Frame),
    /// Nothing now; the reader is woken with [`Wakeup::Readable`] when messages arrive.
    Empty,
    /// The writer closed the queue and every message was read.
    Closed,
}

/// At most how many messages a reader reads before it tells the writer
/// ([`Reader::publish_read`]): an eighth of the high-water mark, so that a writer finds
/// the queue full early by little, and no more than 64. With a mark below 8, every
/// message.
fn publish_lag(hwm: u64) -> u64 {
    match hwm {
        0 => 64,
        hwm => (hwm / 8).min(64),
    }
}

/// At most how many bytes a reader takes before it tells the writer
/// ([`Reader::publish_read`]), however few messages they are: a writer that paces its
/// stream ([`Writer::pace`]) by a stale count would wait for room the reader has made
/// already, and a writer waiting to be paced is woken there (or when the reader has
/// caught up), a little past its target, not checked for at every message.
const PUBLISH_BYTES: u64 = 256 * 1024;

/// How many times a reader that caught up polls the writer's count before it asks to be
/// woken, when it does ([`Reader::set_catch_up_spin`]), [`CATCH_UP_PAUSES`] apart: about
/// 2 us on the benchmark machine (a pause instruction takes 28 ns there), within which
/// an inproc request's reply comes too.
const CATCH_UP_SPINS: u32 = 16;

/// Pause instructions between two polls of a catching-up reader: about the time a writer
/// takes for a couple of small messages, so that each poll (which takes the count's cache
/// line from the writer, and makes its next store wait for the line) finds some.
const CATCH_UP_PAUSES: u32 = 4;

/// A catching-up reader that sees messages arrive polls on while more keep coming, up to
/// this many: it then reads a batch and leaves the writer alone meanwhile, instead of
/// trailing it message by message. The same when it finds fewer than this many after
/// reading this many since it last found none ([`Reader::trails_stream`]).
const CATCH_UP_BATCH: u64 = 8;

impl Reader {
    /// Registers what to wake, with `token`, when messages arrive after the reader found
    /// the queue empty, or when the writer closes.
    pub fn set_waker(&self, waker: Arc<dyn Wake>, token: u64) {
        self.shared.rare.lock().reader_waker = Some((waker, token));
    }

    /// Publishes (or withdraws) the connection the writer's thread may write to itself
    /// ([`DirectWrite`]).
    pub fn set_direct_writer(&self, writer: Option<Arc<dyn DirectWrite>>) {
        let mut rare = self.shared.rare.lock();
        self.shared
            .has_direct_writer
            .store(writer.is_some(), Ordering::Release);
        rare.direct_writer = writer;
    }

    /// The next frame. After a frame with `more`, the next read returns the next frame of
    /// the same message: messages are only ever published whole.
    pub fn read(&mut self) -> Read {
        match self.next_frame() {
            Some(frame) => Read::Frame(frame),
            None if self.closed => Read::Closed,
            None => Read::Empty,
        }
    }

    /// [`Reader::read`] as an `Option`: `None` when there is no frame, and then
    /// [`Reader::is_finished`] tells whether none will ever come. The frame comes back in
    /// the queue's own `Option`, without being taken apart and put together again as a
    /// [`Read`] (a piece-by-piece copy of its 48 bytes). A socket's receive takes its
    /// frames with [`Reader::next_frame_into`].
    pub fn next_frame(&mut self) -> Option<Frame> {
        if self.shared.conflate.load(Ordering::Relaxed) {
            return self.read_conflated();
        }
        if !self.in_message && !self.start_message() {
            return None;
        }
        let frame = self.frames.pop();
        if let Some(frame) = &frame {
            self.took(frame.len(), frame.more);
        }
        frame
    }

    /// [`Reader::next_frame`] into `out`, in place of the frame there: returns whether a
    /// frame was read (`out` is unchanged if not). The hot path of a socket's receive:
    /// the frame is moved once, from the queue's slot to where the caller keeps it.
    /// Returned by value through the calls of a receive, a 48-byte frame was stored and
    /// loaded again at each of them in pieces of other sizes (one 16-byte load over two
    /// 8-byte stores, a tail of 1, 4 and 4 bytes), and every such load waited for its
    /// stores to reach the cache: a receive on one thread took 47-55 ns, 28-33 this way
    /// (PERFORMANCE.md, "The thirteenth pass").
    #[inline]
    pub fn next_frame_into(&mut self, out: &mut Frame) -> bool {
        if self.shared.conflate.load(Ordering::Relaxed) {
            return match self.read_conflated() {
                Some(frame) => {
                    *out = frame;
                    true
                }
                None => false,
            };
        }
        if !self.in_message && !self.start_message() {
            return false;
        }
        if !self.frames.pop_into(out) {
            return false;
        }
        self.took(out.len(), out.more);
        true
    }

    /// Before the first frame of a message: whether a whole message is there to read,
    /// having dropped those written before a hiccup was acknowledged. If not, the reader
    /// is registered for a wake-up (or has noted the end).
    #[inline(always)]
    fn start_message(&mut self) -> bool {
        if self.shared.hiccup_pending.load(Ordering::SeqCst) {
            // The writer is woken with `Hiccup` already; its acknowledgement wakes us.
            return false;
        }
        loop {
            if !self.message_ready() {
                return false;
            }
            if self.read >= self.shared.discard_before.load(Ordering::SeqCst) {
                return true;
            }
            // Written for the connection before the hiccup: dropped whole.
            while let Some(frame) = self.frames.pop() {
                self.read_bytes += frame.len() as u64;
                if !frame.more {
                    break;
                }
            }
            self.message_read();
        }
    }

    /// Counts a frame of `len` bytes taken from the queue. A whole message was counted in
    /// `written` after its frames were pushed, so the rest of a message begun is there.
    #[inline(always)]
    fn took(&mut self, len: usize, more: bool) {
        self.read_bytes += len as u64;
        self.in_message = more;
        if !more {
            self.message_read();
        }
    }

    /// After [`Reader::next_frame`] found no frame: whether the writer closed the queue
    /// and every message was read (the `Read::Closed` of [`Reader::read`]).
    pub fn is_finished(&self) -> bool {
        self.closed
    }

    /// Messages published and not yet read (including one being read).
    pub fn queued(&self) -> u64 {
        self.shared
            .written
            .load(Ordering::Acquire)
            .saturating_sub(self.read)
    }

    fn read_conflated(&mut self) -> Option<Frame> {
        if self.taken.is_empty() {
            if self.shared.hiccup_pending.load(Ordering::SeqCst) {
                return None;
            }
            loop {
                if !self.message_ready() {
                    return None;
                }
                // Counted in `written` under the slot's lock when the slot was filled.
                let message = self.shared.slot.lock().take().unwrap_or_default();
                let discard = self.read < self.shared.discard_before.load(Ordering::SeqCst);
                self.message_read();
                if !discard && !message.is_empty() {
                    self.taken = message.into();
                    break;
                }
            }
        }
        let frame = self.taken.pop_front()?;
        self.in_message = !self.taken.is_empty();
        Some(frame)
    }

    /// Changes the high-water mark (0: no limit) while the queue is in use, as
    /// `ZMQ_RCVHWM` set after connecting does in libzmq 4.3; a writer waiting for room is
    /// woken if the new mark gives it some.
    pub fn set_hwm(&self, hwm: usize) {
        self.shared.set_hwm(hwm as u64, false);
    }

    /// Lets a reader that caught up with the writer poll the writer's count for a while
    /// (about 2 us, `CATCH_UP_SPINS`) before it asks to be woken: for a reader whose
    /// thread is about to wait, and would spin for the wake-up anyway (a blocking receive
    /// from a single peer in this process, on a machine with a core for each side). Off
    /// for reads that do not wait, which would poll for what is not coming.
    ///
    /// Such a reader, faster than its writer, may catch up at nearly every message of a
    /// stream; asking each time makes every flush a wake-up (two locks and a mailbox on
    /// the writer's side, the mailbox again on the reader's), and the stream then moves
    /// in lock step at five times the cost per message (3-4 s for ten million 1-byte
    /// inproc messages instead of 0.6-0.8 s, in some runs). Polling first, it
    /// finds the next messages as the writer publishes them, and the writer is not
    /// involved.
    pub fn set_catch_up_spin(&mut self, on: bool) {
        self.catch_up_spins = if on { CATCH_UP_SPINS } else { 0 };
    }

    /// Whether a frame can be read now, without registering for a wake-up.
    pub fn has_frame(&mut self) -> bool {
        self.in_message || self.shared.written.load(Ordering::Acquire) > self.read
    }

    /// Whether a whole message waits; if not, registers for a wake-up (or notes the end).
    #[inline]
    fn message_ready(&mut self) -> bool {
        if self.written_seen > self.read {
            self.refresh_metadata();
            return true;
        }
        self.look_for_messages()
    }

    /// [`Reader::message_ready`] once every message known was read: loads the writer's
    /// count (once per batch of messages in a stream, so not inlined into each read).
    #[inline(never)]
    fn look_for_messages(&mut self) -> bool {
        // Closed first: everything written before the close is counted by then.
        let closed = self.shared.writer_closed.load(Ordering::SeqCst);
        self.written_seen = self.shared.written.load(Ordering::SeqCst);
        if self.written_seen > self.read {
            if self.written_seen - self.read < CATCH_UP_BATCH && self.trails_stream(closed) {
                self.catch_up(self.written_seen);
            }
            self.refresh_metadata();
            return true;
        }
        self.read_when_empty = self.read;
        if !closed && self.catch_up_spins != 0 && self.catch_up(self.read) {
            self.refresh_metadata();
            return true;
        }
        if self.published != self.read {
            // Caught up: the writer sees every read before this end waits.
            self.publish_read();
        }
        let s = &*self.shared;
        if closed {
            self.closed = true;
            return false;
        }
        s.reader_waiting.store(true, Ordering::SeqCst);
        // The writer may have flushed since: check again, now that it will see the flag.
        self.written_seen = s.written.load(Ordering::SeqCst);
        if self.written_seen > self.read {
            s.reader_waiting.store(false, Ordering::SeqCst);
            self.refresh_metadata();
            return true;
        }
        false
    }

    /// Whether this reader, which found a few messages at its last look, lets the writer
    /// get a batch ahead before it reads them ([`Reader::catch_up`] from the count it
    /// saw): a reader that polls, in a stream ([`CATCH_UP_BATCH`] messages read since it
    /// last found none). A reader that trails a stream message by message reads each
    /// slot and loads the count while the writer fills the next, and the writer's fenced
    /// flush then waits for those cache lines at every message; a batch behind, the
    /// writer finds them in its own cache. Not for a request and its reply, whose reader
    /// found none a moment before (the wait would add an interval to each).
    #[inline]
    fn trails_stream(&self, closed: bool) -> bool {
        !closed && self.catch_up_spins != 0 && self.read - self.read_when_empty >= CATCH_UP_BATCH
    }

    /// The poll of a reader that caught up ([`Reader::set_catch_up_spin`]), from the
    /// count `from` it saw last: whether messages are there after it. Returns once the
    /// count stops growing between two polls or a batch is there, so that a lone message
    /// waits one interval at most.
    fn catch_up(&mut self, from: u64) -> bool {
        let mut seen = from;
        for _ in 0..self.catch_up_spins {
            for _ in 0..CATCH_UP_PAUSES {
                std::hint::spin_loop();
            }
            let written = self.shared.written.load(Ordering::Acquire);
            let growing = written != seen;
            seen = written;
            if seen > self.read && (!growing || seen - self.read >= CATCH_UP_BATCH) {
                break;
            }
        }
        self.written_seen = seen;
        seen > self.read
    }

    #[inline]
    fn refresh_metadata(&mut self) {
        let epoch = self.shared.metadata_epoch.load(Ordering::Acquire);
        if epoch != self.metadata_epoch {
            self.reload_metadata(epoch);
        }
    }

    #[cold]
    fn reload_metadata(&mut self, epoch: u64) {
        self.metadata_epoch = epoch;
        self.metadata.clone_from(&self.shared.rare.lock().metadata);
    }

    /// The properties of the peer the frames being read come from, if the writer set any.
    /// After a reconnect, messages queued before it may carry the new connection's
    /// properties.
    pub fn metadata(&self) -> Option<&Arc<Metadata>> {
        self.metadata.as_ref()
    }

    /// The connection behind the writer, if this reader's thread may wait for its input
    /// and read it itself ([`DirectRead`]).
    pub fn direct_reader(&self) -> Option<Arc<dyn DirectRead>> {
        if !self.shared.has_direct_reader.load(Ordering::Acquire) {
            return None;
        }
        self.shared.rare.lock().direct_reader.clone()
    }

    #[inline]
    fn message_read(&mut self) {
        self.read += 1;
        let s = &*self.shared;
        if self.read < self.written_seen
            && self.read - self.published < publish_lag(s.hwm.load(Ordering::Relaxed))
            && self.read_bytes - self.published_bytes < PUBLISH_BYTES
            && (!s.writer_waiting.load(Ordering::SeqCst)
                || self.written_seen - self.read > s.lwm.load(Ordering::Relaxed))
        {
            return;
        }
        self.publish_read();
    }

    /// Tells the writer how many messages were read, and wakes it if it waits for room
    /// that is there now.
    ///
    /// Not done for every message: the store is a full barrier and moves the counter's
    /// line to this core, and the writer needs the count only when the queue looks full
    /// to it (libzmq's reader reports every low-water mark's worth of messages). It is
    /// done at least every [`publish_lag`] messages, whenever this end has read every
    /// message it knew of (once per batch in a stream; at once for a reader that keeps
    /// up), and, while the writer waits (its flag is read at each message), at each read
    /// that leaves no more than the low-water mark, the point where the writer is woken:
    /// so a writer never waits on an empty queue, and one that saw a stale count is woken
    /// by the read that makes room for it. (Reporting each read while the writer waited,
    /// as before, was a full barrier per message in a receiver that cannot keep up.) The cost: near the high-water mark, a writer may find the queue
    /// full up to [`publish_lag`] messages early, as a libzmq writer does.
    fn publish_read(&mut self) {
        self.published = self.read;
        self.published_bytes = self.read_bytes;
        let s = &*self.shared;
        s.read_bytes.store(self.read_bytes, Ordering::SeqCst);
        s.read.store(self.read, Ordering::SeqCst);
        if s.writer_waiting.load(Ordering::SeqCst)
            && s.written.load(Ordering::Acquire).saturating_sub(self.read)
                <= s.lwm.load(Ordering::Relaxed)
            && s.writer_waiting.swap(false, Ordering::SeqCst)
        {
            s.wake_writer(Wakeup::Writable);
        }
        let target = s.pace_target.load(Ordering::SeqCst);
        if target != 0
            && self.read_bytes >= target
            && s.pace_target
                .compare_exchange(target, 0, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            s.wake_writer(Wakeup::Writable);
        }
    }

    /// Signals a hiccup to the writer ([`Wakeup::Hiccup`]): the connection behind this
    /// reader is new, so what the writer queued for the old one should go. Nothing is read
    /// until the writer calls [`Writer::hiccup_ack`] (or closes). The rest of a message the
    /// old connection had begun to read is dropped.
    ///
    /// Call it for every connection this reader is lent to: the first is not a hiccup (what
    /// was queued before it is for it), and does nothing.
    pub fn hiccup(&mut self) {
        if !std::mem::replace(&mut self.connected, true) {
            return;
        }
        if self.in_message {
            if self.taken.is_empty() {
                while let Some(frame) = self.frames.pop() {
                    if !frame.more {
                        break;
                    }
                }
                self.message_read();
            }
            // A conflated message was counted as read when it was taken.
            self.taken.clear();
            self.in_message = false;
        }
        let s = &*self.shared;
        if s.writer_closed.load(Ordering::SeqCst) {
            return;
        }
        s.hiccup_pending.store(true, Ordering::SeqCst);
        if s.writer_closed.load(Ordering::SeqCst) {
            s.hiccup_pending.store(false, Ordering::SeqCst);
            return;
        }
        s.reader_waiting.store(true, Ordering::SeqCst);
        s.wake_writer(Wakeup::Hiccup);
    }

    /// Whether the writer closed the queue (messages may still be left to read).
    pub fn is_writer_closed(&self) -> bool {
        self.closed || self.shared.writer_closed.load(Ordering::SeqCst)
    }

    /// Stops reading: queued messages are dropped, later writes are discarded, and the
    /// writer is woken with [`Wakeup::Closed`].
    pub fn close(&mut self) {
        if self.shared.reader_closed.swap(true, Ordering::SeqCst) {
            return;
        }
        while self.frames.pop().is_some() {}
        self.shared.slot.lock().take();
        self.taken.clear();
        self.shared.wake_writer(Wakeup::Closed);
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("read", &self.read)
            .field("closed", &self.closed)
            .finish()
    }
}

#[cfg(test)]
mod tests;
