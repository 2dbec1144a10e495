//! Scale: the tries with 100,000 topics and with long topics, a publisher with 1,000
//! subscribers and 10,000 topics, and peer-driven shapes that would recurse deeply in a
//! recursive trie, run on a small stack. The time bounds are generous (debug builds, busy
//! machines): they catch a quadratic blow-up, not a slow machine.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{flagged, Harness};
use zmq_patterns::{MultiTrie, PatternOption, SocketType, SubscriptionTrie};

/// A deterministic pseudo-random sequence (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Topics shaped like real ones: a few shared hierarchical prefixes, then a unique tail.
fn topics(n: usize, rng: &mut Rng) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let r = rng.next();
            format!(
                "market.{}.{}.{:08x}.{i}",
                ["eu", "us", "asia", "latam"][(r % 4) as usize],
                ["equity", "fx", "bond"][((r >> 8) % 3) as usize],
                r >> 32
            )
            .into_bytes()
        })
        .collect()
}

fn bounded(what: &str, started: Instant, limit: Duration) {
    let took = started.elapsed();
    eprintln!("{what}: {took:?}");
    assert!(took < limit, "{what} took {took:?}, more than {limit:?}");
}

#[test]
fn counted_trie_with_100_000_topics() {
    let mut rng = Rng(1);
    let topics = topics(100_000, &mut rng);
    let started = Instant::now();
    let mut trie = SubscriptionTrie::new();
    for t in &topics {
        assert!(trie.add(t));
    }
    assert_eq!(trie.len(), 100_000);
    assert!(trie.node_count() <= 2 * 100_000 + 1);
    let mut hits = 0;
    for t in &topics {
        let mut m = t.clone();
        m.extend_from_slice(b"/payload");
        hits += usize::from(trie.matches(&m));
        hits += usize::from(trie.matches(&t[..t.len() - 1]));
    }
    // Every topic matches its extension; a topic cut short matches only if a shorter topic
    // (`...9` for `...99`) happens to be there.
    assert!(hits >= 100_000);
    let mut walked = 0;
    let mut key = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    while trie.next_after(after.as_deref(), &mut key) {
        walked += 1;
        after = Some(key.clone());
    }
    assert_eq!(walked, 100_000);
    for t in &topics {
        assert!(trie.remove(t));
    }
    assert!(trie.is_empty());
    assert_eq!(trie.node_count(), 1, "every node is freed");
    bounded(
        "counted trie, 100k topics",
        started,
        Duration::from_secs(30),
    );
}

#[test]
fn multi_trie_with_100_000_topics_over_100_peers() {
    let mut rng = Rng(2);
    let topics = topics(100_000, &mut rng);
    let started = Instant::now();
    let mut trie: MultiTrie<usize> = MultiTrie::new();
    for (i, t) in topics.iter().enumerate() {
        trie.add(t, i % 100);
    }
    assert_eq!(trie.len(), 100_000);
    let mut matched = 0;
    for t in &topics {
        trie.for_each_match(t, |_| matched += 1);
    }
    assert!(matched >= 100_000);
    for peer in 0..100 {
        let mut gone = 0;
        trie.remove_value(peer, |_, last| gone += usize::from(last));
        assert_eq!(gone, 1000);
    }
    assert!(trie.is_empty());
    assert_eq!(trie.node_count(), 1);
    bounded("multi-trie, 100k topics", started, Duration::from_secs(30));
}

#[test]
fn long_topics() {
    // 1,000 topics of 64 KiB that differ only at the end, and one of 4 MiB.
    let started = Instant::now();
    let base = vec![b'x'; 64 * 1024];
    let topics: Vec<Vec<u8>> = (0..1000u32)
        .map(|i| {
            let mut t = base.clone();
            t.extend_from_slice(&i.to_be_bytes());
            t
        })
        .collect();
    let mut trie = SubscriptionTrie::new();
    let mut multi: MultiTrie<u32> = MultiTrie::new();
    for (i, t) in topics.iter().enumerate() {
        trie.add(t);
        multi.add(t, i as u32 % 7);
    }
    assert!(trie.node_count() <= 2 * 1000 + 1);
    for t in &topics {
        assert!(trie.matches(t));
        let mut n = 0;
        multi.for_each_match(t, |_| n += 1);
        assert_eq!(n, 1);
    }
    assert!(!trie.matches(&base));
    let huge = vec![b'y'; 4 << 20];
    trie.add(&huge);
    assert!(trie.matches(&huge));
    assert!(trie.remove(&huge));
    for v in 0..7 {
        multi.remove_value(v, |_, _| {});
    }
    for t in &topics {
        assert!(trie.remove(t));
    }
    assert_eq!((trie.node_count(), multi.node_count()), (1, 1));
    bounded("long topics", started, Duration::from_secs(30));
}

