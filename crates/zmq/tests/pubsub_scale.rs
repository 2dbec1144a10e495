//! Publish-subscribe at scale: one PUB, 1,000 SUBs, 10,000 distinct topics spread over
//! them (plus prefixes that match many), over inproc and tcp: every message reaches
//! exactly the subscribers with a matching prefix, in order. And a subscriber that stops
//! reading loses messages at its high-water mark while the publisher's memory stays
//! bounded.

use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

const SUBSCRIBERS: usize = 1000;
const TOPICS: usize = 10_000;
const DEADLINE: Duration = Duration::from_secs(120);

/// The tests of this file run one at a time: the memory test measures the whole process.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn topic(k: usize) -> String {
    format!("t{k:05}")
}

/// What subscriber `i` subscribes to: ten topics of its own (`k % 1000 == i`), and for one
/// in 25 a prefix matching a hundred topics (`t012` matches `t01200`..`t01299`), some of
/// which it also has exactly (it must get those once, not twice).
fn subscriptions(i: usize) -> Vec<String> {
    let mut subs: Vec<String> = (0..TOPICS / SUBSCRIBERS)
        .map(|j| topic(j * SUBSCRIBERS + i))
        .collect();
    if i.is_multiple_of(25) {
        subs.push(format!("t{:03}", i / 10));
    }
    subs
}

/// Raises this process's descriptor limit to its hard limit: 1,000 tcp subscribers need
/// about 2,000 descriptors (both ends of each connection), above the common soft limit
/// of 1,024.
fn raise_nofile_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read or write the `rlimit` passed, which lives
    // on this stack frame for the duration of each call.
    #[allow(unsafe_code)]
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < limit.rlim_max {
            let wanted = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0 {
                limit = wanted;
            }
        }
    }
    // `rlim_t` is not u64 on every platform.
    #[allow(clippy::unnecessary_cast)]
    let current = limit.rlim_cur as u64;
    current
}

fn scale(transport: &str) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let endpoint = match transport {
        "tcp" => {
            let limit = raise_nofile_limit();
            assert!(
                limit >= 2 * SUBSCRIBERS as u64 + 256,
                "1,000 tcp subscribers need about {} descriptors and RLIMIT_NOFILE allows \
                 {limit} even raised to its hard limit: raise the hard limit (ulimit -Hn)",
                2 * SUBSCRIBERS + 256
            );
            "tcp://127.0.0.1:*".to_owned()
        }
        _ => "inproc://pubsub-scale".to_owned(),
    };
    let ctx = zmq::Context::new();
    let publisher = ctx.socket(zmq::PUB).unwrap();
    publisher.set_linger(0).unwrap();
    // No message may be dropped here: the subscribers are read after everything is sent.
    publisher.set_sndhwm(0).unwrap();
    publisher.bind(&endpoint).unwrap();
    let endpoint = publisher.get_last_endpoint().unwrap().unwrap();

    let subscribers: Vec<zmq::Socket> = (0..SUBSCRIBERS)
        .map(|i| {
            let s = ctx.socket(zmq::SUB).unwrap();
            s.set_linger(0).unwrap();
            s.set_rcvhwm(0).unwrap();
            s.set_rcvtimeo(30_000).unwrap();
            s.connect(&endpoint).unwrap();
            for t in subscriptions(i) {
                s.set_subscribe(t.as_bytes()).unwrap();
            }
            s.set_subscribe(b"end").unwrap();
            // Last: once "sync" arrives, the publisher has every subscription before it.
            s.set_subscribe(b"sync").unwrap();
            s
        })
        .collect();

    // The slow joiners: publish "sync" until every subscriber has seen one.
    let deadline = Instant::now() + DEADLINE;
    let mut synced = vec![false; SUBSCRIBERS];
    let mut left = SUBSCRIBERS;
    while left > 0 {
        assert!(Instant::now() < deadline, "{left} subscribers never synced");
        publisher.send("sync", 0).unwrap();
        thread::sleep(Duration::from_millis(20));
        for (i, s) in subscribers.iter().enumerate() {
            while let Ok(m) = s.recv_bytes(zmq::DONTWAIT) {
                if m == b"sync" && !synced[i] {
                    synced[i] = true;
                    left -= 1;
                }
            }
        }
    }

    for k in 0..TOPICS {
        publisher.send(topic(k).as_str(), zmq::SNDMORE).unwrap();
        publisher.send(format!("body-{k}").as_str(), 0).unwrap();
    }
    publisher.send("end", 0).unwrap();

    let mut delivered = 0;
    for (i, s) in subscribers.iter().enumerate() {
        let subs = subscriptions(i);
        let expected: Vec<String> = (0..TOPICS)
            .map(topic)
            .filter(|t| subs.iter().any(|p| t.starts_with(p.as_str())))
            .collect();
        let mut got = Vec::new();
        loop {
            let parts = s
                .recv_multipart(0)
                .unwrap_or_else(|e| panic!("subscriber {i} after {} messages: {e}", got.len()));
            match parts[0].as_slice() {
                b"end" => break,
                b"sync" => continue,
                t => {
                    let t = String::from_utf8(t.to_vec()).unwrap();
                    let k: usize = t[1..].parse().unwrap();
                    assert_eq!(parts.get(1), Some(&format!("body-{k}").into_bytes()));
                    got.push(t);
                }
            }
        }
        assert_eq!(
            got.len(),
            expected.len(),
            "subscriber {i} ({subs:?}) got {} messages, expected {}",
            got.len(),
            expected.len()
        );
        assert_eq!(
            got, expected,
            "subscriber {i}: exactly its topics, in order"
        );
        delivered += got.len();
    }
    // Every topic reached its owner; the prefixes add 40 x 100 more.
    assert_eq!(
        delivered,
        TOPICS + 40 * 100 - overlap(),
        "{delivered} deliveries"
    );
}

