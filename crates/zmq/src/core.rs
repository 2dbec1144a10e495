//! The socket core: a pattern state machine, its peers' pipes, and the mailbox through
//! which the transport and other sockets reach it.
//!
//! The core lives on the socket's thread. Everything that happens elsewhere (a connection
//! finished its handshake, a pipe that was empty has messages, a pipe that was full has
//! room, a peer went away) arrives in the [`Shared`] mailbox and is applied by
//! [`Core::process_mailbox`] at the start of each operation and whenever a blocked call
//! wakes. A steady stream of messages passes through pipes without touching the mailbox.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::{Condvar, Mutex};
use smallvec::SmallVec;
use zmq_patterns::{Attach, Pattern, PatternError, PeerId, PeerInfo, Peers};
use zmq_transport::direct::{spin_pays, DirectPoll};
use zmq_transport::pipe::{pipe_pair, DirectRead, PipeEnd, Reader, Wake, Wakeup};
use zmq_transport::{EndpointId, MonitorEvent, NewPeer, SocketLink};
use zmtp_codec::{Frame, Metadata, SocketType};

use crate::error::{Error, Result};
use crate::monitor::{Hub, PeerStats};

/// What other threads leave for the socket.
#[derive(Default)]
struct Mailbox {
    peers: Vec<NewPeer>,
    wakes: Vec<(u64, Wakeup)>,
    /// The socket's thread waits on the condition variable.
    sleeping: bool,
    /// The socket's thread waits in `poll` on a connection and on `Shared::wake_pipe`
    /// ([`Core::wait_direct`]).
    polling: bool,
    /// A byte was written to the wake pipe since it was last drained.
    pipe_signalled: bool,
    /// The context is terminating: blocking calls return ETERM.
    terminated: bool,
}

impl Mailbox {
    /// Something for the socket's thread: a peer, a wake-up, or termination.
    fn has_work(&self) -> bool {
        !self.peers.is_empty() || !self.wakes.is_empty() || self.terminated
    }
}

/// Reads a non-blocking signalling socket empty.
fn drain(rx: &UnixStream) {
    let mut buf = [0u8; 64];
    while matches!((&*rx).read(&mut buf), Ok(n) if n > 0) {}
}

/// The part of a socket other threads hold: its mailbox, and the signal for a socket
/// thread blocked in a call, or for an event loop polling its file descriptor.
pub(crate) struct Shared {
    mailbox: Mutex<Mailbox>,
    /// Set (under the mailbox's lock) whenever something is left in the mailbox, cleared
    /// when it is emptied: lets [`Core::process_mailbox`], called twice per message, skip
    /// the lock when nothing came.
    mail: AtomicBool,
    cond: Condvar,
    /// The descriptor given out by `ZMQ_FD`, and the end written to signal it.
    signal: Mutex<Option<(UnixStream, UnixStream)>>,
    /// Wakes the socket's thread from a wait on a connection ([`Core::wait_direct`]):
    /// made on first use; `None` inside if it could not be made.
    wake_pipe: std::sync::OnceLock<Option<(UnixStream, UnixStream)>>,
    /// The socket's monitors and event counters.
    pub(crate) monitor: Hub,
}

impl Shared {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            mailbox: Mutex::new(Mailbox::default()),
            mail: AtomicBool::new(false),
            cond: Condvar::new(),
            signal: Mutex::new(None),
            wake_pipe: std::sync::OnceLock::new(),
            monitor: Hub::new(),
        })
    }

    fn notify(&self, mailbox: &mut Mailbox) {
        self.mail.store(true, Ordering::Release);
        if mailbox.sleeping {
            self.cond.notify_one();
        }
        if mailbox.polling && !mailbox.pipe_signalled {
            if let Some(Some((_, tx))) = self.wake_pipe.get() {
                // A full pipe already wakes the poll.
                let _ = (&*tx).write(&[1]);
                mailbox.pipe_signalled = true;
            }
        }
        self.raise_signal();
    }

    /// The end of the wake pipe to poll, made on first use.
    fn wake_pipe(&self) -> Option<&UnixStream> {
        self.wake_pipe
            .get_or_init(|| {
                let (rx, tx) = UnixStream::pair().ok()?;
                rx.set_nonblocking(true).ok()?;
                tx.set_nonblocking(true).ok()?;
                Some((rx, tx))
            })
            .as_ref()
            .map(|(rx, _)| rx)
    }

    /// Makes the `ZMQ_FD` descriptor readable, if one was handed out.
    fn raise_signal(&self) {
        if let Some((_, tx)) = &*self.signal.lock() {
            // A full buffer already signals; nothing to do then.
            let _ = (&*tx).write(&[1]);
        }
    }

    /// Makes the `ZMQ_FD` descriptor unreadable.
    fn clear_signal(&self) {
        if let Some((rx, _)) = &*self.signal.lock() {
            drain(rx);
        }
    }

    /// The `ZMQ_FD` descriptor, made on first use.
    pub(crate) fn signal_fd(&self) -> std::io::Result<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        let mut signal = self.signal.lock();
        if signal.is_none() {
            let (rx, tx) = UnixStream::pair()?;
            rx.set_nonblocking(true)?;
            tx.set_nonblocking(true)?;
            *signal = Some((rx, tx));
        }
        Ok(signal.as_ref().map_or(-1, |(rx, _)| rx.as_raw_fd()))
    }

    /// Makes blocking calls return ETERM.
    pub(crate) fn terminate(&self) {
        let mut mailbox = self.mailbox.lock();
        mailbox.terminated = true;
        self.notify(&mut mailbox);
    }
}

