//! PUB, SUB and XSUB (RFC 29), after libzmq's `test_spec_pubsub`-style checks,
//! `test_pub_invert_matching`, `test_pubsub_topics_count`, `test_sub_forward`,
//! `test_xsub_verbose` and `test_hwm_pubsub`.

mod common;

use bytes::Bytes;
use common::{again, cancel, flagged, msg, sub, Harness, Net};
use zmq_patterns::{Frame, PatternError, PatternOption, SocketType};

fn topic(t: &str) -> PatternOption {
    PatternOption::Subscribe(Bytes::copy_from_slice(t.as_bytes()))
}

fn untopic(t: &str) -> PatternOption {
    PatternOption::Unsubscribe(Bytes::copy_from_slice(t.as_bytes()))
}

// ---- PUB -------------------------------------------------------------------------------

#[test]
fn pub_sends_each_message_to_the_peers_subscribed_to_a_prefix_of_its_first_frame() {
    let mut h = Harness::new(SocketType::Pub);
    let a = h.attach();
    let b = h.attach();
    let c = h.attach();
    let d = h.attach();
    h.deliver_bytes(a, &sub("A"));
    h.deliver_bytes(b, &sub("AB"));
    h.deliver_bytes(c, &sub(""));
    h.deliver_bytes(b, &sub("B"));
    for m in [&["ABC", "x"][..], &["A"], &["B", "y"], &["C"], &["", "AB"]] {
        h.send(m).unwrap();
    }
    assert_eq!(h.take_all(a), [msg(&["ABC", "x"]), msg(&["A"])]);
    assert_eq!(h.take_all(b), [msg(&["ABC", "x"]), msg(&["B", "y"])]);
    assert_eq!(h.take_all(c).len(), 5, "the empty topic matches everything");
    assert_eq!(
        h.take_all(d),
        Vec::<common::Msg>::new(),
        "no subscription, nothing"
    );
    assert_eq!(h.topics(), 4);
}

#[test]
fn pub_delivers_a_message_once_to_a_peer_matching_several_prefixes() {
    let mut h = Harness::new(SocketType::Pub);
    let a = h.attach();
    for t in ["", "a", "ab", "abc"] {
        h.deliver_bytes(a, &sub(t));
    }
    h.send(&["abcd"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["abcd"])]);
}

#[test]
fn pub_cannot_receive_and_drops_what_subscribers_send() {
    let mut h = Harness::new(SocketType::Pub);
    let a = h.attach();
    h.deliver(a, &["hello"]);
    h.deliver(a, &["\x02x", "more"]);
    h.deliver_bytes(a, &sub("h"));
    h.deliver(a, &[""]);
    assert_eq!(h.recv_frame(), Err(PatternError::NotSupported));
    assert!(!h.has_in());
    assert!(h.has_out());
    h.send(&["hello"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["hello"])]);
    assert_eq!(
        h.peers.q(a).inbound.len(),
        0,
        "everything the peer sent was read"
    );
    assert_eq!(h.topics(), 1);
}

#[test]
fn pub_with_no_peers_or_no_match_drops_and_never_blocks() {
    let mut h = Harness::new(SocketType::Pub);
    h.send(&["nobody", "listens"]).unwrap();
    let a = h.attach();
    h.deliver_bytes(a, &sub("x"));
    h.send(&["y"]).unwrap();
    assert_eq!(h.queued(a), 0);
}

#[test]
fn pub_cancel_stops_delivery_and_counts_per_peer_not_per_subscription() {
    // libzmq's mtrie holds a set of pipes per topic: a second subscribe of the same topic by
    // the same peer changes nothing, and one cancel removes it.
    let mut h = Harness::new(SocketType::Pub);
    let a = h.attach();
    h.deliver_bytes(a, &sub("A"));
    h.deliver_bytes(a, &sub("A"));
    h.send(&["A1"]).unwrap();
    h.deliver_bytes(a, &cancel("A"));
    h.send(&["A2"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["A1"])]);
    assert_eq!(h.topics(), 0);
}

