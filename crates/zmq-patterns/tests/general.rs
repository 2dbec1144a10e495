//! What every pattern shares: construction, errors, and which options each type takes.

mod common;

use bytes::Bytes;
use common::Harness;
use zmq_patterns::{new_pattern, Frame, PatternError, PatternOption, SocketType};

const BUILT: [SocketType; 8] = [
    SocketType::Pair,
    SocketType::Req,
    SocketType::Rep,
    SocketType::Dealer,
    SocketType::Router,
    SocketType::Push,
    SocketType::Pull,
    SocketType::Stream,
];

const PUBSUB: [SocketType; 4] = [
    SocketType::Pub,
    SocketType::Sub,
    SocketType::XPub,
    SocketType::XSub,
];

#[test]
fn new_pattern_builds_the_finished_types_and_refuses_the_rest() {
    for t in SocketType::ALL {
        match new_pattern(t, 42) {
            Ok(p) => {
                assert!(BUILT.contains(&t) || PUBSUB.contains(&t), "{t}");
                assert_eq!(p.socket_type(), t);
            }
            Err(e) => {
                assert!(!BUILT.contains(&t) && !PUBSUB.contains(&t), "{t}");
                assert_eq!(e, PatternError::NotSupported);
            }
        }
    }
}

#[test]
fn options_apply_to_the_types_libzmq_takes_them_on() {
    use PatternOption::*;
    use SocketType::{Dealer, Pub, Rep, Req, Router, Sub, XPub, XSub};
    let topic = || Bytes::from_static(b"A");
    let table: Vec<(PatternOption, &[SocketType])> = vec![
        (RouterMandatory(true), &[Router, Rep]),
        (RouterHandover(true), &[Router, Rep]),
        (ProbeRouter(true), &[Router, Dealer, Req, Rep]),
        (ReqCorrelate(true), &[Req]),
        (ReqRelaxed(true), &[Req]),
        // SUBSCRIBE on XPUB/PUB needs XPUB_MANUAL (tested with the publishers).
        (Subscribe(topic()), &[Sub]),
        (Unsubscribe(topic()), &[Sub]),
        (XpubVerbose(true), &[Pub, XPub]),
        (XpubVerboser(true), &[Pub, XPub]),
        (XpubManual(true), &[Pub, XPub]),
        (XpubManualLastValue(true), &[Pub, XPub]),
        (XpubNodrop(true), &[Pub, XPub]),
        (XpubWelcomeMsg(topic()), &[Pub, XPub]),
        (XsubVerboseUnsubscribe(true), &[XSub]),
        (InvertMatching(true), &[Pub, XPub, Sub, XSub]),
        (OnlyFirstSubscribe(true), &[Pub, XPub, XSub]),
    ];
    for t in BUILT.into_iter().chain(PUBSUB) {
        for (option, types) in &table {
            let mut p = new_pattern(t, 0).unwrap();
            for option in [option.clone(), off(option.clone())] {
                let want = if types.contains(&t) {
                    Ok(())
                } else {
                    Err(PatternError::Invalid)
                };
                assert_eq!(p.set_option(option.clone()), want, "{t} {option:?}");
            }
        }
    }
}

fn off(o: PatternOption) -> PatternOption {
    use PatternOption::*;
    match o {
        RouterMandatory(_) => RouterMandatory(false),
        RouterHandover(_) => RouterHandover(false),
        ProbeRouter(_) => ProbeRouter(false),
        ReqCorrelate(_) => ReqCorrelate(false),
        ReqRelaxed(_) => ReqRelaxed(false),
        XpubVerbose(_) => XpubVerbose(false),
        XpubVerboser(_) => XpubVerboser(false),
        XpubManual(_) => XpubManual(false),
        XpubManualLastValue(_) => XpubManualLastValue(false),
        XpubNodrop(_) => XpubNodrop(false),
        XpubWelcomeMsg(_) => XpubWelcomeMsg(Bytes::new()),
        XsubVerboseUnsubscribe(_) => XsubVerboseUnsubscribe(false),
        InvertMatching(_) => InvertMatching(false),
        OnlyFirstSubscribe(_) => OnlyFirstSubscribe(false),
        _ => o,
    }
}

