//! Entry points for the `subscription_trie` fuzz target, also run by the crate's property
//! tests.
//!
//! [`subscription_trie`] picks by the input's first byte one of:
//!
//! - [`trie_ops`]: adds, removes, matches and walks on a [`SubscriptionTrie`] and a
//!   [`MultiTrie`], each against a plain `BTreeMap` model. It panics when an answer differs
//!   from the model's, or when a trie holds more than two nodes per topic.
//! - [`pubsub_ops`]: PUB, XPUB, SUB or XSUB driven by arbitrary operations over queues that
//!   check the [`Peers`] contract (as [`pattern_ops`](super::pattern_ops)), with models: a
//!   publisher sends a probe message exactly to the peers whose subscriptions (as the model
//!   has them) match it and that have room; what a subscriber writes to each peer, read in
//!   order by a model publisher, ends up as exactly the subscriber's topics.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use bytes::Bytes;
use zmtp_codec::{Frame, SocketType};

use super::{CheckedPeers, Input, Queues};
use crate::trie::{MultiTrie, Removed, SubscriptionTrie};
use crate::{new_pattern, Attach, Pattern, PatternError, PatternOption, PeerId, PeerInfo};

/// Runs [`trie_ops`] (even first byte) or [`pubsub_ops`] (odd) on the rest of `data`.
pub fn subscription_trie(data: &[u8]) {
    match data.split_first() {
        Some((b, rest)) if b & 1 == 1 => pubsub_ops(rest),
        Some((_, rest)) => trie_ops(rest),
        None => {}
    }
}

/// A topic from the input: short ones over a small alphabet (so that they share
/// prefixes), sometimes long.
fn topic(input: &mut Input<'_>) -> Vec<u8> {
    let shape = input.byte();
    let len = match shape % 8 {
        0 => 0,
        7 => 200 + usize::from(input.byte()),
        n => usize::from(n),
    };
    let mut t = Vec::with_capacity(len);
    let mut last = b'a';
    for i in 0..len {
        if shape & 0x80 != 0 && i >= 8 {
            t.push(last);
            continue;
        }
        let b = input.byte();
        last = if b & 0x80 != 0 { b } else { b'a' + b % 3 };
        t.push(last);
    }
    t
}

/// Checks every topic and count of `trie` against `model`.
fn check_trie(trie: &SubscriptionTrie, model: &BTreeMap<Vec<u8>, u64>) {
    let mut seen = Vec::new();
    trie.for_each(|t, c| seen.push((t.to_vec(), c)));
    let want: Vec<(Vec<u8>, u64)> = model.iter().map(|(t, &c)| (t.clone(), c)).collect();
    assert_eq!(seen, want, "trie contents differ from the model");
    assert_eq!(trie.len(), model.len());
    assert!(trie.node_count() <= 2 * trie.len() + 1, "too many nodes");
    // The cursor walk gives the same topics.
    let mut walked = Vec::new();
    let mut key = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    while trie.next_after(after.as_deref(), &mut key) {
        walked.push(key.clone());
        after = Some(key.clone());
    }
    let keys: Vec<Vec<u8>> = model.keys().cloned().collect();
    assert_eq!(walked, keys, "next_after walk differs from the model");
}

fn check_multi(trie: &MultiTrie<u8>, model: &BTreeMap<Vec<u8>, BTreeSet<u8>>) {
    let mut seen = Vec::new();
    trie.for_each(|t, vs| seen.push((t.to_vec(), vs.to_vec())));
    let want: Vec<(Vec<u8>, Vec<u8>)> = model
        .iter()
        .map(|(t, vs)| (t.clone(), vs.iter().copied().collect()))
        .collect();
    assert_eq!(seen, want, "multi-trie contents differ from the model");
    assert_eq!(trie.len(), model.len());
    assert!(trie.node_count() <= 2 * trie.len() + 1, "too many nodes");
    for v in 0..4u8 {
        let n = model.values().filter(|vs| vs.contains(&v)).count();
        assert_eq!(trie.topics_of(v), n);
    }
}

