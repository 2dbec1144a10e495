//! The proxy: libzmq's `zmq_proxy` and `zmq_proxy_steerable`, with the `zmq` crate 0.10's
//! four functions and a [`Proxy`] builder that also takes one socket as both sides.
//!
//! A proxy forwards whole messages from its frontend to its backend and back, in the
//! calling thread, until the context is terminated (`ETERM`) or, when steered, a
//! `TERMINATE` command arrives (`Ok`). It reads from a side only when the other side can
//! take a message (POLLOUT), as libzmq does, so nothing is lost to a PUSH, DEALER or REQ
//! at its high-water mark: drops happen only where the destination socket type drops
//! (PUB, XPUB, ROUTER). It forwards at most [`PROXY_BURST_SIZE`] messages per side each
//! time it wakes up, so neither direction starves the other.
//!
//! Where libzmq blocks in a send while the destination fills up in the middle of a burst
//! (and then cannot hear its control socket, issue 1382), this proxy keeps the one message
//! it holds and waits for room *and* for commands, so `TERMINATE`, `PAUSE` and
//! `STATISTICS` are always answered. While paused it waits on the control socket alone
//! (libzmq's loop spins while a paused side has input).

use std::os::fd::RawFd;
use std::time::Duration;

use zmq_transport::net::{self, PollFd};

use crate::error::{Error, Result};
use crate::message::Message;
use crate::poll::PollEvents;
use crate::socket::Socket;
use crate::{SocketType, DONTWAIT, SNDMORE};

/// How many messages a proxy forwards from one side before it looks at the other side and
/// at its control socket again: libzmq's `proxy_burst_size` (`src/config.hpp`, 4.3.2+).
pub const PROXY_BURST_SIZE: usize = 1000;

/// The first wait before a held message a destination refused despite its POLLOUT is tried
/// again (unless the destination signals a change first).
const HELD_RETRY_MIN: Duration = Duration::from_millis(1);
/// The longest such wait: a change that came between the refusal and the wait is missed
/// for at most this long.
const HELD_RETRY_MAX: Duration = Duration::from_millis(100);

/// Forwards messages between `frontend` and `backend` until the context is terminated,
/// then returns `Err(ETERM)`, as `zmq_proxy(frontend, backend, NULL)`. The same socket may
/// be given as both.
pub fn proxy(frontend: &Socket, backend: &Socket) -> Result<()> {
    Proxy::new(frontend, backend).run()
}

/// [`proxy`], also sending every message part that passes, in either direction, to
/// `capture` (a PUB, DEALER, PUSH or PAIR), as `zmq_proxy(frontend, backend, capture)`.
pub fn proxy_with_capture(
    frontend: &mut Socket,
    backend: &mut Socket,
    capture: &mut Socket,
) -> Result<()> {
    Proxy::new(frontend, backend).capture(capture).run()
}

/// [`proxy`], steered by the commands `control` receives (see [`Proxy::control`]);
/// returns `Ok(())` on `TERMINATE`, as `zmq_proxy_steerable(frontend, backend, NULL,
/// control)`.
pub fn proxy_steerable(
    frontend: &mut Socket,
    backend: &mut Socket,
    control: &mut Socket,
) -> Result<()> {
    Proxy::new(frontend, backend).control(control).run()
}

/// [`proxy_steerable`] with a capture socket, as `zmq_proxy_steerable(frontend, backend,
/// capture, control)`.
pub fn proxy_steerable_with_capture(
    frontend: &mut Socket,
    backend: &mut Socket,
    capture: &mut Socket,
    control: &mut Socket,
) -> Result<()> {
    Proxy::new(frontend, backend)
        .capture(capture)
        .control(control)
        .run()
}

