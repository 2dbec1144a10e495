//! ROUTER (RFC 28), after libzmq's `test_spec_router.cpp`, `test_router_mandatory*.cpp`,
//! `test_router_handover.cpp`, `test_probe_router.cpp` and `test_connect_rid.cpp`.

mod common;

use bytes::Bytes;
use common::{again, msg, Harness, Msg};
use zmq_patterns::{
    Attach, Frame, Pattern, PatternError, PatternOption, PeerInfo, Router, SocketType,
};

fn mandatory() -> Harness {
    Harness::with_options(SocketType::Router, &[PatternOption::RouterMandatory(true)])
}

fn handover() -> Harness {
    Harness::with_options(SocketType::Router, &[PatternOption::RouterHandover(true)])
}

/// `[id, frames...]`.
fn routed(id: &[u8], frames: &[&str]) -> Msg {
    let mut m = vec![Bytes::copy_from_slice(id)];
    m.extend(msg(frames));
    m
}

#[test]
fn router_fair_queues_in_and_prefixes_routing_ids() {
    let mut h = Harness::new(SocketType::Router);
    let a = h.attach_with(b"A", 0);
    let b = h.attach_with(b"B", 0);
    h.deliver(a, &["a1"]);
    h.deliver(a, &["a2", "more"]);
    h.deliver(b, &["b1"]);
    assert_eq!(h.recv().unwrap(), routed(b"A", &["a1"]));
    assert_eq!(h.recv().unwrap(), routed(b"B", &["b1"]));
    assert_eq!(h.recv().unwrap(), routed(b"A", &["a2", "more"]));
    assert_eq!(h.recv(), again());
}

#[test]
fn router_routes_by_the_first_frame() {
    let mut h = Harness::new(SocketType::Router);
    let a = h.attach_with(b"A", 0);
    let b = h.attach_with(b"B", 0);
    h.send(&["B", "to", "b"]).unwrap();
    h.send(&["A", "to a"]).unwrap();
    h.send(&["B", "again"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["to a"])]);
    assert_eq!(h.take_all(b), [msg(&["to", "b"]), msg(&["again"])]);
}

#[test]
fn router_generates_five_byte_ids_counting_from_the_seed() {
    let ids = |seed| {
        let mut h = Harness::with_seed(SocketType::Router, seed);
        let peers: Vec<_> = (0..3).map(|_| h.attach()).collect();
        peers
            .iter()
            .map(|&p| {
                h.deliver(p, &["x"]);
                h.recv().unwrap()[0].clone()
            })
            .collect::<Vec<_>>()
    };
    let a = ids(1);
    for id in &a {
        assert_eq!(id.len(), 5);
        assert_eq!(id[0], 0);
    }
    let n = |id: &Bytes| u32::from_be_bytes(id[1..].try_into().unwrap());
    assert_eq!(n(&a[1]), n(&a[0]).wrapping_add(1));
    assert_eq!(n(&a[2]), n(&a[0]).wrapping_add(2));
    assert_eq!(ids(1), a, "the same seed gives the same ids");
    assert_ne!(ids(2)[0], a[0], "another seed starts elsewhere");
    // Generated ids route like any other.
    let mut h = Harness::with_seed(SocketType::Router, 1);
    let p = h.attach();
    h.send_bytes(&[a[0].clone(), Bytes::from_static(b"hi")])
        .unwrap();
    assert_eq!(h.take(p), Some(msg(&["hi"])));
}

#[test]
fn router_generated_ids_skip_ids_in_use() {
    let mut r = Router::new(5);
    let mut peers = common::TestPeers::default();
    for p in 1..=3 {
        peers.queues.insert(p, Default::default());
    }
    // Learn the first generated id, then have a peer claim the next one.
    assert_eq!(
        r.attach(1, PeerInfo::default(), &mut peers),
        Attach::Accepted
    );
    let first = r.routing_id(1).unwrap().clone();
    let n = u32::from_be_bytes(first[1..].try_into().unwrap());
    let id = |n: u32| [&[0][..], &n.to_be_bytes()].concat();
    let next = id(n.wrapping_add(1));
    let info = PeerInfo::new(Bytes::from(next.clone()), None);
    assert_eq!(r.attach(2, info, &mut peers), Attach::Accepted);
    assert_eq!(
        r.attach(3, PeerInfo::default(), &mut peers),
        Attach::Accepted
    );
    assert_eq!(r.routing_id(3).unwrap()[..], id(n.wrapping_add(2))[..]);
    assert_eq!(r.peer(&next), Some(2));
}

#[test]
fn router_uses_the_connect_routing_id() {
    // test_connect_rid: the runtime passes CONNECT_ROUTING_ID as the peer's routing id.
    let mut h = Harness::new(SocketType::Router);
    let server = h.attach_with(b"conn1", 0);
    h.send(&["conn1", "hello"]).unwrap();
    assert_eq!(h.take(server), Some(msg(&["hello"])));
    h.deliver(server, &["world"]);
    assert_eq!(h.recv().unwrap(), routed(b"conn1", &["world"]));
}

