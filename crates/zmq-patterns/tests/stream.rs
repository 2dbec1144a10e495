//! STREAM, after libzmq's `stream.cpp` and `test_stream*.cpp`, `test_connect_rid.cpp`.

mod common;

use bytes::Bytes;
use common::{again, msg, Harness, Msg};
use zmq_patterns::{Attach, Frame, Pattern, PatternError, PeerInfo, SocketType, Stream};

/// `[id, data]`.
fn routed(id: &[u8], data: &str) -> Msg {
    vec![
        Bytes::copy_from_slice(id),
        Bytes::copy_from_slice(data.as_bytes()),
    ]
}

/// The routing id the pattern gave `peer`, learnt from a message it delivers.
fn id_of(h: &mut Harness, peer: u64) -> Bytes {
    h.deliver(peer, &["probe"]);
    let m = h.recv().unwrap();
    assert_eq!(m[1], "probe");
    m[0].clone()
}

#[test]
fn stream_prefixes_each_chunk_with_its_peers_routing_id() {
    let mut h = Harness::new(SocketType::Stream);
    let a = h.attach_with(b"A", 0);
    let b = h.attach_with(b"B", 0);
    h.deliver(a, &["GET / HTTP/1.0\r\n"]);
    h.deliver(b, &["hello"]);
    h.deliver(a, &["\r\n"]);
    assert_eq!(h.recv().unwrap(), routed(b"A", "GET / HTTP/1.0\r\n"));
    assert_eq!(h.recv().unwrap(), routed(b"B", "hello"));
    assert_eq!(h.recv().unwrap(), routed(b"A", "\r\n"));
    assert_eq!(h.recv(), again());
    assert!(!h.has_in());
}

#[test]
fn stream_has_in_prefetches_and_recv_returns_the_same_message() {
    let mut h = Harness::new(SocketType::Stream);
    let a = h.attach_with(b"A", 0);
    h.deliver(a, &["x"]);
    assert!(h.has_in());
    assert!(h.has_in(), "asking twice keeps the message");
    let id = h.recv_frame().unwrap();
    assert_eq!((id.data.as_ref(), id.more), (&b"A"[..], true));
    let data = h.recv_frame().unwrap();
    assert_eq!((data.data.as_ref(), data.more), (&b"x"[..], false));
}

#[test]
fn stream_notifications_are_empty_data_frames() {
    // The runtime queues an empty message when a connection comes and when it goes
    // (STREAM_NOTIFY); the pattern passes them on like any chunk.
    let mut h = Harness::new(SocketType::Stream);
    let a = h.attach_with(b"A", 0);
    h.deliver(a, &[""]);
    h.deliver(a, &["data"]);
    h.deliver(a, &[""]);
    assert_eq!(h.recv().unwrap(), routed(b"A", ""));
    assert_eq!(h.recv().unwrap(), routed(b"A", "data"));
    assert_eq!(h.recv().unwrap(), routed(b"A", ""));
}

#[test]
fn stream_generates_five_byte_ids_counting_from_the_seed() {
    let ids = |seed| {
        let mut h = Harness::with_seed(SocketType::Stream, seed);
        let peers: Vec<_> = (0..3).map(|_| h.attach()).collect();
        peers.iter().map(|&p| id_of(&mut h, p)).collect::<Vec<_>>()
    };
    let a = ids(7);
    for id in &a {
        assert_eq!(id.len(), 5);
        assert_eq!(id[0], 0);
    }
    let n = |id: &Bytes| u32::from_be_bytes(id[1..].try_into().unwrap());
    assert_eq!(n(&a[1]), n(&a[0]).wrapping_add(1));
    assert_eq!(n(&a[2]), n(&a[0]).wrapping_add(2));
    assert_eq!(ids(7), a, "the same seed gives the same ids");
    assert_ne!(ids(8)[0], a[0], "another seed starts elsewhere");
}

