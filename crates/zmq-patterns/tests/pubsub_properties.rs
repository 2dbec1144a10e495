//! Property tests of the subscription tries and the publish-subscribe patterns: trie counts
//! and matches equal a naive model, fan-out never delivers part of a message and delivers
//! exactly to the matching peers, a detached peer leaves no subscription behind; and the
//! `subscription_trie` fuzz driver on random inputs.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use common::{flagged, Harness, Msg};
use proptest::prelude::*;
use zmq_patterns::{MultiTrie, PatternOption, PeerId, Removed, SocketType, SubscriptionTrie};

/// Topics over a 3-letter alphabet, so that they share prefixes.
fn topic() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(vec![b'a', b'b', b'c']), 0..6)
}

#[derive(Clone, Debug)]
enum TrieOp {
    Add(Vec<u8>),
    Remove(Vec<u8>),
    Match(Vec<u8>),
}

fn trie_op() -> impl Strategy<Value = TrieOp> {
    prop_oneof![
        3 => topic().prop_map(TrieOp::Add),
        2 => topic().prop_map(TrieOp::Remove),
        2 => topic().prop_map(TrieOp::Match),
    ]
}

#[derive(Clone, Debug)]
enum MultiOp {
    Add(Vec<u8>, u8),
    Remove(Vec<u8>, u8),
    RemoveValue(u8),
    Match(Vec<u8>),
}

