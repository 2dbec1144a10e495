//! REQ (RFC 28), after libzmq's `test_spec_req.cpp`, `test_invalid_rep.cpp`,
//! `test_req_correlate.cpp` and `test_req_relaxed.cpp`.

mod common;

use bytes::Bytes;
use common::{again, msg, Harness, Msg};
use zmq_patterns::{Frame, PatternError, PatternOption, PeerId, SocketType};

fn relaxed() -> Harness {
    Harness::with_options(SocketType::Req, &[PatternOption::ReqRelaxed(true)])
}

#[test]
fn req_round_robin_out() {
    let mut h = Harness::new(SocketType::Req);
    let peers: Vec<_> = (0..5).map(|_| h.attach()).collect();
    for round in 0..2 {
        for &p in &peers {
            h.send(&["ABC", "DEF"]).unwrap();
            assert_eq!(h.take(p), Some(msg(&["", "ABC", "DEF"])), "round {round}");
            h.deliver(p, &["", "DEF"]);
            assert_eq!(h.recv().unwrap(), msg(&["DEF"]));
        }
    }
}

#[test]
fn req_message_format() {
    let mut h = Harness::new(SocketType::Req);
    let p = h.attach();
    h.send(&["ABC", "DEF"]).unwrap();
    assert_eq!(h.take(p), Some(msg(&["", "ABC", "DEF"])));
    h.deliver(p, &["", "GHI", "JKL"]);
    assert_eq!(h.recv().unwrap(), msg(&["GHI", "JKL"]));
}

#[test]
fn req_blocks_on_send_with_no_peers() {
    let mut h = Harness::new(SocketType::Req);
    assert!(!h.has_out());
    assert_eq!(
        h.send(&["x"]),
        Err(PatternError::Again(Some(Frame::last("x"))))
    );
    // Still ready to send: the failed request does not count.
    let p = h.attach();
    h.send(&["x"]).unwrap();
    assert_eq!(h.take(p), Some(msg(&["", "x"])));
}

#[test]
fn req_only_listens_to_current_peer() {
    let mut h = Harness::new(SocketType::Req);
    let peers: Vec<_> = (0..3).map(|_| h.attach()).collect();
    for (i, &target) in peers.iter().enumerate() {
        h.send(&["ABC"]).unwrap();
        assert_eq!(h.take(target), Some(msg(&["", "ABC"])));
        for (j, &p) in peers.iter().enumerate() {
            h.deliver(p, &["", if i == j { "GOOD" } else { "WRONG" }]);
        }
        assert_eq!(h.recv().unwrap(), msg(&["GOOD"]));
        assert_eq!(h.recv(), Err(PatternError::Fsm));
    }
}

#[test]
fn req_send_and_recv_must_alternate() {
    let mut h = Harness::new(SocketType::Req);
    let p = h.attach();
    assert_eq!(h.recv(), Err(PatternError::Fsm));
    assert!(!h.has_in());
    assert!(h.has_out());
    h.send(&["1"]).unwrap();
    assert!(!h.has_out());
    assert_eq!(h.send(&["2"]), Err(PatternError::Fsm));
    assert_eq!(h.recv(), again());
    h.deliver(p, &["", "r1", "r2"]);
    assert!(h.has_in());
    assert_eq!(h.recv_frame().unwrap(), Frame::more("r1"));
    // Half-way through the reply: still no sending.
    assert_eq!(h.send(&["2"]), Err(PatternError::Fsm));
    assert_eq!(h.recv_frame().unwrap(), Frame::last("r2"));
    assert!(h.has_out());
    assert!(!h.has_in());
    assert_eq!(h.recv(), Err(PatternError::Fsm));
    h.send(&["2"]).unwrap();
    assert_eq!(h.take_all(p), [msg(&["", "1"]), msg(&["", "2"])]);
}

#[test]
fn req_is_in_sending_state_until_the_last_frame() {
    let mut h = Harness::new(SocketType::Req);
    let p = h.attach();
    h.send_frame(Bytes::from_static(b"a"), true).unwrap();
    assert!(h.has_out());
    assert_eq!(h.recv(), Err(PatternError::Fsm));
    h.send_frame(Bytes::from_static(b"b"), false).unwrap();
    assert_eq!(h.take(p), Some(msg(&["", "a", "b"])));
}

#[test]
fn req_drops_replies_without_a_delimiter() {
    // test_invalid_rep: a ROUTER peer answers first without, then with, the delimiter.
    let mut h = Harness::new(SocketType::Req);
    let p = h.attach();
    h.send(&["r"]).unwrap();
    h.deliver(p, &["BAD"]);
    h.deliver(p, &["x", "", "BAD"]);
    h.deliver(p, &[""]); // a delimiter with no body after it
    h.deliver(p, &["", "GOOD"]);
    assert_eq!(h.recv().unwrap(), msg(&["GOOD"]));
}