#[test]
fn stream_reports_the_last_generated_routing_id() {
    // libzmq's ZMQ_ROUTING_ID on a STREAM socket: the id of the peer attached last, so that
    // a client learns the id of the connection it just made.
    let mut s = Stream::new(3);
    let mut peers = common::TestPeers::default();
    assert_eq!(s.generated_routing_id(), None);
    for p in 1..=3 {
        peers.queues.insert(p, Default::default());
    }
    assert_eq!(
        s.attach(1, PeerInfo::default(), &mut peers),
        Attach::Accepted
    );
    assert_eq!(s.generated_routing_id().as_ref(), s.routing_id(1));
    // A given routing id is not generated: the last generated one stays.
    let given = PeerInfo::new("conn1", None);
    assert_eq!(s.attach(2, given, &mut peers), Attach::Accepted);
    assert_eq!(s.generated_routing_id().as_ref(), s.routing_id(1));
    assert_eq!(s.peer(b"conn1"), Some(2));
}

#[test]
fn stream_generated_ids_skip_ids_in_use() {
    let mut s = Stream::new(5);
    let mut peers = common::TestPeers::default();
    for p in 1..=3 {
        peers.queues.insert(p, Default::default());
    }
    assert_eq!(
        s.attach(1, PeerInfo::default(), &mut peers),
        Attach::Accepted
    );
    let first = s.routing_id(1).unwrap().clone();
    let n = u32::from_be_bytes(first[1..].try_into().unwrap());
    let id = |n: u32| [&[0][..], &n.to_be_bytes()].concat();
    let next = id(n.wrapping_add(1));
    let info = PeerInfo::new(Bytes::from(next.clone()), None);
    assert_eq!(s.attach(2, info, &mut peers), Attach::Accepted);
    assert_eq!(
        s.attach(3, PeerInfo::default(), &mut peers),
        Attach::Accepted
    );
    assert_eq!(s.routing_id(3).unwrap()[..], id(n.wrapping_add(2))[..]);
}

#[test]
fn stream_uses_the_connect_routing_id_and_refuses_a_duplicate() {
    // test_connect_rid: STREAM to STREAM with CONNECT_ROUTING_ID "conn1".
    let mut h = Harness::new(SocketType::Stream);
    let p = h.attach_with(b"conn1", 0);
    h.send(&["conn1", "hello"]).unwrap();
    assert_eq!(h.take(p), Some(msg(&["hello"])));
    h.deliver(p, &["world"]);
    assert_eq!(h.recv().unwrap(), routed(b"conn1", "world"));
    // libzmq asserts on a second connect with the same id; we refuse the peer.
    let (_, result) = h.try_attach(b"conn1", 0);
    assert_eq!(result, Attach::Refused);
    h.send(&["conn1", "still the first"]).unwrap();
    assert_eq!(h.take(p), Some(msg(&["still the first"])));
}

#[test]
fn stream_routes_by_the_first_frame_and_writes_the_data_alone() {
    let mut h = Harness::new(SocketType::Stream);
    let a = h.attach_with(b"A", 0);
    let b = h.attach_with(b"B", 0);
    h.send(&["B", "to b"]).unwrap();
    h.send(&["A", "to a"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["to a"])]);
    assert_eq!(h.take_all(b), [msg(&["to b"])]);
}

#[test]
fn stream_unknown_routing_id_is_host_unreachable() {
    let mut h = Harness::new(SocketType::Stream);
    let a = h.attach_with(b"A", 0);
    assert_eq!(
        h.send_frame(Bytes::from_static(b"nobody"), true),
        Err(PatternError::HostUnreachable)
    );
    // The application's data frame after the refused id is ignored, and the next message
    // routes normally (libzmq would misread every frame from here on).
    h.send_frame(Bytes::from_static(b"lost"), false).unwrap();
    h.send(&["A", "ok"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["ok"])]);
}