impl SocketLink for Shared {
    fn attach(&self, peer: NewPeer) {
        let mut mailbox = self.mailbox.lock();
        mailbox.peers.push(peer);
        self.notify(&mut mailbox);
    }

    fn event_mask(&self) -> u32 {
        self.monitor.mask()
    }

    fn event(&self, event: MonitorEvent) {
        self.monitor.deliver(event);
    }
}

impl Wake for Shared {
    fn wake(&self, token: u64, why: Wakeup) {
        let mut mailbox = self.mailbox.lock();
        mailbox.wakes.push((token, why));
        self.notify(&mut mailbox);
    }
}

/// One peer's pipe, as the socket holds it.
struct Slot {
    pipe: PipeEnd,
    /// The bind or connect it came through.
    endpoint: Option<EndpointId>,
    /// The peer's routing id, for `stats`.
    routing_id: Bytes,
    /// The other end went away; the peer is detached once its messages are read.
    closing: bool,
    /// An inproc peer (no I/O thread between the two sockets).
    in_process: bool,
    /// How many peers were attached before this one.
    order: u64,
}

/// The socket's peers by id: a slab, so that finding a peer (at every frame sent and
/// received) is an index and a compare, not a hash lookup (a `HashMap`, even with a
/// one-multiplication hash, was about 60 instructions per message on each side of an inproc
/// stream, callgrind). An id's low 32 bits are its entry's index, its high 32 bits the
/// entry's generation, bumped when the entry is freed: an id is never reused (until one
/// entry has been reused 2^32 times), so a late wake-up for a detached peer finds nothing.
#[derive(Default)]
struct PeerSlots {
    entries: Vec<PeerEntry>,
    /// Indices of free entries.
    free: Vec<u32>,
    len: usize,
}

#[derive(Default)]
struct PeerEntry {
    generation: u32,
    slot: Option<Slot>,
}

impl PeerSlots {
    /// The id the next [`PeerSlots::insert`] returns.
    fn next_id(&self) -> PeerId {
        let index = self
            .free
            .last()
            .copied()
            .unwrap_or_else(|| u32::try_from(self.entries.len()).unwrap_or(u32::MAX));
        let generation = self
            .entries
            .get(index as usize)
            .map_or(0, |entry| entry.generation);
        (u64::from(generation) << 32) | u64::from(index)
    }

    fn insert(&mut self, slot: Slot) -> PeerId {
        let id = self.next_id();
        let index = id as u32 as usize;
        if index == self.entries.len() {
            self.entries.push(PeerEntry::default());
        } else {
            self.free.pop();
        }
        self.entries[index].slot = Some(slot);
        self.len += 1;
        id
    }

    #[inline]
    fn entry(&self, id: PeerId) -> Option<&PeerEntry> {
        self.entries
            .get(id as u32 as usize)
            .filter(|entry| u64::from(entry.generation) == id >> 32)
    }

    #[inline]
    fn get(&self, id: PeerId) -> Option<&Slot> {
        self.entry(id)?.slot.as_ref()
    }

    #[inline]
    fn get_mut(&mut self, id: PeerId) -> Option<&mut Slot> {
        self.entries
            .get_mut(id as u32 as usize)
            .filter(|entry| u64::from(entry.generation) == id >> 32)?
            .slot
            .as_mut()
    }

    fn remove(&mut self, id: PeerId) -> Option<Slot> {
        self.entry(id)?;
        let index = id as u32;
        let entry = &mut self.entries[index as usize];
        let slot = entry.slot.take()?;
        entry.generation = entry.generation.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
        Some(slot)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn iter(&self) -> impl Iterator<Item = (PeerId, &Slot)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| {
                let id = (u64::from(entry.generation) << 32) | index as u64;
                entry.slot.as_ref().map(|slot| (id, slot))
            })
    }

    fn values(&self) -> impl Iterator<Item = &Slot> {
        self.iter().map(|(_, slot)| slot)
    }

    /// Takes every peer out.
    fn drain(&mut self) -> Vec<Slot> {
        let slots = self
            .entries
            .iter_mut()
            .filter_map(|entry| {
                let slot = entry.slot.take()?;
                entry.generation = entry.generation.wrapping_add(1);
                Some(slot)
            })
            .collect();
        self.free = (0..self.entries.len() as u32).rev().collect();
        self.len = 0;
        slots
    }
}

/// The socket's peers, as the pattern sees them.
#[derive(Default)]
pub(crate) struct PeerTable {
    slots: PeerSlots,
    /// Peers attached so far: each slot's `order`, for listing peers oldest first.
    attached: u64,
    /// The properties of the peer the last frame came from.
    pub(crate) last_metadata: Option<Arc<Metadata>>,
    /// Peers whose pipes ran dry after their other end closed.
    finished: Vec<PeerId>,
    /// Peers that are connections served by an I/O thread (not inproc).
    io_peers: usize,
    /// Whether sends are paced: the socket type blocks at the high-water mark
    /// ([`paced`]).
    pacing: bool,
    /// The peer a whole message was last written to whose pipe may need the send to
    /// wait ([`Core::pace`]).
    pace_peer: Option<PeerId>,
    /// The socket's only peer, when it is in this process and the machine has a core
    /// for each side ([`PeerTable::settle_catch_up_spin`]).
    lone: Option<PeerId>,
}

impl PeerTable {
    fn insert(&mut self, slot: Slot) -> PeerId {
        self.io_peers += usize::from(!slot.in_process);
        self.attached += 1;
        let id = self.slots.insert(slot);
        self.settle_catch_up_spin();
        id
    }