#[test]
fn router_drops_unroutable_messages_silently() {
    let mut h = Harness::new(SocketType::Router);
    let a = h.attach_with(b"A", 0);
    assert!(h.has_out());
    h.send(&["UNKNOWN", "data", "more"]).unwrap();
    h.send(&["A", "ok"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["ok"])]);
}

#[test]
fn router_mandatory_reports_unknown_peers() {
    let mut h = mandatory();
    let a = h.attach_with(b"A", 0);
    assert_eq!(
        h.send(&["UNKNOWN", "data"]),
        Err(PatternError::HostUnreachable)
    );
    // Nothing of that message is pending: the next frame starts a new message.
    h.send(&["A", "ok"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["ok"])]);
}

#[test]
fn router_mandatory_gives_again_when_the_peer_is_full() {
    // test_router_mandatory_hwm
    let mut h = mandatory();
    let a = h.attach_with(b"A", 2);
    h.send(&["A", "1"]).unwrap();
    h.send(&["A", "2", "2b"]).unwrap();
    assert!(
        !h.has_out(),
        "with ROUTER_MANDATORY, POLLOUT means some peer has room"
    );
    assert_eq!(
        h.send(&["A", "3"]),
        Err(PatternError::Again(Some(Frame::more("A"))))
    );
    assert_eq!(h.take(a), Some(msg(&["1"])));
    assert!(h.has_out());
    h.send(&["A", "3"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["2", "2b"]), msg(&["3"])]);
}

#[test]
fn router_without_mandatory_drops_when_the_peer_is_full() {
    let mut h = Harness::new(SocketType::Router);
    let a = h.attach_with(b"A", 1);
    h.send(&["A", "1"]).unwrap();
    assert!(h.has_out(), "a ROUTER is always writable");
    h.send(&["A", "2"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["1"])]);
}

#[test]
fn router_mandatory_has_out_with_no_peers_is_false() {
    let mut h = mandatory();
    assert!(!h.has_out());
    h.attach_with(b"A", 0);
    assert!(h.has_out());
}

#[test]
fn router_drops_a_routing_id_alone() {
    for options in [&[][..], &[PatternOption::RouterMandatory(true)][..]] {
        let mut h = Harness::with_options(SocketType::Router, options);
        let a = h.attach_with(b"A", 0);
        h.send(&["A"]).unwrap();
        h.send(&["UNKNOWN"]).unwrap();
        h.send(&["A", "ok"]).unwrap();
        assert_eq!(h.take_all(a), [msg(&["ok"])]);
    }
}

#[test]
fn router_queue_is_destroyed_on_disconnect() {
    // test_spec_router: messages to a peer that left are dropped, and its id is free.
    let mut h = Harness::new(SocketType::Router);
    let a = h.attach_with(b"A", 0);
    h.send(&["A", "before"]).unwrap();
    h.deliver(a, &["pending"]);
    h.detach(a);
    h.send(&["A", "after"]).unwrap();
    assert_eq!(h.recv(), again());
    let a2 = h.attach_with(b"A", 0);
    h.send(&["A", "new"]).unwrap();
    assert_eq!(h.take_all(a2), [msg(&["new"])]);
}

#[test]
fn router_refuses_a_duplicate_routing_id_without_handover() {
    let mut h = Harness::new(SocketType::Router);
    let one = h.attach_with(b"X", 0);
    h.deliver(one, &["Hello"]);
    assert_eq!(h.recv().unwrap(), routed(b"X", &["Hello"]));
    let (_, two) = h.try_attach(b"X", 0);
    assert_eq!(two, Attach::Refused);
    h.send(&["X", "Hello"]).unwrap();
    assert_eq!(h.take(one), Some(msg(&["Hello"])));
}

#[test]
fn router_handover_gives_the_routing_id_to_the_new_peer() {
    let mut h = handover();
    let one = h.attach_with(b"X", 0);
    h.deliver(one, &["Hello"]);
    assert_eq!(h.recv().unwrap(), routed(b"X", &["Hello"]));
    let (two, result) = h.try_attach(b"X", 0);
    assert_eq!(result, Attach::Replaced(one));
    h.deliver(two, &["Hello"]);
    assert_eq!(h.recv().unwrap(), routed(b"X", &["Hello"]));
    h.send(&["X", "Hello"]).unwrap();
    assert_eq!(h.take(two), Some(msg(&["Hello"])));
    assert!(!h.peers.queues.contains_key(&one));
}

#[test]
fn router_handover_keeps_a_half_received_message_whole() {
    let mut h = handover();
    let one = h.attach_with(b"X", 0);
    h.deliver(one, &["1", "2", "3"]);
    assert_eq!(h.recv_frame().unwrap(), Frame::more("X"));
    assert_eq!(h.recv_frame().unwrap(), Frame::more("1"));
    let (_, result) = h.try_attach(b"X", 0);
    assert_eq!(result, Attach::Replaced(one));
    assert_eq!(h.recv_frame().unwrap(), Frame::more("2"));
    assert_eq!(h.recv_frame().unwrap(), Frame::last("3"));
}

