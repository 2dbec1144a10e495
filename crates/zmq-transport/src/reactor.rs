//! The I/O thread: one poller (`epoll` on Linux: [`poller`]), the sources it watches (listeners, connecters,
//! connections), a mailbox of commands from socket threads, and timers kept as data.
//!
//! Sources are registered edge-triggered: an event says a socket *became* ready, and the
//! engine then reads or writes until the OS says `WouldBlock` ("draining readiness", as
//! mio puts it). Spurious events are harmless: every handler tolerates `WouldBlock`.
//!
//! Commands arrive through [`IoShared::send`], which wakes the poller with
//! [`Poller::notify`] only when the mailbox goes from empty to non-empty. Pipe wake-ups
//! (a socket wrote to a pipe the engine found empty, or read from one it found full) are
//! commands too, and happen only on those transitions.

use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::sync::Weak;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use slab::Slab;
use smallvec::SmallVec;
use zmtp_codec::Frame;

use crate::direct::DirectPoll;
use crate::endpoint::Host;
use crate::engine::{Engine, EngineEnd, Owner};
use crate::monitor::{self, EventKind};
use crate::net::{poll_fds, PollFd, POLLOUT};
use crate::options::TransportOptions;
use crate::pipe::{DirectRead, DirectWrite, PipeEnd, Wake, Wakeup};
use crate::recycle;
use crate::runtime::display_addr;
use crate::runtime::{EndpointId, SocketLink};
use crate::sched::IoScheduling;
use crate::stream::{self, Listener, Stream, UnixAddr};
use crate::zap::ZapRouter;

/// The readiness poller (its own file, for the reactor only).
#[path = "poller.rs"]
mod poller;
use poller::{EventBuffer, Poller, Ready};

/// A source's slab key, also its poller key and its pipe wake-up token.
pub(crate) type Key = usize;

/// Work sent to an I/O thread.
pub(crate) enum Command {
    /// Watch a bound listener.
    Listen(Box<ListenSpec>),
    /// Keep a connection to an endpoint, reconnecting as needed.
    Connect(Box<ConnectSpec>),
    /// Close everything an endpoint owns; connections drain their outbound messages for up
    /// to `linger` (`None`: until drained) first. `done` is dropped once the endpoint's
    /// listener is closed, so that the caller can bind the same address again at once.
    CloseEndpoint {
        id: EndpointId,
        linger: Option<Duration>,
        done: Option<SyncSender<()>>,
    },
    /// A pipe end registered by an engine changed state.
    PipeWake { key: Key, why: Wakeup },
    /// A connect through a SOCKS proxy finished its SOCKS exchange.
    Proxied {
        key: Key,
        /// The connect's endpoint, so that a slot reused since is not mistaken for it.
        id: EndpointId,
        generation: u64,
        result: io::Result<std::net::TcpStream>,
    },
    /// A host name lookup finished.
    Resolved {
        key: Key,
        generation: u64,
        result: io::Result<Vec<SocketAddr>>,
    },
    /// Close everything now and end the thread.
    Stop,
}

pub(crate) struct ListenSpec {
    pub(crate) listener: Listener,
    pub(crate) id: EndpointId,
    pub(crate) link: Arc<dyn SocketLink>,
    pub(crate) options: Arc<TransportOptions>,
    /// The endpoint as bound (resolved), for its events.
    pub(crate) endpoint: Arc<str>,
}

/// Where a connecter connects to.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    Tcp {
        host: Host,
        port: u16,
        source: Option<SocketAddr>,
    },
    Unix(UnixAddr),
}

pub(crate) struct ConnectSpec {
    pub(crate) target: Target,
    pub(crate) id: EndpointId,
    pub(crate) link: Arc<dyn SocketLink>,
    pub(crate) options: Arc<TransportOptions>,
    /// The socket's end lives as long as the connect (messages queue before and between
    /// connections); `None` attaches a new pipe per connection.
    pub(crate) session: Option<PipeEnd>,
    /// The routing id the socket gives this peer (`ZMQ_CONNECT_ROUTING_ID`), if any.
    pub(crate) peer_routing_id: Option<bytes::Bytes>,
    /// The endpoint as given, for its events.
    pub(crate) endpoint: Arc<str>,
}

/// The part of an I/O thread other threads talk to.
pub(crate) struct IoShared {
    poller: Poller,
    mailbox: Mutex<Vec<Command>>,
    /// The thread has ended; set under the mailbox lock.
    stopped: AtomicBool,
    /// Sources still draining after their endpoint closed; `Runtime::shutdown` waits for 0.
    lingering: AtomicUsize,
    idle: Condvar,
    idle_lock: Mutex<()>,
}

impl IoShared {
    /// Queues a command and wakes the thread if it may be asleep. Returns false if the
    /// thread has ended: the command is dropped (which releases whoever waits on it).
    pub(crate) fn send(&self, command: Command) -> bool {
        let was_empty = {
            let mut mailbox = self.mailbox.lock();
            if self.stopped.load(Ordering::Relaxed) {
                return false;
            }
            let was_empty = mailbox.is_empty();
            mailbox.push(command);
            was_empty
        };
        if was_empty {
            // Failure here means the poller is gone, which only happens at shutdown.
            let _ = self.poller.notify();
        }
        true
    }

    /// Asks the thread to close an endpoint. Until the thread has taken the command, it
    /// counts as lingering, so a termination that follows at once waits for it.
    ///
    /// `done` is dropped once the thread has closed the endpoint's listener (or has ended).
    pub(crate) fn close_endpoint(
        &self,
        id: EndpointId,
        linger: Option<Duration>,
        done: Option<SyncSender<()>>,
    ) {
        self.lingering.fetch_add(1, Ordering::AcqRel);
        if !self.send(Command::CloseEndpoint { id, linger, done })
            && self.lingering.fetch_sub(1, Ordering::AcqRel) == 1
        {
            let _guard = self.idle_lock.lock();
            self.idle.notify_all();
        }
    }

    /// Waits until no source lingers, or until `deadline`.
    pub(crate) fn wait_idle(&self, deadline: Option<Instant>) -> bool {
        let mut guard = self.idle_lock.lock();
        while self.lingering.load(Ordering::Acquire) > 0 {
            match deadline {
                Some(d) => {
                    if self.idle.wait_until(&mut guard, d).timed_out() {
                        return self.lingering.load(Ordering::Acquire) == 0;
                    }
                }
                None => self.idle.wait(&mut guard),
            }
        }
        true
    }
}