/// Adds, removes, matches and walks against models; see [`subscription_trie`].
pub fn trie_ops(data: &[u8]) {
    let mut input = Input(data);
    let mut trie = SubscriptionTrie::new();
    let mut model: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    let mut multi: MultiTrie<u8> = MultiTrie::new();
    let mut mmodel: BTreeMap<Vec<u8>, BTreeSet<u8>> = BTreeMap::new();
    let mut steps = 0;
    while !input.done() && steps < 2048 {
        steps += 1;
        let op = input.byte();
        match op % 10 {
            0 | 1 => {
                let t = topic(&mut input);
                let c = model.entry(t.clone()).or_insert(0);
                let new = *c == 0;
                *c += 1;
                assert_eq!(trie.add(&t), new);
            }
            2 => {
                let t = topic(&mut input);
                let last = match model.get_mut(&t) {
                    Some(c) if *c == 1 => {
                        model.remove(&t);
                        true
                    }
                    Some(c) => {
                        *c -= 1;
                        false
                    }
                    None => false,
                };
                assert_eq!(trie.remove(&t), last);
            }
            3 => {
                let d = topic(&mut input);
                let want = model.keys().any(|t| d.starts_with(t));
                assert_eq!(trie.matches(&d), want);
                assert_eq!(trie.count(&d), model.get(&d).copied().unwrap_or(0));
                // The successor of an arbitrary key.
                let mut key = Vec::new();
                let next = model.range::<Vec<u8>, _>((
                    core::ops::Bound::Excluded(&d),
                    core::ops::Bound::Unbounded,
                ));
                match next.map(|(k, _)| k).next() {
                    Some(k) => {
                        assert!(trie.next_after(Some(&d), &mut key));
                        assert_eq!(&key, k);
                    }
                    None => assert!(!trie.next_after(Some(&d), &mut key)),
                }
            }
            4 | 5 => {
                let t = topic(&mut input);
                let v = input.byte() % 4;
                let set = mmodel.entry(t.clone()).or_default();
                let first = set.is_empty();
                set.insert(v);
                assert_eq!(multi.add(&t, v), first);
            }
            6 => {
                let t = topic(&mut input);
                let v = input.byte() % 4;
                let removed = mmodel
                    .get_mut(&t)
                    .map(|set| (set.remove(&v), set.is_empty()));
                let want = match removed {
                    Some((true, true)) => {
                        mmodel.remove(&t);
                        Removed::LastValueRemoved
                    }
                    Some((true, false)) => Removed::ValuesRemain,
                    _ => Removed::NotFound,
                };
                assert_eq!(multi.remove(&t, v), want);
            }
            7 => {
                let v = input.byte() % 4;
                let mut want = Vec::new();
                mmodel.retain(|t, set| {
                    if set.remove(&v) {
                        want.push((t.clone(), set.is_empty()));
                    }
                    !set.is_empty()
                });
                let mut got = Vec::new();
                multi.remove_value(v, |t, last| got.push((t.to_vec(), last)));
                assert_eq!(got, want, "remove_value");
                assert_eq!(multi.topics_of(v), 0);
            }
            8 => {
                let d = topic(&mut input);
                let mut got = Vec::new();
                multi.for_each_match(&d, |v| got.push(v));
                got.sort_unstable();
                let mut want: Vec<u8> = mmodel
                    .iter()
                    .filter(|(t, _)| d.starts_with(t))
                    .flat_map(|(_, vs)| vs.iter().copied())
                    .collect();
                want.sort_unstable();
                assert_eq!(got, want, "for_each_match");
                let t = topic(&mut input);
                let v = input.byte() % 4;
                assert_eq!(
                    multi.contains(&t, v),
                    mmodel.get(&t).is_some_and(|s| s.contains(&v))
                );
            }
            _ => {
                check_trie(&trie, &model);
                check_multi(&multi, &mmodel);
            }
        }
    }
    check_trie(&trie, &model);
    check_multi(&multi, &mmodel);
}

/// The publish-subscribe types [`pubsub_ops`] drives, by the input's first byte.
pub const PUBSUB_TYPES: [SocketType; 4] = [
    SocketType::Pub,
    SocketType::XPub,
    SocketType::Sub,
    SocketType::XSub,
];

fn is_publisher(t: SocketType) -> bool {
    matches!(t, SocketType::Pub | SocketType::XPub)
}

/// `[flag, topic...]`.
fn flagged(flag: u8, topic: &[u8]) -> Bytes {
    let mut v = alloc::vec![flag];
    v.extend_from_slice(topic);
    Bytes::from(v)
}

