//! XPUB, after libzmq's `test_xpub_verbose`, `test_xpub_manual`,
//! `test_xpub_manual_last_value`, `test_xpub_nodrop`, `test_xpub_welcome_msg` and the
//! subscription-forwarding rules of its `xpub.cpp`.

mod common;

use bytes::Bytes;
use common::{again, cancel, flagged, msg, sub, Harness, Net};
use zmq_patterns::{Frame, PatternError, PatternOption, SocketType, XPUB_PENDING_LIMIT};

fn topic(t: &str) -> PatternOption {
    PatternOption::Subscribe(Bytes::copy_from_slice(t.as_bytes()))
}

fn untopic(t: &str) -> PatternOption {
    PatternOption::Unsubscribe(Bytes::copy_from_slice(t.as_bytes()))
}

#[test]
fn xpub_passes_the_first_subscription_and_the_last_cancel_of_each_topic() {
    let mut h = Harness::new(SocketType::XPub);
    let a = h.attach();
    let b = h.attach();
    h.deliver_bytes(a, &sub("A"));
    h.deliver_bytes(b, &sub("A"));
    h.deliver_bytes(a, &sub("A"));
    h.deliver_bytes(b, &sub("B"));
    assert_eq!(h.recv_all(), [sub("A"), sub("B")]);
    h.deliver_bytes(a, &cancel("A"));
    assert_eq!(h.recv(), again(), "b still wants A");
    h.deliver_bytes(b, &cancel("A"));
    assert_eq!(h.recv_all(), [cancel("A")]);
    // A cancel of a topic the peer did not have passes nothing (libzmq would pass it, and
    // a proxy would then cancel a topic other peers may still want).
    h.deliver_bytes(a, &cancel("B"));
    h.deliver_bytes(a, &cancel("nothing"));
    assert_eq!(h.recv(), again());
    h.send(&["B"]).unwrap();
    assert_eq!(h.take_all(b), [msg(&["B"])]);
}

#[test]
fn xpub_verbose_one_sub() {
    let mut net = Net::new();
    let xpub = net.socket(SocketType::XPub);
    let s = net.socket(SocketType::Sub);
    net.connect(xpub, s);
    net.set(s, topic("A"));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    net.set(s, topic("B"));
    assert_eq!(net.recv(xpub), Ok(sub("B")));
    net.set(s, topic("A"));
    assert_eq!(net.recv(xpub), again(), "a duplicate is filtered");
    net.set(xpub, PatternOption::XpubVerbose(true));
    net.set(s, topic("A"));
    assert_eq!(net.recv(xpub), Ok(sub("A")), "VERBOSE passes the duplicate");
    net.send(xpub, &["A"]);
    net.send(xpub, &["B"]);
    assert_eq!(net.recv(s), Ok(msg(&["A"])));
    assert_eq!(net.recv(s), Ok(msg(&["B"])));
}

#[test]
fn xpub_verbose_two_subs() {
    let mut net = Net::new();
    let xpub = net.socket(SocketType::XPub);
    let s0 = net.socket(SocketType::Sub);
    let s1 = net.socket(SocketType::Sub);
    net.connect(xpub, s0);
    net.connect(xpub, s1);
    net.set(s0, topic("A"));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    net.set(s1, topic("A"));
    assert_eq!(net.recv(xpub), again());
    net.set(s0, topic("B"));
    assert_eq!(net.recv(xpub), Ok(sub("B")));
    net.set(xpub, PatternOption::XpubVerbose(true));
    net.set(s1, topic("A"));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    net.send(xpub, &["A"]);
    net.send(xpub, &["B"]);
    assert_eq!(net.recv(s0), Ok(msg(&["A"])));
    assert_eq!(net.recv(s1), Ok(msg(&["A"])));
    assert_eq!(net.recv(s0), Ok(msg(&["B"])));
}

