//! PUB and XPUB (RFC 29): fan-out of messages to the peers whose subscriptions match.
//!
//! Both are one state machine, as in libzmq (`pub_t` is an `xpub_t` that cannot receive).
//! Subscriptions arrive from the peers as single-frame messages whose first byte is 1
//! (subscribe) or 0 (cancel), followed by the topic: libzmq's "legacy" form, into which the
//! runtime turns ZMTP 3.1 SUBSCRIBE and CANCEL commands.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytes::Bytes;
use zmtp_codec::{Frame, SocketType};

use crate::dist::Dist;
use crate::fq::FairQueue;
use crate::trie::{MultiTrie, Removed};
use crate::{Attach, Pattern, PatternError, PatternOption, PeerId, PeerInfo, Peers};

/// The most messages an XPUB holds for the application (notifications and user messages
/// from peers) before it stops reading its peers' queues: the peers then wait in their own
/// queues, bounded by their high-water marks. Cancels generated for a detached peer are
/// queued beyond it (they are bounded by that peer's subscriptions).
pub const XPUB_PENDING_LIMIT: usize = 1000;

/// Where a message for the application came from, for `XPUB_MANUAL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// User data from a peer: receiving it leaves the "last peer" alone.
    User,
    /// A subscription or cancel from this peer: receiving it makes the peer the last one.
    Peer(PeerId),
    /// A cancel generated when a peer went away: receiving it clears the last peer.
    Detached,
}

#[derive(Debug)]
struct Pending {
    frames: Vec<Frame>,
    origin: Origin,
}

/// The PUB/XPUB state machine; see [`Pub`] and [`XPub`].
#[derive(Debug)]
struct Publisher {
    /// XPUB (delivers subscriptions and user messages) rather than PUB.
    xpub: bool,
    dist: Dist,
    /// The subscriptions that decide where messages go, by dist slot.
    subs: MultiTrie<usize>,
    /// With `XPUB_MANUAL`, what each peer asked for (to cancel it when the peer goes).
    manual_subs: MultiTrie<usize>,
    fq: FairQueue,
    scratch: VecDeque<Frame>,
    pending: VecDeque<Pending>,
    /// The rest of the message the application is receiving.
    current: VecDeque<Frame>,
    /// With `XPUB_MANUAL`: the peer whose subscription the application received last.
    last_peer: Option<PeerId>,
    verbose_subs: bool,
    verbose_unsubs: bool,
    manual: bool,
    send_last_peer: bool,
    lossy: bool,
    only_first: bool,
    invert: bool,
    welcome: Bytes,
}

/// `[flag, topic...]`.
fn notification(flag: u8, topic: &[u8]) -> Bytes {
    let mut v = Vec::with_capacity(topic.len() + 1);
    v.push(flag);
    v.extend_from_slice(topic);
    Bytes::from(v)
}

impl Publisher {
    fn new(xpub: bool) -> Self {
        Self {
            xpub,
            dist: Dist::default(),
            subs: MultiTrie::new(),
            manual_subs: MultiTrie::new(),
            fq: FairQueue::default(),
            scratch: VecDeque::new(),
            pending: VecDeque::new(),
            current: VecDeque::new(),
            last_peer: None,
            verbose_subs: false,
            verbose_unsubs: false,
            manual: false,
            send_last_peer: false,
            lossy: true,
            only_first: false,
            invert: false,
            welcome: Bytes::new(),
        }
    }

    /// Reads the peers' messages: applies subscriptions, queues notifications and user
    /// messages for the application (XPUB), drops user messages (PUB). An XPUB stops once
    /// [`XPUB_PENDING_LIMIT`] messages wait for the application.
    fn process_inbound(&mut self, peers: &mut dyn Peers) {
        loop {
            if self.xpub && self.pending.len() >= XPUB_PENDING_LIMIT {
                return;
            }
            let mut frames = core::mem::take(&mut self.scratch);
            let from = self.fq.fetch(peers, &mut frames);
            if let Some(peer) = from {
                self.process(peer, &mut frames);
            }
            frames.clear();
            self.scratch = frames;
            if from.is_none() {
                return;
            }
        }
    }