    fn remove(&mut self, id: PeerId) -> Option<Slot> {
        let mut slot = self.slots.remove(id)?;
        self.io_peers -= usize::from(!slot.in_process);
        slot.pipe.reader.set_catch_up_spin(false);
        self.settle_catch_up_spin();
        Some(slot)
    }

    /// Notes the peer whose pipe a blocking receive lets poll for the next message before
    /// asking to be woken ([`Core::recv`]): the socket's only peer, in this process, on a
    /// machine where [`Core::wait`] would spin for the wake-up anyway. With more peers, a
    /// pipe found empty may leave others to read, and each polling would delay them.
    fn settle_catch_up_spin(&mut self) {
        self.lone = if self.slots.len() == 1 && self.io_peers == 0 && spin_pays() {
            self.slots.iter().next().map(|(id, _)| id)
        } else {
            None
        };
    }

    /// Turns the catch-up poll of `peer`'s pipe on or off (`Reader::set_catch_up_spin`).
    fn set_catch_up_spin(&mut self, peer: PeerId, on: bool) {
        if let Some(slot) = self.slots.get_mut(peer) {
            slot.pipe.reader.set_catch_up_spin(on);
        }
    }

    /// Writes a data frame from the caller's buffer to `peer`'s connection now, after the
    /// frames of its message this socket has written to the peer's pipe and not yet
    /// published there, if nothing else this socket wrote to the peer waits in the pipe
    /// and the connection is idle (`zmq_transport::pipe::DirectWrite`). Those frames are
    /// then taken out of the pipe. `false`: nothing was written.
    ///
    /// When the connection does not take the whole frame at once, a send that may block
    /// (`deadline`) to the socket's only peer waits for room and writes the rest itself,
    /// for at most [`PACE_STALL`] (as a paced send waits for its reader), before leaving
    /// it to the I/O thread: a stream of large parts is then written from the caller's
    /// buffers as a blocking write would. With other peers, the rest goes to the I/O
    /// thread at once, so that a slow peer does not hold up the others.
    fn write_direct(&mut self, peer: PeerId, more: bool, body: &[u8], deadline: Deadline) -> bool {
        let lone = self.slots.len() == 1;
        let Some(slot) = self.slots.get_mut(peer) else {
            return false;
        };
        let writer = &mut slot.pipe.writer;
        if slot.closing || writer.queued() != 0 {
            return false;
        }
        let Some(direct) = writer.direct_writer() else {
            return false;
        };
        let written = {
            let prefix: SmallVec<[&Frame; 4]> = writer.unfinished().collect();
            let hold_until = match deadline {
                _ if !lone => None,
                Deadline::Now => None,
                Deadline::Never => Some(Instant::now() + PACE_STALL),
                Deadline::At(at) => Some(at.min(Instant::now() + PACE_STALL)),
            };
            direct.write_frame(&prefix, more, body, hold_until)
        };
        if !written {
            return false;
        }
        // Written with the body: out of the pipe.
        writer.rollback();
        true
    }
}

impl Peers for PeerTable {
    fn can_write(&mut self, peer: PeerId) -> bool {
        self.slots
            .get(peer)
            .is_some_and(|s| !s.closing && s.pipe.writer.can_write())
    }

    fn write(&mut self, peer: PeerId, mut frame: Frame) {
        self.write_from(peer, &mut frame);
    }

    fn write_from(&mut self, peer: PeerId, frame: &mut Frame) {
        if let Some(slot) = self.slots.get_mut(peer) {
            let last = !frame.more;
            slot.pipe.writer.write_from(frame);
            if last {
                slot.pipe.writer.flush();
                if self.pacing && slot.pipe.writer.pace_due(PACE_BYTES) {
                    self.pace_peer = Some(peer);
                }
            }
        }
    }

    fn rollback(&mut self, peer: PeerId) {
        if let Some(slot) = self.slots.get_mut(peer) {
            slot.pipe.writer.rollback();
        }
    }

    fn read(&mut self, peer: PeerId) -> Option<Frame> {
        let slot = self.slots.get_mut(peer)?;
        let frame = slot.pipe.reader.next_frame();
        let reader = &slot.pipe.reader;
        note_read(reader, frame.is_some(), &mut self.last_metadata, || {
            self.finished.push(peer);
        });
        frame
    }

    fn read_into(&mut self, peer: PeerId, out: &mut Frame) -> bool {
        let Some(slot) = self.slots.get_mut(peer) else {
            return false;
        };
        let read = slot.pipe.reader.next_frame_into(out);
        let reader = &slot.pipe.reader;
        note_read(reader, read, &mut self.last_metadata, || {
            self.finished.push(peer)
        });
        read
    }
}

/// The socket's peers while a frame borrowed from the caller is sent
/// ([`Core::send_borrowed`]): the pattern routes an empty frame at `frame`, and when it
/// hands that frame down to a peer, the body is written to the peer's connection from
/// the caller's buffer if it is idle ([`PeerTable::write_direct`]), or copied into the
/// frame and queued as usual.
struct Borrowed<'a> {
    peers: &'a mut PeerTable,
    body: &'a [u8],
    /// The frame the pattern was given (compared, never read through).
    frame: *const Frame,
    /// Until when the send may block.
    deadline: Deadline,
}

