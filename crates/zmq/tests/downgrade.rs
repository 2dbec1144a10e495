//! Older peers: our sockets facing scripted raw peers (`tests/raw/`) that speak ZMTP 3.0,
//! 2.0 and 1.0 (with and without a greeting), byte by byte, as libzmq downgrades to them
//! (libzmq-notes 1.11).
//!
//! - A ZMTP 3.0 or 2.0 publisher gets our subscriptions as `\x01topic`/`\x00topic` data
//!   frames, never as SUBSCRIBE/CANCEL commands (which a ZMTP 3.1 peer gets).
//! - A ZMTP 2.0 peer exchanges messages with every classic socket type of ours, and a
//!   ZMTP 1.0 peer, versioned and unversioned, with ours too.
//! - An unversioned ZMTP 1.0 peer of our PUB or XPUB is subscribed to everything (it sends
//!   no subscriptions), and a versioned one is not.
//! - Our heartbeats go to ZMTP 3.0 peers and never to 2.0 or 1.0 ones.

mod raw;

use std::thread;
use std::time::{Duration, Instant};

use raw::{RawPeer, Wire, WAIT};
use zmq::SocketType;

const TIMEOUT_MS: i32 = 10_000;

fn socket(ctx: &zmq::Context, ty: SocketType) -> zmq::Socket {
    let s = ctx.socket(ty).unwrap();
    s.set_rcvtimeo(TIMEOUT_MS).unwrap();
    s.set_sndtimeo(TIMEOUT_MS).unwrap();
    s.set_linger(0).unwrap();
    s
}

/// Binds `s` on a fresh TCP port; the endpoint to connect to.
fn bind(s: &zmq::Socket) -> String {
    s.bind("tcp://127.0.0.1:*").unwrap();
    s.get_last_endpoint().unwrap().unwrap()
}

/// A raw peer of `wire` connected to `s` (bound here), its handshake done as `peer_type`
/// with `identity`. Returns the peer and what it learnt of our socket type.
fn raw_peer(s: &zmq::Socket, wire: Wire, peer_type: &str, identity: &[u8]) -> (RawPeer, Vec<u8>) {
    let ep = bind(s);
    let mut peer = RawPeer::connect(&ep, wire);
    let ours = peer.handshake(peer_type, identity);
    (peer, ours)
}

fn recv(s: &zmq::Socket) -> Vec<Vec<u8>> {
    s.recv_multipart(0)
        .expect("a message within the receive timeout")
}

/// The next frame `peer` gets from `s`, while `s` is kept busy: a socket takes a new peer
/// (and sends it its subscriptions) when the application calls into it, as in libzmq.
fn next_frame_from(s: &zmq::Socket, peer: &mut RawPeer) -> raw::RawFrame {
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "nothing came in {WAIT:?}");
        s.get_events().unwrap();
        if let Some(frame) = peer.recv_frame_until(Instant::now() + Duration::from_millis(20)) {
            return frame;
        }
    }
}

/// Publishes `prefix-N` on `publisher` until `peer` receives one; returns what it got.
fn publish_until_received(publisher: &zmq::Socket, peer: &mut RawPeer, prefix: &str) -> Vec<u8> {
    let deadline = Instant::now() + WAIT;
    for n in 0.. {
        assert!(
            Instant::now() < deadline,
            "{prefix}: nothing reached the peer"
        );
        publisher
            .send(format!("{prefix}-{n}").as_bytes(), 0)
            .unwrap();
        if let Some(frame) = peer.recv_frame_until(Instant::now() + Duration::from_millis(50)) {
            return frame.body;
        }
    }
    unreachable!()
}

#[test]
fn older_publishers_get_subscriptions_as_data_frames() {
    for wire in [Wire::V30, Wire::V2, Wire::V31] {
        let ctx = zmq::Context::new();
        let sub = socket(&ctx, SocketType::SUB);
        let (mut publisher, ours) = raw_peer(&sub, wire, "PUB", b"");
        match wire {
            Wire::V2 => assert_eq!(ours, vec![2], "we announce SUB (2)"),
            _ => assert_eq!(ours, b"SUB"),
        }
        sub.set_subscribe(b"topic").unwrap();
        let frame = next_frame_from(&sub, &mut publisher);
        if wire == Wire::V31 {
            assert_eq!(frame.command(), Some((&b"SUBSCRIBE"[..], &b"topic"[..])));
        } else {
            assert!(!frame.command && !frame.more, "{wire:?}: {frame:?}");
            assert_eq!(frame.body, b"\x01topic", "{wire:?}");
        }
        publisher.send_msg(&[b"other", b"dropped"]);
        publisher.send_msg(&[b"topic-1", b"body"]);
        assert_eq!(recv(&sub), vec![b"topic-1".to_vec(), b"body".to_vec()]);

        sub.set_unsubscribe(b"topic").unwrap();
        let frame = publisher.recv_frame().expect("our cancel");
        if wire == Wire::V31 {
            assert_eq!(frame.command(), Some((&b"CANCEL"[..], &b"topic"[..])));
        } else {
            assert!(!frame.command, "{wire:?}: {frame:?}");
            assert_eq!(frame.body, b"\x00topic", "{wire:?}");
        }
    }
}

