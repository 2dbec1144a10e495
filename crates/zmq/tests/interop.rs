//! The facade against a real libzmq (pyzmq's bundled libzmq 4.3.5).
//!
//! Every socket pair (PAIR-PAIR, REQ-REP, REQ-ROUTER, DEALER-REP, DEALER-ROUTER,
//! DEALER-DEALER, ROUTER-ROUTER, PUSH-PULL) runs over tcp and ipc, with us binding and
//! libzmq connecting and the other way round, with our socket on each side of the
//! asymmetric pairs. Each direction of traffic the pair allows carries a multipart message
//! with empty frames, a message of one empty frame, a 1 MiB message and a stream of 10,000
//! messages that must all arrive, in order (10,000 round trips for request-reply pairs;
//! a REQ's lock-step ones are 1,000 in three of the four setups, see `request_reply`, to
//! keep the run short). Then: our REQ and REP through a libzmq broker
//! (`zmq.proxy`), libzmq's REQ and REP through ours (a `zmq::poll` loop), routing ids both
//! ways, and the metadata of messages from libzmq.
//!
//! The libzmq side is `tests/peers/libzmq_peer.py`, one process per test, driven by a line
//! protocol over its stdin and stdout (described in the script). It keeps its sockets busy
//! in a poll loop, as libzmq attaches new peers only when its application calls into them.
//!
//! The tests need a Python with pyzmq: `cargo xtask tools` installs one into `.tools/`, or
//! set `ZMQ_INTEROP_PYTHON`. Without one they fail and say so; they are never skipped.

mod common;
mod peers;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{endpoint_file as endpoint, IpcFile, Transport};
use peers::{assert_msg, hex_msg, show, unhex_msg, Libzmq, Msg, TIMEOUT_MS};
use zmq::SocketType::{self, DEALER, PAIR, PULL, PUSH, REP, REQ, ROUTER};

/// How long a whole stream may take on either side, in ms.
const STREAM_TIMEOUT_MS: i32 = 60_000;
/// Messages in each stream.
const STREAM: usize = 10_000;
/// The size of the large message.
const BIG: usize = 1 << 20;
/// Lock-step round trips of a REQ in the setups where it does not make `STREAM`.
const LOCKSTEP: usize = 1_000;
/// Lock-step round trips of each libzmq REQ through our broker.
const BROKER_ROUND_TRIPS: usize = 500;
/// Requests in flight when a DEALER streams requests.
const WINDOW: usize = 100;

// ---------------------------------------------------------------------------------------
// Messages, endpoints and our sockets.

fn frames(parts: &[&[u8]]) -> Msg {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// A multipart message starting, ending and with empty frames in the middle.
fn multipart(tag: &str) -> Msg {
    frames(&[b"", tag.as_bytes(), b"", b"third", b"", b""])
}

/// 1 MiB that differs per `seed`: byte `i` is `(7 i + seed) mod 251`.
fn big(seed: usize) -> Msg {
    let cycle: Vec<u8> = (0..251).map(|i| ((i * 7 + seed) % 251) as u8).collect();
    let mut body = cycle.repeat(BIG / cycle.len() + 1);
    body.truncate(BIG);
    vec![body]
}

fn concat(a: &[Vec<u8>], b: &[Vec<u8>]) -> Msg {
    a.iter().chain(b).cloned().collect()
}

/// Which side binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Binder {
    Ours,
    Libzmq,
}

const SETUPS: [(Transport, Binder); 4] = [
    (Transport::Tcp, Binder::Ours),
    (Transport::Tcp, Binder::Libzmq),
    (Transport::Ipc, Binder::Ours),
    (Transport::Ipc, Binder::Libzmq),
];

/// Binds one of the two sockets and connects the other to it.
fn link(
    py: &Libzmq,
    ours: &zmq::Socket,
    theirs: &str,
    transport: Transport,
    binder: Binder,
) -> IpcFile {
    let (endpoint, file) = endpoint(transport);
    match binder {
        Binder::Ours => {
            ours.bind(&endpoint)
                .unwrap_or_else(|e| panic!("our bind to {endpoint}: {e}"));
            let bound = ours.get_last_endpoint().unwrap().unwrap();
            py.connect(theirs, &bound);
        }
        Binder::Libzmq => {
            let bound = py.bind(theirs, &endpoint);
            ours.connect(&bound)
                .unwrap_or_else(|e| panic!("our connect to {bound}: {e}"));
        }
    }
    file
}