#[test]
fn xpub_verboser_one_sub() {
    let mut net = Net::new();
    let xpub = net.socket(SocketType::XPub);
    let s = net.socket(SocketType::Sub);
    net.connect(xpub, s);
    net.set(s, untopic("A"));
    assert_eq!(net.recv(xpub), again(), "filtered by the SUB: it had no A");
    net.set(s, topic("A"));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    net.set(s, topic("A"));
    assert_eq!(net.recv(xpub), again());
    net.set(s, untopic("A"));
    net.set(s, untopic("A"));
    assert_eq!(net.recv(xpub), Ok(cancel("A")));
    assert_eq!(
        net.recv(xpub),
        again(),
        "the SUB sends only the last cancel"
    );
    net.set(s, untopic("A"));
    assert_eq!(net.recv(xpub), again());
    net.set(xpub, PatternOption::XpubVerboser(true));
    net.set(s, topic("A"));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    net.send(xpub, &["A"]);
    assert_eq!(net.recv(s), Ok(msg(&["A"])));
    net.set(s, untopic("A"));
    assert_eq!(net.recv(xpub), Ok(cancel("A")));
    net.set(s, untopic("A"));
    assert_eq!(net.recv(xpub), again());
}

#[test]
fn xpub_verboser_two_subs() {
    let mut net = Net::new();
    let xpub = net.socket(SocketType::XPub);
    let s0 = net.socket(SocketType::Sub);
    let s1 = net.socket(SocketType::Sub);
    net.connect(xpub, s0);
    net.connect(xpub, s1);
    net.set(s0, topic("A"));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    net.set(s1, topic("A"));
    assert_eq!(net.recv(xpub), again());
    net.set(s0, untopic("A"));
    assert_eq!(net.recv(xpub), again(), "s1 is still subscribed");
    net.set(s1, untopic("A"));
    assert_eq!(net.recv(xpub), Ok(cancel("A")));
    assert_eq!(net.recv(xpub), again());
    net.set(xpub, PatternOption::XpubVerboser(true));
    net.set(s0, topic("A"));
    net.set(s1, topic("A"));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    net.send(xpub, &["A"]);
    assert_eq!(net.recv(s0), Ok(msg(&["A"])));
    assert_eq!(net.recv(s1), Ok(msg(&["A"])));
    net.set(s1, untopic("A"));
    assert_eq!(net.recv(xpub), Ok(cancel("A")));
    net.set(s0, untopic("A"));
    assert_eq!(net.recv(xpub), Ok(cancel("A")));
    net.set(s1, untopic("A"));
    assert_eq!(net.recv(xpub), again());
}

#[test]
fn xpub_verbose_off_turns_verboser_off() {
    let mut h = Harness::with_options(
        SocketType::XPub,
        &[
            PatternOption::XpubVerboser(true),
            PatternOption::XpubVerbose(true),
        ],
    );
    let a = h.attach();
    let b = h.attach();
    h.deliver_bytes(a, &sub("A"));
    h.deliver_bytes(b, &sub("A"));
    h.deliver_bytes(a, &cancel("A"));
    assert_eq!(
        h.recv_all(),
        [sub("A"), sub("A")],
        "VERBOSE: cancels are not verbose"
    );
}

#[test]
fn xpub_cancels_the_topics_of_a_peer_that_goes_away() {
    let mut h = Harness::new(SocketType::XPub);
    let a = h.attach();
    let b = h.attach();
    h.deliver_bytes(a, &sub("A"));
    h.deliver_bytes(a, &sub("B"));
    h.deliver_bytes(a, &sub(""));
    h.deliver_bytes(b, &sub("A"));
    assert_eq!(h.recv_all().len(), 3);
    h.detach(a);
    assert_eq!(h.recv_all(), [cancel(""), cancel("B")], "b still wants A");
    assert_eq!(h.topics(), 1);
    h.detach(b);
    assert_eq!(h.recv_all(), [cancel("A")]);
    assert_eq!(h.topics(), 0);
}