/// One exchange between a socket of ours and a raw peer: what each sends and must get.
fn exchange(ctx: &zmq::Context, wire: Wire, ours: SocketType, theirs: &str) {
    let what = format!("our {ours:?} and a {wire:?} {theirs}");
    let s = socket(ctx, ours);
    let (mut peer, announced) = raw_peer(&s, wire, theirs, b"raw-peer");
    if matches!(wire, Wire::V1 | Wire::V2) {
        assert_eq!(
            announced,
            vec![raw::type_byte(&format!("{ours:?}"))],
            "{what}: our type byte"
        );
    }
    match ours {
        SocketType::PUB => {
            peer.send_msg(&[b"\x01"]);
            let got = publish_until_received(&s, &mut peer, "news");
            assert!(got.starts_with(b"news-"), "{what}: {got:?}");
        }
        SocketType::SUB => {
            s.set_subscribe(b"").unwrap();
            let frame = next_frame_from(&s, &mut peer);
            assert_eq!(frame.body, b"\x01", "{what}");
            peer.send_msg(&[b"news", b"more"]);
            assert_eq!(recv(&s), vec![b"news".to_vec(), b"more".to_vec()], "{what}");
        }
        SocketType::DEALER | SocketType::PAIR => {
            s.send_multipart([&b"to"[..], b"peer"], 0).unwrap();
            assert_eq!(
                peer.recv_msg(),
                vec![b"to".to_vec(), b"peer".to_vec()],
                "{what}"
            );
            peer.send_msg(&[b"to", b"us"]);
            assert_eq!(recv(&s), vec![b"to".to_vec(), b"us".to_vec()], "{what}");
        }
        SocketType::ROUTER => {
            // The peer's identity frame is its routing id.
            peer.send_msg(&[b"hello"]);
            assert_eq!(
                recv(&s),
                vec![b"raw-peer".to_vec(), b"hello".to_vec()],
                "{what}"
            );
            s.send_multipart([&b"raw-peer"[..], b"world"], 0).unwrap();
            assert_eq!(peer.recv_msg(), vec![b"world".to_vec()], "{what}");
        }
        SocketType::REQ => {
            s.send(&b"question"[..], 0).unwrap();
            assert_eq!(
                peer.recv_msg(),
                vec![b"".to_vec(), b"question".to_vec()],
                "{what}"
            );
            peer.send_msg(&[b"", b"answer"]);
            assert_eq!(recv(&s), vec![b"answer".to_vec()], "{what}");
        }
        SocketType::REP => {
            peer.send_msg(&[b"", b"question"]);
            assert_eq!(recv(&s), vec![b"question".to_vec()], "{what}");
            s.send(&b"answer"[..], 0).unwrap();
            assert_eq!(
                peer.recv_msg(),
                vec![b"".to_vec(), b"answer".to_vec()],
                "{what}"
            );
        }
        SocketType::PUSH => {
            s.send_multipart([&b"work"[..], b"item"], 0).unwrap();
            assert_eq!(
                peer.recv_msg(),
                vec![b"work".to_vec(), b"item".to_vec()],
                "{what}"
            );
        }
        SocketType::PULL => {
            peer.send_msg(&[b"work", b"item"]);
            assert_eq!(recv(&s), vec![b"work".to_vec(), b"item".to_vec()], "{what}");
        }
        other => panic!("no exchange for {other:?}"),
    }
}

const PAIRS: [(SocketType, &str); 9] = [
    (SocketType::PUB, "SUB"),
    (SocketType::SUB, "PUB"),
    (SocketType::DEALER, "ROUTER"),
    (SocketType::ROUTER, "DEALER"),
    (SocketType::REQ, "REP"),
    (SocketType::REP, "REQ"),
    (SocketType::PUSH, "PULL"),
    (SocketType::PULL, "PUSH"),
    (SocketType::PAIR, "PAIR"),
];