impl Peers for Borrowed<'_> {
    fn can_write(&mut self, peer: PeerId) -> bool {
        self.peers.can_write(peer)
    }

    fn write(&mut self, peer: PeerId, frame: Frame) {
        self.peers.write(peer, frame);
    }

    fn write_from(&mut self, peer: PeerId, frame: &mut Frame) {
        if std::ptr::eq(frame, self.frame) {
            if self
                .peers
                .write_direct(peer, frame.more, self.body, self.deadline)
            {
                // Taken, as `write_from` takes a frame.
                *frame = Frame::default();
                return;
            }
            frame.data = crate::message::copy_bytes(self.body);
        }
        self.peers.write_from(peer, frame);
    }

    fn rollback(&mut self, peer: PeerId) {
        self.peers.rollback(peer);
    }

    fn read(&mut self, peer: PeerId) -> Option<Frame> {
        self.peers.read(peer)
    }

    fn read_into(&mut self, peer: PeerId, out: &mut Frame) -> bool {
        self.peers.read_into(peer, out)
    }
}

/// After a read of a peer's pipe: keeps the properties of the peer a frame came from in
/// `last`, or calls `finished` once no frame will ever come.
#[inline]
fn note_read(
    reader: &Reader,
    read: bool,
    last: &mut Option<Arc<Metadata>>,
    finished: impl FnOnce(),
) {
    if read {
        let md = reader.metadata();
        if !ptr_eq(md, last.as_ref()) {
            *last = md.cloned();
        }
    } else if reader.is_finished() {
        finished();
    }
}

fn ptr_eq(a: Option<&Arc<Metadata>>, b: Option<&Arc<Metadata>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// A socket's state on its own thread.
pub(crate) struct Core {
    pub(crate) pattern: Box<dyn Pattern>,
    pub(crate) peers: PeerTable,
    pub(crate) shared: Arc<Shared>,
    /// `ZMQ_HELLO_MSG`: written to each new peer (empty: none).
    pub(crate) hello_msg: Bytes,
    /// An empty vector that changes places with the mailbox's wake-ups when they are
    /// applied, so that neither side allocates for them again (a new vector for each
    /// wake-up, freed on the other thread, was 4% of a 4 KiB inproc stream).
    spare_wakes: Vec<(u64, Wakeup)>,
    /// The connection this thread last read itself ([`Core::wait_direct`]), whose input
    /// may still be this thread's to read: given back to the I/O thread before any other
    /// kind of wait ([`Core::release_input`]).
    leased: Option<Arc<dyn DirectRead>>,
    /// What [`Core::wait_direct`] waits on: the wake pipe and the connection (made on
    /// first use).
    direct_poll: Option<DirectPoll>,
}

/// How long a socket with only inproc peers spins before it sleeps ([`Core::wait`]).
const INPROC_SPIN: Duration = Duration::from_micros(50);

/// A blocking send waits while this many bytes or more of the pipe it wrote to are not
/// yet taken by the reader ([`Core::pace`]). Measured over tcp (`zmq bench` pair runs,
/// messages a second, with the sender's queue bounded by `ZMQ_SNDHWM`): a bound of about
/// 1-2 MiB in flight took 64 KiB from 36.6k to 48-49k, 256 KiB from 8.4k to 13-14k and
/// 1 MiB from 2.8k to 3.5-4.4k; 4 MiB and more gained little or nothing.
const PACE_BYTES: u64 = 2 * 1024 * 1024;

/// The longest a send waits to be paced: a reader that brings its pipe down by half of
/// [`PACE_BYTES`] no sooner is not reading (or its link is slow), and pacing gives way to
/// the high-water mark alone.
const PACE_STALL: Duration = Duration::from_millis(5);

/// The socket types whose sends are paced ([`Core::pace`]): those that block at the
/// high-water mark (a publisher or a router drops there and never waits; REQ and REP have
/// one message in flight at a time).
fn paced(socket_type: SocketType) -> bool {
    matches!(
        socket_type,
        SocketType::Push
            | SocketType::Dealer
            | SocketType::Pair
            | SocketType::Client
            | SocketType::Scatter
            | SocketType::Channel
    )
}

/// When a blocking call gives up.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Deadline {
    /// Do not block (`DONTWAIT`, or a timeout of 0).
    Now,
    At(Instant),
    Never,
}

impl Deadline {
    /// From a libzmq timeout in milliseconds (-1 for none) and the DONTWAIT flag.
    pub(crate) fn from_timeout(timeout_ms: i32, dontwait: bool) -> Self {
        if dontwait || timeout_ms == 0 {
            Self::Now
        } else if timeout_ms < 0 {
            Self::Never
        } else {
            Self::At(Instant::now() + Duration::from_millis(timeout_ms as u64))
        }
    }
}

impl Core {
    pub(crate) fn new(pattern: Box<dyn Pattern>) -> Self {
        let peers = PeerTable {
            pacing: paced(pattern.socket_type()),
            ..PeerTable::default()
        };
        Self {
            pattern,
            peers,
            shared: Shared::new(),
            hello_msg: Bytes::new(),
            spare_wakes: Vec::new(),
            leased: None,
            direct_poll: None,
        }
    }

    /// Applies what other threads left in the mailbox. Returns ETERM if the context is
    /// terminating.
    #[inline]
    pub(crate) fn process_mailbox(&mut self) -> Result<()> {
        if !self.shared.mail.load(Ordering::Acquire) {
            // Nothing left since the mailbox was last emptied (what arrives from now on
            // is seen by the next call, or wakes a wait).
            self.detach_finished();
            return Ok(());
        }
        self.apply_mail()
    }