struct Driver {
    t: SocketType,
    pattern: alloc::boxed::Box<dyn Pattern>,
    peers: CheckedPeers,
    attached: Vec<PeerId>,
    next_peer: PeerId,
    send_open: bool,
    recv_open: bool,
    // Options that change what the models expect.
    manual: bool,
    invert: bool,
    nodrop: bool,
    /// Publishers: each peer's subscriptions, as delivered to the pattern.
    subscribed: BTreeMap<PeerId, BTreeSet<Vec<u8>>>,
    /// Subscribers: the application's topics and their counts.
    topics: BTreeMap<Vec<u8>, u64>,
    /// Subscribers: what a publisher on each peer has, from the messages drained so far.
    view: BTreeMap<PeerId, BTreeSet<Vec<u8>>>,
    /// The models still describe the pattern (not after an XSUB message that mixes
    /// subscriptions with other frames, or option changes the model does not follow).
    modelled: bool,
}

impl Driver {
    fn pick(&self, b: u8) -> Option<PeerId> {
        if self.attached.is_empty() {
            None
        } else {
            Some(self.attached[usize::from(b) % self.attached.len()])
        }
    }

    fn attach(&mut self, input: &mut Input<'_>) {
        let peer = self.next_peer;
        self.next_peer += 1;
        let hwm = usize::from(input.byte() % 4);
        self.peers.queues.insert(
            peer,
            Queues {
                hwm,
                ..Queues::default()
            },
        );
        let r = self
            .pattern
            .attach(peer, PeerInfo::default(), &mut self.peers);
        assert_eq!(r, Attach::Accepted);
        self.attached.push(peer);
        self.subscribed.insert(peer, BTreeSet::new());
        self.view.insert(peer, BTreeSet::new());
    }

    fn detach(&mut self, b: u8) {
        if let Some(peer) = self.pick(b) {
            self.attached.retain(|&p| p != peer);
            self.peers.queues.remove(&peer);
            self.subscribed.remove(&peer);
            self.view.remove(&peer);
            self.pattern.detach(peer);
        }
    }

    /// A peer sends a message: for publishers mostly subscriptions, for subscribers data.
    fn deliver(&mut self, input: &mut Input<'_>) {
        let Some(peer) = self.pick(input.byte()) else {
            return;
        };
        let shape = input.byte();
        let frames: Vec<Bytes> = if is_publisher(self.t) && !shape.is_multiple_of(4) {
            let t = topic(input);
            let subscribe = shape & 0x10 != 0;
            if let Some(set) = self.subscribed.get_mut(&peer) {
                if subscribe {
                    set.insert(t.clone());
                } else {
                    set.remove(&t);
                }
            }
            alloc::vec![flagged(u8::from(subscribe), &t)]
        } else {
            let n = 1 + usize::from(shape >> 6);
            (0..n)
                .map(|_| {
                    let t = topic(input);
                    // User data: never a leading 0 or 1 (unless the model is off anyway).
                    if is_publisher(self.t) && t.first().is_some_and(|&b| b <= 1) {
                        flagged(2, &t)
                    } else {
                        Bytes::from(t)
                    }
                })
                .collect()
        };
        let q = self.peers.get(peer);
        let n = frames.len();
        for (i, f) in frames.into_iter().enumerate() {
            q.inbound.push_back(Frame::new(f, i + 1 < n));
        }
        if core::mem::take(&mut q.found_empty) || shape & 0x20 != 0 {
            self.pattern.read_activated(peer);
        }
    }

    /// A peer takes one message; a subscriber's model publisher applies subscriptions.
    fn drain(&mut self, b: u8) {
        let Some(peer) = self.pick(b) else {
            return;
        };
        self.drain_peer(peer, b & 0x80 != 0);
    }

    fn drain_peer(&mut self, peer: PeerId, spurious: bool) -> bool {
        let q = self.peers.get(peer);
        if q.messages == 0 {
            return false;
        }
        let mut frames = Vec::new();
        while let Some(frame) = q.outbound.pop_front() {
            let more = frame.more;
            frames.push(frame.data);
            if !more {
                break;
            }
        }
        q.messages -= 1;
        let activate = core::mem::take(&mut q.found_full) || spurious;
        if !is_publisher(self.t) && frames.len() == 1 {
            if let Some((&flag, t)) = frames[0].split_first() {
                if let Some(view) = self.view.get_mut(&peer) {
                    match flag {
                        1 => {
                            view.insert(t.to_vec());
                        }
                        0 => {
                            view.remove(t);
                        }
                        _ => {}
                    }
                }
            }
        }
        if activate {
            self.pattern.write_activated(peer);
            self.pattern.flush(&mut self.peers);
        }
        true
    }

