//! PUSH and PULL (RFC 30), after libzmq's `test_spec_pushpull.cpp`.

mod common;

use bytes::Bytes;
use common::{again, msg, Harness};
use zmq_patterns::{Frame, PatternError, PatternOption, SocketType};

#[test]
fn push_round_robin_out() {
    let mut h = Harness::new(SocketType::Push);
    let peers: Vec<_> = (0..5).map(|_| h.attach()).collect();
    for i in 0..10 {
        h.send(&[&format!("m{i}")]).unwrap();
    }
    for (n, &p) in peers.iter().enumerate() {
        assert_eq!(
            h.take_all(p),
            [msg(&[&format!("m{n}")]), msg(&[&format!("m{}", n + 5)])]
        );
    }
}

#[test]
fn push_multipart_messages_go_whole_to_one_peer() {
    let mut h = Harness::new(SocketType::Push);
    let a = h.attach();
    let b = h.attach();
    h.send(&["1", "2", "3"]).unwrap();
    h.send(&["4", "5"]).unwrap();
    h.send(&["6"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["1", "2", "3"]), msg(&["6"])]);
    assert_eq!(h.take_all(b), [msg(&["4", "5"])]);
}

#[test]
fn push_blocks_on_send_with_no_peers() {
    let mut h = Harness::new(SocketType::Push);
    assert!(!h.has_out());
    let frame = Frame::more("hello");
    assert_eq!(
        h.pattern.send(frame.clone(), &mut h.peers),
        Err(PatternError::Again(Some(frame)))
    );
    // The frame can be retried once a peer is there.
    let p = h.attach();
    assert!(h.has_out());
    h.send(&["hello", "world"]).unwrap();
    assert_eq!(h.take(p), Some(msg(&["hello", "world"])));
}

#[test]
fn push_skips_full_peers_and_blocks_when_all_are_full() {
    let mut h = Harness::new(SocketType::Push);
    let a = h.attach_with(b"", 1);
    let b = h.attach_with(b"", 2);
    h.send(&["1"]).unwrap(); // a (now full)
    h.send(&["2"]).unwrap(); // b
    h.send(&["3"]).unwrap(); // a is full: b (now full)
    assert_eq!(
        h.send(&["4"]),
        Err(PatternError::Again(Some(Frame::last("4"))))
    );
    assert!(!h.has_out());
    // a makes room: write_activated brings it back.
    assert_eq!(h.take(a), Some(msg(&["1"])));
    assert!(h.has_out());
    h.send(&["4"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["4"])]);
    assert_eq!(h.take_all(b), [msg(&["2"]), msg(&["3"])]);
}

#[test]
fn push_drops_the_rest_of_a_message_whose_peer_went_away() {
    let mut h = Harness::new(SocketType::Push);
    let a = h.attach();
    let b = h.attach();
    h.send_frame(Bytes::from_static(b"1"), true).unwrap(); // to a
    h.detach(a);
    h.send_frame(Bytes::from_static(b"2"), true).unwrap(); // dropped
    h.send_frame(Bytes::from_static(b"3"), false).unwrap(); // dropped
    h.send(&["4", "5"]).unwrap();
    assert_eq!(h.take_all(b), [msg(&["4", "5"])]);
}

#[test]
fn push_queue_is_destroyed_on_disconnect() {
    // The queue belongs to the runtime; after a detach the pattern never writes to it, and
    // round-robin goes on over the remaining peers.
    let mut h = Harness::new(SocketType::Push);
    let a = h.attach();
    let b = h.attach();
    let c = h.attach();
    for i in 0..3 {
        h.send(&[&i.to_string()]).unwrap();
    }
    h.detach(b);
    for i in 3..7 {
        h.send(&[&i.to_string()]).unwrap();
    }
    assert_eq!(
        h.take_all(a),
        [msg(&["0"]), msg(&["3"]), msg(&["5"])],
        "a, c, a, c after b left"
    );
    assert_eq!(h.take_all(c), [msg(&["2"]), msg(&["4"]), msg(&["6"])]);
}

