//! The proxy (`zmq::proxy*`, `zmq::Proxy`), after libzmq's `test_proxy*.cpp`: a
//! ROUTER/DEALER broker with several REQ clients and REP workers, an XSUB/XPUB forwarder
//! (subscriptions upstream, messages downstream), a PULL/PUSH streamer at small
//! high-water marks (nothing lost), a capture socket that sees everything, one socket as
//! both sides, steering (PAUSE, RESUME, STATISTICS with exact counts, TERMINATE, with REP
//! and PAIR control sockets), TERMINATE while the backend is blocked, and ETERM; over
//! tcp, ipc and inproc. Against libzmq (pyzmq's bundled 4.3.5): our forwarder between
//! libzmq's PUB and SUB, libzmq's `zmq.proxy` between ours, and our broker with libzmq's
//! REQ clients and our REP workers, and our REQ clients and libzmq's REP workers.
//!
//! The libzmq tests need a Python with pyzmq (`cargo xtask tools`, or
//! `ZMQ_INTEROP_PYTHON`); without one they fail and say so.

mod common;
mod peers;

use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::{bind, endpoint, endpoint_file, socket, IpcFile, Transport, TIMEOUT_MS, TRANSPORTS};
use peers::{Libzmq, Msg};
use zmq::SocketType::{DEALER, PAIR, PUB, PULL, PUSH, REP, REQ, ROUTER, SUB, XPUB, XSUB};
use zmq::{ProxyStatistics, SideStatistics};

/// A proxy running in its own thread, steered through an inproc PAIR.
struct Running {
    steer: zmq::Socket,
    handle: JoinHandle<zmq::Result<()>>,
}

impl Running {
    fn start(
        ctx: &zmq::Context,
        frontend: zmq::Socket,
        backend: zmq::Socket,
        capture: Option<zmq::Socket>,
    ) -> Self {
        let name = endpoint("inproc");
        let steer = socket(ctx, PAIR);
        steer.bind(&name).unwrap();
        let control = socket(ctx, PAIR);
        control.connect(&name).unwrap();
        let handle = thread::spawn(move || {
            let mut proxy = zmq::Proxy::new(&frontend, &backend).control(&control);
            if let Some(capture) = &capture {
                proxy = proxy.capture(capture);
            }
            proxy.run()
        });
        Self { steer, handle }
    }

    fn statistics(&self) -> ProxyStatistics {
        self.steer.send("STATISTICS", 0).unwrap();
        let reply = self.steer.recv_multipart(0).unwrap();
        ProxyStatistics::from_reply(&reply).unwrap()
    }

    fn terminate(self) {
        self.steer.send("TERMINATE", 0).unwrap();
        join_within(self.handle, "the proxy after TERMINATE").unwrap();
    }
}

/// Joins a thread, failing the test if it has not ended within 30 s.
fn join_within<T>(handle: JoinHandle<T>, what: &str) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !handle.is_finished() {
        assert!(Instant::now() < deadline, "{what} did not end in 30 s");
        thread::sleep(Duration::from_millis(5));
    }
    handle.join().unwrap_or_else(|_| panic!("{what} panicked"))
}