    fn send(&mut self, input: &mut Input<'_>) {
        let b = input.byte();
        let more = b & 1 != 0;
        let data = match self.t {
            SocketType::XSub if b & 6 == 0 => {
                // A subscription or a cancel.
                let t = topic(input);
                let flag = (b >> 3) & 1;
                if more || self.send_open {
                    self.modelled = false;
                } else if flag == 1 {
                    *self.topics.entry(t.clone()).or_insert(0) += 1;
                } else if let Some(c) = self.topics.get_mut(&t) {
                    *c -= 1;
                    if *c == 0 {
                        self.topics.remove(&t);
                    }
                }
                flagged(flag, &t)
            }
            SocketType::XSub => flagged(2, &topic(input)),
            _ => Bytes::from(topic(input)),
        };
        let frame = Frame::new(data, more);
        match self.pattern.send(frame.clone(), &mut self.peers) {
            Ok(()) => {
                self.send_open = more;
            }
            Err(err) => {
                assert!(
                    !self.send_open,
                    "frame of a half-sent message refused: {err:?}"
                );
                match err {
                    PatternError::Again(Some(back)) => {
                        assert!(is_publisher(self.t) && self.nodrop, "{} blocked", self.t);
                        assert_eq!(back, frame);
                    }
                    PatternError::NotSupported => assert_eq!(self.t, SocketType::Sub),
                    e => panic!("{} send gave {e:?}", self.t),
                }
            }
        }
    }

    fn recv(&mut self) {
        match self.pattern.recv(&mut self.peers) {
            Ok(frame) => {
                if !self.recv_open && self.t == SocketType::XPub {
                    // Notifications are single frames.
                    if frame.data.first().is_some_and(|&b| b <= 1) {
                        assert!(!frame.more || self.manual || !self.modelled);
                    }
                }
                self.recv_open = frame.more;
            }
            Err(err) => {
                assert!(!self.recv_open, "half-received message stopped: {err:?}");
                match err {
                    PatternError::Again(None) => {}
                    PatternError::NotSupported => assert_eq!(self.t, SocketType::Pub),
                    e => panic!("{} recv gave {e:?}", self.t),
                }
            }
        }
    }

    fn set_option(&mut self, input: &mut Input<'_>) {
        let b = input.byte();
        let on = b & 0x80 != 0;
        let option = match b % 12 {
            0 => PatternOption::Subscribe(Bytes::from(topic(input))),
            1 => PatternOption::Unsubscribe(Bytes::from(topic(input))),
            2 => PatternOption::XpubVerbose(on),
            3 => PatternOption::XpubVerboser(on),
            4 => PatternOption::XpubManual(on),
            5 => PatternOption::XpubManualLastValue(on),
            6 => PatternOption::XpubNodrop(on),
            7 => PatternOption::XpubWelcomeMsg(Bytes::from(topic(input))),
            8 => PatternOption::XsubVerboseUnsubscribe(on),
            9 => PatternOption::InvertMatching(on),
            10 => PatternOption::OnlyFirstSubscribe(on),
            _ => PatternOption::ReqRelaxed(on),
        };
        let result = self.pattern.set_option(option.clone());
        let accepted = match (&option, self.t) {
            (PatternOption::Subscribe(_) | PatternOption::Unsubscribe(_), t) => {
                t == SocketType::Sub || (is_publisher(t) && self.manual)
            }
            (
                PatternOption::XpubVerbose(_)
                | PatternOption::XpubVerboser(_)
                | PatternOption::XpubManual(_)
                | PatternOption::XpubManualLastValue(_)
                | PatternOption::XpubNodrop(_)
                | PatternOption::XpubWelcomeMsg(_),
                t,
            ) => is_publisher(t),
            (PatternOption::XsubVerboseUnsubscribe(_), t) => t == SocketType::XSub,
            (PatternOption::InvertMatching(_), _) => true,
            (PatternOption::OnlyFirstSubscribe(_), t) => t != SocketType::Sub,
            _ => false,
        };
        assert_eq!(
            result.is_ok(),
            accepted,
            "{} {option:?}: {result:?}",
            self.t
        );
        if !accepted {
            assert_eq!(result, Err(PatternError::Invalid));
            return;
        }
        match option {
            PatternOption::Subscribe(t) if self.t == SocketType::Sub => {
                *self.topics.entry(t.to_vec()).or_insert(0) += 1;
            }
            PatternOption::Unsubscribe(t) if self.t == SocketType::Sub => {
                if let Some(c) = self.topics.get_mut(&t[..]) {
                    *c -= 1;
                    if *c == 0 {
                        self.topics.remove(&t[..]);
                    }
                }
            }
            PatternOption::Subscribe(_) | PatternOption::Unsubscribe(_) => {}
            PatternOption::XpubManual(on) | PatternOption::XpubManualLastValue(on) => {
                if on {
                    self.manual = true;
                    self.modelled = false;
                } else {
                    self.manual = false;
                }
            }
            PatternOption::XpubNodrop(on) => self.nodrop = on,
            PatternOption::InvertMatching(on) => self.invert = on,
            PatternOption::OnlyFirstSubscribe(_) if self.t == SocketType::XSub => {
                self.modelled = false;
            }
            // Every cancel goes out, so publishers drop topics the XSUB still counts.
            PatternOption::XsubVerboseUnsubscribe(true) => self.modelled = false,
            _ => {}
        }
        if input.byte() & 1 == 0 {
            self.pattern.flush(&mut self.peers);
        }
    }

