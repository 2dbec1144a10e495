//! Publish-subscribe end to end: PUB, SUB, XPUB and XSUB over tcp, ipc and inproc, and
//! against libzmq (pyzmq's bundled 4.3.x, which speaks ZMTP 3.1: SUBSCRIBE/CANCEL commands).

mod common;
mod peers;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{bind, socket, TRANSPORTS};
use peers::Libzmq;

/// Sends `probe` from `publisher` until `subscriber` receives it (the slow-joiner problem:
/// subscriptions take a moment to arrive).
fn sync(publisher: &zmq::Socket, subscriber: &zmq::Socket, probe: &[u8]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    subscriber.set_rcvtimeo(20).unwrap();
    loop {
        assert!(Instant::now() < deadline, "no subscription arrived in time");
        publisher.send(probe, 0).unwrap();
        // Earlier probes of other syncs may still be arriving.
        if subscriber.recv_bytes(0).is_ok_and(|msg| msg == probe) {
            break;
        }
    }
    subscriber.set_rcvtimeo(5000).unwrap();
}

/// The next message that is not `probe`.
fn recv_skipping(subscriber: &zmq::Socket, probe: &[u8]) -> Vec<u8> {
    loop {
        let msg = subscriber.recv_bytes(0).expect("a message");
        if msg != probe {
            return msg;
        }
    }
}

fn nothing_more(subscriber: &zmq::Socket, probe: &[u8]) {
    subscriber.set_rcvtimeo(200).unwrap();
    loop {
        match subscriber.recv_bytes(0) {
            Ok(m) if m == probe => continue,
            Ok(m) => panic!("unexpected message {:?}", String::from_utf8_lossy(&m)),
            Err(e) => {
                assert_eq!(e, zmq::Error::EAGAIN);
                break;
            }
        }
    }
    subscriber.set_rcvtimeo(5000).unwrap();
}

#[test]
fn sub_receives_matching_prefixes_then_unsubscribes_and_subscribes_to_all() {
    for transport in TRANSPORTS {
        let ctx = zmq::Context::new();
        let publisher = socket(&ctx, zmq::PUB);
        let subscriber = socket(&ctx, zmq::SUB);
        let ep = bind(&publisher, transport);
        subscriber.connect(&ep).unwrap();
        subscriber.set_subscribe(b"A").unwrap();
        assert_eq!(subscriber.get_topics_count().unwrap(), 1);
        sync(&publisher, &subscriber, b"A-probe");
        for m in ["B1", "A1", "C", "AB"] {
            publisher.send(m, 0).unwrap();
        }
        assert_eq!(recv_skipping(&subscriber, b"A-probe"), b"A1", "{transport}");
        assert_eq!(subscriber.recv_bytes(0).unwrap(), b"AB", "{transport}");
        nothing_more(&subscriber, b"A-probe");
        assert_eq!(publisher.get_topics_count().unwrap(), 1, "{transport}");

        subscriber.set_unsubscribe(b"A").unwrap();
        subscriber.set_subscribe(b"C").unwrap();
        sync(&publisher, &subscriber, b"C-probe");
        publisher.send("A2", 0).unwrap();
        publisher.send("C2", 0).unwrap();
        assert_eq!(recv_skipping(&subscriber, b"C-probe"), b"C2", "{transport}");
        nothing_more(&subscriber, b"C-probe");

        subscriber.set_subscribe(b"").unwrap();
        sync(&publisher, &subscriber, b"anything");
        publisher.send("Q", 0).unwrap();
        assert_eq!(recv_skipping(&subscriber, b"anything"), b"Q", "{transport}");
        // SUB cannot send and PUB cannot receive.
        assert_eq!(subscriber.send("x", 0).unwrap_err(), zmq::Error::ENOTSUP);
        assert_eq!(publisher.recv_bytes(0).unwrap_err(), zmq::Error::ENOTSUP);
    }
}