#[test]
fn xpub_verboser_cancels_every_topic_of_a_peer_that_goes_away() {
    let mut h = Harness::with_options(SocketType::XPub, &[PatternOption::XpubVerboser(true)]);
    let a = h.attach();
    let b = h.attach();
    h.deliver_bytes(a, &sub("A"));
    h.deliver_bytes(b, &sub("A"));
    h.deliver_bytes(a, &sub("B"));
    assert_eq!(h.recv_all().len(), 3);
    h.detach(a);
    assert_eq!(h.recv_all(), [cancel("A"), cancel("B")]);
}

#[test]
fn pub_does_not_deliver_subscriptions_or_cancels() {
    let mut h = Harness::new(SocketType::Pub);
    let a = h.attach();
    h.deliver_bytes(a, &sub("A"));
    h.detach(a);
    assert!(!h.has_in());
    assert_eq!(h.recv_frame(), Err(PatternError::NotSupported));
}

#[test]
fn xpub_delivers_user_messages_whole() {
    // test_xpub_manual's test_user_message, and multipart ones.
    let mut h = Harness::new(SocketType::XPub);
    let a = h.attach();
    h.deliver(a, &["\x02A"]);
    h.deliver(a, &["hello", "world"]);
    h.deliver(a, &[""]);
    assert_eq!(
        h.recv_all(),
        [msg(&["\x02A"]), msg(&["hello", "world"]), msg(&[""])]
    );
}

#[test]
fn xpub_subscription_frames_inside_a_multipart_message() {
    let mut h = Harness::new(SocketType::XPub);
    let a = h.attach();
    let hello = Bytes::from_static(b"hello");
    let world = Bytes::from_static(b"world");
    h.deliver_bytes(
        a,
        &[
            hello.clone(),
            flagged(1, b"A"),
            world.clone(),
            flagged(1, b"B"),
        ],
    );
    // The user frames stay one message, at the place of the first.
    assert_eq!(
        h.recv_all(),
        [vec![hello.clone(), world.clone()], sub("A"), sub("B")]
    );
    // A message whose subscriptions pass nothing (duplicates) still ends its user part.
    h.deliver_bytes(a, &[hello.clone(), flagged(1, b"A")]);
    h.deliver(a, &["next"]);
    assert_eq!(h.recv_all(), [vec![hello], msg(&["next"])]);
    assert_eq!(h.topics(), 2);
}

#[test]
fn xpub_only_first_subscribe() {
    // test_xpub_manual's test_user_message_multi.
    let mut net = Net::new();
    let xpub = net.socket(SocketType::XPub);
    let xsub = net.socket(SocketType::XSub);
    net.set(xpub, PatternOption::OnlyFirstSubscribe(true));
    net.set(xsub, PatternOption::OnlyFirstSubscribe(true));
    net.connect(xpub, xsub);
    let common = Bytes::from_static(b"ABC");
    for second in [flagged(0, b"BC"), flagged(1, b"BC")] {
        net.send_bytes(xsub, &[common.clone(), second.clone()]);
        assert_eq!(net.recv(xpub), Ok(vec![common.clone(), second]));
    }
    net.send_bytes(xsub, &[flagged(1, b"BC"), flagged(1, b"CD")]);
    assert_eq!(net.recv(xpub), Ok(sub("BC")));
    assert_eq!(net.recv(xpub), Ok(sub("CD")));
    net.send_bytes(xsub, &[flagged(0, b"BC"), flagged(0, b"CD")]);
    assert_eq!(net.recv(xpub), Ok(cancel("BC")));
    assert_eq!(net.recv(xpub), Ok(cancel("CD")));
    // And directly: a peer's message of user data first, subscription-looking frames after.
    let mut h = Harness::with_options(SocketType::XPub, &[PatternOption::OnlyFirstSubscribe(true)]);
    let a = h.attach();
    h.deliver_bytes(a, &[common.clone(), flagged(1, b"X")]);
    assert_eq!(h.recv_all(), [vec![common, flagged(1, b"X")]]);
    assert_eq!(h.topics(), 0);
}

