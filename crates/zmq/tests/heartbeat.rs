//! ZMTP heartbeats (`ZMQ_HEARTBEAT_IVL`, `_TTL`, `_TIMEOUT`; RFC 37 PING and PONG), as
//! libzmq runs them (libzmq-notes 1.12).
//!
//! Scripted raw peers (`tests/raw/`) see what our sockets put on the wire: a PING every
//! interval carrying the TTL in deciseconds, traffic or not; a PONG echoing the PING's
//! context cut to 16 bytes; a silent peer closed after the interval and the timeout, then
//! the connection made again; a peer that sends traffic but no PONG kept; a peer's PING TTL
//! closing the connection when it goes silent; a peer we stopped reading (our queue is
//! full) not judged by its silence. Between our sockets heartbeats keep
//! connections up over tcp and ipc, with NULL and with CURVE. Against libzmq (pyzmq's
//! bundled 4.3.5, `tests/peers/`): libzmq's PINGs are answered, ours are, and a libzmq
//! process stopped with SIGSTOP is detected by the timeout; also publish-subscribe under
//! CURVE both ways.
//!
//! The libzmq tests need a Python with pyzmq (`cargo xtask tools`, or `ZMQ_INTEROP_PYTHON`);
//! without one they fail and say so.

mod peers;
mod raw;

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use peers::{assert_msg, hex, Libzmq, Msg, TIMEOUT_MS};
use raw::{RawListener, RawPeer, Wire, WAIT};
use zmq::CurveKeyPair;
use zmq::SocketType::{self, DEALER, PUB, ROUTER, SUB};

/// The heartbeat interval of most tests, in ms.
const IVL_MS: i32 = 100;

fn ms(n: i32) -> Duration {
    Duration::from_millis(n as u64)
}

fn socket(ctx: &zmq::Context, ty: SocketType) -> zmq::Socket {
    let s = ctx.socket(ty).unwrap();
    s.set_rcvtimeo(TIMEOUT_MS).unwrap();
    s.set_sndtimeo(TIMEOUT_MS).unwrap();
    s.set_linger(0).unwrap();
    s
}

fn frames(parts: &[&[u8]]) -> Msg {
    parts.iter().map(|p| p.to_vec()).collect()
}

fn listeners() -> [RawListener; 2] {
    [RawListener::tcp(), RawListener::ipc()]
}

/// A DEALER of ours connected to `listener`, and the raw ROUTER that accepted it, its
/// handshake done. Also returns when the raw peer started its handshake: our side cannot
/// have completed its own before.
fn connected_dealer(
    ctx: &zmq::Context,
    listener: &RawListener,
    configure: impl FnOnce(&zmq::Socket),
) -> (zmq::Socket, RawPeer, Instant) {
    let dealer = socket(ctx, DEALER);
    configure(&dealer);
    dealer.connect(&listener.endpoint()).unwrap();
    let mut peer = listener.accept(Wire::V31);
    let start = Instant::now();
    assert_eq!(peer.handshake("ROUTER", b""), b"DEALER");
    (dealer, peer, start)
}