    /// One whole message from `peer`. As libzmq, every frame is looked at on its own: a
    /// frame starting with 1 or 0 is a subscription or a cancel, any other is user data
    /// (with `ONLY_FIRST_SUBSCRIBE`, frames after a first frame of user data are user data
    /// too). Unlike libzmq, the user frames of one message stay one message for the
    /// application, so it never sees a message cut short.
    fn process(&mut self, peer: PeerId, frames: &mut VecDeque<Frame>) {
        let Some(slot) = self.dist.slot(peer) else {
            return;
        };
        let mut parse_rest = false;
        let mut user: Option<usize> = None;
        for (i, frame) in frames.drain(..).enumerate() {
            let first = i == 0;
            let flag = if first || parse_rest {
                frame.data.first().copied().filter(|&b| b <= 1)
            } else {
                None
            };
            if first {
                parse_rest = !self.only_first || flag.is_some();
            }
            let Some(flag) = flag else {
                if self.xpub {
                    match user {
                        Some(at) => self.pending[at].frames.push(frame),
                        None => {
                            user = Some(self.pending.len());
                            self.pending.push_back(Pending {
                                frames: alloc::vec![frame],
                                origin: Origin::User,
                            });
                        }
                    }
                }
                continue;
            };
            let subscribe = flag == 1;
            let topic = &frame.data[1..];
            let notify = if self.manual {
                if subscribe {
                    self.manual_subs.add(topic, slot);
                } else {
                    self.manual_subs.remove(topic, slot);
                }
                true
            } else if subscribe {
                self.subs.add(topic, slot) || self.verbose_subs
            } else {
                // libzmq also notifies a cancel for a topic the peer did not have, which
                // can make a proxy cancel a topic other peers still want; we do not.
                let removed = self.subs.remove(topic, slot);
                removed == Removed::LastValueRemoved || self.verbose_unsubs
            };
            if self.xpub && notify {
                self.pending.push_back(Pending {
                    frames: alloc::vec![Frame::last(frame.data)],
                    origin: Origin::Peer(peer),
                });
            }
        }
        if let Some(at) = user {
            let frames = &mut self.pending[at].frames;
            let last = frames.len() - 1;
            for (i, f) in frames.iter_mut().enumerate() {
                f.more = i != last;
            }
        }
    }

    /// Removes every subscription of a peer that went away, queueing the cancels XPUB owes
    /// the application.
    fn forget(&mut self, peer: PeerId) {
        self.fq.detach(peer);
        self.unsubscribe_peer(peer);
        self.dist.detach(peer);
    }

    /// A peer's connection was re-established: the party at the other end is new and
    /// sends its subscriptions again, so the old ones go (with their cancels), and it is
    /// welcomed as a new peer.
    fn hiccuped(&mut self, peer: PeerId, peers: &mut dyn Peers) {
        if self.dist.slot(peer).is_none() {
            return;
        }
        self.unsubscribe_peer(peer);
        self.welcome(peer, peers);
        self.process_inbound(peers);
    }

    fn welcome(&mut self, peer: PeerId, peers: &mut dyn Peers) {
        if self.welcome.is_empty() || self.dist.is_target(peer) {
            return;
        }
        if peers.can_write(peer) {
            peers.write(peer, Frame::last(self.welcome.clone()));
        } else {
            self.dist.deactivated(peer);
        }
    }

    /// Removes every subscription of a peer, queueing the cancels XPUB owes the
    /// application.
    fn unsubscribe_peer(&mut self, peer: PeerId) {
        let Some(slot) = self.dist.slot(peer) else {
            return;
        };
        let Self {
            subs,
            manual_subs,
            pending,
            xpub,
            manual,
            verbose_unsubs,
            ..
        } = self;
        let mut cancel = |topic: &[u8]| {
            if *xpub {
                pending.push_back(Pending {
                    frames: alloc::vec![Frame::last(notification(0, topic))],
                    origin: Origin::Detached,
                });
            }
        };
        if *manual {
            // Every topic the peer asked for, whoever else did.
            manual_subs.remove_value(slot, |topic, _| cancel(topic));
            subs.remove_value(slot, |_, _| {});
        } else {
            // The topics nobody wants any more (every one with XPUB_VERBOSER).
            subs.remove_value(slot, |topic, last| {
                if last || *verbose_unsubs {
                    cancel(topic);
                }
            });
            manual_subs.remove_value(slot, |_, _| {});
        }
        if self.last_peer == Some(peer) {
            self.last_peer = None;
        }
    }