#[test]
fn xpub_nodrop() {
    // test_xpub_nodrop: hwm 2000.
    let hwm = 2000;
    let mut net = Net::new();
    let xpub = net.socket(SocketType::XPub);
    let s = net.socket(SocketType::Sub);
    net.set(xpub, PatternOption::XpubNodrop(true));
    net.connect_with(xpub, s, hwm, 0);
    net.set(s, topic(""));
    assert_eq!(net.recv(xpub), Ok(sub("")));
    for _ in 0..hwm - 1 {
        net.send(xpub, &[""]);
    }
    net.settle();
    assert_eq!(net.s[s].recv_all().len(), hwm - 1);
    // Now without the subscriber reading: sends fail at the HWM, with nothing lost.
    let mut sent = 0;
    loop {
        match net.s[xpub].send(&["x", "y"]) {
            Ok(()) => sent += 1,
            Err(PatternError::Again(Some(f))) => {
                assert_eq!(f, Frame::more("x"));
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(sent, hwm);
    net.settle();
    let got = net.s[s].recv_all();
    assert_eq!(got.len(), sent);
    assert!(got.iter().all(|m| *m == msg(&["x", "y"])));
}

#[test]
fn xpub_welcome_msg() {
    let mut net = Net::new();
    let xpub = net.socket(SocketType::XPub);
    let s = net.socket(SocketType::Sub);
    net.set(
        xpub,
        PatternOption::XpubWelcomeMsg(Bytes::from_static(b"W")),
    );
    net.set(s, topic("W"));
    net.connect(xpub, s);
    assert_eq!(net.recv(xpub), Ok(sub("W")));
    assert_eq!(net.recv(s), Ok(msg(&["W"])));
    // Empty turns it off.
    let mut h = Harness::with_options(
        SocketType::XPub,
        &[
            PatternOption::XpubWelcomeMsg(Bytes::from_static(b"W")),
            PatternOption::XpubWelcomeMsg(Bytes::new()),
        ],
    );
    let p = h.attach();
    assert_eq!(h.queued(p), 0);
}

#[test]
fn xpub_manual_basic() {
    let mut net = Net::new();
    let xpub = net.socket(SocketType::XPub);
    let xsub = net.socket(SocketType::XSub);
    net.set(xpub, PatternOption::XpubManual(true));
    net.connect(xpub, xsub);
    net.send_bytes(xsub, &sub("A"));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    net.set(xpub, topic("B"));
    net.send(xpub, &["A"]);
    net.send(xpub, &["B"]);
    assert_eq!(net.recv(xsub), Ok(msg(&["B"])));
    assert_eq!(net.recv(xsub), again());
}

#[test]
fn xpub_manual_unsubscribe_and_cleanup_on_disconnect() {
    // test_unsubscribe_manual and test_unsubscribe_cleanup.
    let mut net = Net::new();
    let xpub = net.socket(SocketType::XPub);
    let xsub = net.socket(SocketType::XSub);
    net.set(xpub, PatternOption::XpubManual(true));
    net.connect(xpub, xsub);
    net.send_bytes(xsub, &sub("A"));
    net.send_bytes(xsub, &sub("B"));
    assert_eq!(net.recv(xpub), Ok(sub("A")));
    net.set(xpub, topic("XA"));
    assert_eq!(net.recv(xpub), Ok(sub("B")));
    net.set(xpub, topic("XB"));
    net.send_bytes(xsub, &cancel("A"));
    assert_eq!(net.recv(xpub), Ok(cancel("A")));
    net.set(xpub, untopic("XA"));
    net.send(xpub, &["XA"]);
    net.send(xpub, &["XB"]);
    assert_eq!(net.recv(xsub), Ok(msg(&["XB"])));
    assert_eq!(net.recv(xsub), again());
    assert_eq!(net.s[xpub].topics(), 1);
    net.close(xsub);
    // The peer's own subscriptions are cancelled; the real ones it had are removed.
    assert_eq!(net.recv(xpub), Ok(cancel("B")));
    assert_eq!(net.recv(xpub), again());
    assert_eq!(net.s[xpub].topics(), 0);
    // No last peer now: this does nothing.
    net.set(xpub, untopic("XB"));
    net.set(xpub, topic("XB"));
    assert_eq!(net.s[xpub].topics(), 0);
    // A new subscriber.
    let xsub2 = net.socket(SocketType::XSub);
    net.connect(xpub, xsub2);
    net.send_bytes(xsub2, &sub("B"));
    assert_eq!(net.recv(xpub), Ok(sub("B")));
    net.set(xpub, topic("XB"));
    net.send(xpub, &["XA"]);
    net.send(xpub, &["XB"]);
    assert_eq!(net.recv(xsub2), Ok(msg(&["XB"])));
    assert_eq!(net.recv(xsub2), again());
}

#[test]
fn xpub_manual_passes_every_subscription_and_user_messages_leave_the_last_peer() {
    let mut h = Harness::with_options(SocketType::XPub, &[PatternOption::XpubManual(true)]);
    let a = h.attach();
    let b = h.attach();
    h.deliver_bytes(a, &sub("A"));
    h.deliver_bytes(a, &sub("A"));
    h.deliver(b, &["user"]);
    h.deliver_bytes(a, &cancel("nope"));
    assert_eq!(h.recv().unwrap(), sub("A"));
    // A user message between subscriptions does not move the last peer (libzmq's pending
    // pipe list gets out of step here).
    assert_eq!(h.recv().unwrap(), msg(&["user"]));
    h.set(topic("x"));
    h.send(&["x"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["x"])]);
    assert_eq!(h.take_all(b), Vec::<common::Msg>::new());
    // Every subscription, duplicates and unknown cancels included.
    assert_eq!(h.recv().unwrap(), sub("A"));
    assert_eq!(h.recv().unwrap(), cancel("nope"));
    assert_eq!(h.topics(), 1, "nothing applies unless the application says");
}

#[test]
fn xpub_manual_last_peer_gone_before_the_application_subscribes_it() {
    let mut h = Harness::with_options(SocketType::XPub, &[PatternOption::XpubManual(true)]);
    let a = h.attach();
    h.deliver_bytes(a, &sub("A"));
    assert_eq!(h.recv().unwrap(), sub("A"));
    h.detach(a);
    h.set(topic("A"));
    assert_eq!(h.topics(), 0);
    assert_eq!(h.recv().unwrap(), cancel("A"));
}

#[test]
fn xpub_manual_another_peer_leaving_keeps_the_last_peer() {
    // libzmq clears the last pipe whenever a peer with manual subscriptions goes; here only
    // when that peer is the last one.
    let mut h = Harness::with_options(SocketType::XPub, &[PatternOption::XpubManual(true)]);
    let a = h.attach();
    let b = h.attach();
    h.deliver_bytes(b, &sub("B"));
    assert_eq!(h.recv().unwrap(), sub("B"));
    h.deliver_bytes(a, &sub("A"));
    assert_eq!(h.recv().unwrap(), sub("A"));
    h.detach(b);
    h.set(topic("A"));
    h.send(&["A"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["A"])]);
}

#[test]
fn subscribe_on_xpub_needs_manual() {
    let mut h = Harness::new(SocketType::XPub);
    assert_eq!(h.pattern.set_option(topic("A")), Err(PatternError::Invalid));
    assert_eq!(
        h.pattern.set_option(untopic("A")),
        Err(PatternError::Invalid)
    );
    h.pattern
        .set_option(PatternOption::XpubManualLastValue(true))
        .unwrap();
    assert_eq!(h.pattern.set_option(topic("A")), Ok(()));
}

/// An XSUB-XPUB proxy with XPUB_MANUAL(_LAST_VALUE), a PUB upstream and two SUBs.
fn manual_proxy(last_value: bool) -> (Net, [usize; 5]) {
    let mut net = Net::new();
    let xsub = net.socket(SocketType::XSub);
    let xpub = net.socket(SocketType::XPub);
    let option = if last_value {
        PatternOption::XpubManualLastValue(true)
    } else {
        PatternOption::XpubManual(true)
    };
    net.set(xpub, option);
    let publ = net.socket(SocketType::Pub);
    net.connect(publ, xsub);
    let sub1 = net.socket(SocketType::Sub);
    let sub2 = net.socket(SocketType::Sub);
    net.connect(xpub, sub1);
    net.connect(xpub, sub2);
    (net, [xsub, xpub, publ, sub1, sub2])
}

/// The proxy reads a notification, confirms it (manual), and forwards it upstream.
fn proxy_confirms(net: &mut Net, xpub: usize, xsub: usize, want: common::Msg) {
    assert_eq!(net.recv(xpub), Ok(want.clone()));
    let t = Bytes::copy_from_slice(&want[0][1..]);
    if want[0][0] == 1 {
        net.set(xpub, PatternOption::Subscribe(t));
    } else {
        net.set(xpub, PatternOption::Unsubscribe(t));
    }
    net.send_bytes(xsub, &want);
    net.settle();
}

fn proxy_unsubscribe_on_disconnect(last_value: bool) {
    let (mut net, [xsub, xpub, publ, sub1, sub2]) = manual_proxy(last_value);
    net.set(sub1, topic("1"));
    proxy_confirms(&mut net, xpub, xsub, sub("1"));
    net.set(sub2, topic("1"));
    proxy_confirms(&mut net, xpub, xsub, sub("1"));
    net.send(publ, &["1", "X"]);
    let m = net.recv(xsub).unwrap();
    assert_eq!(m, msg(&["1", "X"]));
    net.send_bytes(xpub, &m);
    if last_value {
        // The first message after a subscription goes only to its peer: sub2.
        net.send_bytes(xpub, &m);
        assert_eq!(net.recv(sub2), Ok(m.clone()));
        assert_eq!(net.recv(sub2), Ok(m.clone()));
        assert_eq!(net.recv(sub1), Ok(m.clone()));
        assert_eq!(net.recv(sub1), again());
    } else {
        assert_eq!(net.recv(sub2), Ok(m.clone()));
        assert_eq!(net.recv(sub1), Ok(m.clone()));
    }
    net.close(sub1);
    net.close(sub2);
    proxy_confirms(&mut net, xpub, xsub, cancel("1"));
    proxy_confirms(&mut net, xpub, xsub, cancel("1"));
    net.send(publ, &["1", "X"]);
    assert_eq!(net.recv(xsub), again(), "the publisher filters it out now");
}

#[test]
fn xpub_manual_proxy_unsubscribe_on_disconnect() {
    proxy_unsubscribe_on_disconnect(false);
}

#[test]
fn xpub_manual_last_value_proxy_unsubscribe_on_disconnect() {
    proxy_unsubscribe_on_disconnect(true);
}

#[test]
fn xpub_manual_last_value_missing_subscriptions() {
    // test_xpub_manual_last_value's test_missing_subscriptions: the message after the
    // second subscription goes to its peer only, which does not match it.
    let (mut net, [xsub, xpub, publ, sub1, sub2]) = manual_proxy(true);
    net.set(sub1, topic("1"));
    proxy_confirms(&mut net, xpub, xsub, sub("1"));
    net.set(sub2, topic("2"));
    proxy_confirms(&mut net, xpub, xsub, sub("2"));
    net.send(publ, &["1", "X"]);
    net.send(publ, &["2", "X"]);
    for _ in 0..2 {
        let m = net.recv(xsub).unwrap();
        net.send_bytes(xpub, &m);
    }
    assert_eq!(net.recv(sub2), Ok(msg(&["2", "X"])));
    assert_eq!(net.recv(sub1), again());
}

#[test]
fn xpub_manual_last_value_survives_a_blocked_send() {
    let mut h = Harness::with_options(
        SocketType::XPub,
        &[
            PatternOption::XpubManualLastValue(true),
            PatternOption::XpubNodrop(true),
        ],
    );
    let a = h.attach_with(b"", 1);
    let b = h.attach();
    h.deliver_bytes(a, &sub("t"));
    assert_eq!(h.recv().unwrap(), sub("t"));
    h.set(topic("t"));
    h.deliver_bytes(b, &sub("t"));
    assert_eq!(h.recv().unwrap(), sub("t"));
    h.set(topic("t"));
    h.send(&["t1"]).unwrap(); // b only
    h.send(&["t2"]).unwrap(); // both; a is full now
    h.deliver_bytes(a, &sub("u"));
    assert_eq!(h.recv().unwrap(), sub("u"));
    h.set(topic("u"));
    assert!(matches!(h.send(&["u1"]), Err(PatternError::Again(_))));
    h.take(a);
    // The retry still goes to the last peer only (libzmq forgets it on EAGAIN).
    h.send(&["u1"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["u1"])]);
    assert_eq!(h.take_all(b), [msg(&["t1"]), msg(&["t2"])]);
}

