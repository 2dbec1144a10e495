//! Send pacing (`ARCHITECTURE.md`, "Send pacing"): a blocking send of large messages
//! waits while its pipe holds 2 MiB or more not yet taken by the reader. It must change
//! nothing that libzmq's sockets promise: what the high-water mark admits (with or without
//! `DONTWAIT`), the order and content of what arrives, the load balancing, and a sender
//! whose peer reads nothing must not wait at every message.
//!
//! Every wait has a deadline; the one bound on time is many times what it checks.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::{bind, socket};

/// A message of `len` bytes that says which it is: its index at the start, then a
/// pattern that depends on it.
fn stamped(index: u32, len: usize) -> Vec<u8> {
    let mut body: Vec<u8> = (0..len)
        .map(|i| (i as u32).wrapping_mul(31).wrapping_add(index) as u8)
        .collect();
    body[..4].copy_from_slice(&index.to_le_bytes());
    body
}

#[test]
fn a_paced_stream_arrives_whole_and_in_order() {
    const COUNT: u32 = 300;
    const LEN: usize = 200 * 1024;
    for transport in ["tcp", "ipc", "inproc"] {
        let ctx = zmq::Context::new();
        let pull = socket(&ctx, zmq::PULL);
        let ep = bind(&pull, transport);
        let push = socket(&ctx, zmq::PUSH);
        push.connect(&ep).unwrap();
        let sender = thread::spawn(move || {
            for i in 0..COUNT {
                push.send(stamped(i, LEN), 0).unwrap();
            }
            push
        });
        for i in 0..COUNT {
            let got = pull.recv_bytes(0).unwrap();
            assert!(got == stamped(i, LEN), "{transport}: message {i}");
        }
        drop(sender.join().unwrap());
    }
}

#[test]
fn paced_multipart_messages_keep_their_frames_together() {
    const COUNT: u32 = 60;
    let ctx = zmq::Context::new();
    let router = socket(&ctx, zmq::ROUTER);
    let ep = bind(&router, "tcp");
    let dealer = socket(&ctx, zmq::DEALER);
    dealer.connect(&ep).unwrap();
    let sender = thread::spawn(move || {
        for i in 0..COUNT {
            dealer
                .send_multipart(
                    [
                        stamped(i, 300 * 1024),
                        stamped(i, 5),
                        stamped(i, 700 * 1024),
                    ],
                    0,
                )
                .unwrap();
        }
        dealer
    });
    for i in 0..COUNT {
        let frames = router.recv_multipart(0).unwrap();
        assert_eq!(frames.len(), 4, "routing id and three frames");
        assert!(frames[1] == stamped(i, 300 * 1024), "message {i}, frame 1");
        assert!(frames[2] == stamped(i, 5), "message {i}, frame 2");
        assert!(frames[3] == stamped(i, 700 * 1024), "message {i}, frame 3");
    }
    drop(sender.join().unwrap());
}

#[test]
fn a_paced_push_still_deals_round_robin() {
    const COUNT: usize = 200;
    let ctx = zmq::Context::new();
    let push = socket(&ctx, zmq::PUSH);
    // Connected to both (a connect makes its pipe at once), so that both are dealt to
    // from the first message.
    let pulls: Vec<zmq::Socket> = (0..2)
        .map(|_| {
            let pull = socket(&ctx, zmq::PULL);
            push.connect(&bind(&pull, "tcp")).unwrap();
            pull
        })
        .collect();
    let readers: Vec<_> = pulls
        .into_iter()
        .map(|pull| {
            thread::spawn(move || {
                let mut n = 0;
                while let Ok(msg) = pull.recv_bytes(0) {
                    if msg.is_empty() {
                        break;
                    }
                    n += 1;
                }
                n
            })
        })
        .collect();
    for i in 0..COUNT {
        push.send(stamped(i as u32, 256 * 1024), 0).unwrap();
    }
    // One end marker each (round robin gives one to each).
    push.send(&b""[..], 0).unwrap();
    push.send(&b""[..], 0).unwrap();
    let counts: Vec<usize> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(counts, vec![COUNT / 2, COUNT / 2]);
}

#[test]
fn a_sender_whose_peer_reads_nothing_waits_once_not_at_every_message() {
    // 200 messages of 64 KiB into an inproc pipe nobody reads (its marks admit 2,000):
    // the first send past 2 MiB waits for the pace to run out (5 ms), then pacing is off
    // until the reader catches up. Waiting at every message would take a second.
    let ctx = zmq::Context::new();
    let pull = socket(&ctx, zmq::PULL);
    let ep = bind(&pull, "inproc");
    let push = socket(&ctx, zmq::PUSH);
    push.connect(&ep).unwrap();
    let body = vec![1u8; 64 * 1024];
    let start = Instant::now();
    for _ in 0..200 {
        push.send(&body[..], 0).unwrap();
    }
    let took = start.elapsed();
    assert!(took < Duration::from_millis(600), "200 sends took {took:?}");
    // Everything is there, in full.
    for _ in 0..200 {
        assert_eq!(pull.recv_bytes(0).unwrap().len(), body.len());
    }
}

#[test]
fn pacing_leaves_what_the_high_water_mark_admits_unchanged() {
    // Without DONTWAIT and with it, an inproc pipe admits the sum of both marks, however
    // large the messages, and then says EAGAIN (a blocking send times out).
    for dontwait in [false, true] {
        let ctx = zmq::Context::new();
        let pull = socket(&ctx, zmq::PULL);
        pull.set_rcvhwm(10).unwrap();
        let ep = bind(&pull, "inproc");
        let push = socket(&ctx, zmq::PUSH);
        push.set_sndhwm(10).unwrap();
        push.set_sndtimeo(200).unwrap();
        push.connect(&ep).unwrap();
        let body = vec![2u8; 1024 * 1024];
        let flags = if dontwait { zmq::DONTWAIT } else { 0 };
        let mut sent = 0;
        while push.send(&body[..], flags).is_ok() {
            sent += 1;
            assert!(sent <= 20, "more than the marks admit");
        }
        assert_eq!(sent, 20, "dontwait: {dontwait}");
    }
}