#[test]
fn topics_count_is_for_publish_subscribe_types_only() {
    for t in BUILT {
        let mut h = Harness::new(t);
        assert_eq!(
            h.pattern.topics_count(&mut h.peers),
            Err(PatternError::Invalid),
            "{t}"
        );
        // The defaults of the new methods do nothing.
        let p = h.attach();
        h.pattern.hiccuped(p, &mut h.peers);
        h.pattern.flush(&mut h.peers);
        assert_eq!(h.queued(p), 0, "{t}");
    }
    for t in PUBSUB {
        let mut h = Harness::new(t);
        assert_eq!(h.pattern.topics_count(&mut h.peers), Ok(0), "{t}");
    }
}

#[test]
fn errno_values_are_libzmqs_on_linux() {
    assert_eq!(PatternError::Again(None).errno(), 11);
    assert_eq!(PatternError::Again(Some(Frame::last("x"))).errno(), 11);
    assert_eq!(PatternError::HostUnreachable.errno(), 113);
    assert_eq!(PatternError::NotSupported.errno(), 95);
    assert_eq!(PatternError::Invalid.errno(), 22);
    assert_eq!(PatternError::Fsm.errno(), 156_384_763);
}

#[test]
fn errors_say_what_to_do_and_hand_back_frames() {
    let errors = [
        PatternError::Again(None),
        PatternError::Again(Some(Frame::last("x"))),
        PatternError::Fsm,
        PatternError::HostUnreachable,
        PatternError::NotSupported,
        PatternError::Invalid,
    ];
    for e in &errors {
        let text = e.to_string();
        assert!(text.len() > 20, "{e:?}: {text}");
        let _: &dyn std::error::Error = e;
    }
    assert!(errors[1].to_string().contains("retry"));
    assert!(errors[2].to_string().contains("REQ_RELAXED"));
    assert_eq!(errors[1].clone().into_frame(), Some(Frame::last("x")));
    assert_eq!(errors[0].clone().into_frame(), None);
    assert_eq!(PatternError::Fsm.into_frame(), None);
}

#[test]
fn patterns_are_send() {
    fn is_send<T: Send>(_: &T) {}
    let p = new_pattern(SocketType::Router, 1).unwrap();
    is_send(&p);
}

#[test]
fn attaching_a_peer_twice_changes_nothing() {
    use zmq_patterns::{Attach, PeerInfo};
    for t in BUILT.into_iter().chain(PUBSUB) {
        let mut h = Harness::new(t);
        let p = h.attach_with(b"X", 0);
        let again = h.pattern.attach(p, PeerInfo::new("Y", None), &mut h.peers);
        assert_eq!(again, Attach::Accepted, "{t}");
        if t == SocketType::Router {
            h.deliver(p, &["hi"]);
            assert_eq!(h.recv().unwrap(), common::msg(&["X", "hi"]));
        }
    }
}

#[test]
fn a_frame_sent_from_a_place_is_taken_once_sent_and_left_on_again() {
    // PUSH and DEALER take it through the load balancer to `Peers::write_from`; PAIR and
    // REQ through `Pattern::send_from`'s default.
    for t in [
        SocketType::Push,
        SocketType::Dealer,
        SocketType::Pair,
        SocketType::Req,
    ] {
        let mut h = Harness::new(t);
        let mut place = Frame::new(Bytes::from_static(b"hello"), false);
        assert_eq!(
            h.pattern.send_from(&mut place, &mut h.peers),
            Err(PatternError::Again(None)),
            "{t:?}: no peer"
        );
        assert_eq!(
            place,
            Frame::new(Bytes::from_static(b"hello"), false),
            "{t:?}: left in place for the next try"
        );
        let peer = h.attach();
        assert_eq!(
            h.pattern.send_from(&mut place, &mut h.peers),
            Ok(()),
            "{t:?}"
        );
        assert_eq!(place, Frame::default(), "{t:?}: taken");
        let sent = h.take(peer).expect("the message reached the peer");
        assert_eq!(sent.last().map(|b| &b[..]), Some(&b"hello"[..]), "{t:?}");
    }
}