fn msg(parts: &[&str]) -> Msg {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// Sends `probe` from `publisher` until `subscriber` receives it (subscriptions take a
/// moment to travel upstream).
fn sync(publisher: &zmq::Socket, subscriber: &zmq::Socket, probe: &[u8]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    subscriber.set_rcvtimeo(20).unwrap();
    loop {
        assert!(Instant::now() < deadline, "no subscription arrived in time");
        publisher.send(probe, 0).unwrap();
        if subscriber.recv_bytes(0).is_ok_and(|m| m == probe) {
            break;
        }
    }
    subscriber.set_rcvtimeo(TIMEOUT_MS).unwrap();
}

/// The next message that is not `probe`.
fn recv_skipping(subscriber: &zmq::Socket, probe: &[u8]) -> Vec<u8> {
    loop {
        let m = subscriber.recv_bytes(0).unwrap();
        if m != probe {
            return m;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Our sockets on every side.

/// REQ clients, a ROUTER/DEALER proxy, REP workers (libzmq's `test_proxy.cpp` shape):
/// every request gets its own reply, and every worker takes part.
#[test]
fn router_dealer_broker_with_several_clients_and_workers() {
    const CLIENTS: usize = 3;
    const WORKERS: usize = 3;
    const REQUESTS: usize = 200;
    for transport in TRANSPORTS {
        let ctx = zmq::Context::new();
        let frontend = socket(&ctx, ROUTER);
        let front = bind(&frontend, transport);
        let backend = socket(&ctx, DEALER);
        let back = bind(&backend, transport);
        let proxy = Running::start(&ctx, frontend, backend, None);
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let rep = socket(&ctx, REP);
                rep.connect(&back).unwrap();
                thread::spawn(move || {
                    let mut served = 0;
                    loop {
                        let request = rep.recv_multipart(0).unwrap();
                        if request == msg(&["stop"]) {
                            rep.send("stopped", 0).unwrap();
                            // Kept open until every worker has stopped, so that no stop
                            // request goes to a worker that is gone.
                            return (served, rep);
                        }
                        let mut reply = request;
                        reply.push(format!("worker-{w}").into_bytes());
                        rep.send_multipart(reply, 0).unwrap();
                        served += 1;
                    }
                })
            })
            .collect();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let req = socket(&ctx, REQ);
                req.connect(&front).unwrap();
                thread::spawn(move || {
                    for i in 0..REQUESTS {
                        let request = msg(&["", &format!("client-{c}"), &i.to_string()]);
                        req.send_multipart(&request, 0).unwrap();
                        let reply = req.recv_multipart(0).unwrap();
                        assert_eq!(&reply[..3], &request[..], "{transport}: client {c}");
                        assert!(reply[3].starts_with(b"worker-"), "{transport}");
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().expect("a client failed");
        }
        // A DEALER deals round-robin: WORKERS stop requests reach each worker once.
        let stopper = socket(&ctx, REQ);
        stopper.connect(&front).unwrap();
        for _ in 0..WORKERS {
            stopper.send("stop", 0).unwrap();
            assert_eq!(stopper.recv_bytes(0).unwrap(), b"stopped");
        }
        let (served, _reps): (Vec<usize>, Vec<zmq::Socket>) = workers
            .into_iter()
            .map(|w| w.join().expect("a worker failed"))
            .unzip();
        assert_eq!(
            served.iter().sum::<usize>(),
            CLIENTS * REQUESTS,
            "{transport}"
        );
        assert!(served.iter().all(|&n| n > 0), "{transport}: {served:?}");
        let stats = proxy.statistics();
        // A request is [id, "", "", client, i] at the ROUTER, a stop [id, "", "stop"].
        let parts = (CLIENTS * REQUESTS * 5 + WORKERS * 3) as u64;
        assert_eq!(stats.frontend.msgs_in, parts, "{transport}: {stats:?}");
        assert_eq!(stats.backend.msgs_out, stats.frontend.msgs_in);
        assert_eq!(stats.backend.bytes_out, stats.frontend.bytes_in);
        assert_eq!(stats.frontend.msgs_out, stats.backend.msgs_in);
        proxy.terminate();
    }
}

/// XSUB/XPUB: subscriptions travel from the subscriber through the proxy to the
/// publisher, which then filters; messages travel down.
#[test]
fn xsub_xpub_forwarder_carries_subscriptions_up_and_messages_down() {
    for transport in TRANSPORTS {
        let ctx = zmq::Context::new();
        let publisher = socket(&ctx, PUB);
        let upstream = bind(&publisher, transport);
        let xsub = socket(&ctx, XSUB);
        xsub.connect(&upstream).unwrap();
        let xpub = socket(&ctx, XPUB);
        let downstream = bind(&xpub, transport);
        let proxy = Running::start(&ctx, xsub, xpub, None);
        let subscriber = socket(&ctx, SUB);
        subscriber.connect(&downstream).unwrap();
        subscriber.set_subscribe(b"A").unwrap();
        sync(&publisher, &subscriber, b"A-probe");
        for i in 0..100 {
            publisher.send(format!("B-{i}").as_str(), 0).unwrap();
            publisher
                .send_multipart(msg(&[&format!("A-{i}"), "second part"]), 0)
                .unwrap();
        }
        for i in 0..100 {
            let first = recv_skipping(&subscriber, b"A-probe");
            assert_eq!(first, format!("A-{i}").into_bytes(), "{transport}");
            assert!(subscriber.get_rcvmore().unwrap());
            assert_eq!(subscriber.recv_bytes(0).unwrap(), b"second part");
        }
        // The publisher filtered B: it never reached the proxy.
        let stats = proxy.statistics();
        assert!(stats.frontend.msgs_in >= 200, "{transport}: {stats:?}");
        assert_eq!(stats.frontend.msgs_in, stats.backend.msgs_out);
        // One subscription went up, as one message.
        assert_eq!(stats.backend.msgs_in, 1, "{transport}: {stats:?}");
        assert_eq!(stats.backend.bytes_in, 2, "{transport}: \\x01A");
        subscriber.set_unsubscribe(b"A").unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while proxy.statistics().backend.msgs_in < 2 {
            assert!(
                Instant::now() < deadline,
                "{transport}: the cancel did not arrive"
            );
            thread::sleep(Duration::from_millis(5));
        }
        proxy.terminate();
    }
}

/// PULL/PUSH streamer at small high-water marks everywhere: every message arrives, whole
/// and in order, though the consumer starts late.
#[test]
fn pull_push_streamer_loses_nothing_at_the_high_water_mark() {
    const MESSAGES: usize = 20_000;
    for transport in TRANSPORTS {
        let ctx = zmq::Context::new();
        let frontend = socket(&ctx, PULL);
        frontend.set_rcvhwm(10).unwrap();
        let front = bind(&frontend, transport);
        let backend = socket(&ctx, PUSH);
        backend.set_sndhwm(10).unwrap();
        let back = bind(&backend, transport);
        let proxy = Running::start(&ctx, frontend, backend, None);
        let producer = {
            let push = socket(&ctx, PUSH);
            push.set_sndhwm(10).unwrap();
            push.connect(&front).unwrap();
            thread::spawn(move || {
                for i in 0..MESSAGES {
                    push.send_multipart(msg(&[&i.to_string(), "tail"]), 0)
                        .unwrap();
                }
                push
            })
        };
        // Let the queues fill before anyone reads.
        thread::sleep(Duration::from_millis(100));
        let pull = socket(&ctx, PULL);
        pull.set_rcvhwm(10).unwrap();
        pull.connect(&back).unwrap();
        for i in 0..MESSAGES {
            let m = pull.recv_multipart(0).unwrap();
            assert_eq!(m, msg(&[&i.to_string(), "tail"]), "{transport}");
        }
        let _push = producer.join().unwrap();
        let stats = proxy.statistics();
        let parts = 2 * MESSAGES as u64;
        assert_eq!(stats.frontend.msgs_in, parts, "{transport}: {stats:?}");
        assert_eq!(stats.backend.msgs_out, parts, "{transport}: {stats:?}");
        proxy.terminate();
    }
}

/// The capture socket receives every part that passes, in both directions, with its
/// MORE flag.
#[test]
fn capture_receives_everything_in_both_directions() {
    const EACH: usize = 300;
    for transport in TRANSPORTS {
        let ctx = zmq::Context::new();
        let frontend = socket(&ctx, PAIR);
        let front = bind(&frontend, transport);
        let backend = socket(&ctx, PAIR);
        let back = bind(&backend, transport);
        let capture = socket(&ctx, PUSH);
        capture.set_sndhwm(5).unwrap();
        let captured = bind(&capture, transport);
        let collector = socket(&ctx, PULL);
        collector.set_rcvhwm(5).unwrap();
        collector.connect(&captured).unwrap();
        let proxy = Running::start(&ctx, frontend, backend, Some(capture));
        let client = socket(&ctx, PAIR);
        client.connect(&front).unwrap();
        let server = socket(&ctx, PAIR);
        server.connect(&back).unwrap();
        let collect = thread::spawn(move || {
            let mut all: Vec<Msg> = (0..2 * EACH)
                .map(|_| collector.recv_multipart(0).unwrap())
                .collect();
            all.sort();
            all
        });
        let mut expected = Vec::new();
        for i in 0..EACH {
            let up = msg(&["up", &i.to_string(), ""]);
            let down = msg(&["down", &i.to_string()]);
            client.send_multipart(&up, 0).unwrap();
            server.send_multipart(&down, 0).unwrap();
            expected.push(up);
            expected.push(down);
        }
        for i in 0..EACH {
            assert_eq!(
                server.recv_multipart(0).unwrap(),
                msg(&["up", &i.to_string(), ""])
            );
            assert_eq!(
                client.recv_multipart(0).unwrap(),
                msg(&["down", &i.to_string()])
            );
        }
        expected.sort();
        assert_eq!(collect.join().unwrap(), expected, "{transport}");
        proxy.terminate();
    }
}

/// One REP socket as frontend and backend answers each request with itself; TERMINATE
/// over a REP control socket gets its empty reply and ends the proxy
/// (`test_proxy_single_socket.cpp`).
#[test]
fn single_socket_proxy_with_terminate() {
    for transport in TRANSPORTS {
        let ctx = zmq::Context::new();
        let rep = socket(&ctx, REP);
        let ep = bind(&rep, transport);
        let control = socket(&ctx, REP);
        let control_ep = bind(&control, transport);
        let proxy = thread::spawn(move || zmq::Proxy::new(&rep, &rep).control(&control).run());
        let req = socket(&ctx, REQ);
        req.connect(&ep).unwrap();
        for i in 0..50 {
            let request = msg(&["msg", &i.to_string(), ""]);
            req.send_multipart(&request, 0).unwrap();
            assert_eq!(req.recv_multipart(0).unwrap(), request, "{transport}");
        }
        let steer = socket(&ctx, REQ);
        steer.connect(&control_ep).unwrap();
        steer.send("TERMINATE", 0).unwrap();
        assert_eq!(steer.recv_bytes(0).unwrap(), b"", "{transport}");
        join_within(proxy, "the single-socket proxy").unwrap();
    }
}

/// PAUSE, RESUME, STATISTICS (exact counts) and TERMINATE, with a REP control socket
/// (empty replies) and a PAIR one (no replies), as `test_proxy_steerable.cpp`.
#[test]
fn steerable_pause_resume_statistics_terminate() {
    for transport in TRANSPORTS {
        for control_type in [REP, PAIR] {
            let ctx = zmq::Context::new();
            let frontend = socket(&ctx, PULL);
            let front = bind(&frontend, transport);
            let backend = socket(&ctx, PUSH);
            let back = bind(&backend, transport);
            let control = socket(&ctx, control_type);
            let control_ep = bind(&control, transport);
            let proxy = thread::spawn(move || {
                zmq::proxy_steerable(&mut { frontend }, &mut { backend }, &mut { control })
            });
            let steer = socket(&ctx, if control_type == REP { REQ } else { PAIR });
            steer.connect(&control_ep).unwrap();
            let statistics = || {
                steer.send("STATISTICS", 0).unwrap();
                ProxyStatistics::from_reply(&steer.recv_multipart(0).unwrap()).unwrap()
            };
            let command = |c: &str| {
                steer.send(c, 0).unwrap();
                if control_type == REP {
                    assert_eq!(steer.recv_bytes(0).unwrap(), b"", "{transport}: {c}");
                } else if c != "TERMINATE" {
                    // A PAIR gets no reply: the reply to STATISTICS, handled in order,
                    // says the command was.
                    statistics();
                }
            };
            let push = socket(&ctx, PUSH);
            push.connect(&front).unwrap();
            let pull = socket(&ctx, PULL);
            pull.connect(&back).unwrap();

            push.send_multipart(["one", "three"], 0).unwrap();
            push.send("hello", 0).unwrap();
            assert_eq!(pull.recv_multipart(0).unwrap(), msg(&["one", "three"]));
            assert_eq!(pull.recv_multipart(0).unwrap(), msg(&["hello"]));
            let after_two = ProxyStatistics {
                frontend: SideStatistics {
                    msgs_in: 3,
                    bytes_in: 13,
                    ..SideStatistics::default()
                },
                backend: SideStatistics {
                    msgs_out: 3,
                    bytes_out: 13,
                    ..SideStatistics::default()
                },
            };
            assert_eq!(statistics(), after_two, "{transport} {control_type:?}");

            command("PAUSE");
            push.send("while paused", 0).unwrap();
            assert_eq!(
                pull.poll(zmq::POLLIN, 300).unwrap(),
                0,
                "{transport}: paused"
            );
            assert_eq!(statistics(), after_two, "{transport}: paused, nothing read");

            command("RESUME");
            assert_eq!(pull.recv_bytes(0).unwrap(), b"while paused");
            let mut resumed = after_two;
            resumed.frontend.msgs_in += 1;
            resumed.frontend.bytes_in += 12;
            resumed.backend.msgs_out += 1;
            resumed.backend.bytes_out += 12;
            assert_eq!(statistics(), resumed, "{transport} {control_type:?}");

            // Unknown commands change nothing (a REP still answers).
            command("WHATEVER");
            command("TERMINATE");
            join_within(proxy, "the steerable proxy").unwrap();
        }
    }
}

/// TERMINATE is handled while the backend cannot take anything: a PUSH with no peer
/// (libzmq issue 1382, `test_proxy_terminate.cpp`), and a PUSH whose peer stopped
/// reading at the high-water mark.
#[test]
fn terminate_while_the_backend_is_blocked() {
    for transport in TRANSPORTS {
        for with_peer in [false, true] {
            let ctx = zmq::Context::new();
            let frontend = socket(&ctx, SUB);
            frontend.set_subscribe(b"").unwrap();
            let front = bind(&frontend, transport);
            let backend = socket(&ctx, PUSH);
            backend.set_sndhwm(5).unwrap();
            let back = bind(&backend, transport);
            let _stalled = with_peer.then(|| {
                let pull = socket(&ctx, PULL);
                pull.set_rcvhwm(5).unwrap();
                pull.connect(&back).unwrap();
                pull
            });
            let proxy = Running::start(&ctx, frontend, backend, None);
            let publisher = socket(&ctx, PUB);
            publisher.connect(&front).unwrap();
            // Publish until the proxy has read something and then stops reading for a
            // while: the backend is full (the messages are large, to fill the kernel's
            // socket buffers quickly over tcp and ipc).
            let deadline = Instant::now() + Duration::from_secs(30);
            let body = vec![b'x'; 16 * 1024];
            let (mut last, mut unchanged) = (u64::MAX, 0);
            while with_peer && unchanged < 5 {
                assert!(
                    Instant::now() < deadline,
                    "{transport}: the proxy never blocked"
                );
                for _ in 0..50 {
                    publisher.send(&body[..], 0).unwrap();
                }
                thread::sleep(Duration::from_millis(20));
                let read = proxy.statistics().frontend.msgs_in;
                unchanged = if read > 0 && read == last {
                    unchanged + 1
                } else {
                    0
                };
                last = read;
            }
            if !with_peer {
                for _ in 0..3 {
                    publisher.send("This is a test", 0).unwrap();
                    thread::sleep(Duration::from_millis(50));
                }
            }
            let stats = proxy.statistics();
            if !with_peer {
                // No room ever: the proxy read nothing, as libzmq's.
                assert_eq!(stats.frontend.msgs_in, 0, "{transport}: {stats:?}");
            }
            proxy.terminate();
        }
    }
}

/// A proxy returns ETERM when its context is terminated, blocked in its wait or with
/// the backend full.
#[test]
fn context_termination_ends_the_proxy_with_eterm() {
    for transport in TRANSPORTS {
        let mut ctx = zmq::Context::new();
        let frontend = socket(&ctx, PULL);
        let front = bind(&frontend, transport);
        let backend = socket(&ctx, PUSH);
        bind(&backend, transport);
        let push = socket(&ctx, PUSH);
        push.connect(&front).unwrap();
        push.send("queued for a backend with no peer", 0).unwrap();
        let proxy = thread::spawn(move || zmq::proxy(&frontend, &backend));
        thread::sleep(Duration::from_millis(50));
        drop(push);
        ctx.destroy().unwrap();
        assert_eq!(join_within(proxy, "the proxy"), Err(zmq::Error::ETERM));
    }
}

/// CPU time of the calling thread, in clock ticks (Linux).
fn thread_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // Fields after the command name (which ends with the last ')'): utime and stime are
    // the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The proxy's wait (shared with `zmq::poll`) sleeps while it waits for input on a socket
/// that could send: it does not wake at once because POLLOUT is there. A busy loop would
/// burn about a second of CPU in this second; load on the machine only lowers the count.
#[test]
fn waiting_for_input_does_not_spin_while_output_is_possible() {
    let ctx = zmq::Context::new();
    let router = socket(&ctx, ROUTER);
    let ep = bind(&router, "tcp");
    let dealer = socket(&ctx, DEALER);
    dealer.connect(&ep).unwrap();
    assert!(dealer.get_events().unwrap().contains(zmq::POLLOUT));
    let before = thread_cpu_ticks();
    let started = Instant::now();
    assert_eq!(dealer.poll(zmq::POLLIN, 1000).unwrap(), 0);
    assert!(started.elapsed() >= Duration::from_millis(900));
    let used = thread_cpu_ticks() - before;
    // Clock ticks are 1/100 s on Linux: allow a tenth of the wait.
    assert!(
        used <= 10,
        "poll used {used} ticks of CPU in one idle second"
    );
}

#[test]
fn statistics_replies_are_checked() {
    let stats = ProxyStatistics {
        frontend: SideStatistics {
            msgs_in: 1,
            bytes_in: 2,
            msgs_out: 3,
            bytes_out: 4,
        },
        backend: SideStatistics {
            msgs_in: 5,
            bytes_in: 6,
            msgs_out: 7,
            bytes_out: u64::MAX,
        },
    };
    let reply = stats.to_reply();
    assert_eq!(reply[1], 2u64.to_ne_bytes());
    assert_eq!(ProxyStatistics::from_reply(&reply), Ok(stats));
    assert_eq!(
        ProxyStatistics::from_reply(&reply[..7]),
        Err(zmq::StatisticsReplyError::PartCount(7))
    );
    let mut short: Vec<Vec<u8>> = reply.iter().map(|p| p.to_vec()).collect();
    short[3].pop();
    assert_eq!(
        ProxyStatistics::from_reply(&short),
        Err(zmq::StatisticsReplyError::PartSize { index: 3, len: 7 })
    );
}

// ---------------------------------------------------------------------------------------
// Mixed with libzmq.

/// An endpoint for libzmq to bind on tcp or ipc, and its ipc file: the libzmq peer's
/// process is stopped at the end of the test, before it would remove the file itself.
fn libzmq_endpoint(transport: &str) -> (String, IpcFile) {
    endpoint_file(match transport {
        "tcp" => Transport::Tcp,
        _ => Transport::Ipc,
    })
}

/// Our XSUB/XPUB proxy between libzmq's PUB and libzmq's SUB.
#[test]
fn our_forwarder_between_libzmq_pub_and_sub() {
    let py = Libzmq::start();
    for transport in ["tcp", "ipc"] {
        let ctx = zmq::Context::new();
        let publisher = py.socket(PUB);
        let (upstream, _upstream_file) = libzmq_endpoint(transport);
        let upstream = py.bind(&publisher, &upstream);
        let xsub = socket(&ctx, XSUB);
        xsub.connect(&upstream).unwrap();
        let xpub = socket(&ctx, XPUB);
        let downstream = bind(&xpub, transport);
        let proxy = Running::start(&ctx, xsub, xpub, None);
        let subscriber = py.socket(SUB);
        py.set_bytes(&subscriber, "SUBSCRIBE", b"A");
        py.connect(&subscriber, &downstream);
        // Wait for the subscription to reach libzmq's publisher.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            assert!(
                Instant::now() < deadline,
                "{transport}: no subscription arrived"
            );
            py.send(&publisher, &msg(&["A-probe"]));
            if py.try_recv(&subscriber, 50).is_some() {
                break;
            }
        }
        for i in 0..20 {
            py.send(&publisher, &msg(&[&format!("B-{i}")]));
            py.send(&publisher, &msg(&[&format!("A-{i}"), "more"]));
        }
        let mut got = Vec::new();
        while got.len() < 20 {
            let m = py.recv(&subscriber);
            if m != msg(&["A-probe"]) {
                got.push(m);
            }
        }
        let want: Vec<Msg> = (0..20).map(|i| msg(&[&format!("A-{i}"), "more"])).collect();
        assert_eq!(got, want, "{transport}");
        // libzmq's publisher filtered B: the proxy never saw it.
        let stats = proxy.statistics();
        assert_eq!(stats.backend.msgs_in, 1, "{transport}: one subscription up");
        proxy.terminate();
        py.close(&subscriber);
        py.close(&publisher);
    }
}

/// libzmq's `zmq.proxy` (XSUB/XPUB) between our PUB and our SUB.
#[test]
fn libzmq_forwarder_between_our_pub_and_sub() {
    let py = Libzmq::start();
    for transport in ["tcp", "ipc"] {
        let ctx = zmq::Context::new();
        let (up, _up_file) = libzmq_endpoint(transport);
        let (down, _down_file) = libzmq_endpoint(transport);
        let bound = py.ok(&format!("proxy XSUB {up} XPUB {down}"));
        let (upstream, downstream) = bound.split_once(' ').expect("two endpoints");
        let publisher = socket(&ctx, PUB);
        publisher.connect(upstream).unwrap();
        let subscriber = socket(&ctx, SUB);
        subscriber.connect(downstream).unwrap();
        subscriber.set_subscribe(b"A").unwrap();
        sync(&publisher, &subscriber, b"A-probe");
        for i in 0..100 {
            publisher.send(format!("B-{i}").as_str(), 0).unwrap();
            publisher
                .send_multipart(msg(&[&format!("A-{i}"), "more"]), 0)
                .unwrap();
        }
        for i in 0..100 {
            assert_eq!(
                recv_skipping(&subscriber, b"A-probe"),
                format!("A-{i}").into_bytes(),
                "{transport}"
            );
            assert_eq!(subscriber.recv_bytes(0).unwrap(), b"more");
        }
    }
}

/// Our ROUTER/DEALER proxy with libzmq's REQ clients and our REP workers, then with our
/// REQ clients and libzmq's REP workers.
#[test]
fn our_broker_between_libzmq_and_our_req_rep() {
    const REQUESTS: usize = 100;
    let py = Libzmq::start();
    for transport in ["tcp", "ipc"] {
        // libzmq's REQ clients, our REP workers.
        let ctx = zmq::Context::new();
        let frontend = socket(&ctx, ROUTER);
        let front = bind(&frontend, transport);
        let backend = socket(&ctx, DEALER);
        let back = bind(&backend, transport);
        let proxy = Running::start(&ctx, frontend, backend, None);
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let rep = socket(&ctx, REP);
                rep.connect(&back).unwrap();
                rep.set_rcvtimeo(100).unwrap();
                thread::spawn(move || {
                    let mut served = 0;
                    loop {
                        match rep.recv_multipart(0) {
                            // Kept open until both stop, so that no stop request goes to
                            // a worker that is gone.
                            Ok(request) if request == msg(&["stop"]) => return (served, rep),
                            Ok(mut request) => {
                                request.push(b"ours".to_vec());
                                rep.send_multipart(request, 0).unwrap();
                                served += 1;
                            }
                            Err(zmq::Error::EAGAIN) => {}
                            Err(e) => panic!("worker: {e}"),
                        }
                    }
                })
            })
            .collect();
        let clients: Vec<String> = (0..2)
            .map(|_| {
                let req = py.socket(REQ);
                py.connect(&req, &front);
                req
            })
            .collect();
        for i in 0..REQUESTS {
            for (c, req) in clients.iter().enumerate() {
                let request = msg(&[&format!("client-{c}"), &i.to_string()]);
                py.send(req, &request);
                let mut want = request;
                want.push(b"ours".to_vec());
                assert_eq!(py.recv(req), want, "{transport}");
            }
        }
        for req in &clients {
            py.close(req);
        }
        // Stop the workers directly: one stop request each, through the proxy.
        let stopper = socket(&ctx, DEALER);
        stopper.connect(&front).unwrap();
        for _ in 0..2 {
            stopper.send_multipart(["", "stop"], 0).unwrap();
        }
        let (served, _reps): (Vec<usize>, Vec<zmq::Socket>) =
            workers.into_iter().map(|w| w.join().unwrap()).unzip();
        assert_eq!(served.iter().sum::<usize>(), 2 * REQUESTS, "{transport}");
        proxy.terminate();

        // Our REQ clients, libzmq's REP workers (echoing).
        let frontend = socket(&ctx, ROUTER);
        let front = bind(&frontend, transport);
        let backend = socket(&ctx, DEALER);
        let back = bind(&backend, transport);
        let proxy = Running::start(&ctx, frontend, backend, None);
        let libzmq_workers: Vec<String> = (0..2)
            .map(|_| {
                let rep = py.socket(REP);
                py.connect(&rep, &back);
                py.echo(&rep, true);
                rep
            })
            .collect();
        let clients: Vec<_> = (0..2)
            .map(|c| {
                let req = socket(&ctx, REQ);
                req.connect(&front).unwrap();
                thread::spawn(move || {
                    for i in 0..REQUESTS {
                        let request = msg(&[&format!("client-{c}"), "", &i.to_string()]);
                        req.send_multipart(&request, 0).unwrap();
                        assert_eq!(req.recv_multipart(0).unwrap(), request);
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().expect("a client failed");
        }
        let stats = proxy.statistics();
        assert_eq!(
            stats.frontend.msgs_out, stats.backend.msgs_in,
            "{transport}"
        );
        // Each request at the ROUTER: [id, "", client, "", i].
        assert_eq!(stats.frontend.msgs_in, (2 * REQUESTS * 5) as u64);
        proxy.terminate();
        for rep in &libzmq_workers {
            py.close(rep);
        }
    }
}
