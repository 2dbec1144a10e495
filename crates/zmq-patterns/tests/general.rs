//! What every pattern shares: construction, errors, and which options each type takes.

mod common;

use common::Harness;
use zmq_patterns::{new_pattern, Frame, PatternError, PatternOption, SocketType};

const BUILT: [SocketType; 7] = [
    SocketType::Pair,
    SocketType::Req,
    SocketType::Rep,
    SocketType::Dealer,
    SocketType::Router,
    SocketType::Push,
    SocketType::Pull,
];

#[test]
fn new_pattern_builds_the_finished_types_and_refuses_the_rest() {
    for t in SocketType::ALL {
        match new_pattern(t, 42) {
            Ok(p) => {
                assert!(BUILT.contains(&t), "{t}");
                assert_eq!(p.socket_type(), t);
            }
            Err(e) => {
                assert!(!BUILT.contains(&t), "{t}");
                assert_eq!(e, PatternError::NotSupported);
            }
        }
    }
}

#[test]
fn options_apply_to_the_types_libzmq_takes_them_on() {
    use PatternOption::*;
    let table: [(PatternOption, &[SocketType]); 5] = [
        (
            RouterMandatory(true),
            &[SocketType::Router, SocketType::Rep],
        ),
        (RouterHandover(true), &[SocketType::Router, SocketType::Rep]),
        (
            ProbeRouter(true),
            &[
                SocketType::Router,
                SocketType::Dealer,
                SocketType::Req,
                SocketType::Rep,
            ],
        ),
        (ReqCorrelate(true), &[SocketType::Req]),
        (ReqRelaxed(true), &[SocketType::Req]),
    ];
    for t in BUILT {
        let mut p = new_pattern(t, 0).unwrap();
        for (option, types) in &table {
            for option in [*option, off(*option)] {
                let want = if types.contains(&t) {
                    Ok(())
                } else {
                    Err(PatternError::Invalid)
                };
                assert_eq!(p.set_option(option), want, "{t} {option:?}");
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
        _ => o,
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
    for t in BUILT {
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