    /// [`Core::process_mailbox`] when there is mail: out of line, so that the check at
    /// every send and receive stays a load and a branch.
    #[inline(never)]
    fn apply_mail(&mut self) -> Result<()> {
        let mut wakes = std::mem::take(&mut self.spare_wakes);
        let (peers, terminated) = {
            let mut mailbox = self.shared.mailbox.lock();
            // Still set when the context terminates: every later call sees ETERM.
            self.shared
                .mail
                .store(mailbox.terminated, Ordering::Relaxed);
            std::mem::swap(&mut mailbox.wakes, &mut wakes);
            (std::mem::take(&mut mailbox.peers), mailbox.terminated)
        };
        for peer in peers {
            self.attach(peer);
        }
        let mut flush = false;
        for &(token, why) in &wakes {
            match why {
                Wakeup::Readable => self.pattern.read_activated(token),
                Wakeup::Writable => {
                    self.pattern.write_activated(token);
                    flush = true;
                }
                Wakeup::Closed => self.other_end_closed(token),
                Wakeup::Hiccup => self.hiccuped(token),
            }
        }
        wakes.clear();
        self.spare_wakes = wakes;
        if flush {
            self.pattern.flush(&mut self.peers);
        }
        self.detach_finished();
        if terminated {
            return Err(Error::ETERM);
        }
        Ok(())
    }

    /// Adds a peer: the pattern takes it or refuses it.
    pub(crate) fn attach(&mut self, peer: NewPeer) -> Option<PeerId> {
        let id = self.peers.slots.next_id();
        let waker: Arc<dyn Wake> = self.shared.clone();
        peer.pipe.reader.set_waker(Arc::clone(&waker), id);
        peer.pipe.writer.set_waker(waker, id);
        let inserted = self.peers.insert(Slot {
            pipe: peer.pipe,
            endpoint: peer.endpoint_id,
            routing_id: peer.routing_id.clone(),
            closing: false,
            in_process: peer.in_process,
            order: self.peers.attached,
        });
        debug_assert_eq!(inserted, id);
        let info = PeerInfo::new(peer.routing_id, peer.socket_type);
        let attached = match self.pattern.attach(id, info, &mut self.peers) {
            Attach::Accepted => Some(id),
            Attach::Replaced(old) => {
                self.detach(old);
                Some(id)
            }
            // Refused (or an answer this version does not know): dropping the pipe closes
            // both directions, and the connection ends.
            _ => {
                self.peers.remove(id);
                None
            }
        };
        if attached.is_some() && !self.hello_msg.is_empty() {
            // ZMQ_HELLO_MSG: the first message the new peer gets, as libzmq's attach_pipe.
            if let Some(slot) = self.peers.slots.get_mut(id) {
                slot.pipe
                    .writer
                    .write(Frame::new(self.hello_msg.clone(), false));
                slot.pipe.writer.flush();
            }
        }
        attached
    }

    /// The pipe of a connect made before its peer exists: the socket's end is attached
    /// now, so messages queue; the other end is for the transport.
    /// `routing_id` is the connect's `CONNECT_ROUTING_ID` (or empty), for a STREAM.
    pub(crate) fn attach_session(
        &mut self,
        options: &zmq_transport::TransportOptions,
        routing_id: Bytes,
    ) -> (Option<PeerId>, PipeEnd) {
        let (ours, theirs) = pipe_pair(options.sndhwm, options.rcvhwm);
        ours.writer.set_conflate(options.conflate_out());
        theirs.writer.set_conflate(options.conflate_in());
        let id = self.attach(NewPeer::new(ours, routing_id, None, None));
        (id, theirs)
    }

    /// The next peer the pattern asks to disconnect (STREAM's close request), with the
    /// bind or connect it came through. The pattern has detached it already; the caller
    /// closes what must close, then [`Core::detach`]es it.
    pub(crate) fn take_disconnect(&mut self) -> Option<(PeerId, Option<EndpointId>)> {
        let peer = self.pattern.take_disconnect()?;
        let endpoint = self.peers.slots.get(peer).and_then(|s| s.endpoint);
        Some((peer, endpoint))
    }

    /// Applies new high-water marks to every peer's pipe (the socket's part of an inproc
    /// pipe's). Writers the new marks let on are woken through the mailbox, and the
    /// pattern learns of them now.
    pub(crate) fn set_hwms(&mut self, sndhwm: usize, rcvhwm: usize) {
        // Peers waiting in the mailbox get the new marks too.
        let _ = self.process_mailbox();
        for slot in self.peers.slots.values() {
            slot.pipe.writer.set_hwm(sndhwm);
            slot.pipe.reader.set_hwm(rcvhwm);
        }
        let _ = self.process_mailbox();
    }

    /// Records which connect a session peer belongs to, once the connect has an id.
    pub(crate) fn set_peer_endpoint(&mut self, peer: PeerId, endpoint: EndpointId) {
        if let Some(slot) = self.peers.slots.get_mut(peer) {
            slot.endpoint = Some(endpoint);
        }
    }

    /// A connect's session has a new connection: what was queued for the old one is
    /// dropped, and the pattern starts again with the new party (SUB and XSUB send their
    /// subscriptions again).
    fn hiccuped(&mut self, peer: PeerId) {
        let Some(slot) = self.peers.slots.get_mut(peer) else {
            return;
        };
        slot.pipe.writer.hiccup_ack();
        self.pattern.hiccuped(peer, &mut self.peers);
    }