#[test]
fn pub_drops_at_hwm_for_that_peer_only_and_resumes_when_it_has_room() {
    // test_hwm_pubsub's test_defaults: hwm 100, 1000 sent, 100 received.
    let mut h = Harness::new(SocketType::Pub);
    let slow = h.attach_with(b"", 100);
    let fast = h.attach();
    h.deliver_bytes(slow, &sub(""));
    h.deliver_bytes(fast, &sub(""));
    for i in 0..1000 {
        h.send(&[&i.to_string()]).unwrap();
    }
    assert_eq!(h.queued(slow), 100);
    assert_eq!(h.queued(fast), 1000);
    let got = h.take_all(slow);
    assert_eq!(got.first(), Some(&msg(&["0"])));
    assert_eq!(got.last(), Some(&msg(&["99"])));
    // take() made room and called write_activated: the peer is back.
    h.send(&["again"]).unwrap();
    assert_eq!(h.take_all(slow), [msg(&["again"])]);
}

#[test]
fn pub_never_delivers_part_of_a_message() {
    let mut h = Harness::new(SocketType::Pub);
    let full = h.attach_with(b"", 1);
    let ok = h.attach();
    for p in [full, ok] {
        h.deliver_bytes(p, &sub("t"));
    }
    h.send(&["t", "fills", "full"]).unwrap();
    // `full` is at its HWM: it misses all of the next message.
    h.send_frame(Bytes::from_static(b"t"), true).unwrap();
    // A peer attached mid-message gets none of it; a peer detached mid-message is dropped.
    let late = h.attach();
    h.deliver_bytes(late, &sub("t"));
    h.send_frame(Bytes::from_static(b"2"), true).unwrap();
    assert_eq!(h.take(full), Some(msg(&["t", "fills", "full"])));
    h.send_frame(Bytes::from_static(b"3"), false).unwrap();
    assert_eq!(h.take_all(full), Vec::<common::Msg>::new());
    assert_eq!(h.take_all(late), Vec::<common::Msg>::new());
    assert_eq!(
        h.take_all(ok),
        [msg(&["t", "fills", "full"]), msg(&["t", "2", "3"])]
    );
    h.send(&["t", "next"]).unwrap();
    for p in [full, ok, late] {
        assert_eq!(h.take_all(p), [msg(&["t", "next"])], "peer {p}");
    }
}

#[test]
fn pub_peer_detached_mid_message_is_forgotten() {
    let mut h = Harness::new(SocketType::Pub);
    let a = h.attach();
    let b = h.attach();
    for p in [a, b] {
        h.deliver_bytes(p, &sub(""));
    }
    h.send_frame(Bytes::from_static(b"1"), true).unwrap();
    h.detach(a);
    h.send_frame(Bytes::from_static(b"2"), false).unwrap();
    assert_eq!(h.take_all(b), [msg(&["1", "2"])]);
    assert_eq!(h.topics(), 1);
}

#[test]
fn pub_applies_subscriptions_before_each_send_without_read_activated_calls() {
    let mut h = Harness::new(SocketType::Pub);
    h.auto_activate = false;
    let a = h.attach();
    // The first read found the queue empty; the runtime owes a read_activated.
    h.deliver_bytes(a, &sub("x"));
    h.send(&["x1"]).unwrap();
    assert_eq!(
        h.take_all(a),
        Vec::<common::Msg>::new(),
        "inactive until activated"
    );
    h.pattern.read_activated(a);
    h.send(&["x2"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["x2"])]);
}