#[test]
fn multiple_subscribers_each_get_their_topics() {
    for transport in TRANSPORTS {
        let ctx = zmq::Context::new();
        let publisher = socket(&ctx, zmq::PUB);
        let ep = bind(&publisher, transport);
        let subs: Vec<zmq::Socket> = ["X", "Y", ""]
            .iter()
            .map(|topic| {
                let s = socket(&ctx, zmq::SUB);
                s.connect(&ep).unwrap();
                s.set_subscribe(topic.as_bytes()).unwrap();
                s
            })
            .collect();
        for (s, probe) in subs.iter().zip([&b"X-probe"[..], b"Y-probe", b"Y-probe"]) {
            sync(&publisher, s, probe);
        }
        publisher.send("X1", 0).unwrap();
        publisher.send("Y1", 0).unwrap();
        let skip = |s: &zmq::Socket| loop {
            let m = s.recv_bytes(0).unwrap();
            if !m.ends_with(b"-probe") {
                return m;
            }
        };
        assert_eq!(skip(&subs[0]), b"X1", "{transport}");
        assert_eq!(skip(&subs[1]), b"Y1", "{transport}");
        assert_eq!(skip(&subs[2]), b"X1", "{transport}");
        assert_eq!(skip(&subs[2]), b"Y1", "{transport}");
    }
}

#[test]
fn xpub_sees_subscriptions_and_user_messages() {
    for transport in TRANSPORTS {
        let ctx = zmq::Context::new();
        let xpub = socket(&ctx, zmq::XPUB);
        let ep = bind(&xpub, transport);
        let subscriber = socket(&ctx, zmq::SUB);
        subscriber.connect(&ep).unwrap();
        subscriber.set_subscribe(b"T").unwrap();
        assert_eq!(xpub.recv_bytes(0).unwrap(), b"\x01T", "{transport}");
        xpub.send("T1", 0).unwrap();
        xpub.send("U1", 0).unwrap();
        assert_eq!(subscriber.recv_bytes(0).unwrap(), b"T1", "{transport}");
        subscriber.set_unsubscribe(b"T").unwrap();
        assert_eq!(xpub.recv_bytes(0).unwrap(), b"\x00T", "{transport}");

        let xsub = socket(&ctx, zmq::XSUB);
        xsub.connect(&ep).unwrap();
        xsub.send(&b"\x01V"[..], 0).unwrap();
        xsub.send("hello", 0).unwrap();
        assert_eq!(xpub.recv_bytes(0).unwrap(), b"\x01V", "{transport}");
        assert_eq!(xpub.recv_bytes(0).unwrap(), b"hello", "{transport}");
        xpub.send("V1", 0).unwrap();
        assert_eq!(xsub.recv_bytes(0).unwrap(), b"V1", "{transport}");
    }
}

#[test]
fn xsub_xpub_forwarder_with_a_poll_loop() {
    for transport in TRANSPORTS {
        let ctx = zmq::Context::new();
        let publisher = socket(&ctx, zmq::PUB);
        let upstream = bind(&publisher, transport);
        let xsub = socket(&ctx, zmq::XSUB);
        xsub.connect(&upstream).unwrap();
        let xpub = socket(&ctx, zmq::XPUB);
        let downstream = bind(&xpub, transport);
        let stop = Arc::new(AtomicBool::new(false));
        let proxy = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let mut items = [
                        xsub.as_poll_item(zmq::POLLIN),
                        xpub.as_poll_item(zmq::POLLIN),
                    ];
                    zmq::poll(&mut items, 20).unwrap();
                    let (a, b) = (items[0].is_readable(), items[1].is_readable());
                    if a {
                        while let Ok(m) = xsub.recv_multipart(zmq::DONTWAIT) {
                            xpub.send_multipart(m, 0).unwrap();
                        }
                    }
                    if b {
                        while let Ok(m) = xpub.recv_multipart(zmq::DONTWAIT) {
                            xsub.send_multipart(m, 0).unwrap();
                        }
                    }
                }
            })
        };
        let subscriber = socket(&ctx, zmq::SUB);
        subscriber.connect(&downstream).unwrap();
        subscriber.set_subscribe(b"P").unwrap();
        sync(&publisher, &subscriber, b"P-probe");
        publisher.send("Q1", 0).unwrap();
        publisher.send("P1", 0).unwrap();
        assert_eq!(recv_skipping(&subscriber, b"P-probe"), b"P1", "{transport}");
        stop.store(true, Ordering::Relaxed);
        proxy.join().unwrap();
    }
}