    /// Sets a pattern option and does the writes it causes (SUB's subscriptions).
    pub(crate) fn set_option(&mut self, option: zmq_patterns::PatternOption) -> Result<()> {
        let _ = self.process_mailbox();
        let result = self.pattern.set_option(option).map_err(pattern_error);
        self.pattern.flush(&mut self.peers);
        result
    }

    /// `ZMQ_TOPICS_COUNT`.
    pub(crate) fn topics_count(&mut self) -> Result<usize> {
        let _ = self.process_mailbox();
        self.pattern
            .topics_count(&mut self.peers)
            .map_err(pattern_error)
    }

    fn other_end_closed(&mut self, peer: PeerId) {
        let Some(slot) = self.peers.slots.get_mut(peer) else {
            return;
        };
        slot.closing = true;
        if slot.pipe.reader.has_frame() {
            // Deliver what it sent first; the pattern reads the pipe dry, then it goes.
            self.pattern.read_activated(peer);
        } else if slot.pipe.reader.is_writer_closed() {
            self.detach(peer);
        } else {
            // The peer stopped reading but may still be writing: stop sending to it.
            self.pattern.write_activated(peer);
        }
    }

    /// Detaches the peers whose pipes ran dry. Called at every send and recv: the check
    /// is inlined, the work (rare) is not.
    #[inline]
    fn detach_finished(&mut self) {
        if !self.peers.finished.is_empty() {
            self.detach_all_finished();
        }
    }

    #[inline(never)]
    fn detach_all_finished(&mut self) {
        while let Some(peer) = self.peers.finished.pop() {
            self.detach(peer);
        }
    }

    pub(crate) fn detach(&mut self, peer: PeerId) {
        if self.peers.remove(peer).is_some() {
            self.pattern.detach(peer);
        }
    }

    /// Detaches every peer that came through `endpoint` (unbind, disconnect).
    pub(crate) fn detach_endpoint(&mut self, endpoint: EndpointId) {
        let ids: Vec<PeerId> = self
            .peers
            .slots
            .iter()
            .filter(|(_, s)| s.endpoint == Some(endpoint))
            .map(|(id, _)| id)
            .collect();
        for id in ids {
            self.detach(id);
        }
    }

    /// Each peer's queue depths, with the endpoint it came through (named by `name`).
    pub(crate) fn peer_stats(
        &mut self,
        name: impl Fn(EndpointId) -> Option<String>,
    ) -> Vec<PeerStats> {
        let _ = self.process_mailbox();
        let mut peers: Vec<(u64, PeerStats)> = self
            .peers
            .slots
            .values()
            .map(|slot| {
                let stats = PeerStats {
                    endpoint: slot.endpoint.and_then(&name),
                    routing_id: slot.routing_id.to_vec(),
                    queued_in: slot.pipe.reader.queued(),
                    queued_out: slot.pipe.writer.queued(),
                };
                (slot.order, stats)
            })
            .collect();
        peers.sort_by_key(|(order, _)| *order);
        peers.into_iter().map(|(_, s)| s).collect()
    }

    /// Closes every peer pipe: queued outbound messages stay for the engines to send
    /// within the linger period; nothing more is read.
    pub(crate) fn close_all(&mut self) {
        self.peers.io_peers = 0;
        for mut slot in self.peers.slots.drain() {
            slot.pipe.writer.close();
            slot.pipe.reader.close();
        }
    }