#[test]
fn req_drops_stale_messages_before_each_request() {
    let mut h = Harness::new(SocketType::Req);
    let a = h.attach();
    let b = h.attach();
    // Stale replies queued before the request (from the peer it will go to, and another).
    h.deliver(a, &["", "STALE"]);
    h.deliver(b, &["", "STALE"]);
    h.send(&["q"]).unwrap();
    assert_eq!(h.take(a), Some(msg(&["", "q"])));
    assert_eq!(h.recv(), again());
    h.deliver(a, &["", "FRESH"]);
    assert_eq!(h.recv().unwrap(), msg(&["FRESH"]));
}

#[test]
fn req_has_in_prefetches_only_a_valid_reply() {
    let mut h = Harness::new(SocketType::Req);
    let a = h.attach();
    let b = h.attach();
    h.send(&["q"]).unwrap();
    h.deliver(b, &["", "not mine"]);
    h.deliver(a, &["no delimiter"]);
    assert!(!h.has_in(), "neither message is a reply to the request");
    h.deliver(a, &["", "mine"]);
    assert!(h.has_in());
    h.detach(a);
    assert_eq!(
        h.recv().unwrap(),
        msg(&["mine"]),
        "a checked reply outlives its peer"
    );
}

/// The request id frame of the request queued to `p`, checking the request's shape.
fn request_id(h: &mut Harness, p: PeerId, body: &str) -> Bytes {
    let m = h.take(p).expect("a request");
    assert_eq!(m.len(), 3, "{m:?}");
    assert_eq!(m[0].len(), 4, "a 4-byte request id");
    assert_eq!(m[1..], msg(&["", body])[..]);
    m[0].clone()
}

fn reply(id: &Bytes, body: &str) -> Msg {
    vec![
        id.clone(),
        Bytes::new(),
        Bytes::copy_from_slice(body.as_bytes()),
    ]
}

#[test]
fn req_correlate_prefixes_a_request_id_and_checks_it() {
    let mut h = Harness::with_options(SocketType::Req, &[PatternOption::ReqCorrelate(true)]);
    let p = h.attach();
    h.send(&["first"]).unwrap();
    let id1 = request_id(&mut h, p, "first");
    // Replies with another id, with no id, or with the id but no delimiter are dropped.
    let mut wrong = id1.to_vec();
    wrong[0] ^= 1;
    h.deliver_bytes(p, &reply(&Bytes::from(wrong), "WRONG ID"));
    h.deliver(p, &["", "NO ID"]);
    h.deliver_bytes(p, &[id1.clone(), Bytes::from_static(b"NO DELIMITER")]);
    h.deliver_bytes(p, &reply(&id1, "GOOD"));
    assert_eq!(h.recv().unwrap(), msg(&["GOOD"]));

    // The next request's id is the next number (little-endian, as libzmq on x86 and ARM).
    h.send(&["second"]).unwrap();
    let id2 = request_id(&mut h, p, "second");
    let n1 = u32::from_le_bytes(id1[..].try_into().unwrap());
    let n2 = u32::from_le_bytes(id2[..].try_into().unwrap());
    assert_eq!(n2, n1.wrapping_add(1));
    // A late reply to the first request is dropped.
    h.deliver_bytes(p, &reply(&id1, "LATE"));
    h.deliver_bytes(p, &reply(&id2, "OK"));
    assert_eq!(h.recv().unwrap(), msg(&["OK"]));
}

#[test]
fn req_correlate_ids_start_from_the_seed() {
    let first_id = |seed| {
        let mut h = Harness::with_seed(SocketType::Req, seed);
        h.pattern
            .set_option(PatternOption::ReqCorrelate(true))
            .unwrap();
        let p = h.attach();
        h.send(&["x"]).unwrap();
        request_id(&mut h, p, "x")
    };
    assert_eq!(first_id(7), first_id(7));
    assert_ne!(first_id(7), first_id(8));
}

#[test]
fn req_relaxed_case_1_second_send_before_a_reply() {
    let mut h = relaxed();
    let rep: Vec<_> = (0..5).map(|_| h.attach()).collect();
    assert!(h.has_out());
    h.send(&["A", "B"]).unwrap();
    assert_eq!(h.take(rep[0]), Some(msg(&["", "A", "B"])));
    assert!(h.has_out(), "relaxed: POLLOUT while awaiting a reply");
    h.send(&["C", "D"]).unwrap();
    assert_eq!(h.take(rep[1]), Some(msg(&["", "C", "D"])));
    assert!(h.has_out());
    // The reply to the first request is discarded.
    h.deliver(rep[0], &["", "WRONG"]);
    h.deliver(rep[1], &["", "OK"]);
    assert_eq!(h.recv().unwrap(), msg(&["OK"]));
    // A normal cycle.
    h.send(&["E"]).unwrap();
    assert_eq!(h.take(rep[2]), Some(msg(&["", "E"])));
    h.deliver(rep[2], &["", "F", "G"]);
    assert_eq!(h.recv().unwrap(), msg(&["F", "G"]));

    // Case 2: a second send after the reply to the first is already queued.
    h.send(&["H"]).unwrap();
    assert_eq!(h.take(rep[3]), Some(msg(&["", "H"])));
    h.deliver(rep[3], &["", "BAD"]);
    h.send(&["I"]).unwrap();
    assert_eq!(h.take(rep[4]), Some(msg(&["", "I"])));
    h.deliver(rep[4], &["", "GOOD"]);
    assert_eq!(h.recv().unwrap(), msg(&["GOOD"]));

    // Case 3 (libzmq issue 1690): resending kept every peer; round-robin goes on.
    h.send(&["J"]).unwrap();
    assert_eq!(h.take(rep[0]), Some(msg(&["", "J"])));
}