    fn attach(&mut self, peer: PeerId, peers: &mut dyn Peers) -> Attach {
        if self.dist.slot(peer).is_some() {
            return Attach::Accepted;
        }
        self.dist.attach(peer);
        self.fq.attach(peer);
        self.welcome(peer, peers);
        self.process_inbound(peers);
        Attach::Accepted
    }

    fn send(&mut self, frame: Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
        self.process_inbound(peers);
        let first = !self.dist.in_message();
        let mut sent_to_last = false;
        if first {
            self.dist.begin();
            let Self {
                subs,
                dist,
                manual,
                send_last_peer,
                last_peer,
                ..
            } = self;
            let data = &frame.data;
            match last_peer.and_then(|p| dist.slot(p)) {
                Some(only) if *manual && *send_last_peer => {
                    subs.for_each_match(data, |slot| {
                        if slot == only {
                            dist.mark(slot);
                        }
                    });
                    sent_to_last = true;
                }
                _ => subs.for_each_match(data, |slot| dist.mark(slot)),
            }
            if self.invert {
                self.dist.invert();
            }
        }
        match self.dist.send(frame, peers, self.lossy) {
            Ok(()) => {
                if sent_to_last {
                    // The last value went to the new subscriber; later messages go to all.
                    self.last_peer = None;
                }
                Ok(())
            }
            Err(frame) => Err(PatternError::Again(Some(frame))),
        }
    }

    fn recv(&mut self, peers: &mut dyn Peers) -> Result<Frame, PatternError> {
        self.process_inbound(peers);
        if self.current.is_empty() {
            let Some(p) = self.pending.pop_front() else {
                return Err(PatternError::Again(None));
            };
            if self.manual {
                match p.origin {
                    Origin::Peer(peer) => {
                        self.last_peer = self.dist.slot(peer).map(|_| peer);
                    }
                    Origin::Detached => self.last_peer = None,
                    Origin::User => {}
                }
            }
            self.current.extend(p.frames);
        }
        self.current.pop_front().ok_or(PatternError::Again(None))
    }

    fn has_in(&mut self, peers: &mut dyn Peers) -> bool {
        self.process_inbound(peers);
        !self.current.is_empty() || !self.pending.is_empty()
    }

    fn set_option(&mut self, option: PatternOption) -> Result<(), PatternError> {
        match option {
            PatternOption::XpubVerbose(on) => {
                self.verbose_subs = on;
                self.verbose_unsubs = false;
            }
            PatternOption::XpubVerboser(on) => {
                self.verbose_subs = on;
                self.verbose_unsubs = on;
            }
            PatternOption::XpubManual(on) => self.manual = on,
            PatternOption::XpubManualLastValue(on) => {
                self.manual = on;
                self.send_last_peer = on;
            }
            PatternOption::XpubNodrop(on) => self.lossy = !on,
            PatternOption::OnlyFirstSubscribe(on) => self.only_first = on,
            PatternOption::InvertMatching(on) => self.invert = on,
            PatternOption::XpubWelcomeMsg(msg) => self.welcome = msg,
            PatternOption::Subscribe(topic) if self.manual => {
                if let Some(slot) = self.last_peer.and_then(|p| self.dist.slot(p)) {
                    self.subs.add(&topic, slot);
                }
            }
            PatternOption::Unsubscribe(topic) if self.manual => {
                if let Some(slot) = self.last_peer.and_then(|p| self.dist.slot(p)) {
                    self.subs.remove(&topic, slot);
                }
            }
            _ => return Err(PatternError::Invalid),
        }
        Ok(())
    }
}

