//! ZeroMQ socket-type semantics as sans-IO state machines.
//!
//! Each socket type is a [`Pattern`]: a state machine that decides which peer a sent frame
//! goes to and which peer the next received frame comes from, over an abstract set of
//! per-peer queues that the runtime owns and lends to every call as a [`Peers`]. It mirrors
//! libzmq's `xattach_pipe`, `xpipe_terminated`, `xread_activated`, `xwrite_activated`,
//! `xsend`, `xrecv`, `xhas_in` and `xhas_out`, and follows RFC 28 (REQ-REP), RFC 29
//! (PUB-SUB), RFC 30 (PIPELINE) and RFC 31 (exclusive PAIR), with libzmq as the
//! tie-breaker.
//!
//! Built so far: [`Pair`], [`Req`], [`Rep`], [`Dealer`], [`Router`], [`Push`], [`Pull`],
//! [`Pub`], [`Sub`], [`XPub`], [`XSub`] with their [`SubscriptionTrie`] and
//! [`MultiTrie`], and [`Stream`]. [`new_pattern`] makes any of them behind a `Box<dyn Pattern>`.
//!
//! # Contract with the runtime
//!
//! The runtime (the socket facade) owns one outbound and one inbound queue per peer, and
//! implements [`Peers`] over them. It tells the pattern about peers with
//! [`Pattern::attach`] and [`Pattern::detach`], and about queues that changed state with
//! [`Pattern::read_activated`] and [`Pattern::write_activated`]:
//!
//! - A peer is *active for reading* from its attach until [`Peers::read`] returns `None`
//!   for it; the pattern then leaves it alone until `read_activated` says it has messages
//!   again. The runtime must call `read_activated` after it queued a message for a peer
//!   whose `read` last returned `None` (libzmq's pipe does the same with `_in_active`).
//! - A peer is *active for writing* from its attach until [`Peers::can_write`] returns
//!   `false` for it; the runtime must call `write_activated` once that peer's queue has room
//!   again (libzmq uses the low-water mark for this). Extra activation calls, and calls for
//!   unknown or detached peers, are ignored.
//! - Inbound queues hold whole messages only. The pattern reads a message's frames all at
//!   once, so a peer detached or replaced while the application is half-way through one of
//!   its messages does not cut that message short.
//! - After `detach(peer)` (or an [`Attach::Replaced`] naming it) the pattern never calls
//!   [`Peers`] for that peer again; the runtime may drop its queues. A message the pattern
//!   had started writing to it is abandoned: the rest of its frames are dropped.
//!
//! - Some work waits for a call that has [`Peers`]: the subscriptions a SUB's
//!   `set_option` makes, subscriptions that wait for room in a peer's queue, and the
//!   subscriptions a PUB reads from its peers. The runtime calls [`Pattern::flush`] after
//!   `set_option` and after `write_activated`, and [`Pattern::hiccuped`] when a peer's
//!   connection was re-established (dropping what was queued to the old one, as libzmq's
//!   pipe hiccup does).
//!
//! # Subscriptions in the queues
//!
//! A subscription travels through the queues as a single-frame message whose first byte
//! is 1 (subscribe) or 0 (cancel), followed by the topic: libzmq's "legacy" form. SUB and
//! XSUB write them; PUB and XPUB read them (and any other message: PUB drops those, XPUB
//! passes them to the application). The runtime converts them to and from ZMTP 3.1
//! SUBSCRIBE/CANCEL commands per connection; older peers send and take them as they are.
//!
//! `send` takes one frame per call, as the application passes them with `SNDMORE`: a
//! message is the frames up to and including one with `more == false`. `recv` returns one
//! frame per call in the same way. Neither ever blocks: "would block" is
//! [`PatternError::Again`], which for `send` hands the frame back for a retry.
//!
//! # Example
//!
//! A PUSH over two peers whose queues are plain `VecDeque`s:
//!
//! ```
//! use std::collections::{BTreeMap, VecDeque};
//! use zmq_patterns::{new_pattern, Attach, Frame, PeerId, PeerInfo, Peers, SocketType};
//!
//! #[derive(Default)]
//! struct Queues(BTreeMap<PeerId, (VecDeque<Frame>, VecDeque<Frame>)>); // (in, out)
//!
//! impl Peers for Queues {
//!     fn can_write(&mut self, peer: PeerId) -> bool {
//!         self.0[&peer].1.len() < 1000 // a crude SNDHWM, in frames
//!     }
//!     fn write(&mut self, peer: PeerId, frame: Frame) {
//!         self.0.get_mut(&peer).unwrap().1.push_back(frame);
//!     }
//!     fn rollback(&mut self, _peer: PeerId) {}
//!     fn read(&mut self, peer: PeerId) -> Option<Frame> {
//!         self.0.get_mut(&peer)?.0.pop_front()
//!     }
//! }
//!
//! let mut queues = Queues::default();
//! let mut push = new_pattern(SocketType::Push, 0).unwrap();
//! for peer in [1, 2] {
//!     queues.0.insert(peer, Default::default());
//!     assert_eq!(push.attach(peer, PeerInfo::default(), &mut queues), Attach::Accepted);
//! }
//! push.send(Frame::more("job"), &mut queues).unwrap();
//! push.send(Frame::last("1"), &mut queues).unwrap();
//! push.send(Frame::last("job 2"), &mut queues).unwrap();
//! assert_eq!(queues.0[&1].1, [Frame::more("job"), Frame::last("1")]);
//! assert_eq!(queues.0[&2].1, [Frame::last("job 2")]);
//! ```
//!
//! # What the crate does not do
//!
//! No I/O, threads, clocks or randomness: the seed given to [`new_pattern`] stands in for
//! libzmq's random starting values (ROUTER's generated routing ids, REQ's request ids).
//! High-water marks, linger and timeouts belong to the runtime's queues and calls.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