#[test]
fn router_handover_abandons_a_half_sent_message_to_the_old_peer() {
    let mut h = handover();
    let one = h.attach_with(b"X", 0);
    h.send_frame(Bytes::from_static(b"X"), true).unwrap();
    h.send_frame(Bytes::from_static(b"part"), true).unwrap();
    // The old peer's unfinished message is rolled back before it is let go.
    let rollbacks_before = h.peers.q(one).rollbacks;
    let peer_info = PeerInfo::new(Bytes::from_static(b"X"), None);
    h.peers.queues.insert(99, Default::default());
    let result = h.pattern.attach(99, peer_info, &mut h.peers);
    assert_eq!(result, Attach::Replaced(one));
    assert_eq!(h.peers.q(one).rollbacks, rollbacks_before + 1);
    assert!(h.peers.q(one).outbound.is_empty());
    h.peers.queues.remove(&one);
    // The rest of that message is dropped, not sent to the new peer.
    h.send_frame(Bytes::from_static(b"rest"), false).unwrap();
    h.send(&["X", "fresh"]).unwrap();
    assert_eq!(h.take_all(99), [msg(&["fresh"])]);
}

#[test]
fn router_probe_router_sends_an_empty_message_on_attach() {
    // test_probe_router, the connecting ROUTER's side: it probes its new peer.
    let mut h = Harness::with_options(SocketType::Router, &[PatternOption::ProbeRouter(true)]);
    let server = h.attach_with(b"", 0);
    assert_eq!(h.take(server), Some(msg(&[""])));
    // The server answers; its generated id (5 bytes) comes first.
    h.deliver(server, &["Hello"]);
    let m = h.recv().unwrap();
    assert_eq!(m[0].len(), 5);
    assert_eq!(m[1..], msg(&["Hello"])[..]);
}

#[test]
fn router_receives_a_probe_as_an_empty_message() {
    // test_probe_router, the bound ROUTER's side.
    let mut h = Harness::new(SocketType::Router);
    let client = h.attach_with(b"X", 0);
    h.deliver(client, &[""]);
    assert_eq!(h.recv().unwrap(), routed(b"X", &[""]));
    h.send(&["X", "Hello"]).unwrap();
    assert_eq!(h.take(client), Some(msg(&["Hello"])));
}

#[test]
fn router_never_reorders_one_peers_messages() {
    let mut h = Harness::new(SocketType::Router);
    let a = h.attach_with(b"A", 0);
    let b = h.attach_with(b"B", 0);
    for i in 0..5 {
        h.deliver(a, &[&format!("a{i}")]);
        if i % 2 == 0 {
            h.deliver(b, &[&format!("b{i}")]);
        }
    }
    let mut from_a = Vec::new();
    while let Ok(m) = h.recv() {
        if m[0] == "A" {
            from_a.push(m[1].clone());
        }
    }
    assert_eq!(from_a, msg(&["a0", "a1", "a2", "a3", "a4"]));
}

#[test]
fn router_has_in_prefetches_with_the_routing_id() {
    let mut h = Harness::new(SocketType::Router);
    let a = h.attach_with(b"A", 0);
    assert!(!h.has_in());
    h.deliver(a, &["x"]);
    assert!(h.has_in());
    h.detach(a);
    assert_eq!(h.recv().unwrap(), routed(b"A", &["x"]));
}

#[test]
fn router_options() {
    let mut h = Harness::new(SocketType::Router);
    for o in [
        PatternOption::RouterMandatory(false),
        PatternOption::RouterHandover(false),
        PatternOption::ProbeRouter(false),
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
}

#[test]
fn router_options_take_effect_at_once() {
    let mut h = Harness::new(SocketType::Router);
    h.send(&["nobody", "x"]).unwrap();
    h.pattern
        .set_option(PatternOption::RouterMandatory(true))
        .unwrap();
    assert_eq!(h.send(&["nobody", "x"]), Err(PatternError::HostUnreachable));
    h.pattern
        .set_option(PatternOption::RouterMandatory(false))
        .unwrap();
    h.send(&["nobody", "x"]).unwrap();
}

#[test]
fn router_concrete_type_reports_ids() {
    let mut r = Router::new(0);
    let mut peers = common::TestPeers::default();
    peers.queues.insert(1, Default::default());
    assert_eq!(
        r.attach(1, PeerInfo::new("me", None), &mut peers),
        Attach::Accepted
    );
    assert_eq!(r.routing_id(1).map(|b| &b[..]), Some(&b"me"[..]));
    assert_eq!(r.peer(b"me"), Some(1));
    r.detach(1);
    assert_eq!(r.routing_id(1), None);
    assert_eq!(r.peer(b"me"), None);
    assert_eq!(r.socket_type(), SocketType::Router);
}