#[test]
fn subscriptions_are_resent_when_the_publisher_restarts() {
    for transport in ["tcp", "ipc"] {
        let ctx = zmq::Context::new();
        let publisher = socket(&ctx, zmq::PUB);
        let ep = bind(&publisher, transport);
        let subscriber = socket(&ctx, zmq::SUB);
        subscriber.set_reconnect_ivl(20).unwrap();
        subscriber.connect(&ep).unwrap();
        subscriber.set_subscribe(b"A").unwrap();
        subscriber.set_subscribe(b"B").unwrap();
        sync(&publisher, &subscriber, b"A-probe");
        drop(publisher);
        thread::sleep(Duration::from_millis(100));
        let publisher = socket(&ctx, zmq::PUB);
        publisher.bind(&ep).unwrap();
        sync(&publisher, &subscriber, b"A-probe");
        // Both subscriptions came back, each once: one cancel removes each.
        sync(&publisher, &subscriber, b"B-probe");
        subscriber.set_unsubscribe(b"A").unwrap();
        subscriber.set_subscribe(b"C").unwrap();
        sync(&publisher, &subscriber, b"C-probe");
        publisher.send("A1", 0).unwrap();
        publisher.send("C1", 0).unwrap();
        loop {
            let m = subscriber.recv_bytes(0).unwrap();
            assert_ne!(m, b"A1", "{transport}: a subscription was counted twice");
            if m == b"C1" {
                break;
            }
        }
        assert_eq!(publisher.get_topics_count().unwrap(), 2, "{transport}");
    }
}

#[test]
fn a_slow_subscriber_loses_messages_at_hwm_without_blocking_the_publisher() {
    for transport in TRANSPORTS {
        let ctx = zmq::Context::new();
        let publisher = socket(&ctx, zmq::PUB);
        publisher.set_sndhwm(10).unwrap();
        let ep = bind(&publisher, transport);
        let subscriber = socket(&ctx, zmq::SUB);
        subscriber.set_rcvhwm(10).unwrap();
        subscriber.connect(&ep).unwrap();
        subscriber.set_subscribe(b"").unwrap();
        sync(&publisher, &subscriber, b"probe");
        let sent = 20_000;
        let payload = vec![7u8; 1024];
        let started = Instant::now();
        for _ in 0..sent {
            publisher.send(&payload[..], 0).unwrap();
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{transport}");
        subscriber.set_rcvtimeo(300).unwrap();
        let mut got = 0;
        while subscriber.recv_bytes(0).is_ok() {
            got += 1;
        }
        assert!(got < sent, "{transport}: {got} of {sent} arrived");
    }
}

// Against libzmq.

fn py_sync_recv(py: &Libzmq, name: &str, ours: &zmq::Socket, probe: &[u8]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "libzmq's SUB got nothing");
        ours.send(probe, 0).unwrap();
        if let Some(msg) = py.try_recv(name, 50) {
            assert_eq!(msg, vec![probe.to_vec()]);
            return;
        }
    }
}

#[test]
fn our_pub_to_libzmq_sub() {
    let py = Libzmq::start();
    let ctx = zmq::Context::new();
    let ours = socket(&ctx, zmq::PUB);
    let theirs = py.socket(zmq::SUB);
    py.set_bytes(&theirs, "SUBSCRIBE", b"A");
    let bound = py.bind(&theirs, "tcp://127.0.0.1:*");
    ours.connect(&bound).unwrap();
    py_sync_recv(&py, &theirs, &ours, b"A-probe");
    ours.send("B1", 0).unwrap();
    ours.send("A1", 0).unwrap();
    loop {
        let m = py.recv(&theirs);
        if m != vec![b"A-probe".to_vec()] {
            assert_eq!(m, vec![b"A1".to_vec()]);
            break;
        }
    }
    assert_eq!(ours.get_topics_count().unwrap(), 1);
}

