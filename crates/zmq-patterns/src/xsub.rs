//! SUB and XSUB (RFC 29): fair-queued receiving, subscriptions sent to every publisher.
//!
//! Both are one state machine, as in libzmq (`sub_t` is an `xsub_t` that filters and
//! takes its subscriptions from socket options instead of sent messages). Subscriptions go
//! to the peers as single-frame messages, `\x01topic` (subscribe) or `\x00topic` (cancel);
//! the runtime turns them into SUBSCRIBE/CANCEL commands for ZMTP 3.1 peers.
//!
//! # Subscriptions are never lost at the high-water mark
//!
//! libzmq drops a subscription that meets a full queue, and on a new or re-established
//! connection it writes every subscription at once, so a subscriber with more topics than
//! its `SNDHWM` loses the rest. Here:
//!
//! - A new or re-established peer is *resynchronised*: the topics are written in order,
//!   as the peer's queue takes them, from a cursor over the live trie. A change to a topic
//!   the cursor has not reached is not sent (the resync will send the topic's state then).
//! - A subscription or cancel for a peer whose queue is full waits in that peer's backlog,
//!   written in order once the queue has room. A long backlog is compacted to the last
//!   action per topic (all that a publisher's per-peer subscription set depends on), so it
//!   holds at most one entry per topic.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use bytes::Bytes;
use zmtp_codec::{Frame, SocketType};

use crate::dist::Dist;
use crate::fq::FairQueue;
use crate::trie::SubscriptionTrie;
use crate::{Attach, Pattern, PatternError, PatternOption, PeerId, PeerInfo, Peers};

/// Where a peer's resynchronisation is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Cursor {
    /// Nothing sent yet.
    Start,
    /// Every topic up to this one (in byte order) is sent.
    After(Vec<u8>),
}

impl Cursor {
    /// Whether the resynchronisation has not reached `topic` yet.
    fn before(&self, topic: &[u8]) -> bool {
        match self {
            Self::Start => true,
            Self::After(last) => topic > last.as_slice(),
        }
    }
}

/// Subscription traffic still owed to one peer.
#[derive(Debug, Default)]
struct Owed {
    resync: Option<Cursor>,
    /// Subscription messages (`\x01topic`, `\x00topic`) to write before anything else.
    backlog: VecDeque<Bytes>,
    /// `can_write` said no since the last `write_activated`.
    blocked: bool,
    /// Compact the backlog when it grows beyond this.
    compact_at: usize,
}

/// The shortest backlog that is compacted.
const COMPACT_MIN: usize = 64;

impl Owed {
    fn push(&mut self, msg: Bytes) {
        self.backlog.push_back(msg);
        if self.backlog.len() > self.compact_at.max(COMPACT_MIN) {
            self.compact();
            self.compact_at = 2 * self.backlog.len();
        }
    }

    /// Keeps only the last message of each topic.
    fn compact(&mut self) {
        let mut last: BTreeMap<&[u8], usize> = BTreeMap::new();
        for (i, msg) in self.backlog.iter().enumerate() {
            last.insert(&msg[1..], i);
        }
        let keep: Vec<bool> = {
            let mut keep = alloc::vec![false; self.backlog.len()];
            for &i in last.values() {
                keep[i] = true;
            }
            keep
        };
        let mut i = 0;
        self.backlog.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }

    fn done(&self) -> bool {
        self.resync.is_none() && self.backlog.is_empty()
    }
}

/// `[flag, topic...]`.
fn subscription(flag: u8, topic: &[u8]) -> Bytes {
    let mut v = Vec::with_capacity(topic.len() + 1);
    v.push(flag);
    v.extend_from_slice(topic);
    Bytes::from(v)
}

/// The SUB/XSUB state machine; see [`Sub`] and [`XSub`].
#[derive(Debug)]
struct Subscriber {
    /// SUB: drop received messages that match no subscription.
    filter: bool,
    trie: SubscriptionTrie,
    fq: FairQueue,
    /// The message being received (whole, already filtered).
    inbox: VecDeque<Frame>,
    /// The peers, for user messages sent upstream (XSUB) and the list of peers.
    dist: Dist,
    owed: BTreeMap<PeerId, Owed>,
    /// The application is in the middle of sending a message (XSUB).
    sending: bool,
    /// Later frames of that message are parsed as subscriptions too.
    parse_rest: bool,
    /// The last user frame of that message, written once the next shows whether it ends
    /// the user message.
    held: Option<Frame>,
    /// Subscriptions of that message that wait for its user frames to be written.
    deferred: Vec<Bytes>,
    invert: bool,
    verbose_unsubs: bool,
    only_first: bool,
    key: Vec<u8>,
    scratch: Vec<PeerId>,
}

