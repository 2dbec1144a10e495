//! Pipes: the bounded message queues between a socket and its peers.
//!
//! A [`queue`] carries frames one way, from one [`Writer`] to one [`Reader`]; a
//! [`pipe_pair`] is two queues, one each way, as every peer of a socket has. The writer
//! publishes whole messages only, so a reader never sees part of one.
//!
//! **Cost on the hot path.** The reader takes everything queued in one lock and then
//! reads from its own buffer without locking, so a steady stream costs one lock per batch
//! on the reading side. The writer publishes with one uncontended lock per
//! [`Writer::flush`]; an engine flushes once per read from its socket, a socket once per
//! message. Message counts for the high-water mark are atomics read without the lock.
//!
//! **Wake-ups** happen only on transitions, never per message: a reader that found the
//! queue empty is woken ([`Wakeup::Readable`]) by the next flush; a writer that found the
//! queue full is woken ([`Wakeup::Writable`]) once the reader has brought it down to the
//! low-water mark; either side is woken ([`Wakeup::Closed`]) when the other closes.
//!
//! **High-water mark** (`ZMQ_SNDHWM`/`ZMQ_RCVHWM`): counted in whole messages, 0 for no
//! limit; the low-water mark is `(hwm + 1) / 2` as in libzmq (`pipe.cpp`, `compute_lwm`).

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use zmtp_codec::{Frame, Metadata};

/// Why a pipe end is woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Wakeup {
    /// The queue this reader found empty has messages again.
    Readable,
    /// The queue this writer found full has room again.
    Writable,
    /// The other end was closed.
    Closed,
}

/// Something to wake when a pipe end's state changes: a socket or an I/O thread.
pub trait Wake: Send + Sync {
    /// Called with the token the end was registered with. Must not block.
    fn wake(&self, token: u64, why: Wakeup);
}

type Waker = Option<(Arc<dyn Wake>, u64)>;

struct Shared {
    inner: Mutex<Inner>,
    /// Messages published by the writer.
    written: AtomicU64,
    /// Messages taken by the reader.
    read: AtomicU64,
    /// The writer found the queue full and waits for the low-water mark.
    writer_waiting: AtomicBool,
    /// The reader end is closed: writes are discarded.
    reader_closed: AtomicBool,
    hwm: u64,
    lwm: u64,
}

struct Inner {
    frames: VecDeque<Frame>,
    /// The reader found the queue empty and waits for the next flush.
    reader_waiting: bool,
    writer_closed: bool,
    reader_waker: Waker,
    writer_waker: Waker,
    /// The properties of the peer the messages come from, set by the engine after each
    /// handshake.
    metadata: Option<Arc<Metadata>>,
}