macro_rules! publisher_pattern {
    ($name:ident, $xpub:expr, $type:expr) => {
        impl Pattern for $name {
            fn socket_type(&self) -> SocketType {
                $type
            }

            fn attach(&mut self, peer: PeerId, _info: PeerInfo, peers: &mut dyn Peers) -> Attach {
                self.0.attach(peer, peers)
            }

            fn detach(&mut self, peer: PeerId) {
                self.0.forget(peer);
            }

            fn read_activated(&mut self, peer: PeerId) {
                self.0.fq.activated(peer);
            }

            fn write_activated(&mut self, peer: PeerId) {
                self.0.dist.activated(peer);
            }

            fn send(&mut self, frame: Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
                self.0.send(frame, peers)
            }

            fn recv(&mut self, peers: &mut dyn Peers) -> Result<Frame, PatternError> {
                if $xpub {
                    self.0.recv(peers)
                } else {
                    Err(PatternError::NotSupported)
                }
            }

            fn has_in(&mut self, peers: &mut dyn Peers) -> bool {
                if $xpub {
                    self.0.has_in(peers)
                } else {
                    self.0.process_inbound(peers);
                    false
                }
            }

            fn has_out(&mut self, peers: &mut dyn Peers) -> bool {
                // As libzmq: a PUB never blocks, and with XPUB_NODROP POLLOUT still says
                // yes (which peers a message goes to depends on the message).
                self.0.process_inbound(peers);
                true
            }

            fn set_option(&mut self, option: PatternOption) -> Result<(), PatternError> {
                self.0.set_option(option)
            }

            fn hiccuped(&mut self, peer: PeerId, peers: &mut dyn Peers) {
                self.0.hiccuped(peer, peers);
            }

            fn flush(&mut self, peers: &mut dyn Peers) {
                self.0.process_inbound(peers);
            }

            fn topics_count(&mut self, peers: &mut dyn Peers) -> Result<usize, PatternError> {
                self.0.process_inbound(peers);
                Ok(self.0.subs.len())
            }

            fn dropped_at_hwm(&self) -> u64 {
                self.0.dist.dropped
            }
        }
    };
}

/// The PUB pattern: sends each message to every peer subscribed to a prefix of its first
/// frame (or, with `INVERT_MATCHING`, to no prefix of it). A peer at its high-water mark
/// misses the message; with `XPUB_NODROP` the send fails with `Again` instead, and nothing
/// is sent. Cannot receive: anything but subscriptions that peers send is dropped.
///
/// Subscriptions are read from the peers' queues whenever the pattern is called with
/// [`Peers`] (so before each send), not in [`Pattern::read_activated`].
#[derive(Debug)]
pub struct Pub(Publisher);

impl Pub {
    /// A PUB with no peers.
    pub fn new() -> Self {
        Self(Publisher::new(false))
    }
}

impl Default for Pub {
    fn default() -> Self {
        Self::new()
    }
}

publisher_pattern!(Pub, false, SocketType::Pub);

/// The XPUB pattern: a [`Pub`] that also receives, as single-frame messages, the first
/// subscription to each topic (`\x01topic`) and the cancel of its last (`\x00topic`,
/// including those of a peer that went away), and any other message its peers send.
///
/// Options: `XPUB_VERBOSE` and `XPUB_VERBOSER` pass every subscription (and cancel);
/// `XPUB_MANUAL` hands the subscriptions to the application, which applies them to the
/// peer they came from with `SUBSCRIBE`/`UNSUBSCRIBE`; `XPUB_MANUAL_LAST_VALUE` also sends
/// the next message only to that peer; `XPUB_WELCOME_MSG` greets each new peer;
/// `XPUB_NODROP` blocks instead of dropping; `ONLY_FIRST_SUBSCRIBE`; `INVERT_MATCHING`.
///
/// At most [`XPUB_PENDING_LIMIT`] messages wait for the application; beyond that the peers'
/// subscriptions wait in their queues (and are applied once the application receives).
#[derive(Debug)]
pub struct XPub(Publisher);

impl XPub {
    /// An XPUB with no peers.
    pub fn new() -> Self {
        Self(Publisher::new(true))
    }
}

impl Default for XPub {
    fn default() -> Self {
        Self::new()
    }
}

publisher_pattern!(XPub, true, SocketType::XPub);