#[test]
fn zmtp_2_0_peers_exchange_messages_with_every_socket_type() {
    let ctx = zmq::Context::new();
    for (ours, theirs) in PAIRS {
        exchange(&ctx, Wire::V2, ours, theirs);
    }
}

#[test]
fn zmtp_1_0_peers_exchange_messages_versioned_and_unversioned() {
    let ctx = zmq::Context::new();
    for (ours, theirs) in PAIRS {
        exchange(&ctx, Wire::V1, ours, theirs);
        // An unversioned peer announces no type: only the exchanges that need none.
        if ours != SocketType::PUB {
            exchange(&ctx, Wire::V1Unversioned, ours, theirs);
        }
    }
}

#[test]
fn an_unversioned_zmtp_1_0_peer_of_a_publisher_gets_everything() {
    let ctx = zmq::Context::new();
    let publisher = socket(&ctx, SocketType::PUB);
    let (mut peer, _) = raw_peer(&publisher, Wire::V1Unversioned, "SUB", b"");
    // It never subscribes, yet gets every topic.
    for prefix in ["news", "sport", ""] {
        let got = publish_until_received(&publisher, &mut peer, prefix);
        assert!(got.starts_with(format!("{prefix}-").as_bytes()), "{got:?}");
    }

    // An XPUB sees the subscription the peer never sent, as libzmq's does.
    let xpub = socket(&ctx, SocketType::XPUB);
    let (_peer, _) = raw_peer(&xpub, Wire::V1Unversioned, "SUB", b"");
    assert_eq!(recv(&xpub), vec![b"\x01".to_vec()]);
}

#[test]
fn a_versioned_zmtp_1_0_peer_of_a_publisher_gets_only_what_it_subscribes_to() {
    let ctx = zmq::Context::new();
    let publisher = socket(&ctx, SocketType::PUB);
    let (mut peer, _) = raw_peer(&publisher, Wire::V1, "SUB", b"");
    peer.send_msg(&[b"\x01only"]);
    // "other" goes out before each "only-N": with a subscription to everything, it would
    // arrive first.
    let deadline = Instant::now() + WAIT;
    let first = loop {
        assert!(Instant::now() < deadline, "nothing reached the peer");
        publisher.send(&b"other"[..], 0).unwrap();
        publisher.send(&b"only-x"[..], 0).unwrap();
        if let Some(frame) = peer.recv_frame_until(Instant::now() + Duration::from_millis(50)) {
            break frame.body;
        }
    };
    assert_eq!(first, b"only-x");
    publisher.send(&b"other"[..], 0).unwrap();
    publisher.send(&b"only-last"[..], 0).unwrap();
    // Drop the rest of the "only-x" sent while waiting.
    loop {
        let frame = peer.recv_frame().expect("only-last");
        assert_ne!(frame.body, b"other");
        if frame.body == b"only-last" {
            break;
        }
    }
}

#[test]
fn heartbeats_go_to_zmtp_3_peers_and_not_to_older_ones() {
    const IVL_MS: i32 = 100;
    let ctx = zmq::Context::new();
    for wire in [
        Wire::V30,
        Wire::V31,
        Wire::V2,
        Wire::V1,
        Wire::V1Unversioned,
    ] {
        let dealer = socket(&ctx, SocketType::DEALER);
        dealer.set_heartbeat_ivl(IVL_MS).unwrap();
        let (mut peer, _) = raw_peer(&dealer, wire, "DEALER", b"");
        if matches!(wire, Wire::V30 | Wire::V31) {
            let frame = peer.recv_frame().expect("a PING");
            let (ttl, context) = frame
                .ping()
                .unwrap_or_else(|| panic!("{wire:?}: {frame:?}"));
            assert_eq!((ttl, context), (0, Vec::new()), "{wire:?}");
        } else {
            // Ten intervals of silence; the connection stays up.
            let quiet = Instant::now() + Duration::from_millis(10 * IVL_MS as u64);
            assert_eq!(peer.recv_frame_until(quiet), None, "{wire:?}: no PING");
            peer.send_msg(&[b"still", b"there"]);
            assert_eq!(recv(&dealer), vec![b"still".to_vec(), b"there".to_vec()]);
            dealer.send(&b"back"[..], 0).unwrap();
            assert_eq!(peer.recv_msg(), vec![b"back".to_vec()], "{wire:?}");
        }
        drop(peer);
        thread::sleep(Duration::from_millis(10));
    }
}