/// Creates a queue holding at most `hwm` messages (0 for no limit).
pub fn queue(hwm: usize) -> (Writer, Reader) {
    let hwm = hwm as u64;
    let shared = Arc::new(Shared {
        inner: Mutex::new(Inner {
            frames: VecDeque::new(),
            reader_waiting: false,
            writer_closed: false,
            reader_waker: None,
            writer_waker: None,
            metadata: None,
        }),
        written: AtomicU64::new(0),
        read: AtomicU64::new(0),
        writer_waiting: AtomicBool::new(false),
        reader_closed: AtomicBool::new(false),
        hwm,
        lwm: hwm.div_ceil(2),
    });
    (
        Writer {
            shared: Arc::clone(&shared),
            pending: VecDeque::new(),
            complete_frames: 0,
            complete_msgs: 0,
            written: 0,
        },
        Reader {
            shared,
            local: VecDeque::new(),
            read: 0,
            closed: false,
            metadata: None,
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
    /// Frames written but not yet published: whole messages, then maybe part of one.
    pending: VecDeque<Frame>,
    /// How many frames at the front of `pending` form whole messages.
    complete_frames: usize,
    complete_msgs: u64,
    /// Messages published, as known to the writer.
    written: u64,
}

impl Writer {
    /// Registers what to wake, with `token`, when the queue has room again or the reader
    /// closes.
    pub fn set_waker(&self, waker: Arc<dyn Wake>, token: u64) {
        self.shared.inner.lock().writer_waker = Some((waker, token));
    }

    /// Whether a new message may be written (the queue is below its high-water mark). When
    /// it is not, the writer is woken with [`Wakeup::Writable`] once the reader has brought
    /// the queue down to the low-water mark.
    pub fn can_write(&self) -> bool {
        let s = &*self.shared;
        if s.hwm == 0 || s.reader_closed.load(Ordering::Relaxed) {
            return true;
        }
        let queued = self.written + self.complete_msgs;
        if queued - s.read.load(Ordering::SeqCst) < s.hwm {
            return true;
        }
        s.writer_waiting.store(true, Ordering::SeqCst);
        // The reader may have read since: check again, now that it will see the flag.
        queued - s.read.load(Ordering::SeqCst) < s.hwm
    }

    /// Appends a frame. The message becomes readable once its last frame (without `more`)
    /// is written and [`Writer::flush`] is called. Frames written after the reader closed
    /// are discarded.
    pub fn write(&mut self, frame: Frame) {
        if self.shared.reader_closed.load(Ordering::Relaxed) {
            self.pending.clear();
            self.complete_frames = 0;
            self.complete_msgs = 0;
            return;
        }
        let last = !frame.more;
        self.pending.push_back(frame);
        if last {
            self.complete_frames = self.pending.len();
            self.complete_msgs += 1;
        }
    }

    /// Publishes the whole messages written so far, waking the reader if it waits.
    pub fn flush(&mut self) {
        if self.complete_msgs == 0 {
            return;
        }
        let waker = {
            let mut inner = self.shared.inner.lock();
            if self.complete_frames == self.pending.len() {
                if inner.frames.is_empty() {
                    std::mem::swap(&mut inner.frames, &mut self.pending);
                } else {
                    inner.frames.append(&mut self.pending);
                }
            } else {
                inner
                    .frames
                    .extend(self.pending.drain(..self.complete_frames));
            }
            self.written += self.complete_msgs;
            self.shared.written.store(self.written, Ordering::Release);
            self.complete_frames = 0;
            self.complete_msgs = 0;
            if inner.reader_waiting {
                inner.reader_waiting = false;
                inner.reader_waker.clone()
            } else {
                None
            }
        };
        if let Some((waker, token)) = waker {
            waker.wake(token, Wakeup::Readable);
        }
    }

    /// Sets the peer properties that messages published from now on carry (for
    /// `zmq_msg_gets`). The reader sees them from its next batch on.
    pub fn set_metadata(&self, metadata: Arc<Metadata>) {
        self.shared.inner.lock().metadata = Some(metadata);
    }

    /// Discards the frames of an unfinished message.
    pub fn rollback(&mut self) {
        self.pending.truncate(self.complete_frames);
    }

    /// Whether a message has been begun and not finished.
    pub fn in_message(&self) -> bool {
        self.pending.len() > self.complete_frames
    }

    /// Messages queued and not yet read (published or not).
    pub fn queued(&self) -> u64 {
        (self.written + self.complete_msgs).saturating_sub(self.shared.read.load(Ordering::Relaxed))
    }

    /// Whether the reader end is closed (writes are discarded).
    pub fn is_reader_closed(&self) -> bool {
        self.shared.reader_closed.load(Ordering::Relaxed)
    }

    /// Publishes what is whole, drops the rest, and tells the reader no more will come:
    /// after the queued messages it reads the end of the queue. The reader is woken with
    /// [`Wakeup::Closed`].
    pub fn close(&mut self) {
        self.rollback();
        self.flush();
        let waker = {
            let mut inner = self.shared.inner.lock();
            inner.writer_closed = true;
            inner.reader_waiting = false;
            inner.reader_waker.clone()
        };
        if let Some((waker, token)) = waker {
            waker.wake(token, Wakeup::Closed);
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.shared.inner.lock().writer_closed {
            self.close();
        }
    }
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("queued", &self.queued())
            .field("hwm", &self.shared.hwm)
            .finish()
    }
}

/// The reading end of a queue.
pub struct Reader {
    shared: Arc<Shared>,
    /// Frames taken from the shared queue in one go, read without locking.
    local: VecDeque<Frame>,
    read: u64,
    closed: bool,
    metadata: Option<Arc<Metadata>>,
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

impl Reader {
    /// Registers what to wake, with `token`, when messages arrive after the reader found
    /// the queue empty, or when the writer closes.
    pub fn set_waker(&self, waker: Arc<dyn Wake>, token: u64) {
        self.shared.inner.lock().reader_waker = Some((waker, token));
    }

    /// The next frame. After a frame with `more`, the next read returns the next frame of
    /// the same message: messages are only ever published whole.
    pub fn read(&mut self) -> Read {
        if self.local.is_empty() && !self.refill() {
            return if self.closed {
                Read::Closed
            } else {
                Read::Empty
            };
        }
        let Some(frame) = self.local.pop_front() else {
            return Read::Empty;
        };
        if !frame.more {
            self.message_read();
        }
        Read::Frame(frame)
    }

    /// Whether a frame can be read now, without registering for a wake-up.
    pub fn has_frame(&mut self) -> bool {
        if self.local.is_empty() {
            let mut inner = self.shared.inner.lock();
            if !inner.frames.is_empty() {
                take_batch(&mut inner, &mut self.local, &mut self.metadata);
            }
        }
        !self.local.is_empty()
    }

    /// Takes everything queued; `false` if there was nothing (the reader then waits).
    fn refill(&mut self) -> bool {
        let mut inner = self.shared.inner.lock();
        if inner.frames.is_empty() {
            if inner.writer_closed {
                self.closed = true;
            } else {
                inner.reader_waiting = true;
            }
            return false;
        }
        take_batch(&mut inner, &mut self.local, &mut self.metadata);
        true
    }

    /// The properties of the peer the frames being read come from, if the writer set any.
    /// After a reconnect, messages queued before it may carry the new connection's
    /// properties.
    pub fn metadata(&self) -> Option<&Arc<Metadata>> {
        self.metadata.as_ref()
    }

    fn message_read(&mut self) {
        self.read += 1;
        let s = &*self.shared;
        s.read.store(self.read, Ordering::SeqCst);
        if s.writer_waiting.load(Ordering::SeqCst)
            && s.written.load(Ordering::Acquire).saturating_sub(self.read) <= s.lwm
            && s.writer_waiting.swap(false, Ordering::SeqCst)
        {
            let waker = s.inner.lock().writer_waker.clone();
            if let Some((waker, token)) = waker {
                waker.wake(token, Wakeup::Writable);
            }
        }
    }

    /// Whether the writer closed the queue (messages may still be left to read).
    pub fn is_writer_closed(&self) -> bool {
        self.closed || self.shared.inner.lock().writer_closed
    }

    /// Stops reading: queued messages are dropped, later writes are discarded, and the
    /// writer is woken with [`Wakeup::Closed`].
    pub fn close(&mut self) {
        if self.shared.reader_closed.swap(true, Ordering::SeqCst) {
            return;
        }
        self.local.clear();
        let waker = {
            let mut inner = self.shared.inner.lock();
            inner.frames.clear();
            inner.writer_waker.clone()
        };
        if let Some((waker, token)) = waker {
            waker.wake(token, Wakeup::Closed);
        }
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

/// Moves everything queued into the reader's local buffer, which is empty, with the
/// metadata that goes with it.
fn take_batch(
    inner: &mut Inner,
    local: &mut VecDeque<Frame>,
    metadata: &mut Option<Arc<Metadata>>,
) {
    std::mem::swap(&mut inner.frames, local);
    if !ptr_eq(&inner.metadata, metadata) {
        metadata.clone_from(&inner.metadata);
    }
}

fn ptr_eq(a: &Option<Arc<Metadata>>, b: &Option<Arc<Metadata>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