fn multi_op() -> impl Strategy<Value = MultiOp> {
    prop_oneof![
        4 => (topic(), 0u8..5).prop_map(|(t, v)| MultiOp::Add(t, v)),
        2 => (topic(), 0u8..5).prop_map(|(t, v)| MultiOp::Remove(t, v)),
        1 => (0u8..5).prop_map(MultiOp::RemoveValue),
        2 => topic().prop_map(MultiOp::Match),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Counted trie: every answer, the counts and the topics in order equal a map's.
    #[test]
    fn counted_trie_equals_a_naive_model(ops in prop::collection::vec(trie_op(), 0..200)) {
        let mut trie = SubscriptionTrie::new();
        let mut model: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for op in ops {
            match op {
                TrieOp::Add(t) => {
                    let c = model.entry(t.clone()).or_default();
                    *c += 1;
                    prop_assert_eq!(trie.add(&t), *c == 1);
                }
                TrieOp::Remove(t) => {
                    let last = match model.get_mut(&t) {
                        Some(c) => {
                            *c -= 1;
                            *c == 0
                        }
                        None => false,
                    };
                    if last {
                        model.remove(&t);
                    }
                    prop_assert_eq!(trie.remove(&t), last);
                }
                TrieOp::Match(d) => {
                    prop_assert_eq!(trie.matches(&d), model.keys().any(|t| d.starts_with(t)));
                    prop_assert_eq!(trie.count(&d), model.get(&d).copied().unwrap_or(0));
                }
            }
            prop_assert_eq!(trie.len(), model.len());
            prop_assert!(trie.node_count() <= 2 * trie.len() + 1);
        }
        let mut seen = Vec::new();
        trie.for_each(|t, c| seen.push((t.to_vec(), c)));
        prop_assert_eq!(seen, model.into_iter().collect::<Vec<_>>());
    }

    /// Multi-trie: add/remove results, matches and removal of a value equal a map of sets.
    #[test]
    fn multi_trie_equals_a_naive_model(ops in prop::collection::vec(multi_op(), 0..200)) {
        let mut trie: MultiTrie<u8> = MultiTrie::new();
        let mut model: BTreeMap<Vec<u8>, BTreeSet<u8>> = BTreeMap::new();
        for op in ops {
            match op {
                MultiOp::Add(t, v) => {
                    let set = model.entry(t.clone()).or_default();
                    let first = set.is_empty();
                    set.insert(v);
                    prop_assert_eq!(trie.add(&t, v), first);
                }
                MultiOp::Remove(t, v) => {
                    let want = match model.get_mut(&t) {
                        Some(set) if set.contains(&v) => {
                            set.remove(&v);
                            if set.is_empty() {
                                model.remove(&t);
                                Removed::LastValueRemoved
                            } else {
                                Removed::ValuesRemain
                            }
                        }
                        _ => Removed::NotFound,
                    };
                    prop_assert_eq!(trie.remove(&t, v), want);
                }
                MultiOp::RemoveValue(v) => {
                    let mut want = Vec::new();
                    model.retain(|t, set| {
                        if set.remove(&v) {
                            want.push((t.clone(), set.is_empty()));
                        }
                        !set.is_empty()
                    });
                    let mut got = Vec::new();
                    trie.remove_value(v, |t, last| got.push((t.to_vec(), last)));
                    prop_assert_eq!(got, want);
                }
                MultiOp::Match(d) => {
                    let mut got = BTreeSet::new();
                    trie.for_each_match(&d, |v| { got.insert(v); });
                    let want: BTreeSet<u8> = model
                        .iter()
                        .filter(|(t, _)| d.starts_with(t))
                        .flat_map(|(_, vs)| vs.iter().copied())
                        .collect();
                    prop_assert_eq!(got, want);
                }
            }
            prop_assert_eq!(trie.len(), model.len());
            prop_assert!(trie.node_count() <= 2 * trie.len() + 1);
        }
    }
}

#[derive(Clone, Debug)]
enum PubOp {
    Attach(usize),
    Detach(usize),
    Subscribe(usize, Vec<u8>),
    Cancel(usize, Vec<u8>),
    /// A message: topic, number of frames.
    Send(Vec<u8>, usize),
    /// A message sent frame by frame with a peer attached or detached in the middle.
    SendAround(Vec<u8>, usize, bool),
    Take(usize),
}

fn pub_op() -> impl Strategy<Value = PubOp> {
    prop_oneof![
        1 => (0usize..4).prop_map(PubOp::Attach),
        1 => (0usize..8).prop_map(PubOp::Detach),
        3 => (0usize..8, topic()).prop_map(|(p, t)| PubOp::Subscribe(p, t)),
        1 => (0usize..8, topic()).prop_map(|(p, t)| PubOp::Cancel(p, t)),
        4 => (topic(), 1usize..4).prop_map(|(t, n)| PubOp::Send(t, n)),
        1 => (topic(), 2usize..4, any::<bool>()).prop_map(|(t, n, a)| PubOp::SendAround(t, n, a)),
        3 => (0usize..8).prop_map(PubOp::Take),
    ]
}

/// A message with this topic and sequence number, of `n` frames that name their place.
fn tagged(topic: &[u8], seq: usize, n: usize) -> Msg {
    let mut m = vec![Bytes::copy_from_slice(topic)];
    m.extend((1..n).map(|j| Bytes::from(format!("{seq}:{j}"))));
    m
}

/// A PUB/XPUB harness with a model of each peer's subscriptions and of what it must have
/// received.
struct PubModel {
    h: Harness,
    xpub: bool,
    invert: bool,
    peers: Vec<PeerId>,
    subs: BTreeMap<PeerId, BTreeSet<Vec<u8>>>,
    /// Messages each peer must receive, in order.
    expect: BTreeMap<PeerId, Vec<Msg>>,
    /// Each peer's queue: messages written and not taken.
    seq: usize,
}

impl PubModel {
    fn new(t: SocketType, invert: bool) -> Self {
        let options = if invert {
            vec![PatternOption::InvertMatching(true)]
        } else {
            vec![]
        };
        Self {
            h: Harness::with_options(t, &options),
            xpub: t == SocketType::XPub,
            invert,
            peers: Vec::new(),
            subs: BTreeMap::new(),
            expect: BTreeMap::new(),
            seq: 0,
        }
    }

    fn peer(&self, i: usize) -> Option<PeerId> {
        (!self.peers.is_empty()).then(|| self.peers[i % self.peers.len()])
    }

    /// Which attached peers a message with this topic goes to (those with room).
    fn targets(&mut self, topic: &[u8]) -> Vec<PeerId> {
        let mut out = Vec::new();
        for &p in &self.peers {
            let matches = self.subs[&p].iter().any(|s| topic.starts_with(s));
            let q = self.h.peers.q(p);
            let room = q.hwm == 0 || q.messages < q.hwm;
            if room && matches != self.invert {
                out.push(p);
            }
        }
        out
    }

    fn apply(&mut self, op: PubOp) {
        match op {
            PubOp::Attach(hwm) => {
                let p = self.h.attach_with(b"", hwm);
                self.peers.push(p);
                self.subs.insert(p, BTreeSet::new());
                self.expect.insert(p, Vec::new());
            }
            PubOp::Detach(i) => {
                if let Some(p) = self.peer(i) {
                    self.peers.retain(|&x| x != p);
                    self.subs.remove(&p);
                    self.expect.remove(&p);
                    self.h.detach(p);
                }
            }
            PubOp::Subscribe(i, t) | PubOp::Cancel(i, t) if self.peer(i).is_none() => {
                let _ = t;
            }
            PubOp::Subscribe(i, t) => {
                let p = self.peer(i).unwrap();
                self.h.deliver_bytes(p, &[flagged(1, &t)]);
                self.subs.get_mut(&p).unwrap().insert(t);
            }
            PubOp::Cancel(i, t) => {
                let p = self.peer(i).unwrap();
                self.h.deliver_bytes(p, &[flagged(0, &t)]);
                self.subs.get_mut(&p).unwrap().remove(&t);
            }
            PubOp::Send(t, n) => {
                self.h.flush();
                let targets = self.targets(&t);
                self.seq += 1;
                let m = tagged(&t, self.seq, n);
                self.h.send_bytes(&m).unwrap();
                for p in targets {
                    self.expect.get_mut(&p).unwrap().push(m.clone());
                }
            }
            PubOp::SendAround(t, n, attach) => {
                self.h.flush();
                let mut targets = self.targets(&t);
                self.seq += 1;
                let m = tagged(&t, self.seq, n);
                self.h.send_frame(m[0].clone(), true).unwrap();
                if attach {
                    // Subscribed to everything, yet it must get none of this message.
                    self.apply(PubOp::Attach(0));
                    let p = *self.peers.last().unwrap();
                    self.apply(PubOp::Subscribe(self.peers.len() - 1, Vec::new()));
                    let _ = p;
                } else if let Some(&p) = targets.first() {
                    let i = self.peers.iter().position(|&x| x == p).unwrap();
                    self.apply(PubOp::Detach(i));
                    targets.retain(|&x| x != p);
                }
                for (j, f) in m.iter().enumerate().skip(1) {
                    self.h.send_frame(f.clone(), j + 1 < m.len()).unwrap();
                }
                for p in targets {
                    self.expect.get_mut(&p).unwrap().push(m.clone());
                }
            }
            PubOp::Take(i) => {
                if let Some(p) = self.peer(i) {
                    if let Some(got) = self.h.take(p) {
                        let want = self.expect.get_mut(&p).unwrap();
                        assert!(!want.is_empty(), "peer {p} got {got:?}, expected nothing");
                        assert_eq!(got, want.remove(0), "peer {p}");
                    }
                }
            }
        }
        if self.xpub {
            // The application keeps up, so every subscription is applied.
            self.h.recv_all();
        }
    }

    fn finish(&mut self) {
        for p in self.peers.clone() {
            let got = self.h.take_all(p);
            assert_eq!(got, self.expect[&p], "peer {p}");
            assert_eq!(self.h.peers.q(p).open, 0, "peer {p} has half a message");
        }
        let union: BTreeSet<&Vec<u8>> = self.subs.values().flatten().collect();
        assert_eq!(self.h.topics(), union.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Fan-out: each peer receives, whole and in order, exactly the messages that matched
    /// its subscriptions (or, inverted, did not) when they were sent and found room in
    /// its queue; a peer attached or detached in the middle of a message gets none of it.
    #[test]
    fn fan_out_is_exact_and_never_partial(
        ops in prop::collection::vec(pub_op(), 0..120),
        xpub in any::<bool>(),
        invert in any::<bool>(),
    ) {
        let t = if xpub { SocketType::XPub } else { SocketType::Pub };
        let mut m = PubModel::new(t, invert);
        for op in ops {
            m.apply(op);
        }
        m.finish();
    }

    /// A peer that goes away leaves no subscription: the topics count is the other peers',
    /// and XPUB passes exactly the cancels of the topics only that peer had.
    #[test]
    fn detach_removes_every_subscription_of_the_peer(
        subs in prop::collection::vec((0usize..4, topic()), 0..60),
        gone in 0usize..4,
        verboser in any::<bool>(),
    ) {
        let mut h = Harness::with_options(
            SocketType::XPub,
            &[PatternOption::XpubVerboser(verboser)],
        );
        let peers: Vec<PeerId> = (0..4).map(|_| h.attach()).collect();
        let mut model: BTreeMap<PeerId, BTreeSet<Vec<u8>>> = BTreeMap::new();
        for (i, t) in subs {
            h.deliver_bytes(peers[i], &[flagged(1, &t)]);
            model.entry(peers[i]).or_default().insert(t);
        }
        h.recv_all();
        let p = peers[gone];
        let mine = model.remove(&p).unwrap_or_default();
        let others: BTreeSet<Vec<u8>> = model.values().flatten().cloned().collect();
        h.detach(p);
        let cancels: Vec<Vec<u8>> = h.recv_all().into_iter().map(|m| {
            assert_eq!(m.len(), 1);
            assert_eq!(m[0][0], 0);
            m[0][1..].to_vec()
        }).collect();
        let want: Vec<Vec<u8>> = mine
            .iter()
            .filter(|t| verboser || !others.contains(*t))
            .cloned()
            .collect();
        prop_assert_eq!(cancels, want);
        prop_assert_eq!(h.topics(), others.len());
        // And nothing is sent for it: a message for each of its topics reaches exactly
        // the other peers that have it.
        for t in &mine {
            h.send_bytes(&[Bytes::copy_from_slice(t)]).unwrap();
        }
        for (&q, topics) in &model {
            let n = mine.iter().filter(|t| topics.iter().any(|s| t.starts_with(s))).count();
            prop_assert_eq!(h.take_all(q).len(), n);
        }
    }

    /// The fuzz driver of the `subscription_trie` target, on random inputs.
    #[test]
    fn subscription_trie_fuzz_driver(data in prop::collection::vec(any::<u8>(), 0..1500)) {
        zmq_patterns::fuzzing::subscription_trie(&data);
    }

    /// The publish-subscribe driver with each type, on random inputs.
    #[test]
    fn pubsub_ops_driver(t in 0u8..4, data in prop::collection::vec(any::<u8>(), 0..1500)) {
        let mut input = vec![t];
        input.extend(data);
        zmq_patterns::fuzzing::pubsub_ops(&input);
    }
}