    /// Waits for the mailbox until `deadline`. Returns false when the deadline passed.
    ///
    /// A socket whose peers are all inproc first spins for up to [`INPROC_SPIN`] on the
    /// mailbox flag, where another core is there to run the peer: its message then
    /// arrives without the sleep and wake-up of a condition variable (a few microseconds
    /// each, the most of an inproc round trip). With connections, the I/O thread of this
    /// process brings the messages, and a spinning caller would take the core it needs.
    pub(crate) fn wait(&mut self, deadline: Deadline) -> bool {
        if !matches!(deadline, Deadline::Now) {
            // The bodies received and held back are not kept while the thread sleeps.
            zmq_transport::recycle::release_now();
        }
        if self.peers.io_peers == 1 && self.peers.slots.len() == 1 {
            if let Some(done) = self.wait_direct(deadline) {
                return done;
            }
        }
        self.release_input();
        if self.peers.io_peers == 0 && !matches!(deadline, Deadline::Now) && spin_pays() {
            let start = Instant::now();
            'spin: loop {
                for _ in 0..64 {
                    if self.shared.mail.load(Ordering::Acquire) {
                        break 'spin;
                    }
                    std::hint::spin_loop();
                }
                if start.elapsed() >= INPROC_SPIN {
                    break;
                }
            }
        }
        let mut mailbox = self.shared.mailbox.lock();
        loop {
            if mailbox.has_work() {
                return true;
            }
            mailbox.sleeping = true;
            let timed_out = match deadline {
                Deadline::Now => true,
                Deadline::Never => {
                    self.shared.cond.wait(&mut mailbox);
                    false
                }
                Deadline::At(at) => self.shared.cond.wait_until(&mut mailbox, at).timed_out(),
            };
            mailbox.sleeping = false;
            if timed_out {
                return !mailbox.peers.is_empty() || !mailbox.wakes.is_empty();
            }
        }
    }

    /// The wait of a socket whose one peer is a connection its thread may read itself
    /// (REQ and REP, see `zmq_transport::pipe::DirectRead`): a wait on the connection and
    /// on the wake pipe (`DirectPoll`) instead of the condition variable, then read what
    /// arrived here, so that a reply reaches the caller without the I/O thread's wake-up
    /// in between.
    /// `None`: not possible now (nothing was waited for); the caller waits as usual.
    fn wait_direct(&mut self, deadline: Deadline) -> Option<bool> {
        let timeout = match deadline {
            Deadline::Now => return None,
            Deadline::Never => None,
            Deadline::At(at) => Some(at.saturating_duration_since(Instant::now())),
        };
        let reader = self
            .peers
            .slots
            .values()
            .next()?
            .pipe
            .reader
            .direct_reader()?;
        let wake = self.shared.wake_pipe()?;
        if self.direct_poll.is_none() {
            self.direct_poll = Some(DirectPoll::new(std::os::fd::AsFd::as_fd(wake)).ok()?);
        }
        let poll = self.direct_poll.as_mut()?;
        if let Some(old) = self.leased.take_if(|old| !Arc::ptr_eq(old, &reader)) {
            old.release();
        }
        {
            let mut mailbox = self.shared.mailbox.lock();
            if mailbox.has_work() {
                return Some(true);
            }
            mailbox.polling = true;
        }
        let waited = reader.wait(poll, timeout);
        let signalled = {
            let mut mailbox = self.shared.mailbox.lock();
            mailbox.polling = false;
            std::mem::take(&mut mailbox.pipe_signalled)
        };
        if signalled {
            drain(wake);
        }
        let readable = waited?;
        reader.finish(readable);
        self.leased = Some(reader);
        let timed_out = matches!(deadline, Deadline::At(at) if Instant::now() >= at);
        if timed_out {
            return Some(self.shared.mailbox.lock().has_work());
        }
        Some(true)
    }

    /// Gives the input of the connection this thread last read itself back to the I/O
    /// thread (`DirectRead::release`), before a wait that does not read it here: a wait
    /// on the mailbox, a poll on `ZMQ_FD`.
    fn release_input(&mut self) {
        if let Some(reader) = self.leased.take() {
            reader.release();
        }
    }

    /// Sends the frame at `frame`, taken from there once sent, blocking until `deadline`
    /// while the pattern says EAGAIN. The frame is moved once, into the peer's pipe
    /// (`Pattern::send_from`).
    pub(crate) fn send(&mut self, frame: &mut Frame, deadline: Deadline) -> Result<()> {
        self.send_frame(frame, None, deadline)
    }

    /// Sends a data frame whose body is borrowed from the caller (`send(&[u8])` of a
    /// large message): written to the connection from there when the socket type hands
    /// its frames straight down to one peer (PUSH, DEALER, REQ, REP) and that peer's
    /// connection is idle ([`PeerTable::write_direct`]), so that the body is not copied
    /// into a message first; otherwise copied and sent as [`Core::send`] sends it.
    pub(crate) fn send_borrowed(
        &mut self,
        body: &[u8],
        more: bool,
        deadline: Deadline,
    ) -> Result<()> {
        if matches!(
            self.pattern.socket_type(),
            SocketType::Push | SocketType::Dealer | SocketType::Req | SocketType::Rep
        ) {
            // The patterns of these types pass the frame they are given down to the peer
            // they choose (`Pattern::send_from`, `Peers::write_from`), where `Borrowed`
            // recognises it.
            let mut frame = Frame::new(zmtp_codec::Payload::new(), more);
            self.send_frame(&mut frame, Some(body), deadline)
        } else {
            let mut frame = Frame::new(crate::message::copy_bytes(body), more);
            self.send_frame(&mut frame, None, deadline)
        }
    }

    /// [`Core::send`], with the body of the frame at `frame` borrowed from the caller when
    /// `borrowed` gives it ([`Borrowed`]). Inlined into each, so that a send of a frame of
    /// its own does not test for a borrowed body at every try.
    #[inline(always)]
    fn send_frame(
        &mut self,
        frame: &mut Frame,
        borrowed: Option<&[u8]>,
        deadline: Deadline,
    ) -> Result<()> {
        self.process_mailbox()?;
        loop {
            let sent = match borrowed {
                Some(body) => {
                    let at = std::ptr::from_ref(frame);
                    let mut peers = Borrowed {
                        peers: &mut self.peers,
                        body,
                        frame: at,
                        deadline,
                    };
                    self.pattern.send_from(frame, &mut peers)
                }
                None => self.pattern.send_from(frame, &mut self.peers),
            };
            match sent {
                Ok(()) => {
                    if let Some(peer) = self.peers.pace_peer.take() {
                        if !matches!(deadline, Deadline::Now) {
                            self.pace(peer, deadline);
                        }
                    }
                    return Ok(());
                }
                Err(PatternError::Again(_)) => {
                    // The frame is still at `frame`, for the next try.
                    if !self.wait(deadline) {
                        return Err(Error::EAGAIN);
                    }
                    self.process_mailbox()?;
                }
                Err(e) => return Err(pattern_error(e)),
            }
        }
    }

    /// Send pacing (`ARCHITECTURE.md`, "Send pacing"): after a blocking send has queued
    /// a whole message for `peer`, waits while [`PACE_BYTES`] or more of its pipe are not
    /// yet taken by the reader (an I/O thread, or an inproc peer's socket), until they are
    /// down to half, for at most [`PACE_STALL`] (and not past `deadline`). What the
    /// high-water mark admits is unchanged, and the message is queued already: only when
    /// the call returns changes. A wait that runs out turns pacing off for the pipe until
    /// its reader has caught up (`zmq_transport::pipe::Writer::give_up_pace`).
    fn pace(&mut self, peer: PeerId, deadline: Deadline) {
        let mut wait_until = None;
        loop {
            let Some(slot) = self.peers.slots.get_mut(peer) else {
                return;
            };
            if !slot.pipe.writer.pace(PACE_BYTES) {
                return;
            }
            // Read once a wait is needed, not at every send.
            let until = *wait_until.get_or_insert_with(|| {
                let stall = Instant::now() + PACE_STALL;
                match deadline {
                    Deadline::At(at) => at.min(stall),
                    Deadline::Now | Deadline::Never => stall,
                }
            });
            let woken = self.wait(Deadline::At(until));
            // The mailbox's errors (a terminated context) are the next call's to report:
            // this message is queued.
            let applied = self.process_mailbox().is_ok();
            let Some(slot) = self.peers.slots.get_mut(peer) else {
                return;
            };
            if !woken || !applied {
                slot.pipe.writer.give_up_pace();
                return;
            }
            slot.pipe.writer.end_pace();
        }
    }

    /// Receives a frame into `out` (in place of the frame there), blocking until
    /// `deadline` while none is there.
    ///
    /// A blocking receive from a lone peer in this process lets its pipe poll for a
    /// moment when it has caught up, before asking to be woken (`Reader::set_catch_up_spin`:
    /// a reader that asks at every message turns each of the writer's flushes into a
    /// wake-up). Only here: a read that does not wait (`ZMQ_DONTWAIT`, `ZMQ_EVENTS`, the
    /// stale replies a REQ drops before it sends) must not poll for what is not coming.
    pub(crate) fn recv(&mut self, deadline: Deadline, out: &mut Frame) -> Result<()> {
        let lone = self
            .peers
            .lone
            .filter(|_| !matches!(deadline, Deadline::Now));
        let Some(peer) = lone else {
            return self.recv_frame(deadline, out);
        };
        self.peers.set_catch_up_spin(peer, true);
        let result = self.recv_frame(deadline, out);
        self.peers.set_catch_up_spin(peer, false);
        result
    }

    fn recv_frame(&mut self, deadline: Deadline, out: &mut Frame) -> Result<()> {
        self.process_mailbox()?;
        loop {
            match self.pattern.recv_into(&mut self.peers, out) {
                Ok(()) => {
                    self.detach_finished();
                    return Ok(());
                }
                Err(PatternError::Again(_)) => {
                    self.detach_finished();
                    if !self.wait(deadline) {
                        return Err(Error::EAGAIN);
                    }
                    self.process_mailbox()?;
                }
                Err(e) => return Err(pattern_error(e)),
            }
        }
    }

    /// `ZMQ_EVENTS`: whether a message can be received (POLLIN) or sent (POLLOUT) now.
    /// Also settles the `ZMQ_FD` descriptor: readable while an event is pending.
    pub(crate) fn events(&mut self) -> Result<(bool, bool)> {
        self.events_for(true, true)
    }

    /// `ZMQ_EVENTS` for a wait on some events only: the `ZMQ_FD` descriptor is left
    /// readable only if a wanted event is pending (or the mailbox gets work later), so a
    /// wait for POLLIN does not wake at once because POLLOUT is available.
    pub(crate) fn events_for(&mut self, want_in: bool, want_out: bool) -> Result<(bool, bool)> {
        self.release_input();
        self.shared.clear_signal();
        self.process_mailbox()?;
        let can_in = self.pattern.has_in(&mut self.peers);
        let can_out = self.pattern.has_out(&mut self.peers);
        self.detach_finished();
        if (can_in && want_in) || (can_out && want_out) {
            self.shared.raise_signal();
        }
        Ok((can_in, can_out))
    }
}