use alloc::boxed::Box;

use bytes::Bytes;

pub use zmtp_codec::{Frame, SocketType};

mod dealer;
mod dist;
mod error;
mod fq;
mod lb;
mod option;
mod pair;
mod pipeline;
mod rep;
mod req;
mod router;
mod routing_ids;
mod set;
mod stream;
mod trie;
mod xpub;
mod xsub;

#[doc(hidden)]
pub mod fuzzing;

pub use dealer::Dealer;
pub use error::PatternError;
pub use option::PatternOption;
pub use pair::Pair;
pub use pipeline::{Pull, Push};
pub use rep::Rep;
pub use req::Req;
pub use router::Router;
pub use stream::Stream;
pub use trie::{MultiTrie, Removed, SubscriptionTrie};
pub use xpub::{Pub, XPub, XPUB_PENDING_LIMIT};
pub use xsub::{Sub, XSub};

/// Identifies one peer (one connection's pair of queues) of a socket.
///
/// The socket assigns them and never reuses one, so a stale id can never reach a new peer.
pub type PeerId = u64;

/// What a pattern learns about a peer when it is attached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerInfo {
    /// The peer's `Identity` property (its `ZMQ_ROUTING_ID`), or the `CONNECT_ROUTING_ID`
    /// set for an outgoing connect. May be empty. Only [`Router`] uses it.
    pub routing_id: Bytes,
    /// The peer's socket type, when the handshake told it (ZMTP 1.0 and inproc may not).
    ///
    /// The handshake enforces compatibility; the patterns built so far do not refuse a peer
    /// on its type (libzmq checks only ZMTP 3.x peers).
    pub socket_type: Option<SocketType>,
}

impl PeerInfo {
    /// A peer with this routing id and socket type.
    pub fn new(routing_id: impl Into<Bytes>, socket_type: Option<SocketType>) -> Self {
        Self {
            routing_id: routing_id.into(),
            socket_type,
        }
    }
}

/// The socket's per-peer queues, implemented by the runtime (and by tests with
/// `VecDeque`s).
///
/// Every method is called only for peers attached and not since detached.
pub trait Peers {
    /// Whether the peer's outbound queue can take a new message (below its SNDHWM).
    ///
    /// A `false` answer makes the peer inactive for writing until
    /// [`Pattern::write_activated`].
    fn can_write(&mut self, peer: PeerId) -> bool;

    /// Appends a frame to the peer's outbound queue.
    ///
    /// The first frame of a message is written only after `can_write` returned `true` for
    /// that peer (possibly in an earlier call of the pattern, with nothing written to that
    /// peer in between); later frames of that message are always accepted. A message
    /// becomes visible to the peer when its last frame (`more == false`) is written.
    fn write(&mut self, peer: PeerId, frame: Frame);

    /// [`Peers::write`] of the frame at `frame`, taken from there (an empty frame is left
    /// in its place). A runtime whose frames are moved through several calls on their way
    /// from the application implements it to move each frame once ([`Pattern::send_from`]).
    fn write_from(&mut self, peer: PeerId, frame: &mut Frame) {
        self.write(peer, core::mem::take(frame));
    }

    /// Discards the frames of the unfinished message written to the peer (none: no-op).
    fn rollback(&mut self, peer: PeerId);

    /// The next inbound frame from the peer, if any.
    ///
    /// Only whole messages are ever available: after a frame with `more`, the next read
    /// returns the next frame. A `None` at the start of a message makes the peer inactive
    /// for reading until [`Pattern::read_activated`].
    fn read(&mut self, peer: PeerId) -> Option<Frame>;