#[test]
fn options_follow_libzmq() {
    let ctx = zmq::Context::new();
    let s = ctx.socket(DEALER).unwrap();
    assert_eq!(s.get_heartbeat_ivl().unwrap(), 0);
    assert_eq!(s.get_heartbeat_ttl().unwrap(), 0);
    assert_eq!(s.get_heartbeat_timeout().unwrap(), -1);
    s.set_heartbeat_ivl(250).unwrap();
    assert_eq!(s.get_heartbeat_ivl().unwrap(), 250);
    assert_eq!(s.set_heartbeat_ivl(-1), Err(zmq::Error::EINVAL));
    // The TTL travels in deciseconds: rounded down, as libzmq's getsockopt shows.
    for (set, got) in [(1999, 1900), (99, 0), (-99, 0), (6_553_599, 6_553_500)] {
        s.set_heartbeat_ttl(set).unwrap();
        assert_eq!(s.get_heartbeat_ttl().unwrap(), got, "set {set}");
    }
    assert_eq!(s.set_heartbeat_ttl(6_553_600), Err(zmq::Error::EINVAL));
    assert_eq!(s.set_heartbeat_ttl(-100), Err(zmq::Error::EINVAL));
    s.set_heartbeat_timeout(0).unwrap();
    assert_eq!(s.get_heartbeat_timeout().unwrap(), 0);
    assert_eq!(s.set_heartbeat_timeout(-1), Err(zmq::Error::EINVAL));

    let options: zmq::SocketOptions = serde_json::from_str(
        r#"{ "heartbeat_ivl": 1000, "heartbeat_ttl": 5000, "heartbeat_timeout": 3000 }"#,
    )
    .unwrap();
    s.set_options(&options).unwrap();
    assert_eq!(s.get_heartbeat_ivl().unwrap(), 1000);
    assert_eq!(s.get_heartbeat_ttl().unwrap(), 5000);
    assert_eq!(s.get_heartbeat_timeout().unwrap(), 3000);
    let bad: zmq::SocketOptions = serde_json::from_str(r#"{ "heartbeat_ttl": 7000000 }"#).unwrap();
    assert_eq!(s.set_options(&bad), Err(zmq::Error::EINVAL));
}

#[test]
fn a_ping_with_the_ttl_arrives_every_interval_over_tcp_and_ipc() {
    const PINGS: u32 = 6;
    let ctx = zmq::Context::new();
    for listener in listeners() {
        let (_dealer, mut peer, start) = connected_dealer(&ctx, &listener, |s| {
            s.set_heartbeat_ivl(IVL_MS).unwrap();
            s.set_heartbeat_ttl(1_550).unwrap();
        });
        let deadline = Instant::now() + WAIT;
        for k in 1..=PINGS {
            let frame = peer
                .recv_frame_until(deadline)
                .unwrap_or_else(|| panic!("{}: PING {k} did not come", listener.endpoint()));
            let at = start.elapsed();
            assert_eq!(frame.ping(), Some((15, Vec::new())), "TTL 1550 ms is 15 ds");
            // Without an answer within the timeout (the interval), we would hang up.
            peer.send_pong(b"");
            // Never early: the k-th PING is due k intervals after the handshake.
            assert!(
                at >= ms(IVL_MS) * k,
                "PING {k} came {at:?} after the handshake started"
            );
        }
    }
}

#[test]
fn our_pong_echoes_the_context_cut_to_16_bytes_and_pings_never_reach_the_application() {
    let ctx = zmq::Context::new();
    for listener in listeners() {
        let (dealer, mut peer, _) = connected_dealer(&ctx, &listener, |_| {});
        let long: Vec<u8> = (0..40).collect();
        for context in [&b""[..], b"12345", &long[..16], &long[..17], &long[..]] {
            peer.send_ping(0, context);
            let frame = peer.recv_frame().expect("a PONG");
            let cut = &context[..context.len().min(16)];
            assert_eq!(
                frame.pong().as_deref(),
                Some(cut),
                "context of {}",
                context.len()
            );
        }
        // PINGs in the middle of a message change nothing in it.
        peer.send_frame(false, true, b"one");
        peer.send_ping(0, b"mid");
        peer.send_frame(false, false, b"two");
        assert_eq!(peer.recv_frame().unwrap().pong(), Some(b"mid".to_vec()));
        assert_eq!(dealer.recv_multipart(0).unwrap(), frames(&[b"one", b"two"]));
        assert!(
            !dealer.get_events().unwrap().contains(zmq::POLLIN),
            "nothing but the message reached the application"
        );
    }
}

#[test]
fn a_silent_peer_is_dropped_after_interval_and_timeout_then_reconnected() {
    const TIMEOUT: i32 = 400;
    let ctx = zmq::Context::new();
    for listener in listeners() {
        let (dealer, mut silent, start) = connected_dealer(&ctx, &listener, |s| {
            s.set_heartbeat_ivl(IVL_MS).unwrap();
            s.set_heartbeat_timeout(TIMEOUT).unwrap();
            s.set_reconnect_ivl(50).unwrap();
        });
        // The peer says nothing from now on (it only reads, to see the end).
        silent.expect_closed(WAIT);
        let took = start.elapsed();
        assert!(
            took >= ms(IVL_MS + TIMEOUT),
            "closed {took:?} after the handshake, before the interval and the timeout"
        );
        // The connect's session reconnects, and what was queued meanwhile goes through.
        dealer.send(&b"after"[..], 0).unwrap();
        let mut next = listener.accept(Wire::V31);
        next.handshake("ROUTER", b"");
        assert_eq!(next.recv_msg(), frames(&[b"after"]));
        next.send_msg(&[b"welcome back"]);
        assert_eq!(dealer.recv_bytes(0).unwrap(), b"welcome back");
    }
}

#[test]
fn traffic_keeps_a_peer_that_never_pongs_and_does_not_stop_pings() {
    const TIMEOUT: i32 = 300;
    let ctx = zmq::Context::new();
    for listener in listeners() {
        let (dealer, mut peer, _) = connected_dealer(&ctx, &listener, |s| {
            s.set_heartbeat_ivl(IVL_MS).unwrap();
            s.set_heartbeat_timeout(TIMEOUT).unwrap();
        });
        // For 15 intervals both sides send a message every 20 ms; the peer never answers
        // a PING, but any frame is a sign of life.
        let end = Instant::now() + ms(15 * IVL_MS);
        let (mut pings, mut ours, mut sent) = (0, 0, 0u32);
        while Instant::now() < end {
            peer.send_msg(&[format!("peer-{sent}").as_bytes()]);
            dealer.send(format!("ours-{sent}").as_bytes(), 0).unwrap();
            sent += 1;
            let until = Instant::now() + ms(20);
            while let Some(frame) = peer.recv_frame_until(until) {
                if frame.ping().is_some() {
                    pings += 1;
                } else {
                    assert_eq!(frame.body, format!("ours-{ours}").as_bytes());
                    ours += 1;
                }
            }
        }
        assert!(pings >= 5, "{pings} PINGs in 15 intervals of traffic");
        for n in 0..sent {
            assert_eq!(
                dealer.recv_bytes(0).unwrap(),
                format!("peer-{n}").as_bytes(),
                "the connection stayed up"
            );
        }
        // Everything we sent arrived on this one connection.
        while ours < sent {
            let msg = peer.recv_msg();
            assert_eq!(msg, frames(&[format!("ours-{ours}").as_bytes()]));
            ours += 1;
        }
    }
}

#[test]
fn the_peers_ttl_closes_the_connection_when_it_goes_silent() {
    let ctx = zmq::Context::new();
    for listener in listeners() {
        // No heartbeat options of our own: the peer's TTL alone decides.
        let (dealer, mut peer, _) = connected_dealer(&ctx, &listener, |s| {
            s.set_reconnect_ivl(50).unwrap();
        });
        // TTL 0 sets no limit.
        peer.send_ping(0, b"zero");
        assert_eq!(peer.recv_frame().unwrap().pong(), Some(b"zero".to_vec()));
        let quiet = Instant::now() + ms(1_000);
        assert_eq!(peer.recv_frame_until(quiet), None, "still open, and quiet");

        let sent = Instant::now();
        peer.send_ping(5, b"ttl");
        assert_eq!(peer.recv_frame().unwrap().pong(), Some(b"ttl".to_vec()));
        peer.expect_closed(WAIT);
        let took = sent.elapsed();
        assert!(
            took >= ms(500),
            "closed {took:?} after a PING with TTL 500 ms"
        );

        // Then the connect is made again.
        let mut next = listener.accept(Wire::V31);
        next.handshake("ROUTER", b"");
        dealer.send(&b"again"[..], 0).unwrap();
        assert_eq!(next.recv_msg(), frames(&[b"again"]));
    }
}

#[test]
fn a_peer_we_stopped_reading_is_not_judged_by_its_silence() {
    const QUEUED: usize = 200;
    let ctx = zmq::Context::new();
    let listener = RawListener::tcp();
    let (dealer, mut peer, _) = connected_dealer(&ctx, &listener, |s| {
        s.set_heartbeat_ivl(IVL_MS).unwrap();
        s.set_heartbeat_timeout(2 * IVL_MS).unwrap();
        s.set_rcvhwm(5).unwrap();
    });
    // More than the DEALER's queue takes: we stop reading the peer, which then says
    // nothing (not even PONG) for 10 intervals while the application reads nothing.
    for n in 0..QUEUED {
        peer.send_msg(&[format!("m{n}").as_bytes()]);
    }
    let quiet = Instant::now() + ms(10 * IVL_MS);
    while let Some(frame) = peer.recv_frame_until(quiet) {
        assert!(frame.ping().is_some(), "only PINGs: {frame:?}");
    }
    // Nothing was lost: the connection stayed up.
    for n in 0..QUEUED {
        assert_eq!(dealer.recv_bytes(0).unwrap(), format!("m{n}").as_bytes());
    }
    // Reading again, the peer's silence counts: after the next PING and the timeout, the
    // connection is closed.
    peer.expect_closed(WAIT);
}

/// Our DEALER pings our ROUTER, which answers, through 15 idle intervals: the DEALER
/// would hang up after 3 unanswered ones, and the ROUTER name the new connection with a
/// new routing id. (Only one side pings: a PING counts as a sign of life too.)
fn heartbeats_keep_our_sockets_connected(curve: bool) {
    let ctx = zmq::Context::new();
    for transport in ["tcp://127.0.0.1:*", "ipc://*"] {
        let router = socket(&ctx, ROUTER);
        let dealer = socket(&ctx, DEALER);
        dealer.set_heartbeat_ivl(IVL_MS).unwrap();
        dealer.set_heartbeat_timeout(3 * IVL_MS).unwrap();
        // The ROUTER closes the connection if the DEALER's PINGs stop for a second.
        dealer.set_heartbeat_ttl(1_000).unwrap();
        if curve {
            let keys = CurveKeyPair::new().unwrap();
            router.set_curve_server(true).unwrap();
            router.set_curve_secretkey(&keys.secret_key).unwrap();
            let client = CurveKeyPair::new().unwrap();
            dealer.set_curve_serverkey(&keys.public_key).unwrap();
            dealer.set_curve_publickey(&client.public_key).unwrap();
            dealer.set_curve_secretkey(&client.secret_key).unwrap();
        }
        router.bind(transport).unwrap();
        dealer
            .connect(&router.get_last_endpoint().unwrap().unwrap())
            .unwrap();
        dealer.send(&b"first"[..], 0).unwrap();
        let first = router.recv_multipart(0).unwrap();
        assert_eq!(first[1], b"first");
        thread::sleep(ms(15 * IVL_MS));
        dealer.send(&b"second"[..], 0).unwrap();
        let second = router.recv_multipart(0).unwrap();
        assert_eq!(
            second,
            vec![first[0].clone(), b"second".to_vec()],
            "{transport} (CURVE: {curve}): the same connection"
        );
        router
            .send_multipart([first[0].clone(), b"reply".to_vec()], 0)
            .unwrap();
        assert_eq!(dealer.recv_bytes(0).unwrap(), b"reply");
    }
}

#[test]
fn heartbeats_between_our_sockets_over_tcp_and_ipc() {
    heartbeats_keep_our_sockets_connected(false);
}

#[test]
fn heartbeats_under_curve_between_our_sockets() {
    heartbeats_keep_our_sockets_connected(true);
}

// ---------------------------------------------------------------------------------------
// Against libzmq.

fn libzmq() -> Libzmq {
    Libzmq::start_script("libzmq_security_peer.py")
}

fn opt(py: &Libzmq, name: &str, option: &str, value: i32) {
    py.ok(&format!("opt {name} {option} int {value}"));
}

fn opt_bytes(py: &Libzmq, name: &str, option: &str, value: &[u8]) {
    py.ok(&format!("opt {name} {option} bytes {}", hex(value)));
}

/// The monitor events libzmq recorded for `name` and not yet consumed.
fn libzmq_events(py: &Libzmq, name: &str) -> String {
    py.ok(&format!("events {name}"))
}

/// Makes our `client` a CURVE client of libzmq's `server` socket.
fn curve_pair(py: &Libzmq, server: &str, client: &zmq::Socket) {
    let keys = CurveKeyPair::new().unwrap();
    opt(py, server, "CURVE_SERVER", 1);
    opt_bytes(py, server, "CURVE_SECRETKEY", &keys.secret_key);
    let ours = CurveKeyPair::new().unwrap();
    client.set_curve_serverkey(&keys.public_key).unwrap();
    client.set_curve_publickey(&ours.public_key).unwrap();
    client.set_curve_secretkey(&ours.secret_key).unwrap();
}

/// Makes libzmq's `client` a CURVE client of our `server` socket.
fn curve_pair_libzmq_client(py: &Libzmq, server: &zmq::Socket, client: &str) {
    let keys = CurveKeyPair::new().unwrap();
    server.set_curve_server(true).unwrap();
    server.set_curve_secretkey(&keys.secret_key).unwrap();
    let theirs = CurveKeyPair::new().unwrap();
    opt_bytes(py, client, "CURVE_SERVERKEY", &keys.public_key);
    opt_bytes(py, client, "CURVE_PUBLICKEY", &theirs.public_key);
    opt_bytes(py, client, "CURVE_SECRETKEY", &theirs.secret_key);
}

#[test]
fn libzmq_pings_us_and_we_answer() {
    for curve in [false, true] {
        let py = libzmq();
        let ctx = zmq::Context::new();
        let router = py.socket(ROUTER);
        opt(&py, &router, "HEARTBEAT_IVL", IVL_MS);
        opt(&py, &router, "HEARTBEAT_TIMEOUT", 3 * IVL_MS);
        let dealer = socket(&ctx, DEALER);
        if curve {
            curve_pair(&py, &router, &dealer);
        }
        py.ok(&format!("monitor {router}"));
        let ep = py.bind(&router, "tcp://127.0.0.1:*");
        dealer.connect(&ep).unwrap();
        dealer.send(&b"first"[..], 0).unwrap();
        let first = py.recv(&router);
        assert_eq!(first[1], b"first");
        // 15 intervals in which libzmq pings and would drop us after 3 unanswered.
        thread::sleep(ms(15 * IVL_MS));
        dealer.send(&b"second"[..], 0).unwrap();
        let second = py.recv(&router);
        assert_msg(
            &second,
            &[first[0].clone(), b"second".to_vec()],
            "the same connection",
        );
        let events = libzmq_events(&py, &router);
        assert!(
            !events.contains("DISCONNECTED"),
            "CURVE {curve}: libzmq saw {events}"
        );
        py.send(&router, &[first[0].clone(), b"reply".to_vec()]);
        assert_eq!(dealer.recv_bytes(0).unwrap(), b"reply");
    }
}

/// Continues a stopped process when dropped, so a failing test leaves none behind.
struct Stopped(u32);

impl Stopped {
    fn stop(pid: u32) -> Self {
        signal("-STOP", pid);
        Self(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        signal("-CONT", self.0);
    }
}

fn signal(which: &str, pid: u32) {
    let status = Command::new("kill")
        .args([which, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {which} {pid}");
}

#[test]
fn we_ping_libzmq_it_answers_and_a_stopped_libzmq_is_detected() {
    const TIMEOUT: i32 = 400;
    for curve in [false, true] {
        let py = libzmq();
        let ctx = zmq::Context::new();
        let router = socket(&ctx, ROUTER);
        router.set_router_mandatory(true).unwrap();
        router.set_heartbeat_ivl(IVL_MS).unwrap();
        router.set_heartbeat_timeout(TIMEOUT).unwrap();
        let dealer = py.socket(DEALER);
        opt_bytes(&py, &dealer, "ROUTING_ID", b"lz");
        if curve {
            curve_pair_libzmq_client(&py, &router, &dealer);
        }
        router.bind("tcp://127.0.0.1:*").unwrap();
        py.ok(&format!("monitor {dealer}"));
        py.connect(&dealer, &router.get_last_endpoint().unwrap().unwrap());
        py.send(&dealer, &frames(&[b"hi"]));
        assert_eq!(router.recv_multipart(0).unwrap(), frames(&[b"lz", b"hi"]));
        thread::sleep(ms(15 * IVL_MS));
        router.send_multipart([&b"lz"[..], b"still"], 0).unwrap();
        assert_msg(
            &py.recv(&dealer),
            &frames(&[b"still"]),
            "after 15 intervals",
        );
        let events = libzmq_events(&py, &dealer);
        assert!(
            !events.contains("DISCONNECTED"),
            "CURVE {curve}: libzmq saw {events}"
        );

        // A stopped libzmq answers nothing: our ROUTER drops it after the timeout.
        let stopped = Stopped::stop(py.pid());
        let since = Instant::now();
        loop {
            match router.send_multipart([&b"lz"[..], b"anyone?"], zmq::DONTWAIT) {
                Err(zmq::Error::EHOSTUNREACH) => break,
                Ok(()) | Err(zmq::Error::EAGAIN) => {}
                Err(e) => panic!("send: {e}"),
            }
            assert!(
                since.elapsed() < WAIT,
                "a stopped libzmq still counts as a peer"
            );
            thread::sleep(ms(20));
        }
        let took = since.elapsed();
        assert!(
            took >= ms(TIMEOUT / 2),
            "dropped {took:?} after the stop, before the timeout could run"
        );
        // Once continued, libzmq sees the close and connects again.
        drop(stopped);
        let since = Instant::now();
        while router
            .send_multipart([&b"lz"[..], b"back"], zmq::DONTWAIT)
            .is_err()
        {
            assert!(since.elapsed() < WAIT, "libzmq did not come back");
            thread::sleep(ms(20));
        }
        let mut got = py.recv(&dealer);
        // Messages sent before the stop was noticed may come first.
        while got == frames(&[b"anyone?"]) {
            got = py.recv(&dealer);
        }
        assert_msg(&got, &frames(&[b"back"]), "after libzmq came back");
    }
}

#[test]
fn pubsub_under_curve_with_libzmq_both_ways() {
    let py = libzmq();
    let ctx = zmq::Context::new();

    // Our PUB, libzmq's SUB: its SUBSCRIBE arrives sealed, our messages go out sealed.
    let publisher = socket(&ctx, PUB);
    let sub = py.socket(SUB);
    curve_pair_libzmq_client(&py, &publisher, &sub);
    opt_bytes(&py, &sub, "SUBSCRIBE", b"a");
    publisher.bind("tcp://127.0.0.1:*").unwrap();
    py.connect(&sub, &publisher.get_last_endpoint().unwrap().unwrap());
    let since = Instant::now();
    let got = loop {
        assert!(since.elapsed() < WAIT, "libzmq's SUB got nothing");
        publisher.send(&b"b-skipped"[..], 0).unwrap();
        publisher
            .send_multipart([&b"a-topic"[..], b"body"], 0)
            .unwrap();
        if let Some(msg) = py.try_recv(&sub, 50) {
            break msg;
        }
    };
    assert_msg(&got, &frames(&[b"a-topic", b"body"]), "libzmq's CURVE SUB");

    // libzmq's PUB, our SUB.
    let libzmq_pub = py.socket(PUB);
    let sub = socket(&ctx, SUB);
    curve_pair(&py, &libzmq_pub, &sub);
    sub.set_subscribe(b"a").unwrap();
    sub.set_rcvtimeo(50).unwrap();
    let ep = py.bind(&libzmq_pub, "tcp://127.0.0.1:*");
    sub.connect(&ep).unwrap();
    let since = Instant::now();
    let got = loop {
        assert!(since.elapsed() < WAIT, "our SUB got nothing");
        py.send(&libzmq_pub, &frames(&[b"b-skipped"]));
        py.send(&libzmq_pub, &frames(&[b"a-topic", b"body"]));
        if let Ok(msg) = sub.recv_multipart(0) {
            break msg;
        }
    };
    assert_msg(&got, &frames(&[b"a-topic", b"body"]), "our CURVE SUB");
}