impl Subscriber {
    fn new(filter: bool) -> Self {
        Self {
            filter,
            trie: SubscriptionTrie::new(),
            fq: FairQueue::default(),
            inbox: VecDeque::new(),
            dist: Dist::default(),
            owed: BTreeMap::new(),
            sending: false,
            parse_rest: false,
            held: None,
            deferred: Vec::new(),
            invert: false,
            verbose_unsubs: false,
            only_first: false,
            key: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Sends a subscription message to every peer now (those that can take it), or owes
    /// it. With no `peers` (from `set_option`), every peer owes it until the next flush.
    fn forward(&mut self, msg: Bytes, mut peers: Option<&mut dyn Peers>) {
        let topic = &msg[1..];
        for peer in self.dist.peers() {
            let owed = self.owed.get_mut(&peer);
            if let Some(o) = &owed {
                if o.resync.as_ref().is_some_and(|c| c.before(topic)) {
                    // The resynchronisation will send the topic's state.
                    continue;
                }
            }
            let must_wait = owed
                .as_ref()
                .is_some_and(|o| o.blocked || !o.backlog.is_empty())
                || self.dist.is_target(peer);
            if !must_wait {
                if let Some(p) = peers.as_deref_mut() {
                    if p.can_write(peer) {
                        p.write(peer, Frame::last(msg.clone()));
                        continue;
                    }
                    self.owed.entry(peer).or_default().blocked = true;
                }
            }
            self.owed.entry(peer).or_default().push(msg.clone());
        }
    }

    /// Writes what is owed to `peer`, as far as its queue takes it.
    fn flush_peer(&mut self, peer: PeerId, peers: &mut dyn Peers) {
        if self.dist.is_target(peer) {
            return;
        }
        let Some(owed) = self.owed.get_mut(&peer) else {
            return;
        };
        if owed.blocked {
            return;
        }
        loop {
            let from_backlog = !owed.backlog.is_empty();
            let msg = if let Some(msg) = owed.backlog.front() {
                msg.clone()
            } else if let Some(cursor) = &owed.resync {
                let after = match cursor {
                    Cursor::Start => None,
                    Cursor::After(last) => Some(last.as_slice()),
                };
                if !self.trie.next_after(after, &mut self.key) {
                    owed.resync = None;
                    break;
                }
                subscription(1, &self.key)
            } else {
                break;
            };
            if !peers.can_write(peer) {
                owed.blocked = true;
                return;
            }
            peers.write(peer, Frame::last(msg));
            if from_backlog {
                owed.backlog.pop_front();
            } else {
                owed.resync = Some(Cursor::After(self.key.clone()));
            }
        }
        if owed.done() {
            self.owed.remove(&peer);
        }
    }

    /// Writes what is owed to every peer that may have room.
    fn flush(&mut self, peers: &mut dyn Peers) {
        if self.owed.is_empty() {
            return;
        }
        let mut ready = core::mem::take(&mut self.scratch);
        ready.clear();
        ready.extend(
            self.owed
                .iter()
                .filter(|(_, o)| !o.blocked)
                .map(|(&peer, _)| peer),
        );
        for &peer in &ready {
            self.flush_peer(peer, peers);
        }
        self.scratch = ready;
    }

    /// Starts sending every subscription to `peer` from the beginning.
    fn resync(&mut self, peer: PeerId, peers: &mut dyn Peers) {
        if self.dist.slot(peer).is_none() {
            return;
        }
        if self.trie.is_empty() {
            if let Some(o) = self.owed.get_mut(&peer) {
                o.backlog.clear();
                if o.done() {
                    self.owed.remove(&peer);
                }
            }
            return;
        }
        let owed = self.owed.entry(peer).or_default();
        owed.backlog.clear();
        owed.compact_at = 0;
        owed.resync = Some(Cursor::Start);
        self.flush_peer(peer, peers);
    }

    fn attach(&mut self, peer: PeerId, peers: &mut dyn Peers) -> Attach {
        if self.dist.slot(peer).is_some() {
            return Attach::Accepted;
        }
        self.dist.attach(peer);
        self.fq.attach(peer);
        self.resync(peer, peers);
        Attach::Accepted
    }

    fn detach(&mut self, peer: PeerId) {
        self.dist.detach(peer);
        self.fq.detach(peer);
        self.owed.remove(&peer);
    }

    fn write_activated(&mut self, peer: PeerId) {
        self.dist.activated(peer);
        if let Some(o) = self.owed.get_mut(&peer) {
            o.blocked = false;
        }
    }

    /// SUB's `SUBSCRIBE`: a reference more, and the subscription to every peer (every
    /// one, even a duplicate: publishers de-duplicate, so that `XPUB_VERBOSE` works
    /// through proxies).
    fn subscribe(&mut self, topic: &[u8], peers: Option<&mut dyn Peers>) {
        self.trie.add(topic);
        self.forward(subscription(1, topic), peers);
    }

    /// A reference less; the cancel goes out when the last one went (every time with
    /// `XSUB_VERBOSE_UNSUBSCRIBE`).
    fn unsubscribe(&mut self, topic: &[u8], peers: Option<&mut dyn Peers>) {
        if self.trie.remove(topic) || self.verbose_unsubs {
            self.forward(subscription(0, topic), peers);
        }
    }

    /// Writes a user frame to every peer (lossy), as part of the current user message.
    fn write_user(&mut self, frame: Frame, peers: &mut dyn Peers) {
        if !self.dist.in_message() {
            self.dist.begin();
            self.dist.mark_all();
        }
        // Lossy: a full peer misses the message, never an error.
        let _ = self.dist.send(frame, peers, true);
    }

    /// XSUB's send: as libzmq, each frame starting with 1 or 0 is a subscription or a
    /// cancel (with `ONLY_FIRST_SUBSCRIBE`, only while the message's first frame was one),
    /// any other is user data sent to every peer. Subscriptions always go out as messages
    /// of their own, and the user frames of a message stay one message.
    fn send(&mut self, frame: Frame, peers: &mut dyn Peers) {
        self.flush(peers);
        let first = !self.sending;
        let more = frame.more;
        self.sending = more;
        if first {
            self.parse_rest = !self.only_first;
        }
        let flag = if first || self.parse_rest {
            frame.data.first().copied().filter(|&b| b <= 1)
        } else {
            None
        };
        match flag {
            Some(flag) => {
                self.parse_rest = true;
                let topic = &frame.data[1..];
                let forward = if flag == 1 {
                    self.trie.add(topic);
                    true
                } else {
                    self.trie.remove(topic) || self.verbose_unsubs
                };
                if forward {
                    if self.dist.in_message() {
                        self.deferred.push(frame.data.into_bytes());
                    } else {
                        self.forward(frame.data.into_bytes(), Some(peers));
                    }
                }
            }
            None => {
                if let Some(mut held) = self.held.take() {
                    held.more = true;
                    self.write_user(held, peers);
                }
                self.held = Some(frame);
            }
        }
        if !more {
            if let Some(mut held) = self.held.take() {
                held.more = false;
                self.write_user(held, peers);
            }
            let deferred = core::mem::take(&mut self.deferred);
            for msg in deferred {
                self.forward(msg, Some(peers));
            }
            self.flush(peers);
        }
    }

    /// Makes `inbox` hold a message that passes the filter; `false` if there is none.
    fn fill(&mut self, peers: &mut dyn Peers) -> bool {
        while self.inbox.is_empty() {
            if self.fq.fetch(peers, &mut self.inbox).is_none() {
                return false;
            }
            if self.filter {
                let data = self.inbox.front().map_or(&[][..], |f| &f.data[..]);
                if self.trie.matches(data) == self.invert {
                    self.inbox.clear();
                }
            }
        }
        true
    }

    fn recv(&mut self, peers: &mut dyn Peers) -> Result<Frame, PatternError> {
        self.flush(peers);
        if !self.fill(peers) {
            return Err(PatternError::Again(None));
        }
        self.inbox.pop_front().ok_or(PatternError::Again(None))
    }
}

/// The SUB pattern: receives, fair-queued, the messages whose first frame starts with one
/// of its subscriptions (or, with `INVERT_MATCHING`, with none of them). `SUBSCRIBE` and
/// `UNSUBSCRIBE` are counted; subscriptions are sent to every publisher, and all of them
/// again to a new or re-established one. Cannot send.
///
/// Subscriptions set with [`Pattern::set_option`] are written to the peers at the next
/// call that has [`Peers`]; the runtime calls [`Pattern::flush`] right after `set_option`
/// (and after `write_activated`) so that they go out at once.
#[derive(Debug)]
pub struct Sub(Subscriber);

impl Sub {
    /// A SUB with no peers and no subscriptions (it receives nothing).
    pub fn new() -> Self {
        Self(Subscriber::new(true))
    }
}

impl Default for Sub {
    fn default() -> Self {
        Self::new()
    }
}

/// The XSUB pattern: receives every message (no filtering), fair-queued; sends
/// subscriptions (`\x01topic`), cancels (`\x00topic`) and other messages to every peer.
/// Subscriptions are counted: every subscription is forwarded, a cancel only when the
/// topic's last reference goes (every one with `XSUB_VERBOSE_UNSUBSCRIBE`). A new or
/// re-established peer gets every subscription again. Never blocks: a peer at its
/// high-water mark misses user messages (its subscriptions wait, see the module
/// documentation).
#[derive(Debug)]
pub struct XSub(Subscriber);

impl XSub {
    /// An XSUB with no peers and no subscriptions.
    pub fn new() -> Self {
        Self(Subscriber::new(false))
    }
}

impl Default for XSub {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! subscriber_pattern {
    ($name:ident, $type:expr) => {
        impl Pattern for $name {
            fn socket_type(&self) -> SocketType {
                $type
            }

            fn attach(&mut self, peer: PeerId, _info: PeerInfo, peers: &mut dyn Peers) -> Attach {
                self.0.attach(peer, peers)
            }

            fn detach(&mut self, peer: PeerId) {
                self.0.detach(peer);
            }

            fn read_activated(&mut self, peer: PeerId) {
                self.0.fq.activated(peer);
            }

            fn write_activated(&mut self, peer: PeerId) {
                self.0.write_activated(peer);
            }

            fn send(&mut self, frame: Frame, peers: &mut dyn Peers) -> Result<(), PatternError> {
                if self.0.filter {
                    return Err(PatternError::NotSupported);
                }
                self.0.send(frame, peers);
                Ok(())
            }

            fn recv(&mut self, peers: &mut dyn Peers) -> Result<Frame, PatternError> {
                self.0.recv(peers)
            }

            fn has_in(&mut self, peers: &mut dyn Peers) -> bool {
                self.0.flush(peers);
                self.0.fill(peers)
            }

            fn has_out(&mut self, peers: &mut dyn Peers) -> bool {
                self.0.flush(peers);
                // XSUB never blocks; SUB cannot send.
                !self.0.filter
            }

            fn set_option(&mut self, option: PatternOption) -> Result<(), PatternError> {
                let s = &mut self.0;
                match option {
                    PatternOption::InvertMatching(on) => s.invert = on,
                    PatternOption::Subscribe(topic) if s.filter => s.subscribe(&topic, None),
                    PatternOption::Unsubscribe(topic) if s.filter => s.unsubscribe(&topic, None),
                    PatternOption::OnlyFirstSubscribe(on) if !s.filter => s.only_first = on,
                    PatternOption::XsubVerboseUnsubscribe(on) if !s.filter => s.verbose_unsubs = on,
                    _ => return Err(PatternError::Invalid),
                }
                Ok(())
            }

            fn hiccuped(&mut self, peer: PeerId, peers: &mut dyn Peers) {
                self.0.resync(peer, peers);
            }

            fn flush(&mut self, peers: &mut dyn Peers) {
                self.0.flush(peers);
            }

            fn topics_count(&mut self, peers: &mut dyn Peers) -> Result<usize, PatternError> {
                self.0.flush(peers);
                Ok(self.0.trie.len())
            }
        }
    };
}

subscriber_pattern!(Sub, SocketType::Sub);
subscriber_pattern!(XSub, SocketType::XSub);