#[test]
fn req_relaxed_case_4_correlate_discards_replies_to_older_requests() {
    let mut h = Harness::with_options(
        SocketType::Req,
        &[
            PatternOption::ReqRelaxed(true),
            PatternOption::ReqCorrelate(true),
        ],
    );
    let router = h.attach();
    h.send(&["TO_BE_DISCARDED"]).unwrap();
    h.send(&["TO_BE_ANSWERED"]).unwrap();
    // The peer bounces both requests, in order.
    for m in h.take_all(router) {
        h.deliver_bytes(router, &m);
    }
    assert_eq!(h.recv().unwrap(), msg(&["TO_BE_ANSWERED"]));
    assert_eq!(h.recv(), Err(PatternError::Fsm));
}

#[test]
fn req_relaxed_send_abandons_a_half_received_reply() {
    let mut h = relaxed();
    let p = h.attach();
    h.send(&["1"]).unwrap();
    h.deliver(p, &["", "a", "b"]);
    assert_eq!(h.recv_frame().unwrap(), Frame::more("a"));
    h.send(&["2"]).unwrap();
    assert_eq!(h.take_all(p), [msg(&["", "1"]), msg(&["", "2"])]);
    assert_eq!(h.recv(), again(), "the rest of the old reply is gone");
    h.deliver(p, &["", "c"]);
    assert_eq!(h.recv().unwrap(), msg(&["c"]));
}

#[test]
fn req_relaxed_blocked_resend_still_abandons_the_old_request() {
    // As libzmq: the outstanding request is given up before the new one finds a peer.
    let mut h = relaxed();
    let p = h.attach_with(b"", 1);
    h.send(&["1"]).unwrap();
    assert_eq!(
        h.send(&["2"]),
        Err(PatternError::Again(Some(Frame::last("2"))))
    );
    assert_eq!(h.recv(), Err(PatternError::Fsm));
    assert_eq!(h.take(p), Some(msg(&["", "1"])));
    h.send(&["2"]).unwrap();
    assert_eq!(h.take(p), Some(msg(&["", "2"])));
}

#[test]
fn req_is_stuck_when_the_peer_with_its_request_leaves() {
    let mut h = Harness::new(SocketType::Req);
    let a = h.attach();
    let b = h.attach();
    h.send(&["q"]).unwrap();
    assert_eq!(h.take(a), Some(msg(&["", "q"])));
    h.detach(a);
    // Nobody else has the request: replies from other peers are not taken.
    h.deliver(b, &["", "not a reply"]);
    assert!(!h.has_in());
    assert_eq!(h.recv(), again());
    assert!(!h.has_out());
    assert_eq!(h.send(&["again"]), Err(PatternError::Fsm));
    // REQ_RELAXED is the way out: the next request goes to another peer.
    h.pattern
        .set_option(PatternOption::ReqRelaxed(true))
        .unwrap();
    h.send(&["again"]).unwrap();
    assert_eq!(h.take(b), Some(msg(&["", "again"])));
    h.deliver(b, &["", "ok"]);
    assert_eq!(h.recv().unwrap(), msg(&["ok"]));
}

#[test]
fn req_drops_the_rest_of_a_request_whose_peer_left_half_way() {
    let mut h = relaxed();
    let a = h.attach();
    let b = h.attach();
    h.send_frame(Bytes::from_static(b"1"), true).unwrap();
    h.detach(a);
    h.send_frame(Bytes::from_static(b"2"), false).unwrap();
    assert_eq!(h.queued(b), 0);
    assert_eq!(h.recv(), again());
    h.send(&["3"]).unwrap();
    assert_eq!(h.take(b), Some(msg(&["", "3"])));
}

#[test]
fn req_probe_router() {
    let mut h = Harness::with_options(SocketType::Req, &[PatternOption::ProbeRouter(true)]);
    let p = h.attach();
    assert_eq!(h.take(p), Some(msg(&[""])));
    h.send(&["q"]).unwrap();
    assert_eq!(h.take(p), Some(msg(&["", "q"])));
}

#[test]
fn req_options() {
    let mut h = Harness::new(SocketType::Req);
    for o in [
        PatternOption::ReqCorrelate(true),
        PatternOption::ReqRelaxed(true),
        PatternOption::ProbeRouter(true),
    ] {
        assert_eq!(h.pattern.set_option(o.clone()), Ok(()), "{o:?}");
    }
    for o in [
        PatternOption::RouterMandatory(true),
        PatternOption::RouterHandover(true),
    ] {
        assert_eq!(
            h.pattern.set_option(o.clone()),
            Err(PatternError::Invalid),
            "{o:?}"
        );
    }
}