#[test]
fn xpub_stops_reading_peers_while_the_application_does_not_receive() {
    let mut h = Harness::new(SocketType::XPub);
    let a = h.attach();
    let n = XPUB_PENDING_LIMIT + 500;
    for i in 0..n {
        h.deliver_bytes(a, &sub(&format!("t{i}")));
    }
    assert!(h.has_in());
    assert_eq!(
        h.topics(),
        XPUB_PENDING_LIMIT,
        "the rest waits in the peer's queue"
    );
    assert_eq!(h.peers.q(a).inbound.len(), n - XPUB_PENDING_LIMIT);
    let got = h.recv_all();
    assert_eq!(got.len(), n);
    assert_eq!(h.topics(), n);
    // A PUB reads everything (it keeps nothing for the application).
    let mut p = Harness::new(SocketType::Pub);
    let a = p.attach();
    for i in 0..n {
        p.deliver_bytes(a, &sub(&format!("t{i}")));
    }
    assert_eq!(p.topics(), n);
}

#[test]
fn xpub_invert_matching_sends_to_the_peers_that_match_nothing() {
    let mut h = Harness::with_options(SocketType::XPub, &[PatternOption::InvertMatching(true)]);
    let a = h.attach();
    let b = h.attach();
    let c = h.attach();
    h.deliver_bytes(a, &sub("a"));
    h.deliver_bytes(b, &sub("b"));
    h.recv_all();
    h.send(&["a1", "x"]).unwrap();
    assert_eq!(h.take_all(a), Vec::<common::Msg>::new());
    assert_eq!(h.take_all(b), [msg(&["a1", "x"])]);
    assert_eq!(h.take_all(c), [msg(&["a1", "x"])]);
}

#[test]
fn xpub_hiccup_forgets_the_peers_subscriptions_and_welcomes_it_again() {
    let mut h = Harness::with_options(
        SocketType::XPub,
        &[PatternOption::XpubWelcomeMsg(Bytes::from_static(b"hi"))],
    );
    let a = h.attach();
    let b = h.attach();
    assert_eq!(h.take_all(a), [msg(&["hi"])]);
    h.deliver_bytes(a, &sub("A"));
    h.deliver_bytes(a, &sub("B"));
    h.deliver_bytes(b, &sub("B"));
    assert_eq!(h.recv_all(), [sub("A"), sub("B")]);
    h.hiccup(a);
    assert_eq!(h.recv_all(), [cancel("A")], "b still wants B");
    assert_eq!(h.take_all(a), [msg(&["hi"])]);
    h.send(&["A"]).unwrap();
    h.send(&["B"]).unwrap();
    assert_eq!(h.take_all(a), Vec::<common::Msg>::new());
    // The new party subscribes for itself.
    h.deliver_bytes(a, &sub("A"));
    assert_eq!(h.recv_all(), [sub("A")]);
    h.send(&["A"]).unwrap();
    assert_eq!(h.take_all(a), [msg(&["A"])]);
    h.hiccup(999);
}