#[test]
fn libzmq_pub_to_our_sub() {
    let py = Libzmq::start();
    let ctx = zmq::Context::new();
    let theirs = py.socket(zmq::PUB);
    let bound = py.bind(&theirs, "tcp://127.0.0.1:*");
    let ours = socket(&ctx, zmq::SUB);
    ours.connect(&bound).unwrap();
    ours.set_subscribe(b"A").unwrap();
    ours.set_rcvtimeo(50).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "our SUB got nothing from libzmq");
        py.send(&theirs, &[b"A-probe".to_vec()]);
        if let Ok(m) = ours.recv_bytes(0) {
            assert_eq!(m, b"A-probe");
            break;
        }
    }
    ours.set_rcvtimeo(5000).unwrap();
    py.send(&theirs, &[b"B1".to_vec()]);
    py.send(&theirs, &[b"A1".to_vec()]);
    assert_eq!(recv_skipping(&ours, b"A-probe"), b"A1");
}

#[test]
fn our_sub_to_libzmq_xpub_sends_subscribe_and_cancel() {
    let py = Libzmq::start();
    let ctx = zmq::Context::new();
    let theirs = py.socket(zmq::XPUB);
    let bound = py.bind(&theirs, "tcp://127.0.0.1:*");
    let ours = socket(&ctx, zmq::SUB);
    ours.connect(&bound).unwrap();
    ours.set_subscribe(b"T").unwrap();
    assert_eq!(py.recv(&theirs), vec![b"\x01T".to_vec()]);
    py.send(&theirs, &[b"T1".to_vec()]);
    assert_eq!(ours.recv_bytes(0).unwrap(), b"T1");
    ours.set_unsubscribe(b"T").unwrap();
    assert_eq!(py.recv(&theirs), vec![b"\x00T".to_vec()]);
}

/// Subscriptions and cancels travel sealed inside CURVE MESSAGE boxes, and publishers still
/// filter on them; an XPUB still sees them as notifications.
#[test]
fn publish_subscribe_under_curve() {
    for transport in ["tcp", "ipc"] {
        let ctx = zmq::Context::new();
        let server_keys = zmq::CurveKeyPair::new().unwrap();
        let xpub = socket(&ctx, zmq::XPUB);
        xpub.set_curve_server(true).unwrap();
        xpub.set_curve_secretkey(&server_keys.secret_key).unwrap();
        let ep = bind(&xpub, transport);
        let sub = socket(&ctx, zmq::SUB);
        let client_keys = zmq::CurveKeyPair::new().unwrap();
        sub.set_curve_serverkey(&server_keys.public_key).unwrap();
        sub.set_curve_publickey(&client_keys.public_key).unwrap();
        sub.set_curve_secretkey(&client_keys.secret_key).unwrap();
        sub.connect(&ep).unwrap();

        sub.set_subscribe(b"A").unwrap();
        assert_eq!(xpub.recv_bytes(0).unwrap(), b"\x01A", "{transport}");
        sub.set_subscribe(b"probe").unwrap();
        assert_eq!(xpub.recv_bytes(0).unwrap(), b"\x01probe");
        sync(&xpub, &sub, b"probe");
        for msg in [&b"A1"[..], b"B1", b"A2"] {
            xpub.send(msg, 0).unwrap();
        }
        assert_eq!(recv_skipping(&sub, b"probe"), b"A1");
        assert_eq!(recv_skipping(&sub, b"probe"), b"A2");

        sub.set_unsubscribe(b"A").unwrap();
        assert_eq!(xpub.recv_bytes(0).unwrap(), b"\x00A", "{transport}");
        sub.set_subscribe(b"B").unwrap();
        assert_eq!(xpub.recv_bytes(0).unwrap(), b"\x01B");
        for msg in [&b"A3"[..], b"B2"] {
            xpub.send(msg, 0).unwrap();
        }
        assert_eq!(recv_skipping(&sub, b"probe"), b"B2", "{transport}");
        nothing_more(&sub, b"probe");
    }
}