    fn hiccup(&mut self, b: u8) {
        let Some(peer) = self.pick(b) else {
            return;
        };
        // The old connection's queued messages are gone (libzmq's pipe hiccup); a message
        // half written stays, to keep the queue well formed.
        let q = self.peers.get(peer);
        let keep = q.outbound.len() - q.open;
        q.outbound.drain(..keep);
        q.messages = 0;
        // And what it sent is gone too: a publisher starts from the new party's own.
        q.inbound.clear();
        if let Some(set) = self.subscribed.get_mut(&peer) {
            set.clear();
        }
        if core::mem::take(&mut q.found_full) {
            self.pattern.write_activated(peer);
        }
        if let Some(view) = self.view.get_mut(&peer) {
            view.clear();
        }
        self.pattern.hiccuped(peer, &mut self.peers);
    }

    /// Drains every queue (with the activations due) until nothing moves, then checks the
    /// models.
    fn settle_and_check(&mut self) {
        self.pattern.flush(&mut self.peers);
        if self.send_open {
            return;
        }
        // XPUB: the application reads what waits, so that every subscription is applied.
        if self.t == SocketType::XPub {
            while self.pattern.recv(&mut self.peers).is_ok() {}
            self.recv_open = false;
        }
        loop {
            let mut moved = false;
            for peer in self.attached.clone() {
                while self.drain_peer(peer, false) {
                    moved = true;
                }
            }
            self.pattern.flush(&mut self.peers);
            if !moved {
                break;
            }
        }
        if !self.modelled {
            return;
        }
        let count = self.pattern.topics_count(&mut self.peers);
        if is_publisher(self.t) {
            let union: BTreeSet<&Vec<u8>> = self.subscribed.values().flatten().collect();
            assert_eq!(count, Ok(union.len()), "topics_count");
        } else {
            assert_eq!(count, Ok(self.topics.len()), "topics_count");
            let want: BTreeSet<Vec<u8>> = self.topics.keys().cloned().collect();
            for (peer, view) in &self.view {
                assert_eq!(view, &want, "what peer {peer}'s publisher ends up with");
            }
        }
    }