#[test]
fn push_cannot_receive_and_has_no_options() {
    let mut h = Harness::new(SocketType::Push);
    h.attach();
    assert_eq!(h.recv_frame(), Err(PatternError::NotSupported));
    assert!(!h.has_in());
    for o in [
        PatternOption::ProbeRouter(true),
        PatternOption::RouterMandatory(true),
        PatternOption::ReqRelaxed(false),
    ] {
        assert_eq!(h.pattern.set_option(o.clone()), Err(PatternError::Invalid));
    }
}

#[test]
fn pull_fair_queues_in() {
    let mut h = Harness::new(SocketType::Pull);
    let peers: Vec<_> = (0..3).map(|_| h.attach()).collect();
    for &p in &peers {
        for i in 0..2 {
            h.deliver(p, &[&format!("{p}-{i}")]);
        }
    }
    let got: Vec<_> = (0..6).map(|_| h.recv().unwrap()).collect();
    let want: Vec<_> = [(1, 0), (2, 0), (3, 0), (1, 1), (2, 1), (3, 1)]
        .iter()
        .map(|(p, i)| msg(&[&format!("{p}-{i}")]))
        .collect();
    assert_eq!(got, want);
    assert_eq!(h.recv(), again());
}

#[test]
fn pull_never_interleaves_multipart_messages() {
    let mut h = Harness::new(SocketType::Pull);
    let a = h.attach();
    let b = h.attach();
    h.deliver(a, &["a1", "a2", "a3"]);
    h.deliver(b, &["b1", "b2"]);
    h.deliver(a, &["a4"]);
    assert_eq!(h.recv().unwrap(), msg(&["a1", "a2", "a3"]));
    assert_eq!(h.recv().unwrap(), msg(&["b1", "b2"]));
    assert_eq!(h.recv().unwrap(), msg(&["a4"]));
}

#[test]
fn pull_leaves_a_peer_found_empty_until_read_activated() {
    let mut h = Harness::new(SocketType::Pull);
    h.auto_activate = false;
    let a = h.attach();
    let b = h.attach();
    assert_eq!(h.recv(), again());
    let reads = h.peers.q(a).reads;
    h.deliver(b, &["x"]);
    assert_eq!(h.recv(), again(), "b is inactive until read_activated");
    assert_eq!(h.peers.q(a).reads, reads, "an inactive peer is not polled");
    h.pattern.read_activated(b);
    assert_eq!(h.recv().unwrap(), msg(&["x"]));
}

#[test]
fn pull_finishes_a_message_whose_peer_was_detached_half_way() {
    let mut h = Harness::new(SocketType::Pull);
    let a = h.attach();
    h.deliver(a, &["1", "2", "3"]);
    h.deliver(a, &["4"]);
    let first = h.recv_frame().unwrap();
    assert_eq!(first, Frame::more("1"));
    h.detach(a);
    assert_eq!(h.recv_frame().unwrap(), Frame::more("2"));
    assert_eq!(h.recv_frame().unwrap(), Frame::last("3"));
    // The messages still queued died with the peer's queue.
    assert_eq!(h.recv(), again());
}

#[test]
fn pull_has_in_prefetches_and_cannot_send() {
    let mut h = Harness::new(SocketType::Pull);
    let a = h.attach();
    assert!(!h.has_in());
    h.deliver(a, &["x", "y"]);
    assert!(h.has_in());
    h.detach(a);
    assert!(h.has_in(), "a prefetched message survives its peer");
    assert_eq!(h.recv().unwrap(), msg(&["x", "y"]));
    assert!(!h.has_out());
    assert_eq!(
        h.pattern.send(Frame::last("x"), &mut h.peers),
        Err(PatternError::NotSupported)
    );
}