fn our_socket(ctx: &zmq::Context, ty: SocketType) -> zmq::Socket {
    let socket = common::socket(ctx, ty);
    if ty == ROUTER {
        socket.set_router_mandatory(true).unwrap();
    }
    socket
}

fn our_recv(socket: &zmq::Socket) -> Msg {
    socket
        .recv_multipart(0)
        .unwrap_or_else(|e| panic!("our {socket:?} received nothing in {TIMEOUT_MS} ms ({e})"))
}

fn our_send(socket: &zmq::Socket, msg: &[Vec<u8>]) {
    socket
        .send_multipart(msg, 0)
        .unwrap_or_else(|e| panic!("our {socket:?} could not send {}: {e}", show(msg)));
}

/// Sends, retrying while a ROUTER does not know the peer yet (EHOSTUNREACH).
fn our_send_retry(socket: &zmq::Socket, msg: &[Vec<u8>]) {
    let deadline = Instant::now() + Duration::from_millis(TIMEOUT_MS as u64);
    loop {
        match socket.send_multipart(msg, 0) {
            Ok(()) => return,
            Err(zmq::Error::EHOSTUNREACH) if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("our {socket:?} could not send {}: {e}", show(msg)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// One end of a pair, ours or libzmq's, so that each scenario is written once.

#[derive(Clone, Copy)]
enum End<'a> {
    Ours(&'a zmq::Socket),
    Libzmq(&'a Libzmq, &'a str),
}

impl End<'_> {
    fn who(self) -> &'static str {
        match self {
            End::Ours(_) => "ours",
            End::Libzmq(..) => "libzmq's",
        }
    }

    fn send(self, msg: &[Vec<u8>]) {
        match self {
            End::Ours(s) => our_send(s, msg),
            End::Libzmq(py, name) => py.send(name, msg),
        }
    }

    fn send_retry(self, msg: &[Vec<u8>]) {
        match self {
            End::Ours(s) => our_send_retry(s, msg),
            End::Libzmq(py, name) => py.send_retry(name, msg),
        }
    }

    fn recv(self) -> Msg {
        match self {
            End::Ours(s) => our_recv(s),
            End::Libzmq(py, name) => py.recv(name),
        }
    }

    /// Starts sending `STREAM` messages `envelope + prefix<i>`; libzmq's go out in the
    /// background, ours are all handed to the socket here.
    fn start_stream(self, prefix: &str, envelope: &[Vec<u8>]) {
        match self {
            End::Ours(s) => {
                for i in 0..STREAM {
                    let mut msg = envelope.to_vec();
                    msg.push(format!("{prefix}{i}").into_bytes());
                    s.send_multipart(&msg, 0)
                        .unwrap_or_else(|e| panic!("our send of stream message {i}: {e}"));
                }
            }
            End::Libzmq(py, name) => {
                py.ok(&format!(
                    "sendseq {name} {STREAM} {prefix} {}",
                    hex_msg(envelope)
                ));
            }
        }
    }

    /// Receives the whole stream, checking each message; returns its envelope.
    fn check_stream(self, prefix: &str) -> Msg {
        match self {
            End::Ours(s) => {
                let mut envelope = None;
                for i in 0..STREAM {
                    let mut msg = s.recv_multipart(0).unwrap_or_else(|e| {
                        panic!("our {s:?} got {i} of {STREAM} stream messages ({e})")
                    });
                    let body = msg.pop().unwrap();
                    assert!(
                        body == format!("{prefix}{i}").as_bytes(),
                        "our stream message {i} is {:?}",
                        String::from_utf8_lossy(&body)
                    );
                    match &envelope {
                        None => envelope = Some(msg),
                        Some(env) => assert_msg(&msg, env, "the stream's envelope"),
                    }
                }
                envelope.unwrap()
            }
            End::Libzmq(py, name) => unhex_msg(&py.ok(&format!(
                "expectseq {name} {STREAM} {prefix} {STREAM_TIMEOUT_MS}"
            ))),
        }
    }

    fn finish_stream(self) {
        if let End::Libzmq(py, name) = self {
            py.ok(&format!("sentwait {name} {STREAM_TIMEOUT_MS}"));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Scenarios.

/// One direction of free-flowing traffic (PAIR, DEALER, ROUTER, PUSH-PULL): multipart with
/// empty frames, one empty frame, 1 MiB, and the stream. `from_id` is the sender's routing
/// id as a receiving ROUTER sees it (learnt here if `None`); `to_id` is the receiver's,
/// for a sending ROUTER.
fn one_way(
    from: (End<'_>, SocketType),
    to: (End<'_>, SocketType),
    from_id: &mut Option<Vec<u8>>,
    to_id: Option<&[u8]>,
    what: &str,
) {
    let (from, from_type) = from;
    let (to, to_type) = to;
    let what = format!(
        "{what}, {} {from_type:?} to {} {to_type:?}",
        from.who(),
        to.who()
    );
    let envelope: Msg = if from_type == ROUTER {
        vec![to_id.expect("a ROUTER sends to a known id").to_vec()]
    } else {
        Vec::new()
    };
    let check_envelope = |env: &[Vec<u8>], from_id: &mut Option<Vec<u8>>| {
        if to_type == ROUTER {
            assert!(
                env.len() == 1 && !env[0].is_empty(),
                "{what}: the ROUTER's envelope is {}",
                show(env)
            );
            match from_id {
                Some(id) => assert_msg(
                    env,
                    std::slice::from_ref(id),
                    &format!("{what}: routing id"),
                ),
                None => *from_id = Some(env[0].clone()),
            }
        } else {
            assert!(env.is_empty(), "{what}: unexpected envelope {}", show(env));
        }
    };
    let bodies = [
        multipart("multipart"),
        frames(&[b""]),
        big(from_type.to_raw() as usize),
    ];
    for (i, body) in bodies.iter().enumerate() {
        let msg = concat(&envelope, body);
        if i == 0 {
            from.send_retry(&msg);
        } else {
            from.send(&msg);
        }
        let got = to.recv();
        assert!(
            got.len() >= body.len() && got.ends_with(body),
            "{what}: received {}, expected {} after the envelope",
            show(&got),
            show(body)
        );
        check_envelope(&got[..got.len() - body.len()], from_id);
    }
    from.start_stream("stream-", &envelope);
    let env = to.check_stream("stream-");
    from.finish_stream();
    check_envelope(&env, from_id);
}

/// A pair with traffic both ways (or PUSH to PULL) between our `ours` and libzmq's
/// `theirs`, in every setup.
fn free_flow(ours_type: SocketType, theirs_type: SocketType) {
    let py = Libzmq::start();
    let ctx = zmq::Context::new();
    for (transport, binder) in SETUPS {
        let what = format!("{ours_type:?}-{theirs_type:?} over {transport:?}, {binder:?} binding");
        let ours = our_socket(&ctx, ours_type);
        let theirs = py.socket(theirs_type);
        // ROUTER to ROUTER needs known ids on both sides.
        let both_routers = ours_type == ROUTER && theirs_type == ROUTER;
        let (mut our_id, mut their_id) = (None, None);
        if both_routers {
            our_id = Some(b"our-router".to_vec());
            their_id = Some(b"libzmq-router".to_vec());
            ours.set_identity(b"our-router").unwrap();
            py.set_bytes(&theirs, "ROUTING_ID", b"libzmq-router");
        }
        let _file = link(&py, &ours, &theirs, transport, binder);
        let o = (End::Ours(&ours), ours_type);
        let t = (End::Libzmq(&py, &theirs), theirs_type);
        match (ours_type, theirs_type) {
            (PUSH, PULL) => one_way(o, t, &mut our_id, None, &what),
            (PULL, PUSH) => one_way(t, o, &mut their_id, None, &what),
            _ => {
                // A ROUTER learns a generated id from its peer's first message, so the
                // other side speaks first; between ROUTERs the connecting side does.
                let ours_first = if both_routers {
                    binder == Binder::Libzmq
                } else {
                    ours_type != ROUTER
                };
                if ours_first {
                    one_way(o, t, &mut our_id, their_id.as_deref(), &what);
                    one_way(t, o, &mut their_id, our_id.as_deref(), &what);
                } else {
                    one_way(t, o, &mut their_id, our_id.as_deref(), &what);
                    one_way(o, t, &mut our_id, their_id.as_deref(), &what);
                }
            }
        }
        py.close(&theirs);
    }
}

/// The envelope a client adds to a request and finds on the reply: REQ handles its own;
/// a DEALER speaking to a REP adds the empty delimiter.
fn client_envelope(client: SocketType) -> Msg {
    if client == DEALER {
        frames(&[b""])
    } else {
        Vec::new()
    }
}

/// A request-reply pair (REQ-REP, REQ-ROUTER, DEALER-REP): a multipart request and reply
/// with empty frames, a request of one empty frame, 1 MiB each way, and 10,000 round trips
/// (a window of requests in flight for DEALER).
///
/// A REQ's round trips are lock-step, about 0.25 ms each in a debug build, so a REQ makes
/// all 10,000 only in setup `full` (each REQ test picks another, so every setup has one)
/// and `LOCKSTEP` in the others, to keep the whole file well under a minute.
fn request_reply(
    client_type: SocketType,
    server_type: SocketType,
    ours_is_client: bool,
    full: usize,
) {
    let py = Libzmq::start();
    let ctx = zmq::Context::new();
    for (setup, (transport, binder)) in SETUPS.into_iter().enumerate() {
        let count = if client_type == REQ && setup != full {
            LOCKSTEP
        } else {
            STREAM
        };
        let what = format!(
            "{client_type:?}-{server_type:?} ({} client) over {transport:?}, {binder:?} binding",
            if ours_is_client { "our" } else { "libzmq's" }
        );
        let ours = our_socket(
            &ctx,
            if ours_is_client {
                client_type
            } else {
                server_type
            },
        );
        let theirs = py.socket(if ours_is_client {
            server_type
        } else {
            client_type
        });
        let _file = link(&py, &ours, &theirs, transport, binder);
        let (client, server) = if ours_is_client {
            (End::Ours(&ours), End::Libzmq(&py, &theirs))
        } else {
            (End::Libzmq(&py, &theirs), End::Ours(&ours))
        };
        let c_env = client_envelope(client_type);
        let exchanges = [
            (multipart("request"), multipart("reply")),
            (frames(&[b""]), frames(&[b""])),
            (big(1), big(2)),
        ];
        for (request, reply) in &exchanges {
            client.send(&concat(&c_env, request));
            let got = server.recv();
            assert!(
                got.len() >= request.len() && got.ends_with(request),
                "{what}: the server received {}, expected {} after the envelope",
                show(&got),
                show(request)
            );
            let s_env = got[..got.len() - request.len()].to_vec();
            match server_type {
                ROUTER => assert!(
                    s_env.len() == 2 && !s_env[0].is_empty() && s_env[1].is_empty(),
                    "{what}: the ROUTER's envelope is {}",
                    show(&s_env)
                ),
                _ => assert!(
                    s_env.is_empty(),
                    "{what}: the REP's envelope is {}",
                    show(&s_env)
                ),
            }
            server.send(&concat(&s_env, reply));
            assert_msg(
                &client.recv(),
                &concat(&c_env, reply),
                &format!("{what}: reply"),
            );
        }
        let window = if client_type == REQ { 1 } else { WINDOW };
        if ours_is_client {
            py.echo(&theirs, true);
            round_trips(&ours, &c_env, count, window, &what);
            py.echo(&theirs, false);
        } else {
            let line = format!(
                "rtloop {theirs} {count} rt- {window} {STREAM_TIMEOUT_MS} {}",
                hex_msg(&c_env)
            );
            py.request(&line);
            for i in 0..count {
                let msg = ours.recv_multipart(0).unwrap_or_else(|e| {
                    panic!("{what}: our server got {i} of {count} requests ({e})")
                });
                our_send(&ours, &msg);
            }
            let reply = py.reply(&line);
            py.expect_ok(&line, reply);
        }
        py.close(&theirs);
    }
}

/// `count` round trips from our client, whose peer echoes; `window` requests in flight.
fn round_trips(
    client: &zmq::Socket,
    envelope: &[Vec<u8>],
    count: usize,
    window: usize,
    what: &str,
) {
    let message = |i: usize| {
        let mut msg = envelope.to_vec();
        msg.push(format!("rt-{i}").into_bytes());
        msg
    };
    let mut received = 0;
    for sent in 0..count {
        our_send(client, &message(sent));
        if sent + 1 - received == window {
            assert_msg(&our_recv(client), &message(received), what);
            received += 1;
        }
    }
    while received < count {
        assert_msg(&our_recv(client), &message(received), what);
        received += 1;
    }
}

#[test]
fn pair_pair() {
    free_flow(PAIR, PAIR);
}

#[test]
fn req_rep_with_our_req() {
    request_reply(REQ, REP, true, 0);
}

#[test]
fn req_rep_with_our_rep() {
    request_reply(REQ, REP, false, 1);
}

#[test]
fn req_router_with_our_req() {
    request_reply(REQ, ROUTER, true, 2);
}

#[test]
fn req_router_with_our_router() {
    request_reply(REQ, ROUTER, false, 3);
}

#[test]
fn dealer_rep_with_our_dealer() {
    request_reply(DEALER, REP, true, 0);
}

#[test]
fn dealer_rep_with_our_rep() {
    request_reply(DEALER, REP, false, 0);
}

#[test]
fn dealer_router_with_our_dealer() {
    free_flow(DEALER, ROUTER);
}

#[test]
fn dealer_router_with_our_router() {
    free_flow(ROUTER, DEALER);
}

#[test]
fn dealer_dealer() {
    free_flow(DEALER, DEALER);
}

#[test]
fn router_router() {
    free_flow(ROUTER, ROUTER);
}

#[test]
fn push_pull_with_our_push() {
    free_flow(PUSH, PULL);
}

#[test]
fn push_pull_with_our_pull() {
    free_flow(PULL, PUSH);
}

// ---------------------------------------------------------------------------------------
// Brokers.

/// Our REQ clients and REP workers through a libzmq ROUTER/DEALER `zmq.proxy`.
#[test]
fn our_req_and_rep_through_a_libzmq_broker() {
    const CLIENTS: usize = 2;
    const WORKERS: usize = 2;
    const REQUESTS: usize = 500;
    let py = Libzmq::start();
    let ctx = zmq::Context::new();
    for transport in [Transport::Tcp, Transport::Ipc] {
        let (front, _f) = endpoint(transport);
        let (back, _b) = endpoint(transport);
        let bound = py.ok(&format!("proxy ROUTER {front} DEALER {back}"));
        let (front, back) = bound.split_once(' ').expect("two endpoints");
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let rep = our_socket(&ctx, REP);
                rep.set_rcvtimeo(50).unwrap();
                rep.connect(back).unwrap();
                let stop = Arc::clone(&stop);
                thread::spawn(move || {
                    let mut served = 0;
                    while !stop.load(Ordering::Relaxed) {
                        match rep.recv_multipart(0) {
                            Ok(request) => {
                                let mut reply = vec![format!("worker-{w}").into_bytes()];
                                reply.extend(request);
                                our_send(&rep, &reply);
                                served += 1;
                            }
                            Err(zmq::Error::EAGAIN) => {}
                            Err(e) => panic!("worker {w}: {e}"),
                        }
                    }
                    served
                })
            })
            .collect();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let req = our_socket(&ctx, REQ);
                req.connect(front).unwrap();
                thread::spawn(move || {
                    for i in 0..REQUESTS {
                        let request = multipart(&format!("client-{c}-{i}"));
                        our_send(&req, &request);
                        let reply = our_recv(&req);
                        assert!(
                            reply.len() == request.len() + 1
                                && reply[0].starts_with(b"worker-")
                                && reply[1..] == request[..],
                            "{transport:?}: client {c} request {i}: reply {}",
                            show(&reply)
                        );
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().expect("a client failed");
        }
        stop.store(true, Ordering::Relaxed);
        let served: usize = workers
            .into_iter()
            .map(|w| w.join().expect("a worker failed"))
            .sum();
        assert_eq!(served, CLIENTS * REQUESTS, "{transport:?}: requests served");
    }
}

/// Moves every part of one message from `from` to `to`.
fn forward(from: &zmq::Socket, to: &zmq::Socket) {
    loop {
        let part = from.recv_msg(0).expect("the broker receives a part");
        let more = from.get_rcvmore().unwrap();
        to.send(part, if more { zmq::SNDMORE } else { 0 })
            .expect("the broker forwards a part");
        if !more {
            return;
        }
    }
}

/// libzmq's REQ clients and REP workers through our ROUTER/DEALER broker, a `zmq::poll`
/// loop.
#[test]
fn libzmq_req_and_rep_through_our_broker() {
    let py = Libzmq::start();
    let ctx = zmq::Context::new();
    for transport in [Transport::Tcp, Transport::Ipc] {
        let frontend = our_socket(&ctx, ROUTER);
        let backend = our_socket(&ctx, DEALER);
        let (f, _f) = endpoint(transport);
        let (b, _b) = endpoint(transport);
        frontend.bind(&f).unwrap();
        backend.bind(&b).unwrap();
        let front = frontend.get_last_endpoint().unwrap().unwrap();
        let back = backend.get_last_endpoint().unwrap().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let broker = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (front_in, back_in) = {
                        let mut items = [
                            frontend.as_poll_item(zmq::POLLIN),
                            backend.as_poll_item(zmq::POLLIN),
                        ];
                        zmq::poll(&mut items, 50).expect("poll");
                        (items[0].is_readable(), items[1].is_readable())
                    };
                    if front_in {
                        forward(&frontend, &backend);
                    }
                    if back_in {
                        forward(&backend, &frontend);
                    }
                }
            })
        };
        let workers: Vec<String> = (0..2).map(|_| py.socket(REP)).collect();
        for w in &workers {
            py.connect(w, &back);
        }
        let clients: Vec<String> = (0..2).map(|_| py.socket(REQ)).collect();
        for c in &clients {
            py.connect(c, &front);
        }
        // One request seen by a worker, to check what crosses the broker.
        let request = multipart("through our broker");
        py.send(&clients[0], &request);
        let deadline = Instant::now() + Duration::from_millis(TIMEOUT_MS as u64);
        let (worker, got) = loop {
            if let Some(got) = workers
                .iter()
                .find_map(|w| py.try_recv(w, 100).map(|m| (w, m)))
            {
                break got;
            }
            assert!(
                Instant::now() < deadline,
                "{transport:?}: the request did not reach a worker through our broker"
            );
        };
        assert_msg(
            &got,
            &request,
            &format!("{transport:?}: the request at the worker"),
        );
        py.send(worker, &big(3));
        assert_msg(
            &py.recv(&clients[0]),
            &big(3),
            &format!("{transport:?}: the reply"),
        );
        for w in &workers {
            py.echo(w, true);
        }
        for c in &clients {
            py.ok(&format!(
                "rtloop {c} {BROKER_ROUND_TRIPS} via-broker- 1 {STREAM_TIMEOUT_MS}"
            ));
        }
        stop.store(true, Ordering::Relaxed);
        broker.join().expect("the broker failed");
        for s in workers.iter().chain(&clients) {
            py.close(s);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Routing ids and metadata.

/// libzmq DEALERs with routing ids are addressed by them from our ROUTER.
#[test]
fn libzmq_dealer_routing_ids_address_them_from_our_router() {
    let py = Libzmq::start();
    let ctx = zmq::Context::new();
    for (transport, binder) in SETUPS {
        let what = format!("{transport:?}, {binder:?} binding");
        let router = our_socket(&ctx, ROUTER);
        let ids: [&[u8]; 2] = [b"dealer-A", b"dealer-B"];
        let mut files = Vec::new();
        let dealers: Vec<String> = ids
            .iter()
            .map(|id| {
                let dealer = py.socket(DEALER);
                py.set_bytes(&dealer, "ROUTING_ID", id);
                dealer
            })
            .collect();
        match binder {
            Binder::Ours => {
                let (endpoint, file) = endpoint(transport);
                files.push(file);
                router.bind(&endpoint).unwrap();
                let bound = router.get_last_endpoint().unwrap().unwrap();
                for d in &dealers {
                    py.connect(d, &bound);
                }
            }
            Binder::Libzmq => {
                for d in &dealers {
                    let (endpoint, file) = endpoint(transport);
                    files.push(file);
                    router.connect(&py.bind(d, &endpoint)).unwrap();
                }
            }
        }
        // Addressed before either dealer said anything: B first, then A.
        our_send_retry(&router, &frames(&[b"dealer-B", b"", b"to B"]));
        our_send_retry(&router, &frames(&[b"dealer-A", b"to A"]));
        assert_msg(&py.recv(&dealers[1]), &frames(&[b"", b"to B"]), &what);
        assert_msg(&py.recv(&dealers[0]), &frames(&[b"to A"]), &what);
        for d in &dealers {
            assert_eq!(py.try_recv(d, 100), None, "{what}: {d} got more");
        }
        // And they are seen with those ids.
        for (d, id) in dealers.iter().zip(ids) {
            py.send(d, &frames(&[b"from", id]));
            assert_msg(&our_recv(&router), &frames(&[id, b"from", id]), &what);
        }
        assert_eq!(
            router.send_multipart([&b"dealer-C"[..], b"x"], 0),
            Err(zmq::Error::EHOSTUNREACH),
            "{what}: an unknown id with ROUTER_MANDATORY"
        );
        for d in &dealers {
            py.close(d);
        }
    }
}

/// Our DEALER's routing id is the one a libzmq ROUTER sees, and routes to.
#[test]
fn our_dealer_identity_is_seen_by_a_libzmq_router() {
    let py = Libzmq::start();
    let ctx = zmq::Context::new();
    for (transport, binder) in SETUPS {
        let what = format!("{transport:?}, {binder:?} binding");
        let dealer = our_socket(&ctx, DEALER);
        dealer.set_identity(b"our-dealer").unwrap();
        let other = our_socket(&ctx, DEALER);
        other.set_identity(b"other-dealer").unwrap();
        let router = py.socket(ROUTER);
        let (endpoint, _file) = endpoint(transport);
        let (other_endpoint, _other_file) = self::endpoint(transport);
        match binder {
            Binder::Ours => {
                dealer.bind(&endpoint).unwrap();
                py.connect(&router, &dealer.get_last_endpoint().unwrap().unwrap());
                other.bind(&other_endpoint).unwrap();
                py.connect(&router, &other.get_last_endpoint().unwrap().unwrap());
            }
            Binder::Libzmq => {
                let bound = py.bind(&router, &endpoint);
                dealer.connect(&bound).unwrap();
                other.connect(&bound).unwrap();
            }
        }
        our_send(&dealer, &frames(&[b"hello"]));
        assert_msg(
            &py.recv(&router),
            &frames(&[b"our-dealer", b"hello"]),
            &what,
        );
        our_send(&other, &frames(&[b"hi"]));
        assert_msg(&py.recv(&router), &frames(&[b"other-dealer", b"hi"]), &what);
        py.send(&router, &frames(&[b"our-dealer", b"back", b""]));
        py.send(&router, &frames(&[b"other-dealer", b"to other"]));
        assert_msg(&our_recv(&dealer), &frames(&[b"back", b""]), &what);
        assert_msg(&our_recv(&other), &frames(&[b"to other"]), &what);
        py.close(&router);
    }
}

/// `Message::gets` on messages from libzmq: its READY's Socket-Type and Identity, and the
/// connection's Peer-Address.
#[test]
fn metadata_of_messages_from_libzmq() {
    let py = Libzmq::start();
    let ctx = zmq::Context::new();
    for (transport, binder) in SETUPS {
        let what = format!("{transport:?}, {binder:?} binding");
        let pull = our_socket(&ctx, PULL);
        let push = py.socket(PUSH);
        let _f1 = link(&py, &pull, &push, transport, binder);
        py.send(&push, &frames(&[b"first", b""]));
        let mut msg = pull.recv_msg(0).expect("a message from libzmq's PUSH");
        assert_eq!(&msg[..], b"first");
        assert_eq!(msg.gets("Socket-Type"), Some("PUSH"), "{what}");
        assert_eq!(msg.gets("socket-type"), Some("PUSH"), "{what}: any case");
        if transport == Transport::Tcp {
            assert_eq!(msg.gets("Peer-Address"), Some("127.0.0.1"), "{what}");
        }
        let mut last = pull.recv_msg(0).unwrap();
        assert!(last.is_empty() && !last.get_more());
        assert_eq!(
            last.gets("Socket-Type"),
            Some("PUSH"),
            "{what}: the last part"
        );
        assert_eq!(last.gets("X-Not-Sent"), None, "{what}");

        let router = our_socket(&ctx, ROUTER);
        let dealer = py.socket(DEALER);
        py.set_bytes(&dealer, "ROUTING_ID", b"named-dealer");
        let _f2 = link(&py, &router, &dealer, transport, binder);
        py.send(&dealer, &frames(&[b"hi"]));
        let mut id = router.recv_msg(0).expect("a message from libzmq's DEALER");
        assert_eq!(&id[..], b"named-dealer");
        assert_eq!(id.gets("Socket-Type"), Some("DEALER"), "{what}");
        assert_eq!(id.gets("Identity"), Some("named-dealer"), "{what}");
        assert_eq!(id.gets("Routing-Id"), Some("named-dealer"), "{what}");
        let mut body = router.recv_msg(0).unwrap();
        assert_eq!(body.gets("Socket-Type"), Some("DEALER"), "{what}");
        py.close(&push);
        py.close(&dealer);
    }
}
