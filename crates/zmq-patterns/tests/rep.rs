//! REP (RFC 28), after libzmq's `test_spec_rep.cpp`.

mod common;

use common::{again, msg, Harness};
use zmq_patterns::{Frame, PatternError, PatternOption, SocketType};

#[test]
fn rep_fair_queues_requests_and_replies_to_each_requester() {
    let mut h = Harness::new(SocketType::Rep);
    let peers: Vec<_> = (0..3).map(|_| h.attach()).collect();
    for &p in &peers {
        h.deliver(p, &["", &format!("{p}-a")]);
        h.deliver(p, &["", &format!("{p}-b")]);
    }
    let mut order = Vec::new();
    for _ in 0..6 {
        let req = h.recv().unwrap();
        assert_eq!(req.len(), 1);
        let body = String::from_utf8(req[0].to_vec()).unwrap();
        h.send(&[&format!("re {body}")]).unwrap();
        order.push(body);
    }
    assert_eq!(order, ["1-a", "2-a", "3-a", "1-b", "2-b", "3-b"]);
    for &p in &peers {
        assert_eq!(
            h.take_all(p),
            [
                msg(&["", &format!("re {p}-a")]),
                msg(&["", &format!("re {p}-b")])
            ]
        );
    }
}

#[test]
fn rep_keeps_the_envelope_and_restores_it_on_the_reply() {
    // test_spec_rep's envelope test: a DEALER sends a routed request to the REP.
    let mut h = Harness::new(SocketType::Rep);
    let dealer = h.attach();
    h.deliver(dealer, &["X", "Y", "", "BODY", "MORE"]);
    assert_eq!(h.recv().unwrap(), msg(&["BODY", "MORE"]));
    h.send(&["REPLY", "TOO"]).unwrap();
    assert_eq!(h.take(dealer), Some(msg(&["X", "Y", "", "REPLY", "TOO"])));
}

#[test]
fn rep_envelope_ends_at_the_first_empty_frame() {
    let mut h = Harness::new(SocketType::Rep);
    let p = h.attach();
    h.deliver(p, &["id", "", "", "body"]);
    assert_eq!(h.recv().unwrap(), msg(&["", "body"]));
    h.send(&["r"]).unwrap();
    assert_eq!(h.take(p), Some(msg(&["id", "", "r"])));
}

#[test]
fn rep_drops_malformed_requests() {
    let mut h = Harness::new(SocketType::Rep);
    let p = h.attach();
    h.deliver(p, &["no delimiter"]);
    h.deliver(p, &["a", "b"]);
    h.deliver(p, &["x", ""]); // an empty last frame is not a delimiter
    h.deliver(p, &[""]);
    h.deliver(p, &["", "good"]);
    assert!(h.has_in());
    assert_eq!(h.recv().unwrap(), msg(&["good"]));
    assert_eq!(h.recv(), Err(PatternError::Fsm));
}

#[test]
fn rep_must_receive_before_sending() {
    let mut h = Harness::new(SocketType::Rep);
    let p = h.attach();
    assert!(!h.has_out());
    assert_eq!(h.send(&["r"]), Err(PatternError::Fsm));
    assert_eq!(h.recv(), again());
    h.deliver(p, &["", "q1", "q2"]);
    h.deliver(p, &["", "next"]);
    assert_eq!(h.recv_frame().unwrap(), Frame::more("q1"));
    // Half-way through the request: no reply yet.
    assert_eq!(h.send(&["r"]), Err(PatternError::Fsm));
    assert!(!h.has_out());
    assert!(h.has_in());
    assert_eq!(h.recv_frame().unwrap(), Frame::last("q2"));
    // Now the reply, and no receiving until it is sent.
    assert!(h.has_out());
    assert!(!h.has_in());
    assert_eq!(h.recv(), Err(PatternError::Fsm));
    h.send(&["r1", "r2"]).unwrap();
    assert!(!h.has_out());
    assert_eq!(h.recv().unwrap(), msg(&["next"]));
    h.send(&["r3"]).unwrap();
    assert_eq!(h.take_all(p), [msg(&["", "r1", "r2"]), msg(&["", "r3"])]);
}

#[test]
fn rep_drops_the_reply_when_the_requester_is_gone() {
    let mut h = Harness::new(SocketType::Rep);
    let a = h.attach();
    let b = h.attach();
    h.deliver(a, &["", "from a"]);
    h.deliver(b, &["", "from b"]);
    assert_eq!(h.recv().unwrap(), msg(&["from a"]));
    h.detach(a);
    h.send(&["lost", "reply"]).unwrap();
    assert_eq!(h.recv().unwrap(), msg(&["from b"]));
    h.send(&["to b"]).unwrap();
    assert_eq!(h.take_all(b), [msg(&["", "to b"])]);
}

#[test]
fn rep_drops_the_rest_of_a_reply_when_the_requester_leaves_half_way() {
    let mut h = Harness::new(SocketType::Rep);
    let a = h.attach();
    h.deliver(a, &["", "q"]);
    h.recv().unwrap();
    h.send_frame("r1".into(), true).unwrap();
    h.detach(a);
    h.send_frame("r2".into(), false).unwrap();
    let b = h.attach();
    h.deliver(b, &["", "q2"]);
    assert_eq!(h.recv().unwrap(), msg(&["q2"]));
}

#[test]
fn rep_drops_the_reply_when_the_requester_is_full() {
    let mut h = Harness::new(SocketType::Rep);
    let a = h.attach_with(b"", 1);
    h.deliver(a, &["", "q1"]);
    h.deliver(a, &["", "q2"]);
    h.recv().unwrap();
    h.send(&["r1"]).unwrap();
    h.recv().unwrap();
    // a has not taken r1: its queue is full, so r2 is dropped (REP never blocks).
    h.send(&["r2"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["", "r1"])]);
}

#[test]
fn rep_finishes_a_request_whose_peer_left() {
    let mut h = Harness::new(SocketType::Rep);
    let a = h.attach();
    h.deliver(a, &["", "x", "y"]);
    assert!(h.has_in());
    h.detach(a);
    assert_eq!(h.recv().unwrap(), msg(&["x", "y"]));
    h.send(&["dropped"]).unwrap();
    assert!(!h.has_in());
}

#[test]
fn rep_options_follow_libzmq() {
    // libzmq's REP is a ROUTER underneath and takes the ROUTER options.
    let mut h = Harness::new(SocketType::Rep);
    for o in [
        PatternOption::RouterMandatory(true),
        PatternOption::RouterHandover(true),
        PatternOption::ProbeRouter(true),
    ] {
        assert_eq!(h.pattern.set_option(o.clone()), Ok(()), "{o:?}");
    }
    for o in [
        PatternOption::ReqCorrelate(true),
        PatternOption::ReqRelaxed(true),
    ] {
        assert_eq!(
            h.pattern.set_option(o.clone()),
            Err(PatternError::Invalid),
            "{o:?}"
        );
    }
    // PROBE_ROUTER writes the empty probe; two peers with the same routing id both work.
    let a = h.attach_with(b"X", 0);
    let b = h.attach_with(b"X", 0);
    assert_eq!(h.take(a), Some(msg(&[""])));
    assert_eq!(h.take(b), Some(msg(&[""])));
    h.deliver(b, &["", "q"]);
    h.recv().unwrap();
    h.send(&["r"]).unwrap();
    assert_eq!(h.take(b), Some(msg(&["", "r"])));
}