/// Deliveries the prefixes do not add: topics a prefix subscriber also has exactly.
fn overlap() -> usize {
    (0..SUBSCRIBERS)
        .filter(|i| i % 25 == 0)
        .map(|i| {
            let subs = subscriptions(i);
            let prefix = subs.last().unwrap();
            subs[..subs.len() - 1]
                .iter()
                .filter(|t| t.starts_with(prefix.as_str()))
                .count()
        })
        .sum()
}

#[test]
fn one_publisher_a_thousand_subscribers_ten_thousand_topics_inproc() {
    scale("inproc");
}

#[test]
fn one_publisher_a_thousand_subscribers_ten_thousand_topics_tcp() {
    scale("tcp");
}

/// This process's resident memory, from `/proc/self/status`.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .expect("VmRSS")
}

#[test]
fn a_subscriber_that_stops_reading_loses_messages_and_memory_stays_bounded() {
    const SENT: usize = 100_000;
    const SIZE: usize = 4096;
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let ctx = zmq::Context::new();
    let publisher = ctx.socket(zmq::PUB).unwrap();
    publisher.set_linger(0).unwrap();
    publisher.set_sndhwm(100).unwrap();
    publisher.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = publisher.get_last_endpoint().unwrap().unwrap();
    let slow = ctx.socket(zmq::SUB).unwrap();
    slow.set_linger(0).unwrap();
    slow.set_rcvhwm(100).unwrap();
    slow.set_rcvtimeo(200).unwrap();
    slow.connect(&endpoint).unwrap();
    slow.set_subscribe(b"").unwrap();
    let deadline = Instant::now() + DEADLINE;
    loop {
        assert!(Instant::now() < deadline, "the subscription never arrived");
        publisher.send("sync", 0).unwrap();
        if slow.recv_bytes(0).is_ok() {
            break;
        }
    }
    while slow.recv_bytes(zmq::DONTWAIT).is_ok() {}

    let before = resident_bytes();
    let body = vec![b'x'; SIZE - 8];
    let started = Instant::now();
    for i in 0..SENT {
        // Never blocks: a PUB drops at the subscriber's mark.
        publisher
            .send_multipart(
                [format!("{i:08}").into_bytes(), body.clone()],
                zmq::DONTWAIT,
            )
            .unwrap();
    }
    let sending = started.elapsed();
    // Give the I/O thread time to fill every buffer it may fill.
    thread::sleep(Duration::from_millis(500));
    let grown = resident_bytes().saturating_sub(before);
    assert!(
        grown < 64 * 1024 * 1024,
        "memory grew by {} MiB for {} MiB published to a stalled subscriber",
        grown >> 20,
        (SENT * SIZE) >> 20
    );

    let mut received = Vec::new();
    while let Ok(parts) = slow.recv_multipart(0) {
        received.push(String::from_utf8(parts[0].clone()).unwrap());
    }
    assert!(!received.is_empty(), "the subscriber got nothing at all");
    assert!(
        received.len() < SENT / 2,
        "a stalled subscriber received {} of {SENT} (sending took {sending:?})",
        received.len()
    );
    let mut sorted = received.clone();
    sorted.sort();
    assert_eq!(sorted, received, "what was kept arrives in order");
}