/// A proxy's sockets, to be run with [`run`](Self::run). Unlike the `zmq` crate's
/// functions it borrows its sockets shared, so one socket can be the frontend and the
/// backend of a steerable proxy (libzmq's `test_proxy_single_socket`).
///
/// ```
/// let ctx = zmq::Context::new();
/// let frontend = ctx.socket(zmq::ROUTER).unwrap();
/// frontend.bind("inproc://proxy-doc-front").unwrap();
/// let backend = ctx.socket(zmq::DEALER).unwrap();
/// backend.bind("inproc://proxy-doc-back").unwrap();
/// let control = ctx.socket(zmq::PAIR).unwrap();
/// control.bind("inproc://proxy-doc-control").unwrap();
/// let steer = ctx.socket(zmq::PAIR).unwrap();
/// steer.connect("inproc://proxy-doc-control").unwrap();
/// steer.send("TERMINATE", 0).unwrap();
/// zmq::Proxy::new(&frontend, &backend).control(&control).run().unwrap();
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Proxy<'a> {
    frontend: &'a Socket,
    backend: &'a Socket,
    capture: Option<&'a Socket>,
    control: Option<&'a Socket>,
}

impl<'a> Proxy<'a> {
    /// A proxy between `frontend` and `backend` (possibly the same socket).
    pub fn new(frontend: &'a Socket, backend: &'a Socket) -> Self {
        Self {
            frontend,
            backend,
            capture: None,
            control: None,
        }
    }

    /// Sends a copy of every message part that passes, in either direction, to `capture`,
    /// with its MORE flag. Room on the capture socket is waited for like room on the
    /// destination, so a capture PUSH or DEALER misses nothing.
    pub fn capture(mut self, capture: &'a Socket) -> Self {
        self.capture = Some(capture);
        self
    }

    /// Steers the proxy with the messages `control` receives (the first part is the
    /// command; further parts are ignored):
    /// - `PAUSE`: stop forwarding (messages wait in the sockets' queues);
    /// - `RESUME`: forward again;
    /// - `TERMINATE`: [`run`](Self::run) returns `Ok(())`;
    /// - `STATISTICS`: reply with 8 parts, each a `u64` in host byte order: frontend
    ///   messages received, bytes received, messages sent, bytes sent, then the same four
    ///   for the backend, every part of a multipart message counting as one message
    ///   ([`ProxyStatistics::from_reply`] reads them).
    ///
    /// Any socket type that can receive will do (libzmq 4.3.5 documents REP; its master
    /// accepts any). A REP control socket gets an empty reply to every command but
    /// `STATISTICS`, as libzmq's; other types get no reply to those. Unknown commands
    /// are ignored.
    pub fn control(mut self, control: &'a Socket) -> Self {
        self.control = Some(control);
        self
    }

    /// Runs the proxy in this thread: `Err(ETERM)` when the context is terminated,
    /// `Ok(())` after a `TERMINATE` command, or the error of a socket operation that
    /// failed (as libzmq, e.g. `EHOSTUNREACH` from a `ROUTER_MANDATORY` destination).
    pub fn run(self) -> Result<()> {
        Running::new(self)?.run()
    }
}

/// One side's counters, as `STATISTICS` reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SideStatistics {
    /// Message parts received from this side.
    pub msgs_in: u64,
    /// Bytes received from this side.
    pub bytes_in: u64,
    /// Message parts sent to this side.
    pub msgs_out: u64,
    /// Bytes sent to this side.
    pub bytes_out: u64,
}

/// A proxy's counters: the reply to `STATISTICS`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ProxyStatistics {
    /// The frontend's counters.
    pub frontend: SideStatistics,
    /// The backend's counters.
    pub backend: SideStatistics,
}

/// A `STATISTICS` reply that is not 8 parts of 8 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatisticsReplyError {
    /// The reply had this many parts instead of 8: was `STATISTICS` the command sent, and
    /// is the peer a proxy?
    PartCount(usize),
    /// Part `index` (from 0) was `len` bytes instead of 8.
    PartSize {
        /// Which part.
        index: usize,
        /// Its length.
        len: usize,
    },
}