#[test]
fn pub_nodrop_blocks_on_a_full_matching_peer_only() {
    let mut h = Harness::with_options(SocketType::Pub, &[PatternOption::XpubNodrop(true)]);
    let a = h.attach_with(b"", 2);
    let idle = h.attach_with(b"", 1);
    h.deliver_bytes(a, &sub("a"));
    h.deliver_bytes(idle, &sub("i"));
    h.send(&["i"]).unwrap(); // fills `idle`
    h.send(&["a", "1"]).unwrap();
    h.send(&["a", "2"]).unwrap();
    let frame = Frame::more("a");
    assert_eq!(
        h.pattern.send(frame.clone(), &mut h.peers),
        Err(PatternError::Again(Some(frame)))
    );
    assert!(h.has_out(), "POLLOUT says yes, as libzmq");
    assert_eq!(h.take(a), Some(msg(&["a", "1"])));
    h.send(&["a", "3"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["a", "2"]), msg(&["a", "3"])]);
    assert_eq!(h.take_all(idle), [msg(&["i"])]);
}

// ---- SUB -------------------------------------------------------------------------------

#[test]
fn sub_sends_every_subscription_and_the_cancel_of_the_last_reference() {
    let mut h = Harness::new(SocketType::Sub);
    let a = h.attach();
    let b = h.attach();
    h.set(topic("A"));
    h.set(topic("A"));
    h.set(untopic("A"));
    h.set(untopic("B")); // never subscribed: nothing goes out
    for p in [a, b] {
        assert_eq!(h.take_all(p), [sub("A"), sub("A")], "peer {p}");
    }
    h.set(untopic("A"));
    for p in [a, b] {
        assert_eq!(h.take_all(p), [cancel("A")], "peer {p}");
    }
    assert_eq!(h.topics(), 0);
}

#[test]
fn sub_subscriptions_wait_for_the_next_call_with_peers() {
    let mut h = Harness::new(SocketType::Sub);
    let a = h.attach();
    h.pattern.set_option(topic("x")).unwrap();
    assert_eq!(h.queued(a), 0, "set_option has no peers to write to");
    assert_eq!(h.recv(), again());
    assert_eq!(h.take_all(a), [sub("x")]);
}

#[test]
fn sub_filters_by_prefix_of_the_first_frame_and_drops_whole_messages() {
    let mut h = Harness::new(SocketType::Sub);
    let a = h.attach();
    h.set(topic("weather."));
    h.set(topic("news"));
    h.deliver(a, &["sport", "x"]);
    h.deliver(a, &["weather.paris", "sunny"]);
    h.deliver(a, &["new"]);
    h.deliver(a, &["newsflash"]);
    h.deliver(a, &["", "weather."]);
    assert_eq!(
        h.recv_all(),
        [msg(&["weather.paris", "sunny"]), msg(&["newsflash"])]
    );
    assert!(!h.has_in());
}

#[test]
fn sub_with_no_subscription_receives_nothing_and_the_empty_topic_everything() {
    let mut h = Harness::new(SocketType::Sub);
    let a = h.attach();
    h.deliver(a, &["x"]);
    assert_eq!(h.recv(), again());
    h.set(topic(""));
    h.deliver(a, &["y"]);
    h.deliver(a, &[""]);
    assert_eq!(h.recv_all(), [msg(&["y"]), msg(&[""])]);
}

#[test]
fn sub_fair_queues_its_peers() {
    let mut h = Harness::new(SocketType::Sub);
    let a = h.attach();
    let b = h.attach();
    h.set(topic(""));
    h.deliver(a, &["a1"]);
    h.deliver(a, &["a2"]);
    h.deliver(b, &["b1"]);
    h.deliver(b, &["b2"]);
    assert_eq!(
        h.recv_all(),
        [msg(&["a1"]), msg(&["b1"]), msg(&["a2"]), msg(&["b2"])]
    );
}

#[test]
fn sub_cannot_send() {
    let mut h = Harness::new(SocketType::Sub);
    h.attach();
    assert_eq!(
        h.pattern.send(Frame::last("x"), &mut h.peers),
        Err(PatternError::NotSupported)
    );
    assert!(!h.has_out());
}

