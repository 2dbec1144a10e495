//! Property tests of the pattern invariants: load-balancing fairness, fair-queueing
//! without starvation or interleaving, ROUTER ordering, REQ's single outstanding request,
//! and multipart atomicity under arbitrary operations.

mod common;

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use common::{Harness, Msg};
use proptest::prelude::*;
use zmq_patterns::{PatternError, PeerId, SocketType};

/// A message from peer (or to peer) `who`, number `seq`, of `frames` frames, each frame
/// naming its place so that any mix-up shows.
fn tagged(who: usize, seq: usize, frames: usize) -> Msg {
    (0..frames)
        .map(|j| Bytes::from(format!("{who}:{seq}:{j}")))
        .collect()
}

/// The `(who, seq)` a tagged message carries, checking that its frames belong together.
fn untag(m: &[Bytes]) -> (usize, usize) {
    let parts = |f: &Bytes| -> (usize, usize, usize) {
        let s = std::str::from_utf8(f).unwrap();
        let mut it = s.split(':').map(|x| x.parse::<usize>().unwrap());
        (it.next().unwrap(), it.next().unwrap(), it.next().unwrap())
    };
    let (who, seq, _) = parts(&m[0]);
    for (j, f) in m.iter().enumerate() {
        assert_eq!(
            parts(f),
            (who, seq, j),
            "frames of two messages mixed: {m:?}"
        );
    }
    (who, seq)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Load-balancing: N peers with room and K*N messages give each peer exactly K, whole
    /// and in order, for PUSH, DEALER and REQ.
    #[test]
    fn lb_round_robin_is_fair(
        n in 1usize..8,
        k in 1usize..8,
        sizes in prop::collection::vec(1usize..4, 64),
        t in prop::sample::select(vec![SocketType::Push, SocketType::Dealer, SocketType::Req]),
    ) {
        let mut h = Harness::new(t);
        let peers: Vec<PeerId> = (0..n).map(|_| h.attach()).collect();
        let mut got: BTreeMap<PeerId, Vec<usize>> = BTreeMap::new();
        for seq in 0..k * n {
            h.send_bytes(&tagged(0, seq, sizes[seq % sizes.len()])).unwrap();
            if t == SocketType::Req {
                // Find the request, strip the delimiter, answer it.
                let (p, m) = peers.iter().find_map(|&p| h.take(p).map(|m| (p, m))).unwrap();
                prop_assert_eq!(&m[0][..], b"");
                got.entry(p).or_default().push(untag(&m[1..]).1);
                h.deliver_bytes(p, &[Bytes::new(), Bytes::from_static(b"ok")]);
                prop_assert_eq!(h.recv().unwrap(), common::msg(&["ok"]));
            }
        }
        if t != SocketType::Req {
            for &p in &peers {
                for m in h.take_all(p) {
                    got.entry(p).or_default().push(untag(&m).1);
                }
            }
        }
        for &p in &peers {
            let seqs = got.remove(&p).unwrap_or_default();
            prop_assert_eq!(seqs.len(), k, "peer {} got {:?}", p, seqs);
            prop_assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        }
    }

    /// Fair-queueing: whatever the interleaving of arrivals and receives, messages come out
    /// whole, in each peer's order, and a peer with a message waits for at most N-1 other
    /// messages (N peers), for PULL, DEALER and ROUTER.
    #[test]
    fn fq_is_fair_and_never_interleaves(
        n in 1usize..6,
        ops in prop::collection::vec((0usize..8, 1usize..4, any::<bool>()), 1..200),
        t in prop::sample::select(vec![SocketType::Pull, SocketType::Dealer, SocketType::Router]),
    ) {
        let mut h = Harness::new(t);
        let peers: Vec<PeerId> = (0..n).map(|_| h.attach()).collect();
        let mut sent = vec![0usize; n];
        let mut pending: Vec<VecDeque<usize>> = vec![VecDeque::new(); n];
        let mut waited = vec![0usize; n];
        for (who, frames, recv) in ops {
            if recv {
                let Ok(m) = h.recv() else {
                    prop_assert!(pending.iter().all(VecDeque::is_empty), "a message was left");
                    continue;
                };
                let body = if t == SocketType::Router { &m[1..] } else { &m[..] };
                let (src, seq) = untag(body);
                prop_assert_eq!(pending[src].pop_front(), Some(seq), "out of order");
                for (p, q) in pending.iter().enumerate() {
                    if p == src {
                        waited[p] = 0;
                    } else if !q.is_empty() {
                        waited[p] += 1;
                        prop_assert!(waited[p] < n, "peer {} starved for {} messages", p, waited[p]);
                    }
                }
            } else {
                let who = who % n;
                if pending[who].is_empty() {
                    waited[who] = 0;
                }
                h.deliver_bytes(peers[who], &tagged(who, sent[who], frames));
                pending[who].push_back(sent[who]);
                sent[who] += 1;
            }
        }
    }

    /// ROUTER keeps each peer's messages in order, both ways, with peers coming and going.
    #[test]
    fn router_never_reorders(
        ops in prop::collection::vec((0u8..10, 0usize..4, 1usize..4), 1..200),
    ) {
        let mut h = Harness::new(SocketType::Router);
        let names: Vec<Bytes> = (0..4).map(|i| Bytes::from(format!("peer{i}"))).collect();
        let mut peer_of: Vec<Option<PeerId>> = vec![None; 4];
        let mut sent_in = [0usize; 4];
        let mut next_in: Vec<usize> = vec![0; 4];
        let mut sent_out = [0usize; 4];
        let mut last_out: Vec<Option<usize>> = vec![None; 4];
        for (op, who, frames) in ops {
            match op {
                0 => {
                    if peer_of[who].is_none() {
                        peer_of[who] = Some(h.attach_with(&names[who], 0));
                    }
                }
                1 => {
                    if let Some(p) = peer_of[who].take() {
                        h.detach(p);
                        // Its queued inbound messages die with it.
                        next_in[who] = sent_in[who];
                        last_out[who] = None;
                    }
                }
                2 | 3 => {
                    if let Some(p) = peer_of[who] {
                        h.deliver_bytes(p, &tagged(who, sent_in[who], frames));
                        sent_in[who] += 1;
                    }
                }
                4..=6 => {
                    if let Ok(m) = h.recv() {
                        let (src, seq) = untag(&m[1..]);
                        prop_assert_eq!(&m[0], &names[src]);
                        prop_assert!(seq >= next_in[src], "peer {} reordered", src);
                        next_in[src] = seq + 1;
                    }
                }
                7 | 8 => {
                    let mut m = vec![names[who].clone()];
                    m.extend(tagged(who, sent_out[who], frames));
                    sent_out[who] += 1;
                    h.send_bytes(&m).unwrap();
                }
                _ => {
                    if let Some(p) = peer_of[who] {
                        for m in h.take_all(p) {
                            let (to, seq) = untag(&m);
                            prop_assert_eq!(to, who);
                            prop_assert!(last_out[who].is_none_or(|l| seq > l));
                            last_out[who] = Some(seq);
                        }
                    }
                }
            }
        }
    }

    /// A strict REQ never has two requests outstanding, whatever its peers do; send and
    /// recv say `Fsm` exactly when out of turn.
    #[test]
    fn req_has_one_request_outstanding(
        ops in prop::collection::vec((0u8..8, 0usize..3, any::<bool>()), 1..200),
        correlate in any::<bool>(),
    ) {
        let mut h = Harness::new(SocketType::Req);
        h.pattern.set_option(zmq_patterns::PatternOption::ReqCorrelate(correlate)).unwrap();
        let mut peers: Vec<PeerId> = (0..3).map(|_| h.attach()).collect();
        let mut awaiting = false;
        let mut requests = 0usize;
        let mut replies = 0usize;
        // The last request each peer took, to answer.
        let mut last_request: BTreeMap<PeerId, Msg> = BTreeMap::new();
        for (op, who, good) in ops {
            let p = peers[who % peers.len()];
            match op {
                0 | 1 => match h.send(&["req", "body"]) {
                    Ok(()) => {
                        prop_assert!(!awaiting, "a second request went out");
                        awaiting = true;
                    }
                    Err(PatternError::Fsm) => prop_assert!(awaiting),
                    Err(PatternError::Again(_)) => prop_assert!(!awaiting),
                    Err(e) => prop_assert!(false, "{e:?}"),
                },
                2 | 3 => match h.recv() {
                    Ok(_) => {
                        prop_assert!(awaiting);
                        awaiting = false;
                        replies += 1;
                    }
                    Err(PatternError::Fsm) => prop_assert!(!awaiting),
                    Err(PatternError::Again(None)) => prop_assert!(awaiting),
                    Err(e) => prop_assert!(false, "{e:?}"),
                },
                4 | 5 => {
                    for m in h.take_all(p) {
                        requests += 1;
                        last_request.insert(p, m);
                    }
                    prop_assert!(requests <= replies + 1, "{} requests, {} replies", requests, replies);
                }
                6 => {
                    // The peer answers its last request (echoing the envelope), or sends junk.
                    let reply = match last_request.get(&p) {
                        Some(req) if good => {
                            let cut = req.iter().position(|f| f.is_empty()).unwrap();
                            let mut r: Msg = req[..=cut].to_vec();
                            r.push(Bytes::from_static(b"reply"));
                            r
                        }
                        _ => vec![Bytes::from_static(b"junk")],
                    };
                    h.deliver_bytes(p, &reply);
                }
                _ => {
                    if good {
                        peers.push(h.attach());
                    } else if peers.len() > 1 {
                        let p = peers.remove(who % peers.len());
                        h.detach(p);
                        last_request.remove(&p);
                    }
                }
            }
        }
    }

    /// Every type, arbitrary operations: the fuzz target's driver, which checks the `Peers`
    /// contract and multipart atomicity both ways.
    #[test]
    fn arbitrary_operations_keep_every_invariant(data in prop::collection::vec(any::<u8>(), 0..1024)) {
        zmq_patterns::fuzzing::pattern_ops(&data);
    }

    /// Multipart atomicity end to end: for the types that pass messages through unchanged,
    /// every message delivered comes out whole and every message sent arrives whole at
    /// exactly one peer, however peers come, go, fill up and drain.
    #[test]
    fn multipart_messages_stay_whole(
        ops in prop::collection::vec((0u8..10, 0usize..4, 1usize..5), 1..200),
        t in prop::sample::select(vec![
            SocketType::Pair, SocketType::Dealer, SocketType::Push, SocketType::Pull,
        ]),
    ) {
        let mut h = Harness::new(t);
        let mut peers: Vec<Option<PeerId>> = vec![None; 4];
        let mut seq_in = 0usize;
        let mut seq_out = 0usize;
        let mut delivered: BTreeMap<usize, usize> = BTreeMap::new();
        let mut sent: BTreeMap<usize, usize> = BTreeMap::new();
        for (op, who, frames) in ops {
            match op {
                0 => {
                    if peers[who].is_none() {
                        let (p, result) = h.try_attach(b"", who % 3);
                        if result == zmq_patterns::Attach::Accepted {
                            peers[who] = Some(p);
                        }
                    }
                }
                1 => {
                    if let Some(p) = peers[who].take() {
                        h.detach(p);
                    }
                }
                2 | 3 => {
                    if let Some(p) = peers[who] {
                        h.deliver_bytes(p, &tagged(1, seq_in, frames));
                        delivered.insert(seq_in, frames);
                        seq_in += 1;
                    }
                }
                4 | 5 => {
                    if let Ok(m) = h.recv() {
                        let (_, seq) = untag(&m);
                        prop_assert_eq!(delivered.remove(&seq), Some(m.len()));
                    }
                }
                6 | 7 => {
                    if h.send_bytes(&tagged(2, seq_out, frames)).is_ok() {
                        sent.insert(seq_out, frames);
                    }
                    seq_out += 1;
                }
                _ => {
                    if let Some(p) = peers[who] {
                        for m in h.take_all(p) {
                            let (_, seq) = untag(&m);
                            prop_assert_eq!(sent.remove(&seq), Some(m.len()), "arrived twice or cut");
                        }
                    }
                }
            }
            // Between messages nothing unfinished is left in any queue.
            for q in h.peers.queues.values() {
                prop_assert_eq!(q.open, 0);
            }
        }
    }
}