/// Wakes an I/O thread for one of its sources' pipes.
struct IoWaker(Arc<IoShared>);

impl Wake for IoWaker {
    fn wake(&self, token: u64, why: Wakeup) {
        self.0.send(Command::PipeWake {
            key: token as Key,
            why,
        });
    }
}

/// An I/O thread and its handle.
pub(crate) struct IoThread {
    pub(crate) shared: Arc<IoShared>,
    thread: Option<JoinHandle<()>>,
}

impl IoThread {
    pub(crate) fn spawn(
        index: usize,
        zap: Arc<ZapRouter>,
        scheduling: IoScheduling,
    ) -> io::Result<Self> {
        let shared = Arc::new(IoShared {
            poller: Poller::new()?,
            mailbox: Mutex::new(Vec::new()),
            stopped: AtomicBool::new(false),
            lingering: AtomicUsize::new(0),
            idle: Condvar::new(),
            idle_lock: Mutex::new(()),
        });
        let for_thread = Arc::clone(&shared);
        let (scheduled_tx, scheduled) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("zmq-io-{index}"))
            .spawn(move || {
                scheduling.apply();
                let _ = scheduled_tx.send(());
                Reactor::new(for_thread, zap).run();
            })?;
        // Scheduled as asked before anything runs on it (or gone, if it could not start).
        let _ = scheduled.recv();
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Stops the thread, closing everything it holds, and waits for it.
    pub(crate) fn stop(&mut self) {
        self.shared.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for IoThread {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What a timer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimerKind {
    Reconnect,
    ConnectTimeout,
    Handshake,
    Linger,
    /// The earliest of a connection's heartbeat deadlines (see `heartbeat`).
    Heartbeat,
    /// The check of the socket's thread's lease on a connection's input (see
    /// `engine::READ_LEASE`).
    ReadLease,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerId(u64);

/// Timers as data: the reactor computes its poll timeout from the earliest.
#[derive(Default)]
pub(crate) struct Timers {
    next_id: u64,
    queue: BTreeMap<(Instant, TimerId), (Key, TimerKind)>,
}

impl Timers {
    pub(crate) fn add(&mut self, at: Instant, key: Key, kind: TimerKind) -> TimerId {
        self.next_id += 1;
        let id = TimerId(self.next_id);
        self.queue.insert((at, id), (key, kind));
        id
    }

    pub(crate) fn cancel(&mut self, at: Instant, id: TimerId) {
        self.queue.remove(&(at, id));
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.queue.keys().next().map(|(at, _)| *at)
    }

    fn pop_due(&mut self, now: Instant) -> Option<(TimerId, Key, TimerKind)> {
        let (&(at, id), _) = self.queue.iter().next()?;
        if at > now {
            return None;
        }
        let (key, kind) = self.queue.remove(&(at, id))?;
        Some((id, key, kind))
    }
}

/// A scheduled timer, remembered by its owner so it can cancel it or recognise it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scheduled {
    pub(crate) at: Instant,
    pub(crate) id: TimerId,
}

/// What the reactor watches.
enum Source {
    Listener(ListenerSource),
    Connecter(Box<Connecter>),
    /// A TCP or ipc connect in progress, for the connecter at `owner`.
    Connecting {
        stream: Stream,
        owner: Key,
    },
    Engine(EngineCell),
}

/// An engine, behind a lock so that the socket's thread can write and read for it
/// ([`Engine::write_direct`], [`Engine::begin_direct_read`], through [`DirectWaker`]). The
/// I/O thread takes the engine out when it ends; the socket's thread tries the lock to
/// write, and blocks on it (for as long as the I/O thread's run) only to wait and read.
type EngineCell = Arc<Mutex<Option<Box<Engine>>>>;

/// The waker of an engine's outbound pipe when its socket's thread may write: it first
/// tries to write the messages there and then; if it cannot (the engine is busy on the
/// I/O thread, or is not idle), the I/O thread is woken as usual.
///
/// It also lets the socket's thread wait for the connection's input and read it
/// ([`DirectRead`], through [`Engine::begin_direct_read`] and [`Engine::end_direct_read`]),
/// and, for every socket type, write a large frame from the caller's buffer
/// ([`DirectWrite`], through [`Engine::direct_encoder`] and [`Engine::hold_writes`]).
struct DirectWaker {
    engine: Weak<Mutex<Option<Box<Engine>>>>,
    io: Arc<dyn Wake>,
    /// The I/O thread's poller, whose watch on the connection follows the engine.
    shared: Arc<IoShared>,
    /// The engine's key, for waking the I/O thread about it.
    key: Key,
    /// Unique to this connection, for the socket's [`DirectPoll`].
    id: u64,
}

/// The identities of [`DirectWaker`]s.
static DIRECT_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl DirectRead for DirectWaker {
    fn wait(&self, poll: &mut DirectPoll, timeout: Option<Duration>) -> Option<bool> {
        let cell = self.engine.upgrade()?;
        {
            // Not `try_lock`: the input may be this thread's (its lease), unwatched by the
            // I/O thread, whose run is short; this thread is about to block anyway.
            let mut guard = cell.lock();
            let engine = guard.as_mut()?;
            let fd = engine.begin_direct_read();
            // The I/O thread is not woken for what this thread is about to read (or, when
            // this thread does not wait here, reads for it again).
            sync_interest(&self.shared, self.key, engine);
            fd?;
            // SAFETY: the engine, which owns the descriptor, is alive: its lock is held.
            #[allow(unsafe_code)]
            let stream = unsafe { BorrowedFd::borrow_raw(engine.raw_fd()) };
            if poll.watch(stream, self.id).is_err() {
                // Left to the I/O thread.
                let poke = engine.end_direct_read(false);
                engine.end_read_lease();
                sync_interest(&self.shared, self.key, engine);
                drop(guard);
                if poke {
                    self.io.wake(self.key as u64, Wakeup::Readable);
                }
                return None;
            }
        }
        // Without the lock while waiting: the I/O thread keeps its timers and writes. If
        // it ends the connection meanwhile (closing the stream takes it out of the poll),
        // the socket's pipe closes, which wakes the socket's descriptor.
        // A failed wait: let the reads find out.
        Some(poll.wait(timeout).unwrap_or(true))
    }

    fn finish(&self, readable: bool) {
        let Some(cell) = self.engine.upgrade() else {
            return;
        };
        let mut guard = cell.lock();
        let Some(engine) = guard.as_mut() else {
            return;
        };
        // An event the I/O thread took meanwhile (one already queued when the watch was
        // dropped) is in the engine's `readable`, which the reads take into account.
        let poke = engine.end_direct_read(readable);
        // Watched again: input that came after the last read is reported to the I/O
        // thread at once.
        sync_interest(&self.shared, self.key, engine);
        drop(guard);
        if poke {
            self.io.wake(self.key as u64, Wakeup::Readable);
        }
    }

    fn release(&self) {
        let Some(cell) = self.engine.upgrade() else {
            return;
        };
        let mut guard = cell.lock();
        if let Some(engine) = guard.as_mut() {
            engine.end_read_lease();
            sync_interest(&self.shared, self.key, engine);
        }
    }
}

impl DirectWrite for DirectWaker {
    fn write_frame(
        &self,
        prefix: &[&Frame],
        more: bool,
        body: &[u8],
        hold_until: Option<Instant>,
    ) -> bool {
        let Some(cell) = self.engine.upgrade() else {
            return false;
        };
        // `try_lock`: an engine the I/O thread is running is not idle anyway.
        let Some(mut guard) = cell.try_lock() else {
            return false;
        };
        let Some(engine) = guard.as_mut() else {
            return false;
        };
        let Some(encoder) = engine.direct_encoder() else {
            return false;
        };
        let mut head: SmallVec<[u8; 64]> = SmallVec::new();
        for frame in prefix {
            head.extend_from_slice(encoder.data_header(frame.more, frame.len()).as_bytes());
            head.extend_from_slice(&frame.data);
        }
        head.extend_from_slice(encoder.data_header(more, body.len()).as_bytes());
        let total = head.len() + body.len();
        // Anything but a first write that took something leaves the frame to the pipe (and
        // the I/O thread meets the error, or the full stream, itself).
        let mut done = match write_rest(engine, &head, body, 0) {
            Ok(n) if n > 0 => n,
            _ => return false,
        };
        if let Some(until) = hold_until.filter(|_| done < total) {
            engine.hold_writes();
            sync_interest(&self.shared, self.key, engine);
            let fd = engine.raw_fd();
            drop(guard);
            loop {
                // Without the lock while waiting: the I/O thread keeps reading and its
                // timers, and if it ends the connection meanwhile, the frame ends with it.
                let now = Instant::now();
                let mut fds = [PollFd {
                    fd,
                    events: POLLOUT,
                    revents: 0,
                }];
                let ready =
                    now < until && matches!(poll_fds(&mut fds, Some(until - now)), Ok(n) if n > 0);
                guard = cell.lock();
                let Some(engine) = guard.as_mut() else {
                    return true;
                };
                if ready {
                    match write_rest(engine, &head, body, done) {
                        Ok(n) => done += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        // Left to the I/O thread with the rest, which meets it itself.
                        Err(_) => break,
                    }
                    if done < total {
                        drop(guard);
                        continue;
                    }
                }
                break;
            }
        }
        let Some(engine) = guard.as_mut() else {
            return true;
        };
        let run = if done == total {
            engine.end_held_write(more)
        } else {
            // The rest is copied, for the I/O thread to write once the stream has room.
            let (head_rest, body_rest) = rest(&head, body, done);
            engine.hand_over_write(head_rest, body_rest, more);
            false
        };
        // The I/O thread's poller watches for what the engine wants now (room to write the
        // rest); if it could not be told, the thread is woken to find out itself.
        sync_interest(&self.shared, self.key, engine);
        let run = run || engine.watched != engine.interest();
        drop(guard);
        if run {
            self.io.wake(self.key as u64, Wakeup::Readable);
        }
        true
    }
}

/// What is left of `head` then `body` after the first `done` bytes.
fn rest<'a>(head: &'a [u8], body: &'a [u8], done: usize) -> (&'a [u8], &'a [u8]) {
    if done < head.len() {
        (&head[done..], body)
    } else {
        (&[], &body[done - head.len()..])
    }
}

/// One write of what is left of `head` then `body` after the first `done` bytes, retried
/// when interrupted.
fn write_rest(engine: &mut Engine, head: &[u8], body: &[u8], done: usize) -> io::Result<usize> {
    let (head, body) = rest(head, body, done);
    loop {
        match engine.write_pieces(head, body) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

impl Wake for DirectWaker {
    fn wake(&self, token: u64, why: Wakeup) {
        if why == Wakeup::Readable {
            let written = self.engine.upgrade().is_some_and(|cell| {
                cell.try_lock().is_some_and(|mut engine| {
                    engine.as_mut().is_some_and(|e| {
                        let done = e.write_direct();
                        sync_interest(&self.shared, self.key, e);
                        done
                    })
                })
            });
            if written {
                return;
            }
        }
        self.io.wake(token, why);
    }
}

struct ListenerSource {
    listener: Listener,
    id: EndpointId,
    link: Arc<dyn SocketLink>,
    options: Arc<TransportOptions>,
    endpoint: Arc<str>,
}

enum ConnState {
    /// Waiting for the reconnect timer (or the first attempt).
    Waiting(Option<Scheduled>),
    Resolving(u64),
    /// The connecting socket's key, and its timeout.
    Connecting(Key, Option<Scheduled>),
    /// The engine's key.
    Connected(Key),
}

struct Connecter {
    spec: ConnectSpec,
    state: ConnState,
    /// The current reconnect interval, doubled after each failure with RECONNECT_IVL_MAX.
    backoff: Option<Duration>,
    generation: u64,
    /// The endpoint was closed: no more attempts; the connecter ends with its engine.
    closing: bool,
    /// Closed while messages were queued and no connection was up: it keeps connecting to
    /// deliver them, until this deadline (`Some(None)`: no limit).
    linger: Option<Option<Scheduled>>,
}

/// What a new engine is made with, besides its stream.
struct NewEngine {
    owner: Owner,
    link: Arc<dyn SocketLink>,
    options: Arc<TransportOptions>,
    session: Option<PipeEnd>,
    peer_routing_id: Option<bytes::Bytes>,
    /// Start closing at once, with this linger (for a connect closed before it connected).
    linger: Option<Option<Duration>>,
    /// The connection's endpoint for its events.
    endpoint: Arc<str>,
}

/// Everything the reactor thread owns.
pub(crate) struct Reactor {
    shared: Arc<IoShared>,
    waker: Arc<dyn Wake>,
    sources: Slab<Source>,
    timers: Timers,
    rng: u64,
    zap: Arc<ZapRouter>,
    /// Engines that stopped at their write turn, to run again before the next wait.
    again: Vec<Key>,
}

/// Services engines use from the reactor.
pub(crate) struct Ctx<'a> {
    pub(crate) key: Key,
    pub(crate) waker: &'a Arc<dyn Wake>,
    pub(crate) timers: &'a mut Timers,
    /// Where handshakes send their ZAP requests.
    pub(crate) zap: &'a Arc<ZapRouter>,
}

impl Reactor {
    fn new(shared: Arc<IoShared>, zap: Arc<ZapRouter>) -> Self {
        let waker: Arc<dyn Wake> = Arc::new(IoWaker(Arc::clone(&shared)));
        let seed = Instant::now().elapsed().as_nanos() as u64
            ^ (Arc::as_ptr(&shared) as u64).rotate_left(32)
            ^ std::process::id() as u64;
        Self {
            shared,
            waker,
            sources: Slab::new(),
            timers: Timers::default(),
            rng: seed | 1,
            zap,
            again: Vec::new(),
        }
    }

    fn run(mut self) {
        let mut events = EventBuffer::default();
        let mut ready = Vec::new();
        loop {
            let timeout = if self.again.is_empty() {
                self.timers
                    .next_deadline()
                    .map(|d| d.saturating_duration_since(Instant::now()))
            } else {
                // Engines wait for their next turn: only what is ready now.
                Some(Duration::ZERO)
            };
            if timeout != Some(Duration::ZERO) {
                // Not held while the thread sleeps.
                recycle::release_now();
            }
            if let Err(e) = self.shared.poller.wait(&mut ready, &mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    // A broken poller cannot be recovered; close everything so sockets
                    // see their peers go instead of hanging.
                    self.stop_all();
                    return;
                }
            }
            for ev in ready.iter() {
                self.on_event(*ev);
            }
            let commands = std::mem::take(&mut *self.shared.mailbox.lock());
            for command in commands {
                if let Command::Stop = command {
                    self.stop_all();
                    return;
                }
                self.on_command(command);
            }
            let now = Instant::now();
            while let Some((id, key, kind)) = self.timers.pop_due(now) {
                self.on_timer(id, key, kind);
            }
            for key in std::mem::take(&mut self.again) {
                self.drive_engine(key);
            }
        }
    }

    fn random(&mut self) -> u64 {
        // xorshift64*: jitter for reconnect intervals only.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn register(&self, source: &impl std::os::fd::AsFd, key: Key) -> io::Result<()> {
        // `remove` deletes every registered descriptor from the poller before the source
        // (and so the descriptor) is dropped.
        self.shared.poller.add(source.as_fd(), key)
    }

    /// Removes a source from the poller and the slab.
    fn remove(&mut self, key: Key) -> Option<Source> {
        let source = self.sources.try_remove(key)?;
        let fd = match &source {
            Source::Listener(l) => Some(l.listener.as_fd_raw()),
            Source::Connecting { stream, .. } => Some(AsRawFd::as_raw_fd(stream)),
            Source::Engine(cell) => cell.lock().as_ref().map(|e| e.raw_fd()),
            Source::Connecter(_) => None,
        };
        if let Some(fd) = fd {
            // SAFETY: the descriptor is still open: its owner is in `source`, alive here.
            #[allow(unsafe_code)]
            let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
            let _ = self.shared.poller.delete(borrowed);
        }
        Some(source)
    }

    fn on_event(&mut self, ev: Ready) {
        let key = ev.key;
        match self.sources.get_mut(key) {
            Some(Source::Listener(_)) => self.accept_all(key),
            Some(Source::Connecting { .. }) => {
                if ev.writable || ev.readable {
                    self.connect_finished(key);
                }
            }
            Some(Source::Engine(cell)) => {
                if let Some(engine) = cell.lock().as_mut() {
                    engine.on_ready(ev.readable, ev.writable, ev.hup);
                }
                self.drive_engine(key);
            }
            Some(Source::Connecter(_)) | None => {}
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Listen(spec) => {
                let ListenSpec {
                    listener,
                    id,
                    link,
                    options,
                    endpoint,
                } = *spec;
                let entry = self.sources.vacant_entry();
                let key = entry.key();
                if self.register(&listener, key).is_ok() {
                    self.sources.insert(Source::Listener(ListenerSource {
                        listener,
                        id,
                        link,
                        options,
                        endpoint,
                    }));
                    // Connections may have queued before registration.
                    self.accept_all(key);
                }
            }
            Command::Connect(spec) => {
                let key = self.sources.insert(Source::Connecter(Box::new(Connecter {
                    backoff: spec.options.reconnect_ivl,
                    spec: *spec,
                    state: ConnState::Waiting(None),
                    generation: 0,
                    closing: false,
                    linger: None,
                })));
                self.start_connect(key);
            }
            Command::CloseEndpoint { id, linger, done } => {
                self.close_endpoint(id, linger);
                drop(done);
                // The command itself counted as lingering until now.
                self.linger_done();
            }
            Command::PipeWake { key, why } => {
                if let Some(Source::Engine(cell)) = self.sources.get_mut(key) {
                    if let Some(engine) = cell.lock().as_mut() {
                        engine.on_pipe_wake(why);
                    }
                    self.drive_engine(key);
                }
            }
            Command::Resolved {
                key,
                generation,
                result,
            } => self.resolved(key, generation, result),
            Command::Proxied {
                key,
                id,
                generation,
                result,
            } => self.proxied(key, id, generation, result),
            Command::Stop => {}
        }
    }

    fn on_timer(&mut self, id: TimerId, key: Key, kind: TimerKind) {
        match (kind, self.sources.get_mut(key)) {
            (TimerKind::Reconnect, Some(Source::Connecter(c))) => {
                if matches!(c.state, ConnState::Waiting(Some(s)) if s.id == id) {
                    c.state = ConnState::Waiting(None);
                    self.start_connect(key);
                }
            }
            (TimerKind::ConnectTimeout, Some(Source::Connecter(c))) => {
                if let ConnState::Connecting(sock, Some(s)) = c.state {
                    if s.id == id {
                        self.close_attempt(key, sock);
                        self.connect_failed(key);
                    }
                }
            }
            (TimerKind::Linger, Some(Source::Connecter(c))) => {
                if matches!(c.linger, Some(Some(s)) if s.id == id) {
                    self.drop_connecter(key);
                }
            }
            (TimerKind::Handshake | TimerKind::Linger, Some(Source::Engine(cell))) => {
                let end = cell.lock().as_mut().and_then(|e| e.timer_fired(id, kind));
                if let Some(end) = end {
                    self.end_engine(key, end);
                }
            }
            (TimerKind::Heartbeat, Some(Source::Engine(cell))) => {
                // The engine checks its heartbeat deadlines when it runs.
                let fired = cell
                    .lock()
                    .as_mut()
                    .is_some_and(|e| e.heartbeat_timer_fired(id));
                if fired {
                    self.drive_engine(key);
                }
            }
            (TimerKind::ReadLease, Some(Source::Engine(cell))) => {
                let cell = Arc::clone(cell);
                let mut ctx = Ctx {
                    key,
                    waker: &self.waker,
                    timers: &mut self.timers,
                    zap: &self.zap,
                };
                let mut guard = cell.lock();
                if let Some(engine) = guard.as_mut() {
                    engine.lease_timer_fired(id, &mut ctx);
                    // An ended lease: watched again, and what came meanwhile is reported.
                    sync_interest(&self.shared, key, engine);
                }
            }
            _ => {}
        }
    }

    fn accept_all(&mut self, key: Key) {
        loop {
            let Some(Source::Listener(l)) = self.sources.get(key) else {
                return;
            };
            match l.listener.accept(&l.options) {
                Ok(stream) => {
                    let owner = Owner::Listener(l.id);
                    let link = Arc::clone(&l.link);
                    let options = Arc::clone(&l.options);
                    // libzmq names an accepted connection by its local address.
                    let endpoint: Arc<str> = match &stream {
                        Stream::Tcp(s) => match s.local_addr() {
                            Ok(a) => Arc::from(format!("tcp://{}", display_addr(a))),
                            Err(_) => Arc::clone(&l.endpoint),
                        },
                        Stream::Unix(_) => Arc::clone(&l.endpoint),
                    };
                    monitor::emit(
                        &*link,
                        EventKind::Accepted,
                        monitor::value(AsRawFd::as_raw_fd(&stream)),
                        &endpoint,
                        |ev| ev.peer_address = peer_address(&stream),
                    );
                    self.add_engine(
                        stream,
                        NewEngine {
                            owner,
                            link,
                            options,
                            session: None,
                            peer_routing_id: None,
                            linger: None,
                            endpoint,
                        },
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    monitor::emit(
                        &*l.link,
                        EventKind::AcceptFailed,
                        monitor::value(e.raw_os_error().unwrap_or(crate::errno::EINVAL)),
                        &l.endpoint,
                        |ev| ev.reason = Some(e.to_string()),
                    );
                    // A connection reset before we took it: take the next one. EMFILE and
                    // the like: stop for now; the next connection edge retries.
                    if e.kind() != io::ErrorKind::ConnectionAborted {
                        return;
                    }
                }
            }
        }
    }

    fn add_engine(&mut self, stream: Stream, new: NewEngine) -> Option<Key> {
        let entry = self.sources.vacant_entry();
        let key = entry.key();
        if self.register(&stream, key).is_err() {
            return None;
        }
        let mut ctx = Ctx {
            key,
            waker: &self.waker,
            timers: &mut self.timers,
            zap: &self.zap,
        };
        let mut engine = Engine::new(
            stream,
            new.owner,
            new.link,
            new.options,
            new.session,
            new.peer_routing_id,
            new.endpoint,
            &mut ctx,
        );
        // A connection made for a connect that was already closed drains at once.
        if let Some(linger) = new.linger {
            if engine.start_linger(linger, &mut ctx) {
                self.shared.lingering.fetch_add(1, Ordering::AcqRel);
            }
        }
        let cell: EngineCell = Arc::new(Mutex::new(None));
        let direct = Arc::new(DirectWaker {
            engine: Arc::downgrade(&cell),
            io: Arc::clone(&self.waker),
            shared: Arc::clone(&self.shared),
            key,
            id: DIRECT_IDS.fetch_add(1, Ordering::Relaxed),
        });
        if engine.wants_direct_writes() {
            engine.set_direct(direct.clone(), direct.clone());
        }
        engine.set_direct_writer(direct);
        *cell.lock() = Some(Box::new(engine));
        self.sources.insert(Source::Engine(cell));
        self.drive_engine(key);
        Some(key)
    }

    fn drive_engine(&mut self, key: Key) {
        let Some(Source::Engine(cell)) = self.sources.get(key) else {
            return;
        };
        let cell = Arc::clone(cell);
        let mut ctx = Ctx {
            key,
            waker: &self.waker,
            timers: &mut self.timers,
            zap: &self.zap,
        };
        let shared = &self.shared;
        let mut again = false;
        let result = cell.lock().as_mut().map_or(Ok(()), |e| {
            let result = e.run(&mut ctx);
            if result.is_ok() {
                sync_interest(shared, key, e);
                again = e.take_yielded();
            }
            result
        });
        if again {
            self.again.push(key);
        }
        if let Err(end) = result {
            self.end_engine(key, end);
        }
    }

    /// Tears an engine down and tells its owner.
    fn end_engine(&mut self, key: Key, why: EngineEnd) {
        let Some(Source::Engine(cell)) = self.remove(key) else {
            return;
        };
        // Taken under the lock: a socket thread that got the lock before finds nothing.
        let Some(engine) = cell.lock().take() else {
            return;
        };
        let lingering = engine.is_lingering();
        engine.report_end(&why);
        let handshake_failed = !engine.handshake_done();
        // As libzmq (`session_base_t::engine_error`): a handshake the peer or the mechanism
        // rejected (a protocol error, ZAP's refusal) ends the connect's session for good;
        // a lost connection or a timeout is retried.
        let rejected = matches!(why, EngineEnd::Handshake { .. });
        let (owner, session) = engine.finish(why, &mut self.timers);
        if lingering {
            self.linger_done();
        }
        if let Owner::Connecter(conn_key) = owner {
            if let Some(Source::Connecter(c)) = self.sources.get_mut(conn_key) {
                if session.is_some() {
                    c.spec.session = session;
                }
                if c.closing {
                    self.sources.remove(conn_key);
                } else {
                    c.state = ConnState::Waiting(None);
                    if rejected {
                        self.abandon(conn_key);
                    } else if !self.give_up(conn_key, false, handshake_failed) {
                        self.connect_failed(conn_key);
                    }
                }
            }
        }
    }

    fn linger_done(&self) {
        if self.shared.lingering.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _guard = self.shared.idle_lock.lock();
            self.shared.idle.notify_all();
        }
    }

    fn start_connect(&mut self, key: Key) {
        let Some(Source::Connecter(c)) = self.sources.get_mut(key) else {
            return;
        };
        c.generation += 1;
        let generation = c.generation;
        match c.spec.target.clone() {
            // ZMQ_SOCKS_PROXY: the SOCKS exchange runs off the reactor thread, as name
            // lookups do; the proxied stream comes back as `Command::Proxied`.
            Target::Tcp { host, port, .. } if !c.spec.options.socks_proxy.is_empty() => {
                c.state = ConnState::Resolving(generation);
                let options = Arc::clone(&c.spec.options);
                let shared = Arc::clone(&self.shared);
                let id = c.spec.id;
                let spawned =
                    std::thread::Builder::new()
                        .name("zmq-socks".into())
                        .spawn(move || {
                            let result = crate::socks::connect(&host, port, &options);
                            shared.send(Command::Proxied {
                                key,
                                id,
                                generation,
                                result,
                            });
                        });
                if spawned.is_err() {
                    self.connect_failed(key);
                }
            }
            Target::Tcp {
                host: Host::Name(name),
                port,
                ..
            } => {
                // Names resolve off the reactor thread, so a slow lookup stalls no other
                // connection (libzmq resolves in its I/O thread, issue 2961).
                c.state = ConnState::Resolving(generation);
                let ipv6 = c.spec.options.ipv6;
                let shared = Arc::clone(&self.shared);
                let spawned = std::thread::Builder::new()
                    .name("zmq-resolve".into())
                    .spawn(move || {
                        let result = (name.as_str(), port).to_socket_addrs().map(|addrs| {
                            let mut addrs: Vec<SocketAddr> =
                                addrs.filter(|a| ipv6 || a.is_ipv4()).collect();
                            addrs.sort_by_key(|a| !a.is_ipv4());
                            addrs
                        });
                        shared.send(Command::Resolved {
                            key,
                            generation,
                            result,
                        });
                    });
                if spawned.is_err() {
                    self.connect_failed(key);
                }
            }
            Target::Tcp {
                host: Host::Ip(ip, scope),
                port,
                source,
            } => {
                let addr = match ip {
                    std::net::IpAddr::V6(v6) => {
                        SocketAddr::V6(std::net::SocketAddrV6::new(v6, port, 0, scope))
                    }
                    v4 => SocketAddr::new(v4, port),
                };
                let options = Arc::clone(&c.spec.options);
                let result = stream::start_tcp_connect(addr, source, &options)
                    .map(|(s, p)| (Stream::Tcp(s), p));
                self.connect_started(key, result);
            }
            Target::Tcp {
                host: Host::Any, ..
            } => self.connect_failed(key),
            Target::Unix(addr) => {
                let result = stream::start_unix_connect(&addr).map(|(s, p)| (Stream::Unix(s), p));
                self.connect_started(key, result);
            }
        }
    }

    fn resolved(&mut self, key: Key, generation: u64, result: io::Result<Vec<SocketAddr>>) {
        let Some(Source::Connecter(c)) = self.sources.get(key) else {
            return;
        };
        if !matches!(c.state, ConnState::Resolving(g) if g == generation) {
            return;
        }
        let (source, options) = match &c.spec.target {
            Target::Tcp { source, .. } => (*source, Arc::clone(&c.spec.options)),
            Target::Unix(_) => return,
        };
        match result.ok().and_then(|a| a.into_iter().next()) {
            Some(addr) => {
                let result = stream::start_tcp_connect(addr, source, &options)
                    .map(|(s, p)| (Stream::Tcp(s), p));
                self.connect_started(key, result);
            }
            None => self.connect_failed(key),
        }
    }

    fn proxied(
        &mut self,
        key: Key,
        id: EndpointId,
        generation: u64,
        result: io::Result<std::net::TcpStream>,
    ) {
        let Some(Source::Connecter(c)) = self.sources.get(key) else {
            return;
        };
        if c.spec.id != id || !matches!(c.state, ConnState::Resolving(g) if g == generation) {
            return;
        }
        let options = Arc::clone(&c.spec.options);
        // Connected already: registering it gives the writable edge that hands it to an
        // engine, as for a direct connect.
        let result = result
            .and_then(|s| {
                s.set_nonblocking(true)?;
                stream::configure_tcp(&s, &options)?;
                Ok((Stream::Tcp(s), false))
            })
            .map_err(|error| stream::OpenFailed { error, fd: None });
        self.connect_started(key, result);
    }

    fn connect_started(&mut self, key: Key, result: Result<(Stream, bool), stream::OpenFailed>) {
        let (stream, in_progress) = match result {
            Ok(started) => started,
            Err(failed) => {
                // libzmq reports the descriptor it opened for the attempt as closed.
                if let (Some(fd), Some(Source::Connecter(c))) = (failed.fd, self.sources.get(key)) {
                    monitor::emit(
                        &*c.spec.link,
                        EventKind::Closed,
                        monitor::value(fd),
                        &c.spec.endpoint,
                        |ev| ev.reason = Some(failed.error.to_string()),
                    );
                }
                if !self.give_up(key, is_refused(&failed.error), false) {
                    self.connect_failed(key);
                }
                return;
            }
        };
        let sock_key = self.sources.vacant_entry().key();
        if self.register(&stream, sock_key).is_err() {
            self.connect_failed(key);
            return;
        }
        self.sources
            .insert(Source::Connecting { stream, owner: key });
        let timeout = match self.sources.get(key) {
            Some(Source::Connecter(c)) => c.spec.options.connect_timeout,
            _ => None,
        };
        let scheduled = timeout.map(|t| {
            let at = Instant::now() + t;
            Scheduled {
                at,
                id: self.timers.add(at, key, TimerKind::ConnectTimeout),
            }
        });
        if let Some(Source::Connecter(c)) = self.sources.get_mut(key) {
            c.state = ConnState::Connecting(sock_key, scheduled);
            // A connect that did not complete at once (`EINPROGRESS`).
            if in_progress {
                monitor::emit(
                    &*c.spec.link,
                    EventKind::ConnectDelayed,
                    monitor::value(crate::errno::EINPROGRESS),
                    &c.spec.endpoint,
                    |_| {},
                );
            }
        }
    }

    fn connect_finished(&mut self, sock_key: Key) {
        let owner = match self.sources.get(sock_key) {
            Some(Source::Connecting { owner, stream }) => {
                let owner = *owner;
                match stream::take_connect_error(stream) {
                    Ok(()) => owner,
                    Err(e) => {
                        self.close_attempt(owner, sock_key);
                        if !self.give_up(owner, is_refused(&e), false) {
                            self.connect_failed(owner);
                        }
                        return;
                    }
                }
            }
            _ => return,
        };
        // A writable edge can precede completion on some systems: confirm with the peer.
        if let Some(Source::Connecting {
            stream: Stream::Tcp(s),
            ..
        }) = self.sources.get(sock_key)
        {
            if s.peer_addr().is_err() {
                return;
            }
        }
        let Some(Source::Connecting { stream, .. }) = self.remove(sock_key) else {
            return;
        };
        let Some(Source::Connecter(c)) = self.sources.get_mut(owner) else {
            return;
        };
        if let ConnState::Connecting(_, Some(s)) = c.state {
            self.timers.cancel(s.at, s.id);
        }
        // A successful connection resets the backoff.
        c.backoff = c.spec.options.reconnect_ivl;
        // Closed before it connected: the engine sends what was queued, within what is
        // left of the linger period, and the connecter ends with it.
        let linger = c.linger.take().map(|deadline| {
            deadline.map(|s| {
                self.timers.cancel(s.at, s.id);
                s.at.saturating_duration_since(Instant::now())
            })
        });
        let handed_over = linger.is_some();
        let session = c.spec.session.take();
        let link = Arc::clone(&c.spec.link);
        let options = Arc::clone(&c.spec.options);
        let routing_id = c.spec.peer_routing_id.clone();
        // libzmq names a connect's connection by the peer's address.
        let endpoint: Arc<str> = match &stream {
            Stream::Tcp(s) => match s.peer_addr() {
                Ok(a) => Arc::from(format!("tcp://{}", display_addr(a))),
                Err(_) => Arc::clone(&c.spec.endpoint),
            },
            Stream::Unix(_) => Arc::clone(&c.spec.endpoint),
        };
        monitor::emit(
            &*link,
            EventKind::Connected,
            monitor::value(AsRawFd::as_raw_fd(&stream)),
            &endpoint,
            |ev| ev.peer_address = peer_address(&stream),
        );
        let added = self.add_engine(
            stream,
            NewEngine {
                owner: Owner::Connecter(owner),
                link,
                options,
                session,
                peer_routing_id: routing_id,
                linger,
                endpoint,
            },
        );
        if handed_over {
            // The engine counts as lingering now, in the connecter's place.
            self.linger_done();
        }
        match added {
            Some(engine_key) => {
                if let Some(Source::Connecter(c)) = self.sources.get_mut(owner) {
                    if matches!(c.state, ConnState::Connecting(..)) {
                        c.state = ConnState::Connected(engine_key);
                    }
                }
            }
            None => self.connect_failed(owner),
        }
    }

    /// Ends a connect for good when `ZMQ_RECONNECT_STOP` says so for this failure (and
    /// not while it lingers): its session goes, so the socket drops the peer and what was
    /// queued for it, as libzmq terminates the session. Returns whether it did.
    fn give_up(&mut self, key: Key, refused: bool, handshake_failed: bool) -> bool {
        let Some(Source::Connecter(c)) = self.sources.get(key) else {
            return false;
        };
        if c.closing || !c.spec.options.stops_reconnecting(refused, handshake_failed) {
            return false;
        }
        self.abandon(key);
        true
    }

    /// Drops a connect for good: no more attempts, and its session (the socket's pipe for
    /// it) closes, as libzmq's session terminates.
    fn abandon(&mut self, key: Key) {
        let Some(Source::Connecter(c)) = self.sources.get(key) else {
            return;
        };
        if let ConnState::Waiting(Some(s)) | ConnState::Connecting(_, Some(s)) = c.state {
            self.timers.cancel(s.at, s.id);
        }
        self.sources.remove(key);
    }

    /// Schedules the next attempt after a failed connect or a lost connection.
    fn connect_failed(&mut self, key: Key) {
        if self.give_up(key, false, false) {
            return;
        }
        let jitter_seed = self.random();
        let Some(Source::Connecter(c)) = self.sources.get_mut(key) else {
            return;
        };
        if c.closing && c.linger.is_none() {
            self.sources.remove(key);
            return;
        }
        let Some(ivl) = c.backoff else {
            // RECONNECT_IVL -1: never reconnect. The connecter stays, idle, until closed.
            c.state = ConnState::Waiting(None);
            return;
        };
        let base = c.spec.options.reconnect_ivl.unwrap_or(ivl);
        let jitter_ms = (base.as_millis() as u64).max(1);
        let wait = ivl + Duration::from_millis(jitter_seed % jitter_ms);
        if let Some(max) = c.spec.options.reconnect_ivl_max {
            if max > base {
                c.backoff = Some((ivl * 2).min(max));
            }
        }
        let at = Instant::now() + wait;
        let id = self.timers.add(at, key, TimerKind::Reconnect);
        c.state = ConnState::Waiting(Some(Scheduled { at, id }));
        monitor::emit(
            &*c.spec.link,
            EventKind::ConnectRetried,
            u32::try_from(wait.as_millis()).unwrap_or(u32::MAX),
            &c.spec.endpoint,
            |_| {},
        );
    }

    /// Closes a connect attempt's descriptor (failed or timed out), as libzmq reports it.
    fn close_attempt(&mut self, owner: Key, sock_key: Key) {
        let fd = match self.sources.get(sock_key) {
            Some(Source::Connecting { stream, .. }) => AsRawFd::as_raw_fd(stream),
            _ => return,
        };
        self.remove(sock_key);
        if let Some(Source::Connecter(c)) = self.sources.get(owner) {
            monitor::emit(
                &*c.spec.link,
                EventKind::Closed,
                monitor::value(fd),
                &c.spec.endpoint,
                |_| {},
            );
        }
    }

    fn close_endpoint(&mut self, id: EndpointId, linger: Option<Duration>) {
        let keys: Vec<Key> = self
            .sources
            .iter()
            .filter(|(_, s)| match s {
                Source::Listener(l) => l.id == id,
                Source::Connecter(c) => c.spec.id == id,
                _ => false,
            })
            .map(|(k, _)| k)
            .collect();
        // The endpoint's connections drain: those accepted by its listener, and the one
        // its connecter holds.
        let mut engines: Vec<Key> = self
            .sources
            .iter()
            .filter_map(|(k, s)| match s {
                Source::Engine(cell)
                    if cell.lock().as_ref().and_then(|e| e.endpoint_id()) == Some(id) =>
                {
                    Some(k)
                }
                _ => None,
            })
            .collect();
        for key in keys {
            match self.sources.get_mut(key) {
                Some(Source::Listener(l)) => {
                    let fd = l.listener.as_fd_raw();
                    let (link, endpoint) = (Arc::clone(&l.link), Arc::clone(&l.endpoint));
                    self.remove(key);
                    monitor::emit(
                        &*link,
                        EventKind::Closed,
                        monitor::value(fd),
                        &endpoint,
                        |_| {},
                    );
                }
                Some(Source::Connecter(c)) => {
                    c.closing = true;
                    let queued = linger != Some(Duration::ZERO)
                        && c.spec
                            .session
                            .as_mut()
                            .is_some_and(|s| s.reader.has_frame());
                    match c.state {
                        // The connecter goes when its engine ends.
                        ConnState::Connected(engine) => engines.push(engine),
                        // Messages wait for a connection: keep trying, within the linger
                        // period, as libzmq does; nothing queued, nothing to wait for.
                        _ if queued => {
                            let deadline = linger.map(|l| {
                                let at = Instant::now() + l;
                                Scheduled {
                                    at,
                                    id: self.timers.add(at, key, TimerKind::Linger),
                                }
                            });
                            c.linger = Some(deadline);
                            self.shared.lingering.fetch_add(1, Ordering::AcqRel);
                        }
                        ConnState::Connecting(sock, timer) => {
                            if let Some(s) = timer {
                                self.timers.cancel(s.at, s.id);
                            }
                            self.remove(sock);
                            self.remove(key);
                        }
                        ConnState::Waiting(timer) => {
                            if let Some(s) = timer {
                                self.timers.cancel(s.at, s.id);
                            }
                            self.remove(key);
                        }
                        ConnState::Resolving(_) => {
                            self.remove(key);
                        }
                    }
                }
                _ => {}
            }
        }
        for key in engines {
            if let Some(Source::Engine(cell)) = self.sources.get(key) {
                let mut ctx = Ctx {
                    key,
                    waker: &self.waker,
                    timers: &mut self.timers,
                    zap: &self.zap,
                };
                let lingers = cell
                    .lock()
                    .as_mut()
                    .is_some_and(|e| e.start_linger(linger, &mut ctx));
                if lingers {
                    self.shared.lingering.fetch_add(1, Ordering::AcqRel);
                }
            }
            self.drive_engine(key);
        }
    }

    /// Removes a lingering connecter whose time ran out, with any connect in progress.
    fn drop_connecter(&mut self, key: Key) {
        let Some(Source::Connecter(c)) = self.remove(key) else {
            return;
        };
        match c.state {
            ConnState::Connecting(sock, timer) => {
                if let Some(s) = timer {
                    self.timers.cancel(s.at, s.id);
                }
                self.remove(sock);
            }
            ConnState::Waiting(Some(s)) => self.timers.cancel(s.at, s.id),
            _ => {}
        }
        if c.linger.is_some() {
            self.linger_done();
        }
    }

    fn stop_all(&mut self) {
        let keys: Vec<Key> = self.sources.iter().map(|(k, _)| k).collect();
        for key in keys {
            if matches!(self.sources.get(key), Some(Source::Engine(_))) {
                self.end_engine(key, EngineEnd::Terminated);
            }
        }
        let keys: Vec<Key> = self.sources.iter().map(|(k, _)| k).collect();
        for key in keys {
            self.remove(key);
        }
        self.shared.lingering.store(0, Ordering::Release);
        {
            let _guard = self.shared.idle_lock.lock();
            self.shared.idle.notify_all();
        }
        // Commands left unread, or sent from now on, are dropped, releasing whoever waits
        // on them.
        let left = {
            let mut mailbox = self.shared.mailbox.lock();
            self.shared.stopped.store(true, Ordering::Relaxed);
            std::mem::take(&mut *mailbox)
        };
        drop(left);
    }
}

/// Brings the poller's watch on an engine's stream in line with what the engine wants to
/// be woken for ([`Engine::interest`]). Called with the engine's lock held, from either
/// thread, so the stream cannot close meanwhile. A change that fails (it cannot while the
/// stream is registered, short of the kernel's memory) is tried again at the next call.
fn sync_interest(shared: &IoShared, key: Key, engine: &mut Engine) {
    let want = engine.interest();
    if want == engine.watched {
        return;
    }
    // SAFETY: the engine, which owns the descriptor, is alive: its lock is held.
    #[allow(unsafe_code)]
    let fd = unsafe { BorrowedFd::borrow_raw(engine.raw_fd()) };
    if shared.poller.set_interest(fd, key, want.0, want.1).is_ok() {
        engine.watched = want;
    }
}

impl Listener {
    pub(crate) fn as_fd_raw(&self) -> std::os::fd::RawFd {
        AsRawFd::as_raw_fd(self)
    }
}

/// The peer's address for an event (`Peer-Address`: the IP for tcp; none for ipc).
fn peer_address(stream: &Stream) -> Option<String> {
    Some(stream.peer_address()).filter(|a| !a.is_empty())
}

/// Whether a connect failed because the peer refused it (nothing listens there).
fn is_refused(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::ConnectionRefused
}