#[test]
fn sub_sends_all_its_subscriptions_to_a_new_or_reestablished_peer_in_order() {
    let mut h = Harness::new(SocketType::Sub);
    for t in ["b", "", "a", "a", "ab"] {
        h.set(topic(t));
    }
    let p = h.attach();
    // Each distinct topic once, in byte order.
    assert_eq!(h.take_all(p), [sub(""), sub("a"), sub("ab"), sub("b")]);
    h.hiccup(p);
    assert_eq!(h.take_all(p), [sub(""), sub("a"), sub("ab"), sub("b")]);
    h.hiccup(999); // unknown: ignored
}

#[test]
fn sub_resync_beyond_the_hwm_loses_no_subscription() {
    // libzmq writes them all at attach and drops what the SNDHWM refuses.
    let mut h = Harness::new(SocketType::Sub);
    let topics: Vec<String> = (0..50).map(|i| format!("t{i:02}")).collect();
    for t in &topics {
        h.set(topic(t));
    }
    let p = h.attach_with(b"", 4);
    assert_eq!(h.queued(p), 4);
    // While the resync runs: a cancel of a topic it has not reached is not sent (the
    // publisher never had it), and a new topic beyond it is sent once, by the resync.
    h.set(untopic("t30"));
    h.set(topic("t99"));
    // A topic it passed already goes the usual way (here: queued behind the full queue).
    h.set(untopic("t00"));
    let mut got = Vec::new();
    while let Some(m) = h.take(p) {
        got.push(m);
    }
    let mut want: Vec<common::Msg> = topics
        .iter()
        .filter(|t| *t != "t30")
        .map(|t| sub(t))
        .collect();
    // The cancel of t00 waited in the backlog, which goes before the rest of the resync.
    want.insert(4, cancel("t00"));
    want.push(sub("t99"));
    assert_eq!(got, want);
}

#[test]
fn sub_subscriptions_to_a_full_peer_wait_in_order_instead_of_being_dropped() {
    let mut h = Harness::new(SocketType::Sub);
    let p = h.attach_with(b"", 1);
    h.set(topic("A"));
    h.set(topic("B"));
    h.set(untopic("A"));
    h.set(topic("C"));
    let mut got = Vec::new();
    while let Some(m) = h.take(p) {
        got.push(m);
    }
    assert_eq!(got, [sub("A"), sub("B"), cancel("A"), sub("C")]);
}

#[test]
fn sub_backlog_of_a_stuck_peer_is_compacted_to_one_entry_per_topic() {
    let mut h = Harness::new(SocketType::Sub);
    let p = h.attach_with(b"", 1);
    h.set(topic("keep"));
    for round in 0..1000 {
        let t = format!("churn{}", round % 10);
        h.set(topic(&t));
        h.set(untopic(&t));
    }
    h.set(topic("last"));
    let mut got = Vec::new();
    while let Some(m) = h.take(p) {
        got.push(m);
    }
    assert!(got.len() <= 64 + 2, "{} messages", got.len());
    // What a publisher ends up with is what the subscriber has.
    let mut state = std::collections::BTreeSet::new();
    for m in &got {
        let (flag, t) = (m[0][0], m[0][1..].to_vec());
        if flag == 1 {
            state.insert(t);
        } else {
            state.remove(&t);
        }
    }
    let want: std::collections::BTreeSet<Vec<u8>> =
        [b"keep".to_vec(), b"last".to_vec()].into_iter().collect();
    assert_eq!(state, want);
}

#[test]
fn sub_invert_matching_receives_what_matches_no_subscription() {
    let mut h = Harness::new(SocketType::Sub);
    let a = h.attach();
    h.set(topic("prefix1"));
    h.set(PatternOption::InvertMatching(true));
    h.deliver(a, &["prefix1"]);
    h.deliver(a, &["p2"]);
    assert_eq!(h.recv_all(), [msg(&["p2"])]);
}