impl std::fmt::Display for StatisticsReplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PartCount(n) => write!(
                f,
                "a proxy's STATISTICS reply has 8 parts, this one {n}: check that the \
                 command was STATISTICS and that the peer is a steerable proxy"
            ),
            Self::PartSize { index, len } => write!(
                f,
                "part {index} of a STATISTICS reply is {len} bytes, not the 8 of a u64: \
                 the peer is not a proxy"
            ),
        }
    }
}

impl std::error::Error for StatisticsReplyError {}

impl ProxyStatistics {
    /// The 8 parts of a `STATISTICS` reply, as libzmq sends them (host byte order).
    pub fn to_reply(&self) -> [[u8; 8]; 8] {
        let (f, b) = (&self.frontend, &self.backend);
        [
            f.msgs_in,
            f.bytes_in,
            f.msgs_out,
            f.bytes_out,
            b.msgs_in,
            b.bytes_in,
            b.msgs_out,
            b.bytes_out,
        ]
        .map(u64::to_ne_bytes)
    }

    /// Reads a `STATISTICS` reply (e.g. from
    /// [`recv_multipart`](crate::Socket::recv_multipart)).
    pub fn from_reply<T: AsRef<[u8]>>(
        parts: &[T],
    ) -> std::result::Result<Self, StatisticsReplyError> {
        if parts.len() != 8 {
            return Err(StatisticsReplyError::PartCount(parts.len()));
        }
        let mut values = [0u64; 8];
        for (index, (part, value)) in parts.iter().zip(&mut values).enumerate() {
            let part = part.as_ref();
            let bytes: [u8; 8] = part
                .try_into()
                .map_err(|_| StatisticsReplyError::PartSize {
                    index,
                    len: part.len(),
                })?;
            *value = u64::from_ne_bytes(bytes);
        }
        let side = |v: &[u64]| SideStatistics {
            msgs_in: v[0],
            bytes_in: v[1],
            msgs_out: v[2],
            bytes_out: v[3],
        };
        Ok(Self {
            frontend: side(&values[..4]),
            backend: side(&values[4..]),
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Active,
    Paused,
}

/// Which of the two sides.
#[derive(Clone, Copy)]
enum Side {
    Frontend,
    Backend,
}

/// A message taken from one side that the other (or the capture socket) had no room for.
struct Pending {
    parts: Vec<Message>,
    /// Its copy went to the capture socket already.
    captured: bool,
}

/// One direction of forwarding.
struct Direction<'a> {
    from: &'a Socket,
    to: &'a Socket,
    from_side: Side,
    to_side: Side,
    pending: Option<Pending>,
    /// The held message was refused although its destination reported POLLOUT (a STREAM,
    /// or a ROUTER with `ZMQ_ROUTER_MANDATORY`, whose one peer is at its high-water mark):
    /// POLLOUT says nothing about that peer, so the next wait is for a change on the
    /// destination's descriptor, for at most this long, doubled at each refusal up to
    /// [`HELD_RETRY_MAX`]. None: POLLOUT is trusted.
    blind: Option<Duration>,
}

/// What a delivery attempt came to.
enum Delivery {
    Done,
    /// The socket named had no room; the message waits in `pending`.
    Blocked,
}

/// The sockets a wait looks at, each once, with the events wanted and those found.
struct Watch<'a> {
    socket: &'a Socket,
    wanted: PollEvents,
    /// Its POLLOUT cannot be trusted now (see [`Direction::blind`]): wait for its
    /// descriptor instead, for at most this long.
    blind: Option<Duration>,
    found: PollEvents,
    fd: RawFd,
}

struct Running<'a> {
    proxy: Proxy<'a>,
    directions: Vec<Direction<'a>>,
    watches: Vec<Watch<'a>>,
    stats: ProxyStatistics,
    state: State,
    /// The control socket is a REP: it must answer every command.
    control_is_rep: bool,
}