#[test]
fn stream_full_peer_is_again_with_the_routing_id_frame_back() {
    let mut h = Harness::new(SocketType::Stream);
    let a = h.attach_with(b"A", 1);
    h.send(&["A", "1"]).unwrap();
    let id = Frame::more(Bytes::from_static(b"A"));
    assert_eq!(
        h.pattern.send(id.clone(), &mut h.peers),
        Err(PatternError::Again(Some(id)))
    );
    assert!(h.has_out(), "POLLOUT stays set, as in libzmq");
    assert_eq!(h.take(a), Some(msg(&["1"])));
    h.send(&["A", "2"]).unwrap();
    assert_eq!(h.take(a), Some(msg(&["2"])));
}

#[test]
fn stream_data_frame_ends_the_message_even_with_more() {
    // test_stream_disconnect sends its data frames with SNDMORE.
    let mut h = Harness::new(SocketType::Stream);
    let a = h.attach_with(b"A", 0);
    h.send_frame(Bytes::from_static(b"A"), true).unwrap();
    h.send_frame(Bytes::from_static(b"data"), true).unwrap();
    assert_eq!(
        h.take(a),
        Some(msg(&["data"])),
        "written as a whole message"
    );
    h.send(&["A", "next"]).unwrap();
    assert_eq!(h.take(a), Some(msg(&["next"])));
}

#[test]
fn stream_lone_routing_id_frame_is_ignored() {
    let mut h = Harness::new(SocketType::Stream);
    let a = h.attach_with(b"A", 0);
    h.send(&["A"]).unwrap();
    h.send(&["A", "x"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["x"])]);
}

#[test]
fn stream_empty_data_frame_asks_to_disconnect_the_peer() {
    let mut h = Harness::new(SocketType::Stream);
    let a = h.attach_with(b"A", 0);
    let b = h.attach_with(b"B", 0);
    h.send(&["A", "last words"]).unwrap();
    assert_eq!(h.pattern.take_disconnect(), None);
    h.send(&["A", ""]).unwrap();
    assert_eq!(h.pattern.take_disconnect(), Some(a));
    assert_eq!(h.pattern.take_disconnect(), None);
    // Nothing is written for the request; what was queued before stays for the runtime.
    assert_eq!(h.take_all(a), [msg(&["last words"])]);
    // The peer is detached at once: its id is unknown, its messages are not read.
    h.deliver(a, &["late"]);
    assert_eq!(h.send(&["A", "again"]), Err(PatternError::HostUnreachable));
    assert_eq!(h.recv(), again());
    // The runtime's detach of it changes nothing; other peers go on.
    h.detach(a);
    h.send(&["B", "fine"]).unwrap();
    assert_eq!(h.take_all(b), [msg(&["fine"])]);
}

#[test]
fn stream_peer_detached_between_routing_id_and_data_drops_the_data() {
    let mut h = Harness::new(SocketType::Stream);
    let a = h.attach_with(b"A", 0);
    h.send_frame(Bytes::from_static(b"A"), true).unwrap();
    h.detach(a);
    h.send_frame(Bytes::from_static(b"gone"), false).unwrap();
    let b = h.attach_with(b"B", 0);
    h.send(&["B", "ok"]).unwrap();
    assert_eq!(h.take_all(b), [msg(&["ok"])]);
}

#[test]
fn stream_fair_queues_many_peers() {
    let mut h = Harness::new(SocketType::Stream);
    let peers: Vec<_> = (0..50).map(|_| h.attach()).collect();
    for (i, &p) in peers.iter().enumerate() {
        h.deliver(p, &[&format!("{i}a")]);
        h.deliver(p, &[&format!("{i}b")]);
    }
    let got = h.recv_all();
    assert_eq!(got.len(), 100);
    // The first round has one message from each peer, each with a distinct id.
    let first: std::collections::BTreeSet<_> = got[..50].iter().map(|m| m[0].clone()).collect();
    assert_eq!(first.len(), 50);
    assert!(got[..50].iter().all(|m| m[1].ends_with(b"a")));
}

#[test]
fn stream_refuses_every_pattern_option() {
    let mut h = Harness::new(SocketType::Stream);
    assert_eq!(
        h.pattern
            .set_option(zmq_patterns::PatternOption::RouterMandatory(true)),
        Err(PatternError::Invalid)
    );
}