#[test]
fn invert_matching_on_both_ends() {
    // test_pub_invert_matching.
    let mut net = Net::new();
    let pubs = net.socket(SocketType::Pub);
    let sub1 = net.socket(SocketType::Sub);
    let sub2 = net.socket(SocketType::Sub);
    net.connect(pubs, sub1);
    net.connect(pubs, sub2);
    net.set(sub1, topic("prefix1"));
    net.set(sub2, topic("p2"));
    net.settle();
    net.send(pubs, &["prefix1"]);
    assert_eq!(net.recv(sub1), Ok(msg(&["prefix1"])));
    assert_eq!(net.recv(sub2), again());
    net.send(pubs, &["p2"]);
    assert_eq!(net.recv(sub2), Ok(msg(&["p2"])));
    assert_eq!(net.recv(sub1), again());
    for s in [pubs, sub1, sub2] {
        net.set(s, PatternOption::InvertMatching(true));
    }
    net.send(pubs, &["prefix1"]);
    assert_eq!(net.recv(sub2), Ok(msg(&["prefix1"])));
    assert_eq!(net.recv(sub1), again());
    net.send(pubs, &["p2"]);
    assert_eq!(net.recv(sub1), Ok(msg(&["p2"])));
    assert_eq!(net.recv(sub2), again());
}

#[test]
fn topics_count_of_independent_and_nested_prefixes() {
    // test_pubsub_topics_count.
    let mut net = Net::new();
    let p = net.socket(SocketType::Pub);
    let s = net.socket(SocketType::Sub);
    net.connect(p, s);
    let count = |net: &mut Net, i: usize| {
        net.settle();
        net.s[i].topics()
    };
    for t in ["topicprefix1", "topicprefix2", "topicprefix3"] {
        net.set(s, topic(t));
    }
    assert_eq!((count(&mut net, s), count(&mut net, p)), (3, 3));
    net.set(s, untopic("topicprefix3"));
    assert_eq!((count(&mut net, s), count(&mut net, p)), (2, 2));
    net.set(s, untopic("topicprefix1"));
    net.set(s, untopic("topicprefix2"));
    assert_eq!((count(&mut net, s), count(&mut net, p)), (0, 0));
    for t in ["a", "ab", "abc"] {
        net.set(s, topic(t));
    }
    assert_eq!((count(&mut net, s), count(&mut net, p)), (3, 3));
    for t in ["xyz", "xy", "x"] {
        net.set(s, topic(t));
    }
    assert_eq!((count(&mut net, s), count(&mut net, p)), (6, 6));
}

#[test]
fn pub_sub_end_to_end_with_a_reconnect() {
    let mut net = Net::new();
    let p = net.socket(SocketType::Pub);
    let s = net.socket(SocketType::Sub);
    net.set(s, topic("A"));
    net.set(s, topic("B"));
    let (_, sp) = net.connect(p, s);
    net.settle();
    net.send(p, &["A", "1"]);
    net.send(p, &["C", "2"]);
    net.send(p, &["B", "3"]);
    assert_eq!(net.recv(s), Ok(msg(&["A", "1"])));
    assert_eq!(net.recv(s), Ok(msg(&["B", "3"])));
    assert_eq!(net.recv(s), again());
    // The publisher restarts: a new one on the same connection (a hiccup).
    net.disconnect(s, sp);
    let p2 = net.socket(SocketType::Pub);
    net.connect(p2, s);
    net.settle();
    net.send(p2, &["B", "4"]);
    assert_eq!(net.recv(s), Ok(msg(&["B", "4"])));
    assert_eq!(net.s[p2].topics(), 2);
}

// ---- XSUB ------------------------------------------------------------------------------

#[test]
fn xsub_receives_everything_unfiltered() {
    let mut h = Harness::new(SocketType::XSub);
    let a = h.attach();
    h.deliver(a, &["anything", "goes"]);
    h.deliver(a, &[""]);
    assert_eq!(h.recv_all(), [msg(&["anything", "goes"]), msg(&[""])]);
    assert!(h.has_out());
}