/// Runs `f` on a thread with a 128 KiB stack: a recursion as deep as a topic is long, or
/// as the trie is deep, would overflow it.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn a_peer_cannot_make_the_trie_recurse() {
    // libzmq's advisory GHSA-qq65-x72m-9wr8: a deep mtrie overflowed the stack on removal.
    on_small_stack(|| {
        let mut h = Harness::new(SocketType::XPub);
        let a = h.attach();
        let b = h.attach();
        // A chain: "", "z", "zz", ... 3,000 nested topics, the deepest trie a peer can
        // make with them; and a 1 MiB topic.
        for len in 0..3000 {
            h.deliver_bytes(a, &[flagged(1, &vec![b'z'; len])]);
            if len % 100 == 0 {
                h.recv_all();
            }
        }
        h.deliver_bytes(b, &[flagged(1, &vec![b'q'; 1 << 20])]);
        h.recv_all();
        assert_eq!(h.topics(), 3001);
        h.send(&["zzzz"]).unwrap();
        assert_eq!(h.take_all(a).len(), 1);
        // Removal of everything the peers had, by cancel and by going away.
        for len in (0..1500).rev() {
            h.deliver_bytes(a, &[flagged(0, &vec![b'z'; len])]);
        }
        h.recv_all();
        h.detach(a);
        h.detach(b);
        assert_eq!(h.recv_all().len(), 1501);
        assert_eq!(h.topics(), 0);
    });
    on_small_stack(|| {
        // The same chain on a subscriber: resent in order to a new peer, then removed.
        let mut h = Harness::new(SocketType::Sub);
        for len in 0..3000 {
            h.set(PatternOption::Subscribe(Bytes::from(vec![b'z'; len])));
        }
        let p = h.attach();
        let got = h.take_all(p);
        assert_eq!(got.len(), 3000);
        assert!(got.windows(2).all(|w| w[0][0].len() < w[1][0].len()));
        for len in 0..3000 {
            h.set(PatternOption::Unsubscribe(Bytes::from(vec![b'z'; len])));
        }
        assert_eq!(h.topics(), 0);
    });
}

#[test]
fn publisher_with_1000_subscribers_and_10_000_topics() {
    let started = Instant::now();
    let mut h = Harness::new(SocketType::XPub);
    let peers: Vec<_> = (0..1000).map(|_| h.attach()).collect();
    let topic = |i: usize| format!("topic.{i:05}");
    // Each subscriber takes 10 topics; together they cover 10,000. Every 100th one also
    // takes "topic.00", a prefix of the first 1,000.
    for (n, &p) in peers.iter().enumerate() {
        for k in 0..10 {
            h.deliver_bytes(p, &[flagged(1, topic(n * 10 + k).as_bytes())]);
        }
        if n % 100 == 0 {
            h.deliver_bytes(p, &[flagged(1, b"topic.00")]);
        }
        h.recv_all();
    }
    assert_eq!(h.topics(), 10_001);
    for i in 0..10_000 {
        h.send(&[&topic(i), "payload"]).unwrap();
    }
    for (n, &p) in peers.iter().enumerate() {
        // Subscriber 0's own topics are among the first 1,000: it gets each once.
        let want = match n {
            0 => 1000,
            n if n % 100 == 0 => 1010,
            _ => 10,
        };
        assert_eq!(h.take_all(p).len(), want, "peer {n}");
    }
    for &p in &peers {
        h.detach(p);
    }
    assert_eq!(h.recv_all().len(), 10_001, "a cancel for each topic");
    assert_eq!(h.topics(), 0);
    bounded(
        "1,000 subscribers x 10,000 topics",
        started,
        Duration::from_secs(60),
    );
}

#[test]
fn slow_subscriber_loses_messages_at_hwm_without_growth() {
    // The publisher keeps nothing for a subscriber that does not read: its queue holds
    // at most its HWM, the rest is dropped at once.
    let mut h = Harness::new(SocketType::Pub);
    let slow = h.attach_with(b"", 1000);
    let fast = h.attach();
    h.deliver_bytes(slow, &[flagged(1, b"")]);
    h.deliver_bytes(fast, &[flagged(1, b"")]);
    for i in 0..100_000 {
        h.send(&[&i.to_string()]).unwrap();
        if i % 1000 == 0 {
            h.take_all(fast);
        }
    }
    assert_eq!(h.queued(slow), 1000);
}