/// The libzmq error for a pattern's refusal.
pub(crate) fn pattern_error(e: PatternError) -> Error {
    Error::from_raw(e.errno())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(order: u64) -> Slot {
        Slot {
            pipe: pipe_pair(0, 0).0,
            endpoint: None,
            routing_id: Bytes::new(),
            closing: false,
            in_process: true,
            order,
        }
    }

    #[test]
    fn peer_ids_are_never_reused_and_stale_ones_find_nothing() {
        let mut slots = PeerSlots::default();
        let a = slots.insert(slot(0));
        let b = slots.insert(slot(1));
        assert_ne!(a, b);
        assert_eq!(slots.len(), 2);
        assert_eq!(slots.get(a).map(|s| s.order), Some(0));
        assert!(slots.remove(a).is_some());
        assert!(slots.remove(a).is_none(), "removed once");
        assert!(slots.get(a).is_none());
        // The freed entry is reused, under a new id.
        assert_eq!(slots.next_id() as u32, a as u32);
        let c = slots.insert(slot(2));
        assert_ne!(c, a);
        assert_eq!(c as u32, a as u32);
        assert!(
            slots.get(a).is_none(),
            "a late wake-up for the old peer finds nothing"
        );
        assert!(slots.get_mut(a).is_none());
        assert_eq!(slots.get_mut(c).map(|s| s.order), Some(2));
        let mut listed: Vec<(PeerId, u64)> = slots.iter().map(|(id, s)| (id, s.order)).collect();
        listed.sort_unstable();
        let mut expected = vec![(c, 2), (b, 1)];
        expected.sort_unstable();
        assert_eq!(listed, expected);
        let drained: Vec<u64> = slots.drain().iter().map(|s| s.order).collect();
        assert_eq!(drained.len(), 2);
        assert_eq!(slots.len(), 0);
        assert!(slots.get(b).is_none() && slots.get(c).is_none());
        let d = slots.insert(slot(3));
        assert!(d != b && d != c);
        assert_eq!(slots.values().count(), 1);
    }
}