#[test]
fn xsub_forwards_every_subscription_and_counted_cancels_to_every_peer() {
    let mut h = Harness::new(SocketType::XSub);
    let a = h.attach();
    let b = h.attach();
    h.send_bytes(&sub("A")).unwrap();
    h.send_bytes(&sub("A")).unwrap();
    h.send_bytes(&cancel("A")).unwrap();
    h.send_bytes(&cancel("Z")).unwrap();
    for p in [a, b] {
        assert_eq!(h.take_all(p), [sub("A"), sub("A")], "peer {p}");
    }
    h.send_bytes(&cancel("A")).unwrap();
    for p in [a, b] {
        assert_eq!(h.take_all(p), [cancel("A")], "peer {p}");
    }
    assert_eq!(h.topics(), 0);
}

#[test]
fn xsub_verbose_unsubscribe() {
    // test_xsub_verbose, through a VERBOSER XPUB.
    let mut net = Net::new();
    let xpub = net.socket(SocketType::XPub);
    let xsub = net.socket(SocketType::XSub);
    net.connect(xpub, xsub);
    net.set(xpub, PatternOption::XpubVerboser(true));
    let send = |net: &mut Net, m: common::Msg| {
        net.send_bytes(xsub, &m);
        net.settle();
    };
    send(&mut net, cancel("A"));
    assert_eq!(net.recv(xpub), again());
    send(&mut net, sub("A"));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    send(&mut net, sub("A"));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    send(&mut net, cancel("A"));
    assert_eq!(net.recv(xpub), again());
    send(&mut net, cancel("A"));
    assert_eq!(net.recv(xpub), Ok(cancel("A")));
    net.set(xsub, PatternOption::XsubVerboseUnsubscribe(true));
    send(&mut net, cancel("A"));
    assert_eq!(net.recv(xpub), Ok(cancel("A")));
    send(&mut net, sub("A"));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    send(&mut net, sub("A"));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    send(&mut net, cancel("A"));
    assert_eq!(net.recv(xpub), Ok(cancel("A")));
    send(&mut net, cancel("A"));
    assert_eq!(net.recv(xpub), Ok(cancel("A")));
}

#[test]
fn xsub_sends_user_messages_upstream_to_every_peer_lossy() {
    let mut h = Harness::new(SocketType::XSub);
    let a = h.attach();
    let full = h.attach_with(b"", 1);
    h.send(&["\x02hello", "world"]).unwrap();
    h.send(&["again"]).unwrap();
    assert_eq!(
        h.take_all(a),
        [msg(&["\x02hello", "world"]), msg(&["again"])]
    );
    assert_eq!(h.take_all(full), [msg(&["\x02hello", "world"])]);
    assert_eq!(h.topics(), 0);
}

#[test]
fn xsub_subscription_frames_inside_a_multipart_message_go_out_on_their_own() {
    let mut h = Harness::new(SocketType::XSub);
    let a = h.attach();
    let s1 = flagged(1, b"A");
    let s2 = flagged(1, b"B");
    let hello = Bytes::from_static(b"hello");
    let world = Bytes::from_static(b"world");
    // As libzmq, each frame starting with 0/1 is a subscription; the user frames stay one
    // message (libzmq would send them with the subscriptions between them). A user frame
    // is written once the next one comes, so `\x01B` goes out before `hello`.
    h.send_bytes(&[s1.clone(), hello.clone(), s2.clone(), world.clone()])
        .unwrap();
    assert_eq!(
        h.take_all(a),
        [vec![s1], vec![s2], vec![hello.clone(), world.clone()]]
    );
    // A subscription after a user frame was written waits for the message's end.
    h.send_bytes(&[
        hello.clone(),
        world.clone(),
        flagged(1, b"C"),
        world.clone(),
    ])
    .unwrap();
    assert_eq!(
        h.take_all(a),
        [vec![hello.clone(), world.clone(), world.clone()], sub("C")]
    );
    // A message ending in a subscription still ends its user part.
    h.send_bytes(&[hello.clone(), flagged(0, b"A")]).unwrap();
    assert_eq!(h.take_all(a), [cancel("A"), vec![hello]]);
    assert_eq!(h.topics(), 2);
}