    /// [`Peers::read`] into `out`, in place of the frame there: whether a frame was read
    /// (`out` is unchanged if not). A runtime whose frames are moved through several calls
    /// on their way to the application implements it to move each frame once
    /// ([`Pattern::recv_into`]).
    fn read_into(&mut self, peer: PeerId, out: &mut Frame) -> bool {
        match self.read(peer) {
            Some(frame) => {
                *out = frame;
                true
            }
            None => false,
        }
    }
}

/// The outcome of [`Pattern::attach`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[must_use = "a refused or replaced peer must be disconnected by the runtime"]
pub enum Attach {
    /// The peer is attached.
    Accepted,
    /// The pattern does not take this peer; close its connection. A [`Pair`] refuses a
    /// second peer; a [`Router`] refuses a routing id already in use (without
    /// `ROUTER_HANDOVER`). The pattern has kept no state for it: `detach` is not needed.
    Refused,
    /// The peer is attached and took over the routing id of the peer given here, which the
    /// pattern has already detached (`ROUTER_HANDOVER`): close that peer's connection and
    /// drop its queues.
    Replaced(PeerId),
}

/// A socket type's semantics: where sent frames go and where received frames come from.
///
/// See the [crate documentation](crate) for the contract with the runtime.
pub trait Pattern: Send {
    /// The socket type this pattern implements.
    fn socket_type(&self) -> SocketType;

    /// A new peer. Attaching a peer that is attached already changes nothing.
    ///
    /// With `PROBE_ROUTER` (DEALER, REQ, ROUTER, REP) an empty message is written to the
    /// new peer here, if its queue has room; SUB and XSUB start sending it their
    /// subscriptions, XPUB and PUB their `XPUB_WELCOME_MSG`.
    fn attach(&mut self, peer: PeerId, info: PeerInfo, peers: &mut dyn Peers) -> Attach;

    /// The peer is gone. Unknown peers are ignored.
    fn detach(&mut self, peer: PeerId);

    /// A peer whose [`Peers::read`] returned `None` has messages again.
    fn read_activated(&mut self, peer: PeerId);

    /// A peer whose [`Peers::can_write`] returned `false` has room again.
    fn write_activated(&mut self, peer: PeerId);

    /// Sends one frame of a message; the message ends with a frame whose `more` is `false`.
    ///
    /// # Errors
    ///
    /// [`PatternError::Again`] with the frame when no peer can take the message now;
    /// [`PatternError::Fsm`] when the socket's state forbids sending (REQ, REP);
    /// [`PatternError::HostUnreachable`] for an unknown routing id with
    /// `ROUTER_MANDATORY`; [`PatternError::NotSupported`] when the type cannot send.
    fn send(&mut self, frame: Frame, peers: &mut dyn Peers) -> Result<(), PatternError>;

    /// [`Pattern::send`] of the frame at `frame`. A frame sent (or dropped, or refused
    /// for a reason other than `Again`) is taken from there; on [`PatternError::Again`]
    /// (then with `None`) it is left in place for the next try. PUSH, DEALER, REQ and REP
    /// hand the frame itself down through [`Peers::write_from`] (a runtime may recognise
    /// it there by its address); the others take it here and send it with
    /// [`Pattern::send`].
    ///
    /// # Errors
    ///
    /// As [`Pattern::send`], with the frame of `Again` left at `frame`.
    fn send_from(&mut self, frame: &mut Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
        match self.send(core::mem::take(frame), peers) {
            Err(PatternError::Again(Some(back))) => {
                *frame = back;
                Err(PatternError::Again(None))
            }
            other => other,
        }
    }

    /// Receives the next frame; after a frame with `more`, the next call returns the next
    /// frame of the same message.
    ///
    /// # Errors
    ///
    /// [`PatternError::Again`] (with `None`) when no message is available;
    /// [`PatternError::Fsm`] when the socket's state forbids receiving (REQ, REP);
    /// [`PatternError::NotSupported`] when the type cannot receive.
    fn recv(&mut self, peers: &mut dyn Peers) -> Result<Frame, PatternError>;

    /// [`Pattern::recv`] into `out`, in place of the frame there (on an error, `out` holds
    /// nothing to use). PULL and DEALER take the frame through [`Peers::read_into`]; the
    /// others receive it with [`Pattern::recv`] and move it here.
    ///
    /// # Errors
    ///
    /// As [`Pattern::recv`].
    fn recv_into(&mut self, peers: &mut dyn Peers, out: &mut Frame) -> Result<(), PatternError> {
        *out = self.recv(peers)?;
        Ok(())
    }

    /// Whether `recv` would return a frame now (`POLLIN`).
    fn has_in(&mut self, peers: &mut dyn Peers) -> bool;