impl<'a> Running<'a> {
    fn new(proxy: Proxy<'a>) -> Result<Self> {
        let forward = Direction {
            from: proxy.frontend,
            to: proxy.backend,
            from_side: Side::Frontend,
            to_side: Side::Backend,
            pending: None,
            blind: None,
        };
        let mut directions = vec![forward];
        // One socket as both sides: one direction (libzmq: "backend_in" is never set).
        if !std::ptr::eq(proxy.frontend, proxy.backend) {
            directions.push(Direction {
                from: proxy.backend,
                to: proxy.frontend,
                from_side: Side::Backend,
                to_side: Side::Frontend,
                pending: None,
                blind: None,
            });
        }
        let mut watches: Vec<Watch<'a>> = Vec::with_capacity(4);
        for socket in [
            Some(proxy.frontend),
            Some(proxy.backend),
            proxy.capture,
            proxy.control,
        ]
        .into_iter()
        .flatten()
        {
            if !watches.iter().any(|w| std::ptr::eq(w.socket, socket)) {
                watches.push(Watch {
                    socket,
                    wanted: PollEvents::empty(),
                    blind: None,
                    found: PollEvents::empty(),
                    fd: -1,
                });
            }
        }
        let control_is_rep = match proxy.control {
            Some(control) => control.get_socket_type()? == SocketType::REP,
            None => false,
        };
        Ok(Self {
            proxy,
            directions,
            watches,
            stats: ProxyStatistics::default(),
            state: State::Active,
            control_is_rep,
        })
    }

    fn run(mut self) -> Result<()> {
        loop {
            self.set_wanted();
            self.wait()?;
            if let Some(control) = self.proxy.control {
                if self.found(control).contains(PollEvents::POLLIN) && self.handle_control()? {
                    return Ok(());
                }
            }
            if self.state == State::Active {
                for i in 0..self.directions.len() {
                    self.forward(i)?;
                }
            }
        }
    }

    /// The events last found on `socket`.
    fn found(&self, socket: &Socket) -> PollEvents {
        self.watches
            .iter()
            .find(|w| std::ptr::eq(w.socket, socket))
            .map_or(PollEvents::empty(), |w| w.found)
    }

    /// Whether `socket` had room when last looked at.
    fn has_room(&self, socket: &Socket) -> bool {
        self.found(socket).contains(PollEvents::POLLOUT)
    }