#[test]
fn xsub_only_first_subscribe() {
    let mut h = Harness::with_options(SocketType::XSub, &[PatternOption::OnlyFirstSubscribe(true)]);
    let a = h.attach();
    let abc = Bytes::from_static(b"ABC");
    let zero_bc = flagged(0, b"BC");
    // A first frame of user data: the whole message is user data.
    h.send_bytes(&[abc.clone(), zero_bc.clone()]).unwrap();
    assert_eq!(h.take_all(a), [vec![abc.clone(), zero_bc]]);
    // A first frame that is a subscription: later frames are parsed too (as libzmq).
    h.send_bytes(&[flagged(1, b"BC"), flagged(1, b"CD")])
        .unwrap();
    assert_eq!(h.take_all(a), [sub("BC"), sub("CD")]);
    assert_eq!(h.topics(), 2);
}

#[test]
fn xsub_resends_on_attach_and_hiccup() {
    let mut h = Harness::new(SocketType::XSub);
    let a = h.attach();
    h.send_bytes(&sub("x")).unwrap();
    h.send_bytes(&sub("y")).unwrap();
    h.send_bytes(&sub("x")).unwrap();
    assert_eq!(h.take_all(a).len(), 3);
    let b = h.attach();
    assert_eq!(h.take_all(b), [sub("x"), sub("y")]);
    h.hiccup(a);
    assert_eq!(h.take_all(a), [sub("x"), sub("y")]);
}

#[test]
fn xsub_hiccup_of_a_peer_mid_message_waits_for_the_message_end() {
    let mut h = Harness::new(SocketType::XSub);
    let a = h.attach();
    h.send_bytes(&sub("x")).unwrap();
    h.take_all(a);
    h.send_frame(Bytes::from_static(b"u1"), true).unwrap();
    h.send_frame(Bytes::from_static(b"u2"), true).unwrap(); // u1 is written now
    h.hiccup(a);
    h.send_frame(Bytes::from_static(b"u3"), false).unwrap();
    assert_eq!(h.take_all(a), [msg(&["u1", "u2", "u3"]), sub("x")]);
}

#[test]
fn sub_forward_through_an_xpub_xsub_device() {
    // test_sub_forward.
    let mut net = Net::new();
    let xpub = net.socket(SocketType::XPub);
    let xsub = net.socket(SocketType::XSub);
    let publ = net.socket(SocketType::Pub);
    let subs = net.socket(SocketType::Sub);
    net.connect(publ, xsub);
    net.connect(xpub, subs);
    net.set(subs, topic(""));
    let s = net.recv(xpub).unwrap();
    assert_eq!(s, sub(""));
    net.send_bytes(xsub, &s);
    net.settle();
    net.send(publ, &[""]);
    let m = net.recv(xsub).unwrap();
    net.send_bytes(xpub, &m);
    assert_eq!(net.recv(subs), Ok(msg(&[""])));
}

#[test]
fn hwm_pubsub_blocking_with_nodrop_loses_nothing() {
    // test_hwm_pubsub's test_blocking: XPUB_NODROP, hwm 2000, 6000 sent, all received.
    let mut net = Net::new();
    let xpub = net.socket(SocketType::XPub);
    let s = net.socket(SocketType::Sub);
    net.set(xpub, PatternOption::XpubNodrop(true));
    let (xp, _) = net.connect_with(xpub, s, 2000, 0);
    net.set(s, topic(""));
    assert_eq!(net.recv(xpub), Ok(sub("")));
    let (mut sent, mut received, mut blocked) = (0, 0, 0);
    while sent < 6000 {
        match net.s[xpub].send(&[""]) {
            Ok(()) => sent += 1,
            Err(PatternError::Again(Some(_))) => {
                blocked += 1;
                net.settle();
                received += net.s[s].recv_all().len();
            }
            Err(e) => panic!("{e}"),
        }
    }
    net.settle();
    received += net.s[s].recv_all().len();
    assert!(blocked > 0);
    assert_eq!(received, 6000);
    assert_eq!(net.s[xpub].queued(xp), 0);
}