    /// Whether `send` would take a frame now (`POLLOUT`).
    fn has_out(&mut self, peers: &mut dyn Peers) -> bool;

    /// Sets a pattern option; it takes effect at once.
    ///
    /// Writes that an option causes (SUB's subscriptions) happen at the next call that has
    /// [`Peers`]: call [`Pattern::flush`] right after.
    ///
    /// # Errors
    ///
    /// [`PatternError::Invalid`] for an option this socket type does not have.
    fn set_option(&mut self, option: PatternOption) -> Result<(), PatternError>;

    /// The peer's connection was re-established (libzmq's `hiccuped`): its queues go on,
    /// but the party at the other end is new. SUB and XSUB send it all their
    /// subscriptions again. PUB and XPUB forget its subscriptions (XPUB passes their
    /// cancels, as for a peer that went away), since the new party sends its own, and
    /// send it `XPUB_WELCOME_MSG` (libzmq does neither). Unknown peers are ignored; the
    /// other types do nothing.
    fn hiccuped(&mut self, peer: PeerId, peers: &mut dyn Peers) {
        let _ = (peer, peers);
    }

    /// Does the work that waits for [`Peers`]: SUB and XSUB write the subscriptions that
    /// `set_option` made or that waited for room in a peer's queue; PUB and XPUB apply the
    /// subscriptions waiting in their peers' queues. Every method that takes `peers` does
    /// this first. The runtime calls it after [`Pattern::set_option`] and
    /// [`Pattern::write_activated`] (it may after any activation); it is cheap when there
    /// is nothing to do. The other types do nothing.
    fn flush(&mut self, peers: &mut dyn Peers) {
        let _ = peers;
    }

    /// `ZMQ_TOPICS_COUNT`: the number of distinct topics subscribed to (PUB, XPUB: by any
    /// peer; SUB, XSUB: by the application).
    ///
    /// # Errors
    ///
    /// [`PatternError::Invalid`] for the other socket types.
    fn topics_count(&mut self, peers: &mut dyn Peers) -> Result<usize, PatternError> {
        let _ = peers;
        Err(PatternError::Invalid)
    }

    /// A peer whose connection the application asked to close (STREAM: an empty data
    /// frame), one per call; `None` when there is none. The pattern has detached it
    /// already; the runtime closes its queues (sending what was queued to it before) and
    /// its connection. The runtime calls this after every successful `send`. The other
    /// types never ask.
    fn take_disconnect(&mut self) -> Option<PeerId> {
        None
    }

    /// The routing id this pattern generated last for a peer (STREAM: libzmq's
    /// `ZMQ_ROUTING_ID` of a STREAM socket, how an application learns the id of the peer
    /// of its last `connect`). The other types give `None`.
    fn generated_routing_id(&self) -> Option<Bytes> {
        None
    }

    /// How many times a message was not delivered to a peer because the peer's queue was
    /// at its high-water mark (PUB and XPUB count one per peer and message, ROUTER one per
    /// message to a known peer); 0 for the patterns that block instead of dropping.
    fn dropped_at_hwm(&self) -> u64 {
        0
    }
}

/// A pattern for `socket_type`; `seed` stands in for libzmq's random starting values.
///
/// # Errors
///
/// [`PatternError::NotSupported`] for the types not built yet (the draft types).
pub fn new_pattern(socket_type: SocketType, seed: u64) -> Result<Box<dyn Pattern>, PatternError> {
    Ok(match socket_type {
        SocketType::Pair => Box::new(Pair::new()),
        SocketType::Pub => Box::new(Pub::new()),
        SocketType::Sub => Box::new(Sub::new()),
        SocketType::Req => Box::new(Req::new(seed)),
        SocketType::Rep => Box::new(Rep::new()),
        SocketType::Dealer => Box::new(Dealer::new()),
        SocketType::Router => Box::new(Router::new(seed)),
        SocketType::Push => Box::new(Push::new()),
        SocketType::Pull => Box::new(Pull::new()),
        SocketType::XPub => Box::new(XPub::new()),
        SocketType::XSub => Box::new(XSub::new()),
        SocketType::Stream => Box::new(Stream::new(seed)),
        _ => return Err(PatternError::NotSupported),
    })
}

/// A 32-bit starting value derived from `seed` (SplitMix64's finaliser, so that nearby
/// seeds give unrelated values).
pub(crate) fn seed_u32(seed: u64) -> u32 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 32) as u32
}

/// `PROBE_ROUTER`: writes an empty message to a new peer, if its queue has room.
pub(crate) fn write_probe(peer: PeerId, peers: &mut dyn Peers) {
    if peers.can_write(peer) {
        peers.write(peer, Frame::last(Bytes::new()));
    }
}