    /// A publisher sends one message: exactly the matching peers with room get it.
    fn probe(&mut self, input: &mut Input<'_>) {
        if !is_publisher(self.t) || self.send_open || !self.modelled {
            return;
        }
        self.settle_and_check();
        let t = topic(input);
        let before: BTreeMap<PeerId, (usize, bool)> = self
            .attached
            .iter()
            .map(|&p| {
                let q = self.peers.get(p);
                (p, (q.messages, q.hwm == 0 || q.messages < q.hwm))
            })
            .collect();
        let data = Bytes::from(t.clone());
        match self.pattern.send(Frame::last(data), &mut self.peers) {
            Ok(()) => {
                for (&p, &(n, room)) in &before {
                    let matches = self.subscribed[&p].iter().any(|s| t.starts_with(s));
                    let want = usize::from(room && (matches != self.invert));
                    assert_eq!(self.peers.get(p).messages, n + want, "probe to peer {p}");
                }
            }
            Err(PatternError::Again(Some(_))) => {
                assert!(self.nodrop);
                let blocked = before.iter().any(|(p, &(_, room))| {
                    let matches = self.subscribed[p].iter().any(|s| t.starts_with(s));
                    !room && (matches != self.invert)
                });
                assert!(blocked, "Again with every matching peer having room");
                for (&p, &(n, _)) in &before {
                    assert_eq!(self.peers.get(p).messages, n, "Again wrote to peer {p}");
                }
            }
            Err(e) => panic!("probe gave {e:?}"),
        }
    }

    /// Many subscriptions and cancels of a few short topics, as a subscriber's application
    /// makes them (so that backlogs grow and get compacted).
    fn burst(&mut self, input: &mut Input<'_>) {
        if is_publisher(self.t) || self.send_open {
            return;
        }
        let n = 1 + usize::from(input.byte() % 128);
        for _ in 0..n {
            let b = input.byte();
            let t = alloc::vec![b'a' + b % 5];
            let subscribe = b & 0x80 != 0;
            if self.t == SocketType::Sub {
                let option = if subscribe {
                    PatternOption::Subscribe(Bytes::from(t.clone()))
                } else {
                    PatternOption::Unsubscribe(Bytes::from(t.clone()))
                };
                assert_eq!(self.pattern.set_option(option), Ok(()));
            } else {
                let frame = Frame::last(flagged(u8::from(subscribe), &t));
                assert_eq!(self.pattern.send(frame, &mut self.peers), Ok(()));
            }
            if subscribe {
                *self.topics.entry(t).or_insert(0) += 1;
            } else if let Some(c) = self.topics.get_mut(&t) {
                *c -= 1;
                if *c == 0 {
                    self.topics.remove(&t);
                }
            }
        }
    }

    fn step(&mut self, input: &mut Input<'_>) {
        let op = input.byte();
        match op % 15 {
            14 => self.burst(input),
            0 => self.attach(input),
            1 => self.detach(input.byte()),
            2 | 3 => self.send(input),
            4 => self.recv(),
            5 | 6 => self.deliver(input),
            7 => self.drain(input.byte()),
            8 => {
                let b = input.byte();
                let peer = self.pick(b).unwrap_or(PeerId::from(b));
                if b & 1 == 0 {
                    self.pattern.read_activated(peer);
                } else {
                    self.pattern.write_activated(peer);
                }
            }
            9 => {
                if !self.recv_open && self.pattern.has_in(&mut self.peers) {
                    match self.pattern.recv(&mut self.peers) {
                        Ok(frame) => self.recv_open = frame.more,
                        Err(err) => panic!("has_in said yes, recv gave {err:?}"),
                    }
                }
                let _ = self.pattern.has_out(&mut self.peers);
            }
            10 => self.set_option(input),
            11 => self.hiccup(input.byte()),
            12 => self.settle_and_check(),
            _ => self.probe(input),
        }
    }
}

/// Runs the operations encoded in `data` against one publish-subscribe pattern; panics if
/// an invariant or a model breaks (see [`subscription_trie`]).
pub fn pubsub_ops(data: &[u8]) {
    let mut input = Input(data);
    let t = PUBSUB_TYPES[usize::from(input.byte()) % PUBSUB_TYPES.len()];
    let pattern = match new_pattern(t, 0) {
        Ok(p) => p,
        Err(e) => panic!("new_pattern({t}) failed: {e}"),
    };
    let mut driver = Driver {
        t,
        pattern,
        peers: CheckedPeers::default(),
        attached: Vec::new(),
        next_peer: 1,
        send_open: false,
        recv_open: false,
        manual: false,
        invert: false,
        nodrop: false,
        subscribed: BTreeMap::new(),
        topics: BTreeMap::new(),
        view: BTreeMap::new(),
        modelled: true,
    };
    let mut steps = 0;
    while !input.done() && steps < 2048 {
        driver.step(&mut input);
        steps += 1;
    }
    driver.settle_and_check();
}
