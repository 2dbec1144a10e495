//! PAIR (RFC 31), after libzmq's `test_pair_*.cpp` and the RFC's rules.

mod common;

use bytes::Bytes;
use common::{again, msg, Harness};
use zmq_patterns::{Attach, Frame, PatternError, PatternOption, SocketType};

#[test]
fn pair_talks_to_one_peer_and_refuses_a_second() {
    let mut h = Harness::new(SocketType::Pair);
    let a = h.attach();
    let (_, second) = h.try_attach(b"", 0);
    assert_eq!(second, Attach::Refused);
    h.send(&["hello", "there"]).unwrap();
    assert_eq!(h.take(a), Some(msg(&["hello", "there"])));
    h.deliver(a, &["back"]);
    assert_eq!(h.recv().unwrap(), msg(&["back"]));
    assert_eq!(h.recv(), again());
}

#[test]
fn pair_blocks_with_no_peer() {
    let mut h = Harness::new(SocketType::Pair);
    assert!(!h.has_out());
    assert!(!h.has_in());
    assert_eq!(
        h.send(&["x"]),
        Err(PatternError::Again(Some(Frame::last("x"))))
    );
    assert_eq!(h.recv(), again());
}

#[test]
fn pair_blocks_at_hwm_and_never_drops() {
    let mut h = Harness::new(SocketType::Pair);
    let a = h.attach_with(b"", 2);
    h.send(&["1", "1b"]).unwrap();
    h.send(&["2"]).unwrap();
    assert!(!h.has_out());
    assert_eq!(
        h.send(&["3"]),
        Err(PatternError::Again(Some(Frame::last("3"))))
    );
    assert_eq!(h.take(a), Some(msg(&["1", "1b"])));
    assert!(h.has_out());
    h.send(&["3"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["2"]), msg(&["3"])]);
}

#[test]
fn pair_takes_a_new_peer_after_the_first_left() {
    let mut h = Harness::new(SocketType::Pair);
    let a = h.attach();
    h.detach(a);
    let b = h.attach();
    h.send(&["x"]).unwrap();
    assert_eq!(h.take(b), Some(msg(&["x"])));
}

#[test]
fn pair_drops_the_rest_of_a_message_when_its_peer_leaves_half_way() {
    let mut h = Harness::new(SocketType::Pair);
    let a = h.attach();
    h.send_frame(Bytes::from_static(b"1"), true).unwrap();
    h.detach(a);
    let b = h.attach();
    // The rest of the broken message is dropped, not sent to the new peer.
    h.send_frame(Bytes::from_static(b"2"), true).unwrap();
    h.send_frame(Bytes::from_static(b"3"), false).unwrap();
    h.send(&["4"]).unwrap();
    assert_eq!(h.take_all(b), [msg(&["4"])]);
}

#[test]
fn pair_finishes_an_inbound_message_after_its_peer_left() {
    let mut h = Harness::new(SocketType::Pair);
    let a = h.attach();
    h.deliver(a, &["1", "2"]);
    assert_eq!(h.recv_frame().unwrap(), Frame::more("1"));
    h.detach(a);
    assert_eq!(h.recv_frame().unwrap(), Frame::last("2"));
    assert!(!h.has_in());
}

#[test]
fn pair_has_no_pattern_options() {
    let mut h = Harness::new(SocketType::Pair);
    assert_eq!(
        h.pattern.set_option(PatternOption::ProbeRouter(true)),
        Err(PatternError::Invalid)
    );
}
