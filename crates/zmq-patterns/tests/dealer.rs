//! DEALER (RFC 28), after libzmq's `test_spec_dealer.cpp` and `test_probe_router.cpp`.

mod common;

use common::{again, msg, Harness};
use zmq_patterns::{Frame, PatternError, PatternOption, SocketType};

#[test]
fn dealer_round_robin_out() {
    let mut h = Harness::new(SocketType::Dealer);
    let peers: Vec<_> = (0..5).map(|_| h.attach()).collect();
    for i in 0..10 {
        h.send(&["", &i.to_string()]).unwrap();
    }
    for (n, &p) in peers.iter().enumerate() {
        let got = h.take_all(p);
        assert_eq!(
            got,
            [msg(&["", &n.to_string()]), msg(&["", &(n + 5).to_string()])]
        );
    }
}

#[test]
fn dealer_fair_queues_in() {
    let mut h = Harness::new(SocketType::Dealer);
    let a = h.attach();
    let b = h.attach();
    h.deliver(a, &["A1"]);
    h.deliver(a, &["A2"]);
    h.deliver(b, &["B1", "x"]);
    h.deliver(b, &["B2"]);
    assert_eq!(h.recv().unwrap(), msg(&["A1"]));
    assert_eq!(h.recv().unwrap(), msg(&["B1", "x"]));
    assert_eq!(h.recv().unwrap(), msg(&["A2"]));
    assert_eq!(h.recv().unwrap(), msg(&["B2"]));
    assert_eq!(h.recv(), again());
}

#[test]
fn dealer_blocks_on_send_with_no_peers() {
    let mut h = Harness::new(SocketType::Dealer);
    assert!(!h.has_out());
    assert_eq!(
        h.send(&["x", "y"]),
        Err(PatternError::Again(Some(Frame::more("x"))))
    );
}

#[test]
fn dealer_blocks_at_hwm_and_never_drops() {
    let mut h = Harness::new(SocketType::Dealer);
    let a = h.attach_with(b"", 1);
    h.send(&["1"]).unwrap();
    assert_eq!(
        h.send(&["2"]),
        Err(PatternError::Again(Some(Frame::last("2"))))
    );
    assert_eq!(h.take(a), Some(msg(&["1"])));
    h.send(&["2"]).unwrap();
    assert_eq!(h.take(a), Some(msg(&["2"])));
}

#[test]
fn dealer_queue_is_destroyed_on_disconnect() {
    let mut h = Harness::new(SocketType::Dealer);
    let a = h.attach();
    let b = h.attach();
    h.send(&["to a"]).unwrap();
    h.send(&["to b"]).unwrap();
    h.deliver(b, &["from b"]);
    h.detach(b);
    // What was queued for and from b is gone with its queues; a gets everything now.
    h.send(&["next"]).unwrap();
    h.send(&["next2"]).unwrap();
    assert_eq!(
        h.take_all(a),
        [msg(&["to a"]), msg(&["next"]), msg(&["next2"])]
    );
    assert_eq!(h.recv(), again());
}

#[test]
fn dealer_probe_router_sends_an_empty_message_on_attach() {
    let mut h = Harness::with_options(SocketType::Dealer, &[PatternOption::ProbeRouter(true)]);
    let a = h.attach();
    assert_eq!(h.take(a), Some(msg(&[""])));
    h.send(&["hello"]).unwrap();
    assert_eq!(h.take(a), Some(msg(&["hello"])));
}

#[test]
fn dealer_without_probe_sends_nothing_on_attach() {
    let mut h = Harness::new(SocketType::Dealer);
    let a = h.attach();
    assert_eq!(h.take(a), None);
}

#[test]
fn dealer_options() {
    let mut h = Harness::new(SocketType::Dealer);
    assert_eq!(
        h.pattern.set_option(PatternOption::ProbeRouter(false)),
        Ok(())
    );
    for o in [
        PatternOption::RouterMandatory(true),
        PatternOption::RouterHandover(true),
        PatternOption::ReqCorrelate(true),
        PatternOption::ReqRelaxed(true),
    ] {
        assert_eq!(
            h.pattern.set_option(o.clone()),
            Err(PatternError::Invalid),
            "{o:?}"
        );
    }
}