    /// The socket a direction waits for room on, if it cannot go on now: its held
    /// message's next destination, or, when its source has input, a destination without
    /// room.
    fn stalled_on(&self, d: &Direction<'a>) -> Option<&'a Socket> {
        let capture = self.proxy.capture;
        match &d.pending {
            Some(p) => match capture {
                Some(c) if !p.captured => Some(c),
                _ => Some(d.to),
            },
            None => {
                if !self.found(d.from).contains(PollEvents::POLLIN) {
                    return None;
                }
                // A single socket's own POLLOUT is not asked for (a REP has none before
                // it reads a request), as in libzmq.
                if !std::ptr::eq(d.from, d.to) && !self.has_room(d.to) {
                    return Some(d.to);
                }
                capture.filter(|c| !self.has_room(c))
            }
        }
    }

    fn set_wanted(&mut self) {
        let mut wants: Vec<(&'a Socket, PollEvents)> = Vec::with_capacity(4);
        let mut blind: Vec<(&'a Socket, Duration)> = Vec::new();
        if let Some(control) = self.proxy.control {
            wants.push((control, PollEvents::POLLIN));
        }
        if self.state == State::Active {
            for d in &self.directions {
                match self.stalled_on(d) {
                    Some(socket) => {
                        wants.push((socket, PollEvents::POLLOUT));
                        if let (Some(delay), true) = (d.blind, std::ptr::eq(socket, d.to)) {
                            blind.push((socket, delay));
                        }
                    }
                    None => wants.push((d.from, PollEvents::POLLIN)),
                }
            }
        }
        for w in &mut self.watches {
            w.wanted = wants
                .iter()
                .filter(|(s, _)| std::ptr::eq(*s, w.socket))
                .fold(PollEvents::empty(), |acc, (_, e)| acc | *e);
            w.blind = blind
                .iter()
                .filter(|(s, _)| std::ptr::eq(*s, w.socket))
                .map(|(_, delay)| *delay)
                .min();
        }
    }

    /// Waits until one of the wanted events happens, then records every socket's events.
    /// A blind socket's POLLOUT counts only after its descriptor signalled a change or its
    /// delay passed.
    fn wait(&mut self) -> Result<()> {
        let mut fds: Vec<PollFd> = Vec::with_capacity(self.watches.len());
        loop {
            let mut ready = false;
            for w in &mut self.watches {
                let trusted = match w.blind {
                    Some(_) => w.wanted - PollEvents::POLLOUT,
                    None => w.wanted,
                };
                let (fd, found) = w.socket.wait_state(trusted)?;
                w.fd = fd;
                w.found = found;
                ready |= found.intersects(trusted);
            }
            if ready {
                return Ok(());
            }
            let timeout = self.watches.iter().filter_map(|w| w.blind).min();
            fds.clear();
            fds.extend(
                self.watches
                    .iter()
                    .filter(|w| !w.wanted.is_empty())
                    .map(|w| PollFd {
                        fd: w.fd,
                        events: net::POLLIN,
                        revents: 0,
                    }),
            );
            if fds.is_empty() {
                // Nothing to wait for can happen only with no control socket while
                // paused, which cannot be: pausing takes a control socket.
                return Err(Error::EINVAL);
            }
            // A socket's descriptor becomes readable when its state changes; then look
            // at the sockets again. The bodies received and held back are not kept while
            // the thread sleeps.
            zmq_transport::recycle::release_now();
            net::poll_fds(&mut fds, timeout).map_err(|e| Error::from_io(&e, Error::EINVAL))?;
            // Changed or waited long enough: the blind sockets' POLLOUT counts again.
            for w in &mut self.watches {
                w.blind = None;
            }
        }
    }

    /// Delivers a held message, then forwards a burst if the direction can go on.
    fn forward(&mut self, i: usize) -> Result<()> {
        if self.directions[i].pending.is_some() {
            let d = &self.directions[i];
            if let Some(socket) = self.stalled_on(d) {
                if !self.has_room(socket) {
                    return Ok(());
                }
            }
            let pending = self.directions[i].pending.take();
            if let Some(pending) = pending {
                if let Delivery::Blocked = self.deliver(i, pending)? {
                    self.refused(i);
                    return Ok(());
                }
            }
        } else if self.stalled_on(&self.directions[i]).is_some()
            || !self
                .found(self.directions[i].from)
                .contains(PollEvents::POLLIN)
        {
            return Ok(());
        }
        for _ in 0..PROXY_BURST_SIZE {
            let Some(parts) = self.receive(i)? else {
                return Ok(());
            };
            let pending = Pending {
                parts,
                captured: false,
            };
            if let Delivery::Blocked = self.deliver(i, pending)? {
                self.refused(i);
                return Ok(());
            }
        }
        Ok(())
    }

    /// The direction's held message was refused: if its destination had reported POLLOUT,
    /// that POLLOUT is not about the peer the message goes to, so the direction turns
    /// blind (or waits twice as long as before).
    fn refused(&mut self, i: usize) {
        let d = &self.directions[i];
        let lied = matches!(&d.pending, Some(p) if p.captured || self.proxy.capture.is_none())
            && self.has_room(d.to);
        let d = &mut self.directions[i];
        d.blind = if lied {
            Some(
                d.blind
                    .map_or(HELD_RETRY_MIN, |delay| (delay * 2).min(HELD_RETRY_MAX)),
            )
        } else {
            None
        };
    }

    /// Takes one whole message from the direction's source, or None if it has none.
    fn receive(&mut self, i: usize) -> Result<Option<Vec<Message>>> {
        let d = &self.directions[i];
        let (from, side) = (d.from, d.from_side);
        let first = match from.recv_msg(DONTWAIT) {
            Ok(msg) => msg,
            Err(Error::EAGAIN) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut parts = vec![first];
        // A pattern hands out a message only once it has all of it: the other parts are
        // there (a blocking receive never waits here).
        while from.get_rcvmore()? {
            parts.push(from.recv_msg(0)?);
        }
        let counters = self.side(side);
        for part in &parts {
            counters.msgs_in += 1;
            counters.bytes_in += part.len() as u64;
        }
        Ok(Some(parts))
    }

    fn side(&mut self, side: Side) -> &mut SideStatistics {
        match side {
            Side::Frontend => &mut self.stats.frontend,
            Side::Backend => &mut self.stats.backend,
        }
    }

    /// Sends a message to the capture socket (once) and to the destination. A socket
    /// without room for its first part leaves the message held in the direction.
    fn deliver(&mut self, i: usize, mut pending: Pending) -> Result<Delivery> {
        if let (Some(capture), false) = (self.proxy.capture, pending.captured) {
            if !send_whole(capture, &pending.parts)? {
                self.directions[i].pending = Some(pending);
                return Ok(Delivery::Blocked);
            }
            pending.captured = true;
        }
        let d = &self.directions[i];
        let (to, side) = (d.to, d.to_side);
        if !send_whole(to, &pending.parts)? {
            self.directions[i].pending = Some(pending);
            return Ok(Delivery::Blocked);
        }
        self.directions[i].blind = None;
        let counters = self.side(side);
        for part in &pending.parts {
            counters.msgs_out += 1;
            counters.bytes_out += part.len() as u64;
        }
        Ok(Delivery::Done)
    }

    /// Handles the control commands waiting; true on `TERMINATE`.
    fn handle_control(&mut self) -> Result<bool> {
        let Some(control) = self.proxy.control else {
            return Ok(false);
        };
        loop {
            let command = match control.recv_msg(DONTWAIT) {
                Ok(msg) => msg,
                Err(Error::EAGAIN) => return Ok(false),
                Err(e) => return Err(e),
            };
            // Parts after the first are not part of any command (libzmq reads only one;
            // reading them all keeps a REP control socket able to answer).
            while control.get_rcvmore()? {
                control.recv_msg(0)?;
            }
            let mut terminate = false;
            match &command[..] {
                b"STATISTICS" => {
                    let reply = self.stats.to_reply();
                    control.send_multipart(reply.iter().map(|v| &v[..]), 0)?;
                    continue;
                }
                b"PAUSE" => self.state = State::Paused,
                b"RESUME" => self.state = State::Active,
                b"TERMINATE" => terminate = true,
                _ => {}
            }
            if self.control_is_rep {
                control.send(Message::new(), 0)?;
            }
            if terminate {
                return Ok(true);
            }
        }
    }
}

/// Sends every part of a message to `socket`: false, with nothing sent, if it has no room
/// for the first part. Once a message is started a socket takes the rest of it, so the
/// other parts are sent blocking, as libzmq's proxy sends. Messages share their bytes, so
/// the copies kept (for the destination after the capture socket, or for a retry) copy
/// no data.
fn send_whole(socket: &Socket, parts: &[Message]) -> Result<bool> {
    let last = parts.len().saturating_sub(1);
    for (n, part) in parts.iter().enumerate() {
        let more = if n < last { SNDMORE } else { 0 };
        let wait = if n == 0 { DONTWAIT } else { 0 };
        match socket.send(part.clone(), more | wait) {
            Ok(()) => {}
            Err(Error::EAGAIN) if n == 0 => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}
